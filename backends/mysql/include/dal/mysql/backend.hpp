// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// The MySQL/MariaDB backend: a `dal::backend` over the libmysqlclient API as MariaDB
/// Connector/C implements it, in its non-blocking mode (MYSQL_OPT_NONBLOCK).
///
/// Every driver call is a `*_start` / `*_cont` pair. Between them the session waits for the
/// socket with poll(2) (blocking API) or an Asio descriptor wait (`async_` API); the protocol
/// logic is the same. Statements are server-side prepared statements (mysql_stmt_*) cached by
/// the CachePolicy; statements MySQL cannot prepare (error 1295) go through the text protocol.
///
/// Time limits: the server's `max_statement_time` (MariaDB; `max_execution_time` on MySQL 8)
/// is set from the configured statement limit when connecting and raised per call when a call
/// asks for more; a client-side deadline sends `KILL QUERY <id>` on a separate connection
/// when it passes (from a worker thread in the async API). The call fails with errc::timeout
/// and the connection stays usable.
///
/// MySQL commits DDL implicitly, even inside a transaction. DDL issued while a transaction is
/// open is rejected by default (`ddl_in_transaction=reject`); `allow` runs it, counts it in
/// `implicit_commits()` and records a warning (docs/mysql.md says what a rollback then keeps).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <mysql.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <dal/backend.hpp>
#include <dal/config.hpp>
#include <dal/detail/async_io.hpp>
#include <dal/error.hpp>
#include <dal/mysql/error.hpp>
#include <dal/sql/dialect.hpp>
#include <dal/value.hpp>

namespace dal::mysql {

namespace detail {
struct mysql_deleter {
    void operator()(MYSQL* m) const noexcept { mysql_close(m); }
};
struct stmt_deleter {
    void operator()(MYSQL_STMT* s) const noexcept { mysql_stmt_close(s); }
};
struct res_deleter {
    void operator()(MYSQL_RES* r) const noexcept { mysql_free_result(r); }
};
}  // namespace detail

/// A prepared statement (or, when MySQL cannot prepare it, its text for the text protocol).
class statement {
public:
    statement() = default;
    [[nodiscard]] const std::string& sql() const noexcept { return sql_; }
    [[nodiscard]] bool text_protocol() const noexcept { return !st_; }

private:
    friend class session;
    std::unique_ptr<MYSQL_STMT, detail::stmt_deleter> st_;
    std::string sql_;
    std::uint64_t generation_ = 0;
    /// Unique per session for its lifetime: tells whether the session's bind arrays are
    /// still bound to this statement (a pointer could be reused by a later statement).
    std::uint64_t serial_ = 0;
    unsigned params_ = 0;
    bool reprepare_ = false;  ///< its table's columns changed: prepared again before its next run
    bool ddl_ = false;        ///< a statement that commits implicitly
};

/// One column as the session decoded it: how its bytes become a field_view.
struct column {
    enum class decode : std::uint8_t {
        integer,
        unsigned_integer,
        floating,
        decimal,
        text,
        binary,
        temporal
    };
    decode how = decode::text;
    std::string name;
};

/// The current row (valid inside the row handler only).
class row {
public:
    row(std::span<const column> cols, std::span<const field_view> fields) noexcept
        : cols_(cols), fields_(fields) {}
    [[nodiscard]] std::size_t size() const noexcept { return cols_.size(); }
    [[nodiscard]] std::string_view name(std::size_t i) const noexcept { return cols_[i].name; }
    [[nodiscard]] field_view field(std::size_t i) const noexcept {
        field_view f = fields_[i];
        f.column = cols_[i].name;
        return f;
    }

private:
    std::span<const column> cols_;
    std::span<const field_view> fields_;
};

/// One open MySQL/MariaDB connection.
class session {
public:
    using executor_type = boost::asio::any_io_executor;

    session();
    session(const session&) = delete;
    session& operator=(const session&) = delete;
    session(session&&) = delete;
    session& operator=(session&&) = delete;
    ~session() { close(); }

