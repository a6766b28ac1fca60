// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// `basic_connection<Backend, Retry, Timeout, Breaker, Cache>`: one database connection whose
/// behaviour is composed at compile time. Each policy is a named concept (policies/), each has
/// a zero-cost "none" implementation stored with [[no_unique_address]], and nothing on the
/// per-row path is virtual: rows go from the driver straight into the caller's types.
///
///     dal::sqlite::connection db{dal::config::from_uri("sqlite:///tmp/app.db")};
///     db.execute("CREATE TABLE [users] ([id] INTEGER PRIMARY KEY, [name] TEXT)"_sql);
///     db.execute("INSERT INTO [users] ([name]) VALUES (?)"_sql, "ann");
///     auto names = db.query<std::string>("SELECT [name] FROM [users]"_sql);
///
/// SQL is portable (docs/sql-dialect.md): a literal `"..."_sql` is translated and checked by
/// the compiler; a run-time string is translated per call. Sync calls throw `dal::error`; the
/// `async_` forms take an Asio completion token and complete with (std::exception_ptr, R).
/// A connection runs one operation at a time, like the drivers under it.

#include <array>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/system_executor.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <dal/backend.hpp>
#include <dal/batch.hpp>
#include <dal/config.hpp>
#include <dal/error.hpp>
#include <dal/policies/breaker.hpp>
#include <dal/policies/cache.hpp>
#include <dal/policies/retry.hpp>
#include <dal/policies/timeout.hpp>
#include <dal/row.hpp>
#include <dal/rowset.hpp>
#include <dal/sql/query.hpp>
#include <dal/value.hpp>

namespace dal {

/// Options for one call.
struct call_options {
    /// Statement limit for this call, overriding `config.timeouts.statement` (0: no limit).
    std::optional<std::chrono::milliseconds> timeout;
    /// Whole-operation limit for this call (every attempt and the backoff between them),
    /// overriding `config.timeouts.operation` (0: no limit). No retry starts after it.
    std::optional<std::chrono::milliseconds> operation;
    /// Key/value labels for logs and metrics, also sent as an SQL comment in sqlcommenter
    /// format (`/*key='value'*/`). Keep them stable per call site (operation names, routes):
    /// the comment is part of the prepared text, so a value that changes on every call would
    /// prepare a new statement every call.
    std::vector<std::pair<std::string, std::string>> tags;
};

/// Arguments for an async call, copied into the operation: `dal::params(id, name)`.
template <class... Args>
struct params_t {
    std::tuple<Args...> values;
};
template <class... Args>
[[nodiscard]] params_t<std::decay_t<Args>...> params(Args&&... args) {
    return {std::tuple<std::decay_t<Args>...>(std::forward<Args>(args)...)};
}

namespace detail {

/// `/*k='v',k2='v2'*/` per sqlcommenter: keys sorted, keys and values URL-encoded, quotes
/// escaped. Empty for no tags.
[[nodiscard]] std::string sql_comment(const std::vector<std::pair<std::string, std::string>>& tags);

/// The shared worker threads on which blocking backends (SQLite) run async operations, so
/// that the caller's io_context never blocks. Created on first use; max(2, cores) threads.
[[nodiscard]] boost::asio::thread_pool& blocking_pool();

/// An io_context on a thread of dal's own, for async calls on non-blocking backends whose
/// completion handler brings no executor (a plain callback) and whose connection was given
/// none: their sockets are waited for there.
[[nodiscard]] boost::asio::any_io_executor shared_io_executor();

/// The event loop on which pools open connections: max(2, cores / 4) threads of dal's own,
/// below normal CPU priority (nice `connector_nice` on Linux), so that the client's share of
/// authentication (milliseconds of CPU per connect) yields to the work being served.
inline constexpr int connector_nice = 10;
[[nodiscard]] boost::asio::any_io_executor connector_executor();

[[noreturn]] void throw_circuit_open(std::chrono::milliseconds retry_in);
/// client_errc::connection_broken: the session closed itself after a fatal error.
[[noreturn]] void throw_broken();
/// client_errc::commit_outcome_unknown, keeping the server's diagnostics of `cause`.
[[noreturn]] void throw_commit_unknown(const error& cause);
/// client_errc::transaction_lost (errc::failover_retry): the session ended inside a
/// transaction before COMMIT was sent, so the server rolled all of it back. Keeps `cause`'s
/// diagnostics.
[[noreturn]] void throw_transaction_lost(const error* cause);
[[noreturn]] void throw_not_open();
[[noreturn]] void throw_transaction_order(std::string_view what);

template <class T>
concept sql_text = sql::is_literal_v<T> || std::convertible_to<const T&, std::string_view>;

template <class T>
inline constexpr bool is_params_v = false;
template <class... A>
inline constexpr bool is_params_v<params_t<A...>> = true;

/// Sets `ref` to `value` for a scope, then back.
template <class T>
class restore_on_exit {
public:
    restore_on_exit(T& ref, T value) : ref_(ref), old_(std::exchange(ref, std::move(value))) {}
    restore_on_exit(const restore_on_exit&) = delete;
    restore_on_exit& operator=(const restore_on_exit&) = delete;
    restore_on_exit(restore_on_exit&&) = delete;
    restore_on_exit& operator=(restore_on_exit&&) = delete;
    ~restore_on_exit() { ref_ = std::move(old_); }

private:
    T& ref_;
    T old_;
};

/// Row handlers the connection hands to `session::execute`.
struct ignore_rows {
    template <class Row>
    void operator()(const Row& /*row*/) const noexcept {}
    void reset() noexcept {}
};

template <class T>
struct collect_rows {
    static constexpr bool counts_changes = false;
    std::vector<T>* out;
    std::optional<row_reader<T>> reader;
    template <class Row>
    void operator()(const Row& r) {
        if (!reader) reader.emplace(r);
        out->push_back(reader->read(r));
    }
    void reset() {
        out->clear();
        reader.reset();
    }
};

template <class T>
struct first_row {
    static constexpr bool counts_changes = false;
    std::optional<T>* out;
    template <class Row>
    bool operator()(const Row& r) {  // false: stop stepping, the rest is not needed
        *out = row_reader<T>(r).read(r);
        return false;
    }
    void reset() { out->reset(); }
};

struct fill_rowset {
    rowset* out;
    template <class Row>
    void operator()(const Row& r) {
        out->append(r);
    }
    void reset() const { *out = rowset{}; }
};

}  // namespace detail

template <class Connection>
class basic_transaction;

namespace detail {
/// Backends that send many statements in one round trip (PostgreSQL's pipeline mode).
template <class Backend>
concept pipelining = requires(typename Backend::session& s,
                              std::span<typename Backend::statement* const> st,
                              std::span<const std::span<const param_ref>> p, deadline d,
                              detail::any_row_handler& sink) {
    s.execute_pipeline(st, p, d, sink);
};

/// Backends that run one statement for many rows of arguments in one round trip (MariaDB's
/// bulk protocol).
template <class Backend>
concept bulk_executing = requires(typename Backend::session& s, typename Backend::statement& st,
                                  std::span<const std::span<const param_ref>> rows, deadline d) {
    { s.execute_bulk(st, rows, d) } -> std::same_as<std::uint64_t>;
};

/// Rows of every statement of a pipeline that are not wanted (execute_many).
struct ignore_pipeline_rows {
    template <class Row>
    void operator()(std::size_t /*index*/, const Row& /*row*/) const noexcept {}
};
}  // namespace detail

namespace detail {
/// The cache check needs Backend::statement, which only a backend has: ask only then, so a
/// non-backend gets the backend message below, not an error about a missing member.
template <class Backend, class Cache>
consteval bool cache_fits() {
    if constexpr (backend<Backend>)
        return policies::cache_policy<Cache, typename Backend::statement>;
    else
        return true;
}
}  // namespace detail

template <class Backend, class Retry = policies::no_retry, class Timeout = policies::config_timeout,
          class Breaker = policies::no_breaker, class Cache = policies::lru_cache>
class basic_connection {
    static_assert(backend<Backend>,
                  "dal: the Backend does not satisfy dal::backend: it needs session, statement, "
                  "name, dialect, blocking, error_category() and statement_is_stale() "
                  "(docs/adding-a-backend.md)");
    static_assert(policies::retry_policy<Retry>,
                  "dal: the RetryPolicy does not satisfy dal::policies::retry_policy: it needs "
                  "next_delay(const std::error_code&, unsigned attempt, policies::unit) -> "
                  "std::optional<std::chrono::milliseconds>");
    static_assert(policies::timeout_policy<Timeout>,
                  "dal: the TimeoutPolicy does not satisfy dal::policies::timeout_policy: it "
                  "needs statement_deadline(const time_limits&, const timeout_request&, "
                  "time_point now) -> time_point");
    static_assert(policies::breaker_policy<Breaker>,
                  "dal: the BreakerPolicy does not satisfy dal::policies::breaker_policy: it "
                  "needs rejects(), on_success(duration) and on_failure(error_code, duration)");
    static_assert(detail::cache_fits<Backend, Cache>(),
                  "dal: the CachePolicy does not satisfy dal::policies::cache_policy for this "
                  "backend's statement type: it needs a nested cache_for<Statement>");

public:
    using backend_type = Backend;
    using statement_type = typename Backend::statement;
    using transaction = basic_transaction<basic_connection>;
    using clock = std::chrono::steady_clock;
    static constexpr sql::dialect dialect = Backend::dialect;

