// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// The SQLite backend: a `dal::backend` over the sqlite3 C API.
///
/// Defaults chosen for services: WAL journal (readers never block the writer), foreign keys on,
/// a 5 s busy timeout, and `BEGIN IMMEDIATE` for transactions, so that many connections to one
/// file from many threads wait for each other instead of failing with "database is locked".
/// URI options (sqlite:///path.db?...): journal_mode, foreign_keys, busy_timeout, synchronous,
/// mode (ro, rw, rwc), double_quoted_strings. SQLite's legacy habit of reading a "quoted" name
/// that matches no column as a string literal is turned off, so a misspelled [column] is an
/// error instead of a silent string (double_quoted_strings=on restores it for old SQL). A statement
/// limit is enforced with a progress handler that interrupts the statement when its deadline passes
/// (errc::timeout); `cancel()` interrupts it from any thread (errc::cancelled). Either way the
/// connection stays usable.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

#include <sqlite3.h>

#include <dal/backend.hpp>
#include <dal/config.hpp>
#include <dal/sql/dialect.hpp>
#include <dal/sqlite/error.hpp>
#include <dal/value.hpp>

namespace dal::sqlite {

/// A prepared statement; finalised when destroyed.
class statement {
public:
    statement() = default;
    explicit statement(sqlite3_stmt* s) noexcept : st_(s) {}
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;
    statement(statement&& o) noexcept : st_(std::exchange(o.st_, nullptr)) {}
    statement& operator=(statement&& o) noexcept {
        if (this != &o) {
            sqlite3_finalize(st_);
            st_ = std::exchange(o.st_, nullptr);
        }
        return *this;
    }
    ~statement() { sqlite3_finalize(st_); }
    [[nodiscard]] sqlite3_stmt* get() const noexcept { return st_; }

private:
    sqlite3_stmt* st_ = nullptr;
};

/// The current row of a running statement (valid inside the row handler only).
class row {
public:
    row(sqlite3_stmt* st, int columns) noexcept : st_(st), columns_(columns) {}
    [[nodiscard]] std::size_t size() const noexcept { return static_cast<std::size_t>(columns_); }
    [[nodiscard]] std::string_view name(std::size_t i) const noexcept {
        const char* n = sqlite3_column_name(st_, static_cast<int>(i));
        return n != nullptr ? std::string_view(n) : std::string_view();
    }
    [[nodiscard]] field_view field(std::size_t i) const noexcept {
        const int c = static_cast<int>(i);
        field_view f;
        f.name_of = &row::name_of;  // looked up only if an error needs it
        f.source = st_;
        f.index = i;
        switch (sqlite3_column_type(st_, c)) {
            case SQLITE_INTEGER:
                f.type = field_view::kind::int64;
                f.i = sqlite3_column_int64(st_, c);
                break;
            case SQLITE_FLOAT:
                f.type = field_view::kind::float64;
                f.d = sqlite3_column_double(st_, c);
                break;
            case SQLITE_TEXT: {
                f.type = field_view::kind::text;
                // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): UTF-8 bytes
                const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, c));
                f.bytes = std::string_view(p != nullptr ? p : "",
                                           static_cast<std::size_t>(sqlite3_column_bytes(st_, c)));
                break;
            }
            case SQLITE_BLOB: {
                f.type = field_view::kind::binary;
                const void* p = sqlite3_column_blob(st_, c);
                f.bytes = std::string_view(p != nullptr ? static_cast<const char*>(p) : "",
                                           static_cast<std::size_t>(sqlite3_column_bytes(st_, c)));
                break;
            }
            default: f.type = field_view::kind::null; break;
        }
        return f;
    }

private:
    static std::string_view name_of(const void* st, std::size_t i) noexcept {
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast): sqlite3's API is not const
        const char* n = sqlite3_column_name(static_cast<sqlite3_stmt*>(const_cast<void*>(st)),
                                            static_cast<int>(i));
        return n != nullptr ? std::string_view(n) : std::string_view();
    }
    sqlite3_stmt* st_;
    int columns_;
};

/// One open SQLite database connection.
class session {
public:
    session() = default;
    session(const session&) = delete;
    session& operator=(const session&) = delete;
    session(session&&) = delete;
    session& operator=(session&&) = delete;
    ~session() { close(); }

    void open(const config& cfg);
    void close() noexcept;
    [[nodiscard]] bool is_open() const noexcept { return db_ != nullptr; }

    [[nodiscard]] statement prepare(std::string_view sql);

