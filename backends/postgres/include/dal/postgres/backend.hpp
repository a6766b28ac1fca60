// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// The PostgreSQL backend: a `dal::backend` over libpq in non-blocking mode.
///
/// One code path, two ways to wait. libpq is always in non-blocking mode; between its calls
/// the session waits for its socket either with poll(2) (the blocking API) or with an Asio
/// descriptor wait (the `async_` API, where one thread serves any number of connections).
///
/// - Statements are prepared server-side under names `dal_<n>` and cached by the connection's
///   CachePolicy. `named_statements=off` (for pgbouncer in transaction mode) sends every
///   statement with the unnamed extended protocol instead: nothing lives on the server
///   between transactions.
/// - Results use the text format: numbers are parsed exactly (std::from_chars), NUMERIC comes
///   as an exact decimal, bytea is decoded from hex; dates and timestamps as ISO text with
///   the UTC offset applied. docs/postgresql.md says why text and not binary.
/// - A statement limit is enforced twice: the server's `statement_timeout` (set from the
///   configured limit at connect time, raised per call when a call asks for more), and a
///   client-side deadline that sends a cancel request when it passes, without blocking the
///   waiting thread or io_context. The call fails with errc::timeout; the connection stays
///   usable. A server that does not answer the cancel within `cancel_grace` is given up:
///   the connection is closed (errc::timeout, and is_open() is false).
/// - execute_many and dal::batch use libpq's pipeline mode: one round trip for many
///   statements.

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
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

#include <libpq-fe.h>

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
#include <dal/postgres/error.hpp>
#include <dal/sql/dialect.hpp>
#include <dal/value.hpp>