    /// Opens the connection (throws dal::error). Async completions run on `completion_ex`
    /// when the completion handler has no executor of its own.
    explicit basic_connection(config cfg, Retry retry = {}, Timeout timeout = {},
                              Breaker breaker = {}, Cache cache = {})
        : basic_connection(unconnected{}, std::move(cfg), std::move(retry), std::move(timeout),
                           std::move(breaker), std::move(cache)) {
        if (const auto wait = breaker_.rejects()) detail::throw_circuit_open(*wait);
        const auto start = clock::now();
        try {
            session_.open(cfg_);
        } catch (const error& e) {
            connect_failed(e, start);
            throw;
        }
        connect_succeeded(start);
    }

    /// Opens a connection without blocking a thread: the backend's connect (TCP, TLS,
    /// authentication, role check) runs on the calling coroutine's executor. For backends
    /// that connect asynchronously (PostgreSQL, MySQL/MariaDB); a pool's async acquirers use it.
    static boost::asio::awaitable<std::unique_ptr<basic_connection>> async_connect(
        config cfg, Retry retry = {}, Timeout timeout = {}, Breaker breaker = {},
        Cache cache = {}) requires requires(typename Backend::session& s, config c) {
        s.async_open(std::move(c));
    }
    {
        std::unique_ptr<basic_connection> c(
            new basic_connection(unconnected{}, std::move(cfg), std::move(retry),
                                 std::move(timeout), std::move(breaker), std::move(cache)));
        if (const auto wait = c->breaker_.rejects()) detail::throw_circuit_open(*wait);
        const auto start = clock::now();
        try {
            co_await c->session_.async_open(c->cfg_);
        } catch (const error& e) {
            c->connect_failed(e, start);
            throw;
        }
        c->connect_succeeded(start);
        co_return c;
    }
    /// Initialises the backend's client library for the process, where it has such a step
    /// (MySQL/MariaDB); a no-op otherwise. Pools call it on the thread that creates them.
    static void init_library() {
        if constexpr (requires { Backend::session::init_library(); })
            Backend::session::init_library();
    }
    /// Same, parsing a URI ("sqlite:///path/app.db").
    explicit basic_connection(std::string_view uri) : basic_connection(config::from_uri(uri)) {}
    basic_connection(boost::asio::any_io_executor completion_ex, config cfg)
        : basic_connection(std::move(cfg)) {
        completion_ex_ = std::move(completion_ex);
    }

    basic_connection(const basic_connection&) = delete;
    basic_connection& operator=(const basic_connection&) = delete;
    basic_connection(basic_connection&&) = delete;  // async operations hold `this`
    basic_connection& operator=(basic_connection&&) = delete;
    ~basic_connection() { close(); }

    // ---- executing ---------------------------------------------------------------------------

    /// Runs a statement; returns the rows it changed.
    template <class Sql, class... Args>
    requires detail::sql_text<Sql> std::uint64_t execute(const Sql& sql, const Args&... args) {
        return execute(call_options{}, sql, args...);
    }
    template <class Sql, class... Args>
    requires detail::sql_text<Sql> std::uint64_t execute(const call_options& opts, const Sql& sql,
                                                         const Args&... args) {
        detail::ignore_rows h;
        return run(opts, sql, h, args...);
    }

    /// Every row as `T`: a single value, a std::tuple (by position) or a Hana-described
    /// struct (by column name).
    template <class T, class Sql, class... Args>
    requires detail::sql_text<Sql> std::vector<T> query(const Sql& sql, const Args&... args) {
        return query<T>(call_options{}, sql, args...);
    }
    template <class T, class Sql, class... Args>
    requires detail::sql_text<Sql> std::vector<T> query(const call_options& opts, const Sql& sql,
                                                        const Args&... args) {
        std::vector<T> out;
        detail::collect_rows<T> h{&out, std::nullopt};
        run(opts, sql, h, args...);
        return out;
    }

