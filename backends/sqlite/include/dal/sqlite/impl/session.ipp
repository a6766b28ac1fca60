// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
// Compiled once into dal::sqlite; not a public header.

#include <chrono>
#include <limits>
#include <string>

#include <sqlite3.h>

#include <dal/error.hpp>
#include <dal/sql/query.hpp>
#include <dal/sqlite/backend.hpp>
#include <dal/sqlite/error.hpp>

namespace dal::sqlite {
namespace {

[[noreturn]] void bad_option(std::string_view key, std::string_view value,
                             std::string_view expected) {
    throw error(make_error_code(client_errc::invalid_config),
                "SQLite option '" + std::string(key) + "' has value '" + std::string(value) +
                    "', expected " + std::string(expected));
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool parse_bool(std::string_view key, std::string_view value) {
    const std::string v = lower(value);
    if (v == "on" || v == "true" || v == "1" || v == "yes") return true;
    if (v == "off" || v == "false" || v == "0" || v == "no") return false;
    bad_option(key, value, "on or off");
}

struct settings {
    std::string journal_mode = "wal";
    bool foreign_keys = true;
    std::chrono::milliseconds busy_timeout{5000};
    std::string synchronous;  // empty: NORMAL in WAL mode, SQLite's default otherwise
    int open_flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    bool read_only = false;
    bool double_quoted_strings = false;
};

settings read_settings(const config& cfg) {
    settings s;
    for (const auto& [key, value] : cfg.options) {
        if (key == "journal_mode") {
            const std::string v = lower(value);
            if (v != "wal" && v != "delete" && v != "truncate" && v != "persist" && v != "memory" &&
                v != "off")
                bad_option(key, value, "wal, delete, truncate, persist, memory or off");
            s.journal_mode = v;
        } else if (key == "foreign_keys") {
            s.foreign_keys = parse_bool(key, value);
        } else if (key == "busy_timeout") {
            s.busy_timeout = parse_duration(value, "busy_timeout");
        } else if (key == "synchronous") {
            const std::string v = lower(value);
            if (v != "off" && v != "normal" && v != "full" && v != "extra")
                bad_option(key, value, "off, normal, full or extra");
            s.synchronous = v;
        } else if (key == "double_quoted_strings") {
            s.double_quoted_strings = parse_bool(key, value);
        } else if (key == "mode") {
            const std::string v = lower(value);
            if (v == "ro") {
                s.open_flags = SQLITE_OPEN_READONLY;
                s.read_only = true;
            } else if (v == "rw") {
                s.open_flags = SQLITE_OPEN_READWRITE;
            } else if (v == "rwc") {
                s.open_flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
            } else {
                bad_option(key, value, "ro, rw or rwc");
            }
        } else {
            throw error(make_error_code(client_errc::invalid_config),
                        "unknown SQLite option '" + key +
                            "' (known: journal_mode, foreign_keys, busy_timeout, synchronous, "
                            "mode, double_quoted_strings)");
        }
    }
    return s;
}

}  // namespace

void session::open(const config& cfg) {
    close();
    const settings s = read_settings(cfg);
    path_ = cfg.database;
    sqlite3* db = nullptr;
    // NOMUTEX: a session is used by one thread at a time (the connection's contract); only
    // sqlite3_interrupt crosses threads, and it is documented as safe for that.
    const int rc = sqlite3_open_v2(path_.c_str(), &db, s.open_flags | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        const std::string why = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        const int ext = db != nullptr ? sqlite3_extended_errcode(db) : rc;
        sqlite3_close(db);
        throw error(make_sqlite_error(ext),
                    diagnostics{.message = "cannot open SQLite database '" + path_ + "': " + why,
                                .native_code = ext});
    }
    db_ = db;
    sqlite3_extended_result_codes(db_, 1);
    const int dqs = s.double_quoted_strings ? 1 : 0;
    sqlite3_db_config(db_, SQLITE_DBCONFIG_DQS_DML, dqs, nullptr);
    sqlite3_db_config(db_, SQLITE_DBCONFIG_DQS_DDL, dqs, nullptr);
    const auto busy = s.busy_timeout.count();
    sqlite3_busy_timeout(db_, busy > std::numeric_limits<int>::max()
                                  ? std::numeric_limits<int>::max()
                                  : static_cast<int>(busy));
    try {
        // These also prove the file is a database (SQLITE_NOTADB otherwise).
        exec(std::string("PRAGMA foreign_keys=") + (s.foreign_keys ? "ON" : "OFF"));
        const bool memory = path_ == ":memory:" || path_.empty();
        if (!memory && !s.read_only) exec("PRAGMA journal_mode=" + s.journal_mode);
        if (!s.synchronous.empty())
            exec("PRAGMA synchronous=" + s.synchronous);
        else if (!memory && s.journal_mode == "wal")
            exec("PRAGMA synchronous=NORMAL");  // durable across crashes of the process in WAL
        exec("SELECT count(*) FROM sqlite_schema");
    } catch (...) {
        close();
        throw;
    }
    // Every 1000 virtual machine steps: far below a millisecond of work, one clock read.
    deadline_ = deadline::max();
    sqlite3_progress_handler(db_, 1000, &session::on_progress, this);
    const std::lock_guard lock(cancel_mutex_);
    db_for_cancel_ = db_;
}

void session::close() noexcept {
    if (db_ == nullptr) return;
    {
        const std::lock_guard lock(cancel_mutex_);
        db_for_cancel_ = nullptr;
    }
    // The connection finalised its statements first; close_v2 also copes if some remain.
    sqlite3_close_v2(db_);
    db_ = nullptr;
}

statement session::prepare(std::string_view sql) {
    if (db_ == nullptr)
        throw error(make_error_code(client_errc::connection_closed),
                    "the SQLite session is closed");
    sqlite3_stmt* st = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &st, &tail);
    statement out(st);
    if (rc != SQLITE_OK) fail(rc, sql);
    if (st == nullptr)
        throw error(
            make_error_code(client_errc::sql_syntax),
            diagnostics{.message = "the SQL holds no statement (only whitespace or comments)",
                        .sql = sql::redacted(sql, sql::sqlite_dialect)});
    // A second statement after ';' would be silently ignored by SQLite: refuse it instead.
    const std::string_view rest(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail));
    if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
        // Only whitespace, semicolons and comments may follow.
        sqlite3_stmt* extra = nullptr;
        const char* tail2 = nullptr;
        const int rc2 =
            sqlite3_prepare_v2(db_, rest.data(), static_cast<int>(rest.size()), &extra, &tail2);
        sqlite3_finalize(extra);
        if (rc2 != SQLITE_OK || extra != nullptr)
            throw error(
                make_error_code(client_errc::sql_syntax),
                diagnostics{.message = "more than one statement in one call: run them one by one",
                            .sql = sql::redacted(sql, sql::sqlite_dialect)});
    }
    return out;
}