namespace dal::postgres {

namespace detail {
struct conn_deleter {
    void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
struct result_deleter {
    void operator()(PGresult* r) const noexcept { PQclear(r); }
};
/// The cancel key of a connection, shared with cancel requests still running after the
/// statement (or the session) is gone.
struct cancel_handle {
    std::mutex mutex;
    std::shared_ptr<PGcancel> key;  ///< guarded by mutex; requests in flight hold copies
    /// Sends a CancelRequest on a new connection to the server, from a thread of its own.
    /// PQcancel has no time limit: over a working network it takes one round trip, over a
    /// stalled one it hangs until the network returns. Nobody waits for it: the statement's
    /// own wait, bounded by cancel_grace, decides what happens to the connection.
    void send() noexcept;
    /// The same, waiting up to `limit` for the request to be delivered (the server has
    /// signalled the backend once PQcancel returns). A statement that waits for its own
    /// cancel this way cannot end before the request lands, and a request that lands late
    /// cannot cancel the next statement instead.
    void send_and_wait(std::chrono::milliseconds limit) noexcept;
    /// No request is on its way: none could land during a later statement and cancel it.
    [[nodiscard]] bool settled() const noexcept { return in_flight->load() == 0; }
    void set(PGcancel* k);
    /// Requests sent and not yet delivered (their threads hold copies).
    std::shared_ptr<std::atomic<int>> in_flight = std::make_shared<std::atomic<int>>(0);
    void clear() noexcept;
};
}  // namespace detail

using result_ptr = std::unique_ptr<PGresult, detail::result_deleter>;

/// A statement prepared on this connection (or, in unnamed mode, its text kept for sending).
/// Destroying it queues a DEALLOCATE that the session sends before its next statement.
class statement {
public:
    statement() = default;
    statement(std::string name, std::string sql, std::uint64_t generation,
              std::shared_ptr<std::vector<std::string>> graveyard)
        : name_(std::move(name)),
          sql_(std::move(sql)),
          generation_(generation),
          graveyard_(std::move(graveyard)) {}
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;
    statement(statement&& o) noexcept { swap(o); }
    statement& operator=(statement&& o) noexcept {
        if (this != &o) {
            statement gone(std::move(*this));
            swap(o);
        }
        return *this;
    }
    ~statement() {
        if (graveyard_ && !name_.empty()) {
            try {
                graveyard_->push_back(std::move(name_));
            } catch (...) {  // NOLINT(bugprone-empty-catch): out of memory: the server frees
                             // it with the session
            }
        }
    }
    /// Server-side name; empty in unnamed mode.
    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] const std::string& sql() const noexcept { return sql_; }
    [[nodiscard]] std::uint64_t generation() const noexcept { return generation_; }

private:
    friend class session;
    void swap(statement& o) noexcept {
        name_.swap(o.name_);
        sql_.swap(o.sql_);
        std::swap(generation_, o.generation_);
        graveyard_.swap(o.graveyard_);
        param_types_.swap(o.param_types_);
    }
    std::string name_;
    std::string sql_;
    std::uint64_t generation_ = 0;
    std::shared_ptr<std::vector<std::string>> graveyard_;
    std::vector<Oid> param_types_;  ///< described lazily, only when a blob is bound
};

/// How a column's text is turned into a field_view (decided once per result).
enum class column_decoder : std::uint8_t {
    text,
    integer,
    floating,
    boolean,
    bytea,
    decimal,
    array_text,
    array_integer,
    array_floating,
    array_boolean,
    array_decimal
};

/// The current row of a result (valid inside the row handler only).
class row {
public:
    row(const PGresult* res, int index, std::span<const column_decoder> cols,
        std::span<std::string> scratch) noexcept
        : res_(res), index_(index), cols_(cols), scratch_(scratch) {}
    [[nodiscard]] std::size_t size() const noexcept { return cols_.size(); }
    [[nodiscard]] std::string_view name(std::size_t i) const noexcept { return name_of(res_, i); }
    [[nodiscard]] field_view field(std::size_t i) const noexcept {
        const int c = static_cast<int>(i);
        field_view f;
        f.name_of = &row::name_of;
        f.source = res_;
        f.index = i;
        if (PQgetisnull(res_, index_, c) != 0) return f;
        const char* v = PQgetvalue(res_, index_, c);
        const auto n = static_cast<std::size_t>(PQgetlength(res_, index_, c));
        f.type = field_view::kind::text;
        f.bytes = std::string_view(v, n);
        switch (cols_[i]) {
            case column_decoder::integer:
                if (std::from_chars(v, v + n, f.i).ec == std::errc{})
                    f.type = field_view::kind::int64;
                break;
            case column_decoder::floating:
                if (std::from_chars(v, v + n, f.d).ec == std::errc{})
                    f.type = field_view::kind::float64;
                break;
            case column_decoder::boolean:
                f.type = field_view::kind::int64;
                f.i = (n > 0 && v[0] == 't') ? 1 : 0;
                break;
            case column_decoder::decimal: f.type = field_view::kind::decimal; break;
            case column_decoder::bytea:
                f.type = field_view::kind::binary;
                f.bytes = decode_bytea(f.bytes, scratch_[i]);
                break;
            case column_decoder::text: break;
            case column_decoder::array_text: array(f, field_view::element_kind::text); break;
            case column_decoder::array_integer: array(f, field_view::element_kind::integer); break;
            case column_decoder::array_floating:
                array(f, field_view::element_kind::floating);
                break;
            case column_decoder::array_boolean: array(f, field_view::element_kind::boolean); break;
            case column_decoder::array_decimal: array(f, field_view::element_kind::decimal); break;
        }
        return f;
    }

private:
    static std::string_view name_of(const void* res, std::size_t i) noexcept {
        const char* n = PQfname(static_cast<const PGresult*>(res), static_cast<int>(i));
        return n != nullptr ? std::string_view(n) : std::string_view();
    }
    static void array(field_view& f, field_view::element_kind element) noexcept {
        f.type = field_view::kind::array;
        f.element = element;
    }
    /// bytea's hex output ("\x0a1b") into bytes; kept in the column's scratch buffer.
    static std::string_view decode_bytea(std::string_view hex, std::string& out) noexcept;