    /// The first row as `T`, or nullopt when there is none.
    template <class T, class Sql, class... Args>
    requires detail::sql_text<Sql> std::optional<T> query_one(const Sql& sql, const Args&... args) {
        return query_one<T>(call_options{}, sql, args...);
    }
    template <class T, class Sql, class... Args>
    requires detail::sql_text<Sql> std::optional<T> query_one(const call_options& opts,
                                                              const Sql& sql, const Args&... args) {
        std::optional<T> out;
        detail::first_row<T> h{&out};
        run(opts, sql, h, args...);
        return out;
    }

    /// All rows, read column by column later (`rs[0].get<int>("id")`).
    template <class Sql, class... Args>
    requires detail::sql_text<Sql> rowset query_rows(const Sql& sql, const Args&... args) {
        return query_rows(call_options{}, sql, args...);
    }
    template <class Sql, class... Args>
    requires detail::sql_text<Sql> rowset query_rows(const call_options& opts, const Sql& sql,
                                                     const Args&... args) {
        rowset out;
        detail::fill_rowset h{&out};
        out.set_affected_rows(run(opts, sql, h, args...));
        out.seal();
        return out;
    }

    /// Run-time SQL with already converted parameters (used by dal::any_connection).
    rowset query_rows_with(const call_options& opts, std::string_view portable_sql,
                           std::span<const param_ref> params) {
        rowset out;
        detail::fill_rowset h{&out};
        out.set_affected_rows(run_portable(opts, portable_sql, params, h));
        out.seal();
        return out;
    }

    /// Runs the statement once per element of `rows` (each a tuple of arguments), in one
    /// transaction (joined if one is open), preparing it once. Returns the rows changed.
    template <class Sql, std::ranges::input_range Rows>
    requires detail::sql_text<Sql> std::uint64_t execute_many(const Sql& sql, const Rows& rows) {
        using tuple_type = std::remove_cvref_t<std::ranges::range_reference_t<const Rows&>>;
        if constexpr (detail::pipelining<Backend> || detail::bulk_executing<Backend>) {
            return with_transaction(
                [&](basic_connection&) { return execute_many_pipelined<tuple_type>(sql, rows); });
        }
        return with_transaction([&](basic_connection&) {
            std::uint64_t total = 0;
            for (const auto& args : rows) {
                total += std::apply(
                    [&](const auto&... a) -> std::uint64_t {
                        detail::ignore_rows h;
                        return run_checked<tuple_type>(call_options{}, sql, h, a...);
                    },
                    args);
            }
            return total;
        });
    }

    /// Runs the statements of `b` in order, in one round trip where the backend can pipeline
    /// (PostgreSQL); after the first failure the rest are `not_executed`. Each result says
    /// what became of its statement; nothing is thrown for a statement's own failure.
    std::vector<batch_result> execute_batch(const batch& b, const call_options& opts = {}) {
        require_open();
        const auto entries = b.entries();
        std::vector<batch_result> out(entries.size());
        std::vector<std::vector<param_ref>> refs;
        std::vector<sql::native_sql> natives;
        refs.reserve(entries.size());
        natives.reserve(entries.size());
        for (const batch::entry& e : entries) {
            natives.push_back(sql::to_native(e.portable, dialect));
            sql::check_argument_count(natives.back(), e.params.size());
            refs.push_back(e.refs());
        }
        const auto now = clock::now();
        const deadline d = std::min(operation_end(opts, now), statement_end(opts, now));
        if constexpr (detail::pipelining<Backend>) {
            std::vector<std::optional<statement_type>> local(entries.size());
            const std::vector<statement_type*> sts = prepare_all(natives, local);
            std::vector<std::span<const param_ref>> spans(refs.begin(), refs.end());
            auto sink = [&out](std::size_t k, const auto& r) { out[k].rows.append(r); };
            auto outcomes = session_.execute_pipeline(sts, spans, d, sink);
            for (std::size_t k = 0; k < out.size(); ++k) {
                out[k].rows.seal();
                out[k].affected = outcomes[k].changed;
                out[k].status = static_cast<batch_result::state>(outcomes[k].status);
                out[k].failure = std::move(outcomes[k].failure);
                out[k].rows.set_affected_rows(out[k].affected);
            }
        } else {
            bool failed = false;
            for (std::size_t k = 0; k < out.size(); ++k) {
                if (failed) {
                    out[k].failure.emplace(
                        make_error_code(client_errc::not_executed),
                        "not executed: an earlier statement of the batch failed");
                    continue;
                }
                try {
                    detail::fill_rowset h{&out[k].rows};
                    out[k].affected = execute_cached(natives[k].text,
                                                     sql::hash_sql(natives[k].text), refs[k], d, h);
                    out[k].rows.set_affected_rows(out[k].affected);
                    out[k].rows.seal();
                    out[k].status = batch_result::state::ok;
                } catch (const error& e) {
                    out[k].status = batch_result::state::failed;
                    out[k].failure = e;
                    failed = true;
                }
            }
        }
        return out;
    }

    // ---- transactions ------------------------------------------------------------------------

    /// Starts a transaction, or a SAVEPOINT inside the open one. The guard rolls back unless
    /// `commit()` was called.
    [[nodiscard]] transaction begin() { return transaction(*this, begin_level()); }

    /// The Python design's auto_transaction: runs `f(*this)` inside the open transaction if
    /// there is one (joining it), else inside a new one committed when `f` returns. A
    /// serialization failure or deadlock of a transaction this call owns is retried as a whole
    /// when the RetryPolicy says so, and so is one lost with its connection (transaction_lost):
    /// the retry reopens the connection first, on whichever host fits the target role now.
    /// `opts.operation` limits the whole call (default `config.timeouts.operation`).
    template <class F>
    decltype(auto) with_transaction(F&& f, const call_options& opts = {}) {
        if (depth_ > 0) return f(*this);
        // One operation: its statements are cut short at its deadline, and no retry of the
        // whole transaction starts after it.
        const deadline op_end = operation_end(opts, clock::now());
        const detail::restore_on_exit<deadline> restore(op_deadline_, op_end);
        for (unsigned attempt = 1;; ++attempt) {
            bool began = false;  // before BEGIN nothing of this attempt can have run
            try {
                // A session lost by an earlier attempt (transaction_lost) is opened again,
                // on whichever host now fits the config's target role: that is failover.
                reopen_if_broken(attempt);
                transaction tx = begin();
                began = true;
                if constexpr (std::is_void_v<std::invoke_result_t<F&, basic_connection&>>) {
                    f(*this);
                    tx.commit();
                    return;
                } else {
                    auto result = f(*this);
                    tx.commit();
                    return result;
                }
            } catch (const error& e) {
                const auto delay = retry_.next_delay(
                    e.code(), attempt,
                    began ? policies::unit::transaction : policies::unit::not_sent);
                if (!delay || clock::now() + *delay >= op_end) throw;
                std::this_thread::sleep_for(*delay);
            }
        }
    }