    /// Initialises Connector/C once per process (mysql_library_init: not thread-safe, to be
    /// called before threads use the library). A pool calls it on the thread that creates
    /// it: the library's exit-time cleanup (OpenSSL's included) is then registered before
    /// dal's connector threads exist, so those threads stop first and free their per-thread
    /// state instead of leaking it. Later calls do nothing; mysql_init would do it otherwise.
    static void init_library();

    void open(const config& cfg);
    /// The same without blocking: Connector/C's connect state machine driven by Asio on the
    /// caller's executor (TCP, TLS and authentication; then the role check and session setup).
    boost::asio::awaitable<void> async_open(config cfg);
    void close() noexcept;
    /// Lets go of what ties the session to the io_context of its last async call (the
    /// registered socket, the deadline timer), so that it may outlive that io_context or be
    /// used from another one. Only between calls.
    void detach_io() noexcept {
        watchdog_.detach();
        socket_.detach();
    }
    [[nodiscard]] bool is_open() const noexcept { return mysql_ != nullptr; }

    [[nodiscard]] statement prepare(std::string_view sql);
    boost::asio::awaitable<statement> async_prepare(std::string sql);

    template <class Handler>
    std::uint64_t execute(statement& st, std::span<const param_ref> params, deadline d,
                          Handler& on_row) {
        require_open();
        if (const std::string pre = setup_sql(d); !pre.empty()) run_simple(pre);
        if (st.reprepare_) reprepare(st);
        begin_statement(st, params, d);
        waiter_poll w{this};
        run_statement(st, w);
        return read_results(st, on_row, w);
    }

    template <class Handler>
    boost::asio::awaitable<std::uint64_t> async_execute(statement& st,
                                                        std::span<const param_ref> params,
                                                        deadline d, Handler& on_row) {
        attach_socket(co_await boost::asio::this_coro::executor);
        if (std::string pre = setup_sql(d); !pre.empty()) co_await async_run_simple(std::move(pre));
        if (st.reprepare_) co_await async_reprepare(st);
        begin_statement(st, params, d);
        const watch guard(*this, d);
        // The waits are written out here (not in a helper coroutine): one frame fewer each.
        int status = start_execute(st);
        while (status != 0) {
            const bool write = (status & MYSQL_WAIT_WRITE) != 0;
            auto [ec] = co_await socket_.get().async_wait(
                write ? boost::asio::posix::descriptor_base::wait_write
                      : boost::asio::posix::descriptor_base::wait_read,
                boost::asio::as_tuple(boost::asio::use_awaitable));
            status = continue_execute(st, after_wait(ec, write));
        }
        if (execute_saw_new_columns(st)) co_await async_drop_result(st);  // and throws
        check_execute(st);
        if (has_result(st)) {
            status = start_store(st);
            while (status != 0) {
                const bool write = (status & MYSQL_WAIT_WRITE) != 0;
                auto [ec] = co_await socket_.get().async_wait(
                    write ? boost::asio::posix::descriptor_base::wait_write
                          : boost::asio::posix::descriptor_base::wait_read,
                    boost::asio::as_tuple(boost::asio::use_awaitable));
                status = continue_store(st, after_wait(ec, write));
            }
            check_store(st);
        }
        waiter_none w;
        co_return read_results(st, on_row, w);
    }

    /// Runs `st` once per element of `rows` with MariaDB's bulk protocol (array binding,
    /// STMT_ATTR_ARRAY_SIZE): one round trip for all rows; on servers without it (MySQL),
    /// one execution per row. Returns the rows changed. Used by execute_many.
    std::uint64_t execute_bulk(statement& st, std::span<const std::span<const param_ref>> rows,
                               deadline d);

    /// Sends `KILL QUERY` for the running statement on a separate connection (blocks for a
    /// connect and a round trip). The statement then fails with errc::cancelled.
    void cancel() noexcept;