    const PGresult* res_;
    int index_;
    std::span<const column_decoder> cols_;
    std::span<std::string> scratch_;
};

/// What became of one statement of a pipeline (execute_many, dal::batch).
struct pipeline_outcome {
    enum class state : std::uint8_t { ok, failed, not_executed };
    state status = state::not_executed;
    std::uint64_t changed = 0;
    std::optional<error> failure;  ///< for failed (the server's error) and not_executed
};

/// One open PostgreSQL connection.
class session {
public:
    using executor_type = boost::asio::any_io_executor;

    session();
    session(const session&) = delete;
    session& operator=(const session&) = delete;
    session(session&&) = delete;
    session& operator=(session&&) = delete;
    ~session() { close(); }

    /// Connects (PQconnectStartParams/PQconnectPoll), waiting at most the connect limit.
    void open(const config& cfg);
    /// The same without blocking: the socket is waited for on the coroutine's executor.
    boost::asio::awaitable<void> async_open(config cfg);
    void close() noexcept;
    /// Lets go of what ties the session to the io_context of its last async call (the
    /// registered socket, the deadline timer), so that it may outlive that io_context or be
    /// used from another one. Only between calls.
    void detach_io() noexcept {
        watchdog_.detach();
        socket_.detach();
    }
    [[nodiscard]] bool is_open() const noexcept { return conn_ != nullptr; }

    [[nodiscard]] statement prepare(std::string_view sql);
    boost::asio::awaitable<statement> async_prepare(std::string sql);

    /// Binds, runs and reads the results of `st`, calling `on_row(row)` per row (a handler
    /// returning false is not called again). Returns the rows changed.
    template <class Handler>
    std::uint64_t execute(statement& st, std::span<const param_ref> params, deadline d,
                          Handler& on_row) {
        start_statement(st, params, d);
        flush_blocking();
        results_state rs;
        while (result_ptr r = next_result_blocking())
            consume(r, on_row, rs);
        return finish(rs);
    }

    template <class Handler>
    boost::asio::awaitable<std::uint64_t> async_execute(statement& st,
                                                        std::span<const param_ref> params,
                                                        deadline d, Handler& on_row) {
        attach_socket(co_await boost::asio::this_coro::executor);
        check_params(st, params);
        if (!cancel_->settled()) co_await async_settle_cancel();
        if (std::string pre = pending_sql(d); !pre.empty())
            co_await async_run_simple(std::move(pre));
        current_sql_ = st.sql_;
        begin_wait(d);
        send(st, params);
        const watch guard(*this, d);
        if (PQflush(conn_.get()) != 0) co_await async_flush();
        results_state rs;
        while (true) {
            while (PQisBusy(conn_.get()) != 0) {
                auto [ec] = co_await socket_.get().async_wait(
                    boost::asio::posix::descriptor_base::wait_read,
                    boost::asio::as_tuple(boost::asio::use_awaitable));
                after_wait(ec);
            }
            result_ptr r(PQgetResult(conn_.get()));
            if (!r) break;
            consume(r, on_row, rs);
        }
        co_return finish(rs);
    }

    /// Runs the statements in pipeline mode: all sent, one sync, one round trip. Outcomes are
    /// per statement; after a failure the rest are `not_executed` (PostgreSQL's semantics).
    /// `sink(index, row)` receives the rows of statement `index`.
    template <class Sink>
    std::vector<pipeline_outcome> execute_pipeline(
        std::span<statement* const> statements, std::span<const std::span<const param_ref>> params,
        deadline d, Sink& sink) {
        enter_pipeline(statements, params, d);
        std::vector<pipeline_outcome> out(statements.size());
        std::exception_ptr thrown;
        for (std::size_t k = 0; k < statements.size(); ++k) {
            auto on_row = [&sink, k](const row& r) { sink(k, r); };
            results_state rs;
            while (result_ptr r = next_result_blocking())
                consume(r, on_row, rs);
            if (rs.handler && !thrown) thrown = rs.handler;
            out[k] = outcome_of(rs, *statements[k]);
        }
        leave_pipeline();
        if (thrown) std::rethrow_exception(thrown);
        return out;
    }