    /// Runs `f(*this)` as one operation that ends at `end` (or earlier, inside another one):
    /// every call in it, with its retries and backoff, stops there. A pool's with_connection
    /// passes the time its acquisition left.
    template <class F>
    decltype(auto) within(deadline end, F&& f) {
        const detail::restore_on_exit<deadline> restore(op_deadline_, std::min(op_deadline_, end));
        return std::forward<F>(f)(*this);
    }

    /// True inside begin()/with_transaction, or when the server has a transaction open.
    [[nodiscard]] bool in_transaction() const noexcept {
        return depth_ > 0 || session_.in_transaction();
    }

    // ---- the connection itself ---------------------------------------------------------------

    void ping() {
        require_open();
        session_.ping();
    }
    [[nodiscard]] server_info info() const { return session_.info(); }
    [[nodiscard]] policies::cache_stats statement_cache_stats() const { return cache_.stats(); }
    [[nodiscard]] const config& configuration() const noexcept { return cfg_; }
    [[nodiscard]] bool is_open() const noexcept { return session_.is_open(); }
    /// Stops the statement running now (from any thread). It fails with errc::cancelled.
    void cancel() noexcept { session_.cancel(); }
    /// Finalises cached statements and closes. A transaction still open is rolled back by the
    /// server (never committed on someone's behalf).
    void close() noexcept {
        cache_.clear();
        depth_ = 0;
        closed_by_user_ = true;
        session_.close();
    }
    /// Lets go of what ties the connection to the io_context of its last async call (a
    /// registered socket, a timer): an I/O object must not outlive its io_context, so call
    /// this (between calls) before that io_context goes away if the connection stays. A pool
    /// does it whenever a connection comes back, so pooled connections belong to no event
    /// loop. The next async call registers again (a few microseconds).
    void detach_io() noexcept {
        if constexpr (requires { session_.detach_io(); }) session_.detach_io();
    }
    /// The session, for backend-specific calls.
    [[nodiscard]] typename Backend::session& native_session() noexcept { return session_; }

    // ---- async -------------------------------------------------------------------------------

    template <class Sql, class Token>
    requires detail::sql_text<Sql> &&
        (!detail::is_params_v<std::decay_t<Token>>)auto async_execute(Sql sql, Token&& token) {
        return async_execute(std::move(sql), params(), std::forward<Token>(token));
    }
    template <class Sql, class... Args, class Token>
    requires detail::sql_text<Sql>
    auto async_execute(Sql sql, params_t<Args...> p, Token&& token) {
        if constexpr (!Backend::blocking)
            return async_io<std::uint64_t>(
                std::forward<Token>(token),
                [this, s = owned_sql(std::move(sql)), p = std::move(p)]() mutable {
                    return co_execute(std::move(s), std::move(p));
                });
        else
            return async_run<std::uint64_t>(
                std::forward<Token>(token),
                [this, s = owned_sql(std::move(sql)), p = std::move(p)] {
                    return std::apply([&](const auto&... a) { return execute(s, a...); }, p.values);
                });
    }
    template <class T, class Sql, class Token>
    requires detail::sql_text<Sql> &&
        (!detail::is_params_v<std::decay_t<Token>>)auto async_query(Sql sql, Token&& token) {
        return async_query<T>(std::move(sql), params(), std::forward<Token>(token));
    }
    template <class T, class Sql, class... Args, class Token>
    requires detail::sql_text<Sql>
    auto async_query(Sql sql, params_t<Args...> p, Token&& token) {
        if constexpr (!Backend::blocking)
            return async_io<std::vector<T>>(
                std::forward<Token>(token),
                [this, s = owned_sql(std::move(sql)), p = std::move(p)]() mutable {
                    return co_query<T>(std::move(s), std::move(p));
                });
        else
            return async_run<std::vector<T>>(
                std::forward<Token>(token),
                [this, s = owned_sql(std::move(sql)), p = std::move(p)] {
                    return std::apply([&](const auto&... a) { return query<T>(s, a...); },
                                      p.values);
                });
    }
    template <class T, class Sql, class... Args, class Token>
    requires detail::sql_text<Sql>
    auto async_query_one(Sql sql, params_t<Args...> p, Token&& token) {
        if constexpr (!Backend::blocking)
            return async_io<std::optional<T>>(
                std::forward<Token>(token),
                [this, s = owned_sql(std::move(sql)), p = std::move(p)]() mutable {
                    return co_query_one<T>(std::move(s), std::move(p));
                });
        else
            return async_run<std::optional<T>>(
                std::forward<Token>(token),
                [this, s = owned_sql(std::move(sql)), p = std::move(p)] {
                    return std::apply([&](const auto&... a) { return query_one<T>(s, a...); },
                                      p.values);
                });
    }
    template <class Sql, class... Args, class Token>
    requires detail::sql_text<Sql>
    auto async_query_rows(Sql sql, params_t<Args...> p, Token&& token) {
        if constexpr (!Backend::blocking)
            return async_io<rowset>(
                std::forward<Token>(token),
                [this, s = owned_sql(std::move(sql)), p = std::move(p)]() mutable {
                    return co_query_rows(std::move(s), std::move(p));
                });
        else
            return async_run<rowset>(std::forward<Token>(token), [this,
                                                                  s = owned_sql(std::move(sql)),
                                                                  p = std::move(p)] {
                return std::apply([&](const auto&... a) { return query_rows(s, a...); }, p.values);
            });
    }
    /// execute_many on the worker; `rows` is copied into the operation.
    template <class Sql, std::ranges::input_range Rows, class Token>
    requires detail::sql_text<Sql>
    auto async_execute_many(Sql sql, Rows rows, Token&& token) {
        return async_run<std::uint64_t>(std::forward<Token>(token),
                                        [this, s = owned_sql(std::move(sql)), r = std::move(rows)] {
                                            return execute_many(s, r);
                                        });
    }
    template <class Token>
    auto async_ping(Token&& token) {
        if constexpr (!Backend::blocking)
            return async_io<std::monostate>(std::forward<Token>(token),
                                            [this]() { return co_ping(); });
        else
            return async_run<std::monostate>(std::forward<Token>(token), [this] {
                ping();
                return std::monostate{};
            });
    }
    /// Runs `f(*this)` inside with_transaction on the connection's worker.
    template <class F, class Token>
    auto async_with_transaction(F f, Token&& token) {
        using R = std::invoke_result_t<F&, basic_connection&>;
        using result = std::conditional_t<std::is_void_v<R>, std::monostate, R>;
        return async_run<result>(std::forward<Token>(token), [this, f = std::move(f)]() mutable {
            if constexpr (std::is_void_v<R>) {
                with_transaction(f);
                return std::monostate{};
            } else {
                return with_transaction(f);
            }
        });
    }

private:
    friend class basic_transaction<basic_connection>;