    void ping();
    void begin();
    void commit();
    void rollback();
    void savepoint(std::string_view name);
    void release_savepoint(std::string_view name);
    void rollback_to_savepoint(std::string_view name);
    [[nodiscard]] bool in_transaction() const noexcept {
        return mysql_ != nullptr && (mysql_->server_status & SERVER_STATUS_IN_TRANS) != 0;
    }
    [[nodiscard]] server_info info() const;
    /// DDL statements run inside a transaction (ddl_in_transaction=allow), each of which
    /// committed that transaction implicitly.
    [[nodiscard]] std::uint64_t implicit_commits() const noexcept { return implicit_commits_; }
    /// The last warning dal recorded on this connection (an implicit commit), or empty.
    [[nodiscard]] const std::string& last_warning() const noexcept { return last_warning_; }
    /// True for MariaDB servers, false for MySQL.
    [[nodiscard]] bool is_mariadb() const noexcept { return mariadb_; }
    [[nodiscard]] MYSQL* native_handle() const noexcept { return mysql_.get(); }

private:
    /// Waits with poll(2) for what Connector/C asked for; returns what is ready.
    struct waiter_poll {
        session* s;
        int operator()(int status) const { return s->wait_poll(status); }
    };
    /// For results already read into memory: no waiting is ever needed.
    struct waiter_none {
        int operator()(int /*status*/) const { return 0; }
    };

    template <class Waiter>
    void run_statement(statement& st, Waiter& w) {
        int status = start_execute(st);
        while (status != 0)
            status = continue_execute(st, w(status));
        if (execute_saw_new_columns(st)) {
            status = start_drop_result(st);
            while (status != 0)
                status = continue_drop_result(st, w(status));
            columns_changed(st);
        }
        check_execute(st);
        if (has_result(st)) {
            status = start_store(st);
            while (status != 0)
                status = continue_store(st, w(status));
            check_store(st);
        }
    }

    /// Rows are read from the client-side buffer (mysql_stmt_store_result): no I/O here.
    template <class Handler, class Waiter>
    std::uint64_t read_results(statement& st, Handler& on_row, Waiter& /*w*/) {
        std::uint64_t changed = 0;
        std::exception_ptr thrown;
        if (has_result(st)) {
            bind_results(st);
            bool stopped = false;
            while (fetch(st)) {
                if (stopped || thrown) continue;
                try {
                    const row r(columns_, fields_);
                    if constexpr (std::is_same_v<decltype(on_row(r)), bool>) {
                        if (!on_row(r)) stopped = true;
                    } else {
                        on_row(r);
                    }
                } catch (...) {
                    thrown = std::current_exception();
                }
            }
            end_results(st);
        } else {
            changed = affected(st);
        }
        finish_statement(st);
        if (thrown) std::rethrow_exception(thrown);
        return changed;
    }

    /// Sets the running statement's client-side deadline for its lifetime (watchdog_, from
    /// dal/detail/async_io.hpp). At the deadline a worker thread sends KILL QUERY; after the
    /// grace period the wait is abandoned.
    class watch {
    public:
        watch(session& s, deadline d);
        watch(const watch&) = delete;
        watch& operator=(const watch&) = delete;
        ~watch();

    private:
        session& s_;
    };
    static void fire(void* self) { static_cast<session*>(self)->on_watchdog(); }
    void on_watchdog();