    /// Stops the statement running now, from any thread: sends a cancel request to the
    /// server (one short connection). It then fails with errc::cancelled.
    void cancel() noexcept;

    void ping();
    void begin();
    void commit();
    void rollback();
    void savepoint(std::string_view name);
    void release_savepoint(std::string_view name);
    void rollback_to_savepoint(std::string_view name);
    [[nodiscard]] bool in_transaction() const noexcept {
        if (!conn_) return false;
        const auto s = PQtransactionStatus(conn_.get());
        return s == PQTRANS_INTRANS || s == PQTRANS_INERROR;
    }
    [[nodiscard]] server_info info() const;
    /// Named prepared statements in use (false with named_statements=off).
    [[nodiscard]] bool named_statements() const noexcept { return named_; }
    /// The libpq handle, for what dal does not wrap. Leave it in non-blocking mode.
    [[nodiscard]] PGconn* native_handle() const noexcept { return conn_.get(); }

private:
    /// What the results of one statement came to.
    struct results_state {
        std::uint64_t changed = 0;
        result_ptr error;            ///< the first error result
        std::exception_ptr handler;  ///< what a row handler threw (rows are drained anyway)
        std::string tag;             ///< command tag of the last command ("COMMIT", ...)
        bool stopped = false;        ///< the handler asked for no more rows
        bool aborted = false;        ///< pipeline: skipped after an earlier failure
    };
    struct detail_ignore {
        template <class Row>
        void operator()(const Row& /*row*/) const noexcept {}
    };

    /// Sets the running statement's client-side deadline for its lifetime (watchdog_, from
    /// dal/detail/async_io.hpp). At the deadline a worker thread sends the cancel request
    /// (PQcancel blocks); after the grace period the wait is abandoned.
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

    template <class Handler>
    void consume(result_ptr& r, Handler& on_row, results_state& rs) {
        const ExecStatusType status = PQresultStatus(r.get());
        if (status != PGRES_TUPLES_OK && status != PGRES_SINGLE_TUPLE) {
            other_result(r, rs);
            return;
        }
        if (rs.stopped || rs.handler) return;
        describe(r.get());
        const int n = PQntuples(r.get());
        try {
            for (int i = 0; i < n; ++i) {
                const row rw(r.get(), i, decoders_, scratch_);
                if constexpr (std::is_same_v<decltype(on_row(rw)), bool>) {
                    if (!on_row(rw)) {
                        rs.stopped = true;
                        break;
                    }
                } else {
                    on_row(rw);
                }
            }
        } catch (...) {
            rs.handler = std::current_exception();
        }
    }

    void require_open() const;
    void begin_wait(deadline d);
    /// Before a statement starts, a cancel request still on its way (sent at an earlier
    /// statement's deadline, which then finished anyway) is waited for, up to cancel_grace:
    /// landing now it would cancel the new statement. One that does not land by then closes
    /// the connection. Blocking form (called by begin_wait) and async form.
    void settle_cancel();
    boost::asio::awaitable<void> async_settle_cancel();
    [[noreturn]] void fail_unsettled_cancel();
    [[nodiscard]] deadline default_deadline() const;
    [[nodiscard]] std::string pending_sql(deadline d);
    void check_params(statement& st, std::span<const param_ref> params);
    void describe_params(statement& st);
    void encode(std::span<const param_ref> params);
    void send(statement& st, std::span<const param_ref> params);
    void start_statement(statement& st, std::span<const param_ref> params, deadline d);
    void flush_blocking();
    [[nodiscard]] result_ptr next_result_blocking();
    /// Waits for the socket (poll); false when `until` passed first.
    [[nodiscard]] bool wait_socket(bool write, deadline until);
    /// The wait passed the deadline: cancel once, then give up after the grace period.
    deadline on_deadline();
    void consume_input();
    void other_result(result_ptr& r, results_state& rs);
    void describe(const PGresult* r);
    [[nodiscard]] error result_error(const PGresult* r) const;
    void check(results_state& rs);
    std::uint64_t finish(results_state& rs);
    [[noreturn]] void fail_connection(std::string_view what);
    std::string run_simple(std::string_view sql);
    static void check_commit(std::string_view tag);
    void enter_pipeline(std::span<statement* const> statements,
                        std::span<const std::span<const param_ref>> params, deadline d);
    void leave_pipeline();
    pipeline_outcome outcome_of(results_state& rs, const statement& st);
    void start_connect(const config& cfg);
    void after_connect();
    [[nodiscard]] std::string setup_sql() const;