void session::bind(sqlite3_stmt* s, std::span<const param_ref> params) {
    const int expected = sqlite3_bind_parameter_count(s);
    if (static_cast<std::size_t>(expected) != params.size())
        throw error(make_error_code(client_errc::wrong_argument_count),
                    diagnostics{.message = "the statement has " + std::to_string(expected) +
                                           " parameter(s) but " + std::to_string(params.size()) +
                                           " argument(s) were bound",
                                .sql = sql::redacted(sqlite3_sql(s), sql::sqlite_dialect)});
    static constexpr char empty[] = "";
    for (std::size_t k = 0; k < params.size(); ++k) {
        const param_ref& p = params[k];
        const int i = static_cast<int>(k) + 1;
        int rc = SQLITE_OK;
        switch (p.type) {
            case param_ref::kind::null: rc = sqlite3_bind_null(s, i); break;
            case param_ref::kind::boolean: rc = sqlite3_bind_int(s, i, p.num.b ? 1 : 0); break;
            case param_ref::kind::int64: rc = sqlite3_bind_int64(s, i, p.num.i); break;
            case param_ref::kind::uint64:
                if (p.num.u > static_cast<std::uint64_t>(std::numeric_limits<sqlite3_int64>::max()))
                    throw error(
                        make_error_code(client_errc::value_out_of_range),
                        diagnostics{.message = "parameter " + std::to_string(i) + ": " +
                                               std::to_string(p.num.u) +
                                               " does not fit SQLite's signed 64-bit "
                                               "integer",
                                    .sql = sql::redacted(sqlite3_sql(s), sql::sqlite_dialect)});
                rc = sqlite3_bind_int64(s, i, static_cast<sqlite3_int64>(p.num.u));
                break;
            case param_ref::kind::float64: rc = sqlite3_bind_double(s, i, p.num.d); break;
            case param_ref::kind::text:
                rc = sqlite3_bind_text64(s, i, p.bytes.empty() ? empty : p.bytes.data(),
                                         p.bytes.size(), SQLITE_STATIC, SQLITE_UTF8);
                break;
            case param_ref::kind::binary:
                rc = sqlite3_bind_blob64(s, i, p.bytes.empty() ? empty : p.bytes.data(),
                                         p.bytes.size(), SQLITE_STATIC);
                break;
            case param_ref::kind::date_value: {
                char buf[32];
                const std::size_t n = detail::format_date(p.day, buf);
                rc = sqlite3_bind_text64(s, i, buf, n, SQLITE_TRANSIENT, SQLITE_UTF8);
                break;
            }
            case param_ref::kind::timestamp_value: {
                char buf[40];
                const std::size_t n = detail::format_timestamp(p.ts, buf);
                rc = sqlite3_bind_text64(s, i, buf, n, SQLITE_TRANSIENT, SQLITE_UTF8);
                break;
            }
        }
        if (rc != SQLITE_OK) fail(rc, sqlite3_sql(s));
    }
}