    void require_open() const;
    void begin_wait(deadline d);
    [[nodiscard]] deadline default_deadline() const;
    [[nodiscard]] std::string timeout_sql(std::int64_t ms) const;
    statement prepared(statement out, int ret);
    void begin_statement(statement& st, std::span<const param_ref> params, deadline d);
    void bind_params(statement& st, std::span<const param_ref> params);
    int start_execute(statement& st);
    int continue_execute(statement& st, int ready);
    void check_execute(statement& st);
    /// CR_NEW_STMT_METADATA: the table's columns changed after the statement was prepared.
    /// Its rows are dropped first (start/continue_drop_result), then columns_changed says so.
    [[nodiscard]] bool execute_saw_new_columns(const statement& st) const noexcept;
    int start_drop_result(statement& st);
    int continue_drop_result(statement& st, int ready);
    boost::asio::awaitable<void> async_drop_result(statement& st);
    [[noreturn]] void columns_changed(statement& st);
    /// Prepares `st` again on its own handle (its table changed): Connector/C closes the old
    /// server-side statement; the binding is made anew on the next run.
    void reprepare(statement& st);
    /// A statement with its handle, not yet prepared.
    [[nodiscard]] statement new_statement(std::string sql);
    /// Prepares `st`'s SQL on its handle; Connector/C's result (0: prepared).
    int run_prepare(statement& st);
    boost::asio::awaitable<int> async_run_prepare(statement& st);
    boost::asio::awaitable<void> async_reprepare(statement& st);
    void reprepared(statement& st, int ret);
    /// Columns renamed under the statement: the server sent the new names with this result,
    /// but Connector/C keeps the old ones in the statement. Takes the new names for this
    /// result and marks the statement to be prepared again before its next run.
    void take_renamed_columns(statement& st);
    [[nodiscard]] bool has_result(const statement& st) const noexcept;
    int start_store(statement& st);
    int continue_store(statement& st, int ready);
    void check_store(statement& st);
    void bind_results(statement& st);
    void bind_result_columns(statement& st);
    /// True when the columns of `st`'s new result still fit the binding of its last one.
    [[nodiscard]] bool results_still_bound(const statement& st) const noexcept;
    bool fetch(statement& st);
    void end_results(statement& st);
    [[nodiscard]] std::uint64_t affected(const statement& st) const noexcept;
    void finish_statement(statement& st);
    int wait_poll(int status);
    boost::asio::awaitable<int> async_wait(int status);
    /// After a socket wait: the readiness to report to Connector/C, or the failure.
    int after_wait(const boost::system::error_code& ec, bool write);
    void attach_socket(const executor_type& ex);
    /// The SET that raises the server's limit for a call with deadline `d`, or empty.
    [[nodiscard]] std::string setup_sql(deadline d);
    void run_simple(std::string_view sql);
    /// What open() takes from the config, for both forms.
    struct connect_plan {
        std::vector<endpoint> hosts;
        std::string charset = "utf8mb4";
        std::string role = "any";
        deadline until;
        [[nodiscard]] int passes() const noexcept { return role == "prefer_standby" ? 2 : 1; }
        /// prefer_standby: a standby in the first pass, any host in the second.
        [[nodiscard]] std::string want(int pass) const {
            if (role != "prefer_standby") return role;
            return pass == 0 ? "standby" : "any";
        }
    };
    /// The steps of open() and async_open(), which differ only in how they wait.
    connect_plan plan_open(const config& cfg);
    int start_connect(const connect_plan& p, const endpoint& e, MYSQL*& ret);
    void drop_handle() noexcept;
    [[noreturn]] void connect_interrupted(const endpoint& e, const error& why);
    void connect_failed(const endpoint& e, std::optional<error>& last);
    /// True when the host's role fits `want`; otherwise records why in `last` and drops the
    /// connection.
    bool role_fits(const endpoint& e, const std::string& want, bool read_only,
                   std::optional<error>& last);
    /// Takes the connection into use and returns the session setup SQL to run.
    std::string finish_open(const std::optional<error>& last);
    /// @@global.read_only of the server just connected to (target_role).
    bool read_only_blocking();
    boost::asio::awaitable<bool> async_read_only();
    void drain_simple_blocking();
    boost::asio::awaitable<void> async_run_simple(std::string sql);
    [[nodiscard]] error last_error(std::string_view sql, MYSQL_STMT* st) const;
    [[noreturn]] void fail(std::string_view sql, MYSQL_STMT* st);
    void on_deadline_passed();
    [[noreturn]] void give_up();