    void attach_socket(const executor_type& ex);
    /// After a socket wait: reads what arrived, or fails (server gone, deadline given up).
    void after_wait(const boost::system::error_code& ec);
    boost::asio::awaitable<void> async_flush();
    boost::asio::awaitable<result_ptr> async_next_result();
    boost::asio::awaitable<std::string> async_run_simple(std::string sql);

    std::unique_ptr<PGconn, detail::conn_deleter> conn_;
    std::shared_ptr<detail::cancel_handle> cancel_;
    std::shared_ptr<std::vector<std::string>> graveyard_;
    std::uint64_t generation_ = 0;  ///< bumped per connect: statements of an older one are stale
    std::uint64_t next_name_ = 0;
    bool named_ = true;
    std::chrono::milliseconds connect_timeout_{10'000};
    std::chrono::milliseconds cancel_grace_{2'000};
    /// The server's statement_timeout now (ms; 0: none known) and the configured one.
    std::int64_t server_timeout_ = 0;
    std::int64_t configured_timeout_ = 0;
    std::string target_;  ///< "hosts (port ...), database ..." for messages
    /// The running statement's SQL, for error messages (redacted when reported): a view of
    /// the statement's text, or of `simple_sql_` for the session's own commands.
    std::string_view current_sql_;
    std::string simple_sql_;

    // Why the running statement was cancelled (reported as timeout or cancelled).
    enum class stop_reason : std::uint8_t { none, deadline, user };
    std::atomic<stop_reason> stop_{stop_reason::none};
    deadline wait_until_ = deadline::max();
    bool cancel_sent_ = false;
    bool give_up_ = false;  ///< the server ignored the cancel: the async wait was aborted

    // Parameter encoding, reused across calls (no allocation once warm).
    std::vector<const char*> values_;
    std::vector<int> lengths_;
    std::vector<int> formats_;
    std::vector<Oid> types_;
    std::vector<std::string> text_;
    // Column decoding of the current result.
    std::vector<column_decoder> decoders_;
    std::vector<std::string> scratch_;

    dal::detail::socket_view socket_;
    dal::detail::statement_watchdog watchdog_{this, &session::fire};
    deadline active_deadline_ = deadline::max();  ///< of the running async statement
    std::string server_version_;
};

/// The backend type that plugs PostgreSQL into basic_connection.
struct backend {
    using session = postgres::session;
    using statement = postgres::statement;
    static constexpr std::string_view name = "postgresql";
    static constexpr sql::dialect dialect = sql::postgresql_dialect;
    static constexpr bool blocking = false;
    static const std::error_category& error_category() noexcept { return sqlstate_category(); }
    /// "cached plan must not change result type" (0A000 after ALTER TABLE) and "prepared
    /// statement does not exist" (26000, e.g. the server session was replaced): prepare again.
    static bool statement_is_stale(const std::error_code& ec) noexcept {
        return ec.category() == sqlstate_category() &&
               (ec.value() == pack_sqlstate("0A000") || ec.value() == pack_sqlstate("26000"));
    }
};

}  // namespace dal::postgres