    /// Binds, steps through every row (calling `on_row(row)`; a handler returning false stops
    /// early), resets the statement whatever happens, and returns the rows changed.
    template <class Handler>
    std::uint64_t execute(statement& st, std::span<const param_ref> params, deadline d,
                          Handler& on_row) {
        sqlite3_stmt* s = st.get();
        const reset_on_exit reset{s};
        bind(s, params);
        const armed_deadline arm(*this, d);
        constexpr bool count = wants_change_count<Handler>();
        const sqlite3_int64 before = count ? sqlite3_total_changes64(db_) : 0;
        int columns = -1;  // read after the first step: a schema change re-prepares inside it
        while (true) {
            const int rc = sqlite3_step(s);
            if (rc == SQLITE_ROW) {
                if (columns < 0) columns = sqlite3_column_count(s);
                const row r(s, columns);
                if constexpr (std::is_same_v<decltype(on_row(r)), bool>) {
                    if (!on_row(r)) break;
                } else {
                    on_row(r);
                }
                continue;
            }
            if (rc == SQLITE_DONE) break;
            step_failed(rc, s, d);
        }
        if constexpr (!count) return 0;
        return sqlite3_total_changes64(db_) == before
                   ? 0
                   : static_cast<std::uint64_t>(sqlite3_changes64(db_));
    }

    /// Interrupts the running statement; safe from any thread, also while another closes the
    /// session (both hold `cancel_mutex_`). No statement running: nothing happens.
    void cancel() noexcept {
        const std::lock_guard lock(cancel_mutex_);
        cancel_requested_.store(true, std::memory_order_relaxed);
        if (db_for_cancel_ != nullptr) sqlite3_interrupt(db_for_cancel_);
    }

    void ping();
    void begin();
    void commit();
    void rollback();
    void savepoint(std::string_view name);
    void release_savepoint(std::string_view name);
    void rollback_to_savepoint(std::string_view name);
    [[nodiscard]] bool in_transaction() const noexcept {
        return db_ != nullptr && sqlite3_get_autocommit(db_) == 0;
    }
    [[nodiscard]] server_info info() const;
    /// The sqlite3 handle, for what dal does not wrap.
    [[nodiscard]] sqlite3* native_handle() const noexcept { return db_; }

private:
    struct reset_on_exit {
        explicit reset_on_exit(sqlite3_stmt* st) noexcept : s(st) {}
        sqlite3_stmt* s;
        reset_on_exit(const reset_on_exit&) = delete;
        reset_on_exit& operator=(const reset_on_exit&) = delete;
        ~reset_on_exit() {
            sqlite3_reset(s);
            sqlite3_clear_bindings(s);
        }
    };
    /// Installs the progress handler that enforces `d` for the duration of one statement.
    struct armed_deadline {
        armed_deadline(session& s, deadline d) noexcept;
        armed_deadline(const armed_deadline&) = delete;
        armed_deadline& operator=(const armed_deadline&) = delete;
        ~armed_deadline();
        session& owner;
    };
    static int on_progress(void* self) noexcept;

    void bind(sqlite3_stmt* s, std::span<const param_ref> params);
    [[noreturn]] void step_failed(int rc, sqlite3_stmt* s, deadline d);
    [[noreturn]] void fail(int rc, std::string_view sql) const;
    void exec(const std::string& sql);

    sqlite3* db_ = nullptr;
    std::mutex cancel_mutex_;
    sqlite3* db_for_cancel_ = nullptr;  ///< guarded by cancel_mutex_
    std::atomic<bool> cancel_requested_{false};
    deadline deadline_ = deadline::max();
    std::string path_;
    std::string begin_sql_ = "BEGIN IMMEDIATE";
};

/// The backend type that plugs SQLite into basic_connection.
struct backend {
    using session = sqlite::session;
    using statement = sqlite::statement;
    static constexpr std::string_view name = "sqlite";
    static constexpr sql::dialect dialect = sql::sqlite_dialect;
    static constexpr bool blocking = true;
    static const std::error_category& error_category() noexcept { return sqlite::error_category(); }
    /// sqlite3_prepare_v2 re-prepares on schema changes itself; SQLITE_SCHEMA reaching us means
    /// that failed, and one more prepare by the connection is worth it.
    static bool statement_is_stale(const std::error_code& ec) noexcept {
        return ec.category() == sqlite::error_category() && (ec.value() & 0xFF) == SQLITE_SCHEMA;
    }
};

}  // namespace dal::sqlite