    /// What an async operation keeps of the SQL: the literal itself, or a copy of the text.
    template <class Sql>
    static auto owned_sql(Sql sql) {
        if constexpr (sql::is_literal_v<Sql>)
            return sql;
        else
            return std::string(std::string_view(sql));
    }

    template <class Sql, class Handler, class... Args>
    std::uint64_t run(const call_options& opts, const Sql& sql, Handler& h, const Args&... args) {
        return run_checked<std::tuple<Args...>>(opts, sql, h, args...);
    }

    /// Translates (or checks the compile-time translation), binds and runs.
    template <class ArgTuple, class Sql, class Handler, class... Args>
    std::uint64_t run_checked(const call_options& opts, const Sql& sql, Handler& h,
                              const Args&... args) {
        const bound_params<Args...> params(args...);
        if constexpr (sql::is_literal_v<Sql>) {
            constexpr std::string_view text = literal_native<ArgTuple>(Sql{});
            return run_native(opts, text, literal_hash(Sql{}), params.refs(), h);
        } else {
            return run_portable(opts, std::string_view(sql), params.refs(), h);
        }
    }

    /// SQL built at run time: translated and its parameter count checked on every call.
    template <class Handler>
    std::uint64_t run_portable(const call_options& opts, std::string_view portable,
                               std::span<const param_ref> params, Handler& h) {
        const sql::native_sql q = sql::to_native(portable, dialect);
        sql::check_argument_count(q, params.size());
        return run_native(opts, q.text, sql::hash_sql(q.text), params, h);
    }

    template <class ArgTuple, sql::fixed_string S>
    static constexpr std::string_view literal_native(sql::literal<S> /*lit*/) {
        []<class... A>(std::type_identity<std::tuple<A...>>) {
            sql::check_arguments<dialect, S, A...>();
        }(std::type_identity<ArgTuple>{});
        return sql::compiled<dialect, S>::sql;
    }
    template <sql::fixed_string S>
    static constexpr std::size_t literal_hash(sql::literal<S> /*lit*/) {
        return sql::compiled<dialect, S>::hash;
    }

    /// The policy pipeline around one statement: breaker, deadline, cache, execute, retry.
    template <class Handler>
    std::uint64_t run_native(const call_options& opts, std::string_view native, std::size_t hash,
                             std::span<const param_ref> params, Handler& h) {
        if (closed_by_user_) require_open();
        std::string with_tags;
        if (!opts.tags.empty()) tag(opts, native, hash, with_tags);
        // no_breaker ignores durations: do not read the clock for it.
        constexpr bool timed = !std::is_same_v<Breaker, policies::no_breaker>;
        deadline op_end = deadline::max();
        for (unsigned attempt = 1;; ++attempt) {
            if (const auto wait = breaker_.rejects()) detail::throw_circuit_open(*wait);
            if constexpr (requires { retry_.on_call(); }) retry_.on_call();
            const auto start = clock::now();
            if (attempt == 1) op_end = operation_end(opts, start);
            bool sent = false;  // could this attempt have reached the server?
            try {
                reopen_if_broken(attempt);
                const deadline d = std::min(op_end, statement_end(opts, start));
                sent = true;
                const std::uint64_t n = execute_cached(native, hash, params, d, h);
                if constexpr (timed) breaker_.on_success(clock::now() - start);
                return n;
            } catch (const error& e) {
                if constexpr (timed) breaker_.on_failure(e.code(), clock::now() - start);
                // Inside a transaction nothing is retried statement by statement; otherwise
                // the policy is told what kind of unit failed and decides (no_retry always
                // gives up). A statement that may have run is never silently re-run.
                if (depth_ > 0) rethrow_in_transaction(e);
                const auto delay = retry_.next_delay(
                    e.code(), attempt, sent ? policies::unit::statement : policies::unit::not_sent);
                // No retry starts after the operation's deadline.
                if (!delay || clock::now() + *delay >= op_end) throw;
                h.reset();
                std::this_thread::sleep_for(*delay);
            }
        }
    }

    /// Statements for a pipeline: from the cache, prepared into it on a miss. Pointers are
    /// taken only after the last insert (an insert may evict); what the cache could not keep
    /// lives in `local` for the call.
    std::vector<statement_type*> prepare_all(const std::vector<sql::native_sql>& natives,
                                             std::vector<std::optional<statement_type>>& local) {
        for (const sql::native_sql& q : natives) {
            const std::size_t hash = sql::hash_sql(q.text);
            if (cache_.find(q.text, hash) != nullptr) continue;
            statement_type fresh = session_.prepare(q.text);
            cache_.insert(std::string(q.text), hash, fresh);
        }
        std::vector<statement_type*> out(natives.size());
        for (std::size_t k = 0; k < natives.size(); ++k) {
            out[k] = cache_.find(natives[k].text, sql::hash_sql(natives[k].text));
            if (out[k] == nullptr) out[k] = &local[k].emplace(session_.prepare(natives[k].text));
        }
        return out;
    }