session::armed_deadline::armed_deadline(session& s, deadline d) noexcept : owner(s) {
    owner.cancel_requested_.store(false, std::memory_order_relaxed);
    owner.deadline_ = d;
}

session::armed_deadline::~armed_deadline() {
    owner.deadline_ = deadline::max();
}

int session::on_progress(void* self) noexcept {
    // Installed once at open; costs a compare every 1000 VM steps when no deadline is set.
    const auto* s = static_cast<const session*>(self);
    if (s->deadline_ == deadline::max()) return 0;
    return std::chrono::steady_clock::now() >= s->deadline_ ? 1 : 0;
}

void session::step_failed(int rc, sqlite3_stmt* s, deadline d) {
    if ((rc & 0xFF) == SQLITE_INTERRUPT) {
        const bool timed_out = d != deadline::max() && std::chrono::steady_clock::now() >= d &&
                               !cancel_requested_.load(std::memory_order_relaxed);
        throw error(make_error_code(timed_out ? client_errc::timeout : client_errc::cancelled),
                    diagnostics{.message = timed_out ? "statement stopped at its deadline"
                                                     : "statement cancelled",
                                .native_code = rc,
                                .sql = sql::redacted(sqlite3_sql(s), sql::sqlite_dialect)});
    }
    fail(rc, sqlite3_sql(s));
}

void session::fail(int rc, std::string_view sql) const {
    const int ext = db_ != nullptr ? sqlite3_extended_errcode(db_) : rc;
    const int code = (ext & 0xFF) == (rc & 0xFF) ? ext : rc;
    throw error(
        make_sqlite_error(code),
        diagnostics{.message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc),
                    .native_code = code,
                    .sql = sql.empty() ? std::string() : sql::redacted(sql, sql::sqlite_dialect)});
}

void session::exec(const std::string& sql) {
    if (db_ == nullptr)
        throw error(make_error_code(client_errc::connection_closed),
                    "the SQLite session is closed");
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) fail(rc, sql);
}

void session::ping() {
    exec("SELECT 1");
}
void session::begin() {
    exec(begin_sql_);
}
void session::commit() {
    exec("COMMIT");
}
void session::rollback() {
    exec("ROLLBACK");
}
void session::savepoint(std::string_view name) {
    exec("SAVEPOINT \"" + std::string(name) + "\"");
}
void session::release_savepoint(std::string_view name) {
    exec("RELEASE SAVEPOINT \"" + std::string(name) + "\"");
}
void session::rollback_to_savepoint(std::string_view name) {
    exec("ROLLBACK TO SAVEPOINT \"" + std::string(name) + "\"");
}

server_info session::info() const {
    return {"sqlite", sqlite3_libversion(), sqlite3_libversion()};
}

}  // namespace dal::sqlite