    std::unique_ptr<MYSQL, detail::mysql_deleter> mysql_;
    config cfg_;  ///< for the separate KILL QUERY connection
    std::uint64_t generation_ = 0;
    unsigned long thread_id_ = 0;
    bool mariadb_ = true;
    bool allow_ddl_in_transaction_ = false;
    bool connecting_ = false;
    bool bulk_supported_ = false;  ///< MariaDB's array binding (STMT_ATTR_ARRAY_SIZE)
    std::uint64_t implicit_commits_ = 0;
    std::string last_warning_;
    std::string server_version_;
    std::chrono::milliseconds cancel_grace_{2'000};
    std::int64_t server_timeout_ = 0;  ///< ms; 0: none; max: raised to none
    std::int64_t configured_timeout_ = 0;

    enum class stop_reason : std::uint8_t { none, deadline, user };
    std::atomic<stop_reason> stop_{stop_reason::none};
    deadline wait_until_ = deadline::max();
    bool kill_sent_ = false;
    bool give_up_ = false;
    int ret_ = 0;          ///< result of the running *_start/*_cont pair
    my_bool dropped_ = 0;  ///< result of mysql_stmt_free_result_start/_cont (0: no error)
    std::string current_sql_;
    std::string simple_sql_;
    std::unique_ptr<MYSQL_RES, detail::res_deleter> text_res_;

    // Column arrays of a bulk execution.
    struct bulk_column {
        std::vector<std::int64_t> ints;
        std::vector<double> doubles;
        std::vector<char*> ptrs;
        std::vector<unsigned long> lengths;
        std::vector<MYSQL_TIME> times;
        std::vector<MYSQL_TIME*> time_ptrs;
        std::vector<char> indicators;
    };
    std::vector<bulk_column> bulk_;
    std::vector<MYSQL_BIND> bulk_binds_;

    // Parameter and result binding, reused across calls. A statement executed again with
    // parameters of the same kinds, or giving columns that still fit the buffers, keeps the
    // binding Connector/C already holds (as a hand-written loop over a prepared statement
    // would): no mysql_stmt_result_metadata copy and no re-binding per call.
    std::uint64_t statement_serial_ = 0;
    std::uint64_t params_bound_for_ = 0;   ///< statement serial; 0: none
    std::uint64_t results_bound_for_ = 0;  ///< statement serial; 0: none
    std::vector<param_ref::kind> param_kinds_;
    std::vector<MYSQL_BIND> param_binds_;
    std::vector<MYSQL_TIME> param_times_;
    std::vector<std::int64_t> param_ints_;
    std::vector<double> param_doubles_;
    std::vector<MYSQL_BIND> result_binds_;
    std::vector<column> columns_;
    std::vector<field_view> fields_;
    std::vector<enum_field_types> types_;
    std::vector<std::string> buffers_;
    std::vector<unsigned long> lengths_;
    std::vector<my_bool> nulls_;
    std::vector<my_bool> errors_;
    std::vector<MYSQL_TIME> times_;
    std::vector<std::int64_t> ints_;
    std::vector<double> doubles_;
    std::vector<std::string> temporal_text_;

    dal::detail::socket_view socket_;
    dal::detail::statement_watchdog watchdog_{this, &session::fire};
    deadline active_deadline_ = deadline::max();
};

/// The backend type that plugs MySQL/MariaDB into basic_connection.
struct backend {
    using session = mysql::session;
    using statement = mysql::statement;
    static constexpr std::string_view name = "mysql";
    static constexpr sql::dialect dialect = sql::mysql_dialect;
    static constexpr bool blocking = false;
    static const std::error_category& error_category() noexcept { return mysql::error_category(); }
    /// 1615 "Prepared statement needs to be re-prepared" (schema changed), 1243 unknown
    /// statement handler (a statement of an earlier connection).
    static bool statement_is_stale(const std::error_code& ec) noexcept {
        return ec.category() == mysql::error_category() &&
               (ec.value() == 1615 || ec.value() == 1243);
    }
};

}  // namespace dal::mysql