    /// execute_many on a pipelining or bulk-executing backend: every row sent, one round trip
    /// per chunk of `pipeline_chunk` rows. A failing row (its chunk, for bulk) is named.
    template <class ArgTuple, class Sql, class Rows>
    std::uint64_t execute_many_pipelined(const Sql& sql, const Rows& rows) {
        constexpr std::size_t arity = std::tuple_size_v<ArgTuple>;
        std::optional<sql::native_sql> runtime;
        std::string_view native;
        if constexpr (sql::is_literal_v<Sql>) {
            native = literal_native<ArgTuple>(Sql{});
        } else {
            runtime = sql::to_native(std::string_view(sql), dialect);
            sql::check_argument_count(*runtime, arity);
            native = runtime->text;
        }
        std::vector<sql::native_sql> natives(1);
        natives[0].text = std::string(native);
        std::vector<std::optional<statement_type>> local(1);
        statement_type* st = prepare_all(natives, local)[0];

        using holders = decltype(std::apply(
            [](const auto&... a) {
                return std::tuple<bind_holder<std::remove_cvref_t<decltype(a)>>...>(a...);
            },
            std::declval<const ArgTuple&>()));
        constexpr std::size_t pipeline_chunk = 1000;
        std::vector<holders> held;
        std::vector<param_ref> refs;
        std::vector<std::span<const param_ref>> spans;
        std::vector<statement_type*> sts;
        std::uint64_t total = 0;
        std::size_t first_row = 0;
        auto flush = [&] {
            if (held.empty()) return;
            refs.clear();
            refs.reserve(held.size() * arity);
            for (const holders& h : held)
                std::apply([&](const auto&... x) { (refs.push_back(x.ref()), ...); }, h);
            spans.clear();
            for (std::size_t k = 0; k < held.size(); ++k)
                spans.emplace_back(refs.data() + k * arity, arity);
            const deadline d = timeout_.statement_deadline(cfg_.timeouts, {}, clock::now());
            if constexpr (!detail::pipelining<Backend>) {
                try {
                    total += session_.execute_bulk(*st, spans, d);
                } catch (const error& e) {
                    diagnostics diag = e.diag();
                    diag.message = "execute_many rows " + std::to_string(first_row) + " to " +
                                   std::to_string(first_row + held.size() - 1) + ": " +
                                   diag.message;
                    throw error(e.code(), std::move(diag));
                }
            } else {
                sts.assign(held.size(), st);
                detail::ignore_pipeline_rows sink;
                auto outcomes = session_.execute_pipeline(sts, spans, d, sink);
                for (std::size_t k = 0; k < outcomes.size(); ++k) {
                    if (outcomes[k].failure &&
                        outcomes[k].status != decltype(outcomes[k].status)::not_executed) {
                        diagnostics diag = outcomes[k].failure->diag();
                        diag.message = "execute_many row " + std::to_string(first_row + k) + ": " +
                                       diag.message;
                        throw error(outcomes[k].failure->code(), std::move(diag));
                    }
                    total += outcomes[k].changed;
                }
            }
            first_row += held.size();
            held.clear();
        };
        held.reserve(pipeline_chunk);
        for (const auto& args : rows) {
            std::apply([&](const auto&... a) { held.emplace_back(a...); }, args);
            if (held.size() == pipeline_chunk) flush();
        }
        flush();
        return total;
    }

    /// Appends the tags as an sqlcommenter comment (`storage` keeps the new text).
    static void tag(const call_options& opts, std::string_view& native, std::size_t& hash,
                    std::string& storage) {
        storage.reserve(native.size() + 64);
        storage.append(native);
        // After a trailing line comment the tags would be commented out: start a new line.
        if (native.find("--") != std::string_view::npos ||
            native.find('#') != std::string_view::npos)
            storage.push_back('\n');
        storage.append(detail::sql_comment(opts.tags));
        native = storage;
        hash = sql::hash_sql(native);
    }

    // ---- the coroutine path of non-blocking backends (PostgreSQL, MySQL) -------------------
    // The same pipeline as run_native/execute_cached, with the session's async_ operations:
    // the caller's io_context waits for the socket, no thread blocks per statement.

    template <class Sql, class... Args>
    boost::asio::awaitable<std::uint64_t> co_execute(Sql sql, params_t<Args...> p) {
        detail::ignore_rows h;
        co_return co_await co_run(sql, p, h);
    }
    template <class T, class Sql, class... Args>
    boost::asio::awaitable<std::vector<T>> co_query(Sql sql, params_t<Args...> p) {
        std::vector<T> out;
        detail::collect_rows<T> h{&out, std::nullopt};
        co_await co_run(sql, p, h);
        co_return out;
    }
    template <class T, class Sql, class... Args>
    boost::asio::awaitable<std::optional<T>> co_query_one(Sql sql, params_t<Args...> p) {
        std::optional<T> out;
        detail::first_row<T> h{&out};
        co_await co_run(sql, p, h);
        co_return out;
    }
    template <class Sql, class... Args>
    boost::asio::awaitable<rowset> co_query_rows(Sql sql, params_t<Args...> p) {
        rowset out;
        detail::fill_rowset h{&out};
        out.set_affected_rows(co_await co_run(sql, p, h));
        out.seal();
        co_return out;
    }
    boost::asio::awaitable<std::monostate> co_ping() {
        require_open();
        detail::ignore_rows h;
        co_await co_run_native(call_options{}, std::string_view("SELECT 1"),
                               sql::hash_sql("SELECT 1"), {}, h);
        co_return std::monostate{};
    }

    template <class Sql, class Handler, class... Args>
    boost::asio::awaitable<std::uint64_t> co_run(const Sql& sql, const params_t<Args...>& p,
                                                 Handler& h) {
        const auto bound =
            std::apply([](const auto&... a) { return bound_params<Args...>(a...); }, p.values);
        if constexpr (sql::is_literal_v<Sql>) {
            constexpr std::string_view text = literal_native<std::tuple<Args...>>(Sql{});
            co_return co_await co_run_native(call_options{}, text, literal_hash(Sql{}),
                                             bound.refs(), h);
        } else {
            const sql::native_sql q = sql::to_native(std::string_view(sql), dialect);
            sql::check_argument_count(q, sizeof...(Args));
            co_return co_await co_run_native(call_options{}, q.text, sql::hash_sql(q.text),
                                             bound.refs(), h);
        }
    }

    template <class Handler>
    boost::asio::awaitable<std::uint64_t> co_run_native(const call_options& opts,
                                                        std::string_view native, std::size_t hash,
                                                        std::span<const param_ref> params,
                                                        Handler& h) {
        if (closed_by_user_) require_open();
        std::string with_tags;
        if (!opts.tags.empty()) tag(opts, native, hash, with_tags);
        constexpr bool timed = !std::is_same_v<Breaker, policies::no_breaker>;
        deadline op_end = deadline::max();
        for (unsigned attempt = 1;; ++attempt) {
            if (const auto wait = breaker_.rejects()) detail::throw_circuit_open(*wait);
            if constexpr (requires { retry_.on_call(); }) retry_.on_call();
            const auto start = clock::now();
            if (attempt == 1) op_end = operation_end(opts, start);
            std::chrono::milliseconds backoff{};
            bool sent = false;
            try {
                if (!session_.is_open()) co_await co_reopen_if_broken(attempt);
                const deadline d = std::min(op_end, statement_end(opts, start));
                sent = true;
                const std::uint64_t n = co_await co_execute_cached(native, hash, params, d, h);
                if constexpr (timed) breaker_.on_success(clock::now() - start);
                co_return n;
            } catch (const error& e) {
                if constexpr (timed) breaker_.on_failure(e.code(), clock::now() - start);
                if (depth_ > 0) rethrow_in_transaction(e);
                const auto delay = retry_.next_delay(
                    e.code(), attempt, sent ? policies::unit::statement : policies::unit::not_sent);
                if (!delay || clock::now() + *delay >= op_end) throw;
                h.reset();
                backoff = *delay;
            }
            boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor, backoff);
            co_await pause.async_wait(boost::asio::use_awaitable);
        }
    }

    template <class Handler>
    boost::asio::awaitable<std::uint64_t> co_execute_cached(std::string_view native,
                                                            std::size_t hash,
                                                            std::span<const param_ref> params,
                                                            deadline d, Handler& h) {
        for (int prepared_again = 0;; ++prepared_again) {
            statement_type* st = cache_.find(native, hash);
            std::optional<statement_type> local;
            if (st == nullptr) {
                statement_type fresh = co_await session_.async_prepare(std::string(native));
                st = cache_.insert(std::string(native), hash, fresh);
                if (st == nullptr) st = &local.emplace(std::move(fresh));
            }
            try {
                co_return co_await session_.async_execute(*st, params, d, h);
            } catch (const error& e) {
                if (!Backend::statement_is_stale(e.code())) throw;
                // A stale statement leaves the cache either way, so the next call prepares it.
                cache_.erase(native, hash);
                if (prepared_again > 0 || in_transaction()) throw;
            }
            h.reset();
        }
    }

    /// Starts the coroutine `make()` on the handler's executor (or the connection's, or dal's
    /// shared io thread); completes with (exception_ptr, R) like async_run.
    /// Awaited with `use_awaitable` from a coroutine, the operation simply is a part of that
    /// coroutine: no second coroutine spawned, no completion posted (the same result and
    /// exceptions; a few microseconds less per call).
    template <class R, class Token, class MakeOp>
    auto async_io(Token&& token, MakeOp make) {
        if constexpr (std::is_same_v<std::decay_t<Token>,
                                     boost::asio::use_awaitable_t<boost::asio::any_io_executor>>) {
            return make();
        } else {
            return boost::asio::async_initiate<Token, void(std::exception_ptr, R)>(
                [this](auto handler, MakeOp mk) {
                    auto ex = boost::asio::get_associated_executor(
                        handler, completion_ex_ ? *completion_ex_ : detail::shared_io_executor());
                    boost::asio::co_spawn(ex, mk(), std::move(handler));
                },
                token, std::move(make));
        }
    }

    /// Prepared statement from the cache (prepared on a miss); a statement the backend calls
    /// stale (schema changed under it) is prepared again once, then the error stands.
    template <class Handler>
    std::uint64_t execute_cached(std::string_view native, std::size_t hash,
                                 std::span<const param_ref> params, deadline d, Handler& h) {
        for (int prepared_again = 0;; ++prepared_again) {
            statement_type* st = cache_.find(native, hash);
            std::optional<statement_type> local;
            if (st == nullptr) {
                statement_type fresh = session_.prepare(native);
                st = cache_.insert(std::string(native), hash, fresh);  // moves only if kept
                if (st == nullptr) st = &local.emplace(std::move(fresh));
            }
            try {
                return session_.execute(*st, params, d, h);
            } catch (const error& e) {
                // Inside a transaction a failed statement may have aborted it (PostgreSQL):
                // running it again there would only fail differently, so the error stands.
                if (!Backend::statement_is_stale(e.code())) throw;
                // A stale statement leaves the cache either way, so the next call prepares it.
                cache_.erase(native, hash);
                if (prepared_again > 0 || in_transaction()) throw;
                h.reset();
            }
        }
    }

    void require_open() const {
        if (!session_.is_open()) detail::throw_not_open();
    }

    /// Everything but the connect: both public ways to connect start here.
    struct unconnected {};
    basic_connection(unconnected /*tag*/, config cfg, Retry retry, Timeout timeout, Breaker breaker,
                     Cache cache)
        : cfg_(std::move(cfg)),
          retry_(std::move(retry)),
          timeout_(std::move(timeout)),
          breaker_(std::move(breaker)),
          cache_(cache),
          strand_(boost::asio::make_strand(detail::blocking_pool())) {
        cfg_.validate();
        // Optional hook: a breaker may join the process-wide one of this configuration.
        if constexpr (requires { breaker_.attach(cfg_); }) breaker_.attach(cfg_);
    }
    // Connecting is a call to the database too: an open breaker refuses it at once (a pool
    // then fails fast instead of waiting out connect limits), and its outcome counts.
    void connect_failed(const error& e, clock::time_point start) {
        if constexpr (!std::is_same_v<Breaker, policies::no_breaker>)
            breaker_.on_failure(e.code(), clock::now() - start);
    }
    void connect_succeeded(clock::time_point start) {
        if constexpr (!std::is_same_v<Breaker, policies::no_breaker>)
            breaker_.on_success(clock::now() - start);
    }
    /// Where one statement must end, and one operation (the enclosing with_transaction's, if
    /// that ends first).
    [[nodiscard]] deadline statement_end(const call_options& opts, clock::time_point now) const {
        return timeout_.statement_deadline(
            cfg_.timeouts, policies::timeout_request{opts.timeout, opts.operation}, now);
    }
    [[nodiscard]] deadline operation_end(const call_options& opts, clock::time_point now) const {
        deadline own = deadline::max();
        if constexpr (requires {
                          timeout_.operation_deadline(cfg_.timeouts, policies::timeout_request{},
                                                      now);
                      })
            own = timeout_.operation_deadline(
                cfg_.timeouts, policies::timeout_request{opts.timeout, opts.operation}, now);
        return std::min(own, op_deadline_);
    }
    /// What both forms do before reopening: refuse (a connection its owner closed, or a first
    /// attempt), else drop what belonged to the old session.
    void forget_broken_session(unsigned attempt) {
        if (closed_by_user_) detail::throw_not_open();
        if (attempt == 1) detail::throw_broken();
        cache_.clear();  // statements of the old session
        depth_ = 0;
    }
    /// A connection that broke (the backend closed it after a fatal error, not the user) is
    /// opened again before the next attempt: a failure here happened before anything was
    /// sent, which is what makes it safe to retry.
    /// On a first attempt it does not reopen but fails with client_errc::connection_broken
    /// (a connection_error), as an attempt that sent nothing: the RetryPolicy decides, and
    /// no_retry keeps the old behaviour (the caller sees the connection is gone).
    void reopen_if_broken(unsigned attempt) {
        if (session_.is_open()) return;
        forget_broken_session(attempt);
        session_.open(cfg_);
    }
    boost::asio::awaitable<void> co_reopen_if_broken(unsigned attempt) {
        if (session_.is_open()) co_return;
        forget_broken_session(attempt);
        if constexpr (requires { session_.async_open(cfg_); })
            co_await session_.async_open(cfg_);
        else
            session_.open(cfg_);
    }

    /// Rethrows the error being handled, or transaction_lost when it broke the session: the
    /// server rolled back the whole transaction with it.
    [[noreturn]] void rethrow_in_transaction(const error& e) const {
        if (e.code() == errc::connection_error && !session_.is_open() && !closed_by_user_)
            detail::throw_transaction_lost(&e);
        throw;  // the error being handled: this is only called from a catch block
    }
    /// A broken session (not one its owner closed) inside a transaction: the transaction is
    /// gone with it.
    void require_transaction_alive() const {
        if (session_.is_open()) return;
        if (closed_by_user_) detail::throw_not_open();
        detail::throw_transaction_lost(nullptr);
    }

    std::size_t begin_level() {
        if (!session_.is_open()) {
            if (depth_ > 0) require_transaction_alive();
            if (closed_by_user_) detail::throw_not_open();
            detail::throw_broken();
        }
        if (depth_ == 0)
            session_.begin();
        else
            session_.savepoint(savepoint_name(depth_));
        return ++depth_;
    }
    void commit_level(std::size_t level) {
        if (level != depth_)
            detail::throw_transaction_order("commit of a transaction while a nested one is open");
        if (level == 1) {
            if (!session_.is_open()) {
                --depth_;  // COMMIT was never sent: the transaction is over, not committed
                require_transaction_alive();
            }
            try {
                session_.commit();
            } catch (const error& e) {
                // The server ended the transaction anyway (PostgreSQL: COMMIT of an aborted
                // one rolls it back): this level is over.
                if (!session_.in_transaction()) --depth_;
                // The link broke with COMMIT sent: it may have committed or not. Never a
                // plain connection error, which a caller could take as "safe to retry".
                if (e.code() == errc::connection_error) detail::throw_commit_unknown(e);
                throw;
            } catch (...) {
                if (!session_.in_transaction()) --depth_;
                throw;
            }
        } else {
            require_transaction_alive();
            session_.release_savepoint(savepoint_name(level - 1));
        }
        --depth_;
    }
    void rollback_level(std::size_t level) {
        if (level != depth_)
            detail::throw_transaction_order("rollback of a transaction while a nested one is open");
        --depth_;  // whatever happens next, this level is over
        if (level == 1) {
            // A session that broke (before or during this ROLLBACK) took the transaction with
            // it: the server rolled it back, which is what was asked.
            if (!session_.is_open() && !closed_by_user_) return;
            try {
                session_.rollback();
            } catch (const error& e) {
                if (e.code() != errc::connection_error || session_.is_open()) throw;
            }
        } else {
            require_transaction_alive();
            session_.rollback_to_savepoint(savepoint_name(level - 1));
            session_.release_savepoint(savepoint_name(level - 1));
        }
    }
    static std::string savepoint_name(std::size_t level) {
        return "dal_savepoint_" + std::to_string(level);
    }

    /// Runs `f` on the connection's strand of the blocking pool; completes on the handler's
    /// executor (or the connection's completion executor) with (exception_ptr, R).
    template <class R, class Token, class F>
    auto async_run(Token&& token, F&& f) {
        return boost::asio::async_initiate<Token, void(std::exception_ptr, R)>(
            [this](auto handler, auto fn) {
                auto ex = boost::asio::get_associated_executor(
                    handler, completion_ex_
                                 ? *completion_ex_
                                 : boost::asio::any_io_executor(boost::asio::system_executor()));
                auto work = boost::asio::make_work_guard(ex);
                boost::asio::post(strand_, [handler = std::move(handler), fn = std::move(fn),
                                            work = std::move(work)]() mutable {
                    std::exception_ptr ep;
                    R result{};
                    try {
                        result = fn();
                    } catch (...) {
                        ep = std::current_exception();
                    }
                    auto done_ex = work.get_executor();
                    // The error moves along: this worker keeps no reference to it, so the
                    // thread that handles it also frees it (an exception_ptr's count lives in
                    // libstdc++.so, where ThreadSanitizer cannot see it order the two).
                    boost::asio::dispatch(done_ex,
                                          [handler = std::move(handler), ep = std::move(ep),
                                           result = std::move(result)]() mutable {
                                              std::move(handler)(std::move(ep), std::move(result));
                                          });
                });
            },
            token, std::forward<F>(f));
    }

    config cfg_;
    typename Backend::session session_;
    [[no_unique_address]] Retry retry_;
    [[no_unique_address]] Timeout timeout_;
    [[no_unique_address]] Breaker breaker_;
    typename Cache::template cache_for<statement_type> cache_;
    std::size_t depth_ = 0;  ///< open transaction levels (1: transaction, 2+: savepoints)
    /// close() was called: the retry rule never reopens such a connection (only one that
    /// broke).
    bool closed_by_user_ = false;
    /// The deadline of the with_transaction running now (max outside one).
    deadline op_deadline_ = deadline::max();
    std::optional<boost::asio::any_io_executor> completion_ex_;
    boost::asio::strand<boost::asio::thread_pool::executor_type> strand_;
};

/// RAII transaction (or savepoint, when nested): rolls back on scope exit unless committed,
/// so an exception inside the block leaves the database as it was before the block.
template <class Connection>
class basic_transaction {
public:
    basic_transaction(const basic_transaction&) = delete;
    basic_transaction& operator=(const basic_transaction&) = delete;
    basic_transaction(basic_transaction&& o) noexcept
        : conn_(std::exchange(o.conn_, nullptr)), level_(o.level_) {}
    basic_transaction& operator=(basic_transaction&&) = delete;
    ~basic_transaction() {
        if (conn_ == nullptr) return;
        try {
            conn_->rollback_level(level_);
        } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw; the
                         // server rolls back an abandoned transaction when the session ends
        }
    }

    void commit() {
        require_active();
        try {
            conn_->commit_level(level_);
        } catch (...) {
            if (conn_->depth_ < level_) conn_ = nullptr;  // over: nothing left to roll back
            throw;
        }
        conn_ = nullptr;
    }
    void rollback() {
        require_active();
        Connection* c = std::exchange(conn_, nullptr);
        c->rollback_level(level_);
    }
    [[nodiscard]] bool active() const noexcept { return conn_ != nullptr; }
    /// 1 for a transaction, 2 and more for savepoints inside it.
    [[nodiscard]] std::size_t level() const noexcept { return level_; }

private:
    friend Connection;
    basic_transaction(Connection& c, std::size_t level) noexcept : conn_(&c), level_(level) {}
    void require_active() const {
        if (conn_ == nullptr) detail::throw_transaction_order("the transaction is already over");
    }
    Connection* conn_;
    std::size_t level_;
};

}  // namespace dal
