// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// `dal::basic_pool<Connection>`: a pool of composed connections of one configuration.
///
///     auto pool = dal::basic_pool<dal::postgres::connection>::create(cfg);
///     auto db = pool->acquire();                       // a lease; returned when it goes away
///     db->execute("UPDATE [t] SET [n] = [n] + 1"_sql);
///     auto db2 = co_await pool->async_acquire(asio::use_awaitable);
///
/// - Waiters are served strictly first come, first served, threads and coroutines alike: a
///   returned connection is handed to the oldest waiter directly.
/// - A waiter that times out gets `errc::pool_timeout` with the pool's size, how many were in
///   use, how many waited and how long it waited, so saturation is visible at once.
/// - A connection idle longer than `validate_after_idle` is pinged before it is handed out
///   (pgxpool's rule); a broken one is replaced, never handed out.
/// - Connections live at most `max_lifetime` (minus a random jitter, so they do not all expire
///   together); idle ones beyond `min` are closed after `idle_timeout`.
/// - Returned connections are cleaned: an open transaction is rolled back; a closed or broken
///   one is discarded, not reused.
/// - Leases held longer than `leak_threshold` are reported (where they were acquired, their
///   tags) to `on_leak` and counted.
/// - `close()` stops handing out connections, fails the waiters with `errc::pool_closed`, waits
///   for leases up to a limit, then cancels what still runs; nothing blocks forever.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <iosfwd>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <ctime>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <dal/config.hpp>
#include <dal/connection.hpp>
#include <dal/error.hpp>

namespace dal {

/// Where a lease was acquired: std::source_location's information, built from the compiler
/// builtins GCC and Clang 14 share (Clang 14 cannot compile libstdc++'s <source_location>).
/// As a default argument it records the caller's location.
struct source_location {
    const char* file = "";
    unsigned line = 0;
    const char* function = "";
    [[nodiscard]] static constexpr source_location current(
        const char* f = __builtin_FILE(), int l = __builtin_LINE(),
        const char* fn = __builtin_FUNCTION()) noexcept {
        return {f, static_cast<unsigned>(l), fn};
    }
    [[nodiscard]] constexpr const char* file_name() const noexcept { return file; }
    [[nodiscard]] constexpr unsigned line_number() const noexcept { return line; }
    [[nodiscard]] constexpr const char* function_name() const noexcept { return function; }
};

/// How a pool behaves; `from(config)` takes the sizes and limits of a config.
struct pool_options {
    std::size_t min = 1;
    /// 0: derived with `default_pool_size` (docs/pool.md).
    std::size_t max = 0;
    std::chrono::milliseconds acquire_timeout{10'000};
    /// `create` warms the pool up to `min` within this limit (config.timeouts.pool_creation);
    /// what is not open by then opens on demand.
    std::chrono::milliseconds creation_timeout{30'000};
    /// Ping a connection idle longer than this before handing it out.
    std::chrono::milliseconds validate_after_idle{1'000};
    /// 0: no limit (HikariCP's convention), for servers and networks that never drop old
    /// connections; rarely what a service wants.
    std::chrono::milliseconds max_lifetime{30 * 60'000};
    /// Each connection's lifetime is shortened by a random fraction up to this.
    double lifetime_jitter = 0.1;
    std::chrono::milliseconds idle_timeout{10 * 60'000};
    /// Connections being opened at once, at most (a reconnect storm stays bounded).
    std::size_t max_concurrent_creations = 2;
    /// 0: off. Leases held longer are reported to `on_leak`.
    std::chrono::milliseconds leak_threshold{0};
    /// Opt-in, with leak_threshold: a lease held past the threshold is reclaimed. Its running
    /// statement is cancelled, its place goes to a new connection, and the connection is
    /// rolled back and closed when its holder returns it (never under a thread using it).
    bool reclaim_leaked = false;
    /// 0: off. Idle connections unused this long are pinged, so that firewalls, NAT tables
    /// and server idle limits (wait_timeout) do not drop them unnoticed.
    std::chrono::milliseconds keepalive_interval{0};
    /// The server's connection limit if known (0: unknown), for the sizing rule.
    std::size_t server_connection_limit = 0;

    [[nodiscard]] static pool_options from(const config& cfg);
    /// Throws client_errc::invalid_config naming the first setting out of range (a negative
    /// limit or one beyond 35 years, min above max, no connection ever allowed to open, a
    /// jitter outside [0, 1)).
    /// Pools call it on creation: a wrong setting fails there, not as odd behaviour later.
    void validate() const;
};

/// The sizing rule (the Python design's `_calculate_pool_size`): a database does its work on
/// its cores and disks, so more connections than about twice its cores only queue inside the
/// server; fewer users than that need fewer connections; and one service should not take more
/// than a quarter of the server's connection limit. Result: min(2·cores + 1, expected
/// concurrency if known, server limit / 4 if known), at least max(min, 1).
[[nodiscard]] std::size_t default_pool_size(std::size_t cores, std::size_t expected_concurrency,
                                            std::size_t server_connection_limit,
                                            std::size_t min_size) noexcept;

/// A snapshot of a pool, for dashboards and scaling decisions.
struct pool_status {
    std::string name;  ///< the config's alias (never the password)
    /// config::hash_hex(): tells apart pools whose aliases are alike (the alias falls back to
    /// the database name, which a primary and its replica share).
    std::string config_hash;
    std::size_t min = 0;
    std::size_t max = 0;
    std::size_t size = 0;  ///< open connections, idle and in use
    std::size_t idle = 0;
    std::size_t in_use = 0;
    std::size_t waiters = 0;  ///< acquirers waiting now
    std::size_t opening = 0;  ///< connections being opened now
    std::uint64_t created = 0;
    std::uint64_t closed = 0;  ///< connections closed (expired, idle, broken, pool closed)
    std::uint64_t timeouts = 0;
    std::uint64_t leaks = 0;
    std::uint64_t reclaimed = 0;  ///< leaked leases reclaimed (reclaim_leaked)
    std::uint64_t acquired = 0;
    std::uint64_t waits = 0;  ///< times an acquirer had to wait in line (served or timed out)
    std::chrono::microseconds wait_time{0};  ///< the time they waited, in total
    bool closing = false;
};

/// The design's scaling signal: how hard acquirers press on a pool, from the share of
/// acquisitions that timed out between two snapshots. A rate over an interval, not since
/// start: a burst an hour ago says nothing about now.
enum class pool_pressure : std::uint8_t {
    normal,    ///< under 0.1 % timed out: no action needed
    mild,      ///< 0.1-1 %: mild contention; look for slow queries and long transactions
    high,      ///< 1-5 %: high load; scale vertically (a bigger database or app servers)
    critical,  ///< over 5 %: the pool is the limit; scale horizontally (more app servers)
};

/// What changed between two snapshots of one pool.
struct pool_signal {
    std::uint64_t attempts = 0;  ///< acquisitions in the interval, served or timed out
    std::uint64_t timeouts = 0;
    double timeout_rate = 0;                 ///< timeouts / attempts (0 without attempts)
    std::chrono::microseconds mean_wait{0};  ///< of the acquirers that had to wait
    double utilisation = 0;                  ///< in use / max, at the later snapshot
    pool_pressure pressure = pool_pressure::normal;
};

/// The signal between `before` and `now` (snapshots of the same pool, `now` taken later).
[[nodiscard]] pool_signal scaling_signal(const pool_status& before,
                                         const pool_status& now) noexcept;
/// "normal: no action needed", "critical: ... scale horizontally", ...
[[nodiscard]] std::string_view describe(pool_pressure p) noexcept;
/// The pools' status in Prometheus' text exposition format (version 0.0.4): gauges for the
/// sizes, counters for the totals, labelled `pool` (the config's alias, never a password) and
/// `config` (its hash, so that two pools with the same alias stay two series). Serve it from the
/// application's metrics endpoint, e.g. `dal::write_prometheus(out,
/// dal::pool_registry::global().status_all())`.
void write_prometheus(std::ostream& out, std::span<const pool_status> pools);

/// A lease held too long.
struct leak_report {
    dal::source_location acquired_at;
    std::chrono::milliseconds held_for{};
    std::vector<std::pair<std::string, std::string>> tags;
};

namespace detail {
/// The pool's figures a timeout's message gives (no strings: built once per timeout).
struct timeout_figures {
    std::size_t size = 0;
    std::size_t max = 0;
    std::size_t in_use = 0;
    std::size_t waiters = 0;
    std::uint64_t timeouts = 0;
};
/// A timed-out waiter's error, as a value: async waiters get it without a throw (a burst of
/// timeouts on one event loop costs what it must, and no more); thread waiters throw it.
[[nodiscard]] error pool_timeout_error(std::string_view pool, const timeout_figures& f,
                                       std::chrono::milliseconds waited);
[[noreturn]] void throw_pool_closed(std::string_view name);
/// A random fraction in [0, 1) for lifetime jitter (thread-safe).
[[nodiscard]] double pool_jitter() noexcept;

/// The pool's bookkeeping clock: idle times, lifetimes and lease ages are limits of seconds,
/// so CLOCK_MONOTONIC_COARSE (1-4 ms resolution, a few ns to read, same epoch as
/// steady_clock on Linux) is enough and keeps the clock off the acquire/release fast path.
/// Acquisition timeouts use the precise steady_clock.
[[nodiscard]] inline std::chrono::steady_clock::time_point coarse_now() noexcept {
#ifdef CLOCK_MONOTONIC_COARSE
    timespec ts{};
    if (::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) == 0)
        return std::chrono::steady_clock::time_point(
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
#endif
    return std::chrono::steady_clock::now();
}

/// When a wait of `limit` that began at `from` ends: saturated at time_point::max(), so that
/// a limit meaning "no limit" (milliseconds::max()) does not overflow into the past and time
/// out at once; a negative limit (a budget already spent) ends at `from`.
[[nodiscard]] inline std::chrono::steady_clock::time_point deadline_after(
    std::chrono::steady_clock::time_point from, std::chrono::milliseconds limit) noexcept {
    return limit.count() <= 0 ? from : saturating_deadline(from, limit);
}

/// The error a connect's completion gets when dal's threads stop (at exit) before the connect
/// finished.
[[nodiscard]] std::exception_ptr connect_abandoned() noexcept;

/// Wraps a connect's completion `done(std::exception_ptr, Result)` so that it runs exactly
/// once: when called, or else when destroyed uncalled (an event loop destroys the handlers it
/// never ran), with `connect_abandoned()` and an empty `Result`. Without it a thread whose
/// connect was still pending when dal's threads stopped would wait forever. Only for
/// completions safe to run from a destructor at exit (a thread's condition variable), not an
/// async acquirer's, which posts to an event loop that is usually destroyed by then.
/// Move-only, so exactly one live copy can complete.
template <class Result, class Done>
class complete_once {
public:
    explicit complete_once(Done d) : done_(std::move(d)) {}
    complete_once(const complete_once&) = delete;
    complete_once& operator=(const complete_once&) = delete;
    complete_once(complete_once&& o) noexcept : done_(std::exchange(o.done_, std::nullopt)) {}
    complete_once& operator=(complete_once&&) = delete;
    ~complete_once() {
        if (!done_) return;
        try {
            (*this)(connect_abandoned(), Result{});
        } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor; nothing else to tell
        }
    }
    void operator()(std::exception_ptr ep, Result r) {
        if (!done_) return;
        Done d = std::move(*done_);
        done_.reset();
        d(std::move(ep), std::move(r));
    }

private:
    std::optional<Done> done_;
};
}  // namespace detail

/// The part of every pool the registry and health checks use, whatever the connection type.
class pool_base {
public:
    pool_base() = default;
    pool_base(const pool_base&) = delete;
    pool_base& operator=(const pool_base&) = delete;
    pool_base(pool_base&&) = delete;
    pool_base& operator=(pool_base&&) = delete;
    virtual ~pool_base() = default;
    [[nodiscard]] virtual pool_status status() const = 0;
    /// Healthy when it can serve: never waits behind a saturated pool, never touches a
    /// connection in use. A busy pool is healthy.
    [[nodiscard]] virtual bool healthy() = 0;
    virtual void close(std::chrono::milliseconds graceful) noexcept = 0;
};

template <class Connection>
class basic_pool final : public pool_base,
                         public std::enable_shared_from_this<basic_pool<Connection>> {
    struct slot {
        std::unique_ptr<Connection> conn;
        std::chrono::steady_clock::time_point created;
        std::chrono::steady_clock::time_point last_used;
        std::chrono::steady_clock::time_point expires;
        std::chrono::steady_clock::time_point acquired;
        dal::source_location where;
        std::vector<std::pair<std::string, std::string>> tags;
        bool in_use = false;
        bool leak_reported = false;
        bool condemned = false;  ///< the pool closed or reclaimed it while it was in use
        bool reclaimed = false;  ///< no longer counted against max
    };
    using slot_iter = typename std::list<slot>::iterator;

public:
    using clock = std::chrono::steady_clock;
    using connection_type = Connection;

    /// A connection on loan: returned to the pool when destroyed (or by `release()`).
    class lease {
    public:
        lease() = default;
        lease(const lease&) = delete;
        lease& operator=(const lease&) = delete;
        lease(lease&& o) noexcept : pool_(std::move(o.pool_)), slot_(o.slot_) {}
        lease& operator=(lease&& o) noexcept {
            if (this != &o) {
                release();
                pool_ = std::move(o.pool_);
                slot_ = o.slot_;
            }
            return *this;
        }
        ~lease() { release(); }
        [[nodiscard]] Connection& operator*() const noexcept { return *slot_->conn; }
        [[nodiscard]] Connection* operator->() const noexcept { return slot_->conn.get(); }
        [[nodiscard]] explicit operator bool() const noexcept { return pool_ != nullptr; }
        /// Labels for leak reports (and, later, metrics).
        void set_tags(const std::vector<std::pair<std::string, std::string>>& tags) {
            const std::lock_guard lk(pool_->mutex_);  // leak reports read them meanwhile
            slot_->tags = tags;
        }
        /// Returns the connection now.
        void release() noexcept {
            if (pool_) std::exchange(pool_, nullptr)->give_back(slot_);
        }

    private:
        friend class basic_pool;
        lease(std::shared_ptr<basic_pool> p, slot_iter s) noexcept
            : pool_(std::move(p)), slot_(s) {}
        std::shared_ptr<basic_pool> pool_;
        slot_iter slot_{};
    };

    /// Creates the pool and opens `min` connections (failures are reported, the pool is still
    /// usable: it retries on demand).
    static std::shared_ptr<basic_pool> create(config cfg) {
        pool_options o = pool_options::from(cfg);
        return create(std::move(cfg), o);
    }
    static std::shared_ptr<basic_pool> create(config cfg, pool_options opts) {
        return create(std::move(cfg), opts, {});
    }
    /// Opens connections with `factory` instead of `Connection(config)`: to give them policy
    /// objects (a breaker with settings, a retry policy) copied from one prototype, so that
    /// the pool's connections share one breaker and one retry budget.
    using factory_type = std::function<std::unique_ptr<Connection>(const config&)>;
    static std::shared_ptr<basic_pool> create(config cfg, pool_options opts, factory_type factory) {
        // Before dal's connector threads first run a connect (see Connection::init_library).
        if constexpr (requires { Connection::init_library(); }) Connection::init_library();
        std::shared_ptr<basic_pool> p(new basic_pool(std::move(cfg), opts));
        p->factory_ = std::move(factory);
        p->warm_up();
        p->start_housekeeping();
        return p;
    }

    /// Waits (first come, first served) for a connection, at most `timeout` (default: the
    /// pool's acquire_timeout). Throws errc::pool_timeout, errc::pool_closed, or the connect
    /// error when a new connection cannot be opened.
    [[nodiscard]] lease acquire(std::optional<std::chrono::milliseconds> timeout = std::nullopt,
                                dal::source_location where = dal::source_location::current()) {
        // The precise clock is read only when this call has to wait.
        std::optional<clock::time_point> start;
        while (true) {
            std::vector<std::unique_ptr<Connection>> expired;  // closed outside the lock
            std::unique_lock lk(mutex_);
            if (closing_) detail::throw_pool_closed(name_);
            if (live_waiters_locked() == 0) {
                const taken t = take_idle_locked(where, expired);
                if (t.slot) {
                    lk.unlock();
                    expired.clear();
                    if (!t.stale || validate(*t.slot))
                        return lease(this->shared_from_this(), *t.slot);
                    continue;  // it was broken: discarded, try again
                }
                if (can_create_locked()) {
                    ++creating_;
                    lk.unlock();
                    expired.clear();
                    const auto now = clock::now();
                    return lease(
                        this->shared_from_this(),
                        open_new_blocking(
                            where, now,
                            detail::deadline_after(now, timeout.value_or(opts_.acquire_timeout))));
                }
            }
            // Wait in line; while the pool may grow, the oldest waiters open connections.
            if (!start) start = clock::now();
            const auto until =
                detail::deadline_after(*start, timeout.value_or(opts_.acquire_timeout));
            auto w = std::make_shared<waiter>();
            w->start = *start;
            w->where = where;
            w->then = figures_locked();
            push_waiter_locked(w);
            grow_for_waiters_locked();  // the oldest waiters may open connections
            lk.unlock();
            // Waits on its own lock: serving it happens under that lock, so a served waiter
            // and one that times out never queue for the pool's lock.
            std::unique_lock wl(w->m);
            if (!w->cv.wait_until(wl, until, [&] { return w->done; })) {
                give_up(*w);
                wl.unlock();
                throw timed_out(*w, *start);
            }
            wl.unlock();  // `done` is final: the fields below no longer change
            if (w->error) std::rethrow_exception(w->error);
            if (w->create)  // handed the right to open a connection, within its own limit
                return lease(this->shared_from_this(), open_new_blocking(where, *start, until));
            return lease(this->shared_from_this(), *w->got);  // marked acquired when served
        }
    }

    /// Runs `f(Connection&)` on a pooled connection as one operation: its limit
    /// (`opts.operation`, else `config.timeouts.operation`; zero: none) covers waiting for the
    /// connection and every call `f` makes, with their retries and backoff. The connection
    /// goes back to the pool when `f` returns or throws.
    template <class F>
    decltype(auto) with_connection(F&& f, const call_options& opts = {},
                                   dal::source_location where = dal::source_location::current()) {
        const auto start = clock::now();
        const auto limit = opts.operation.value_or(cfg_.timeouts.operation);
        if (limit.count() <= 0) return acquire(std::nullopt, where)->within(deadline::max(), f);
        lease l = acquire(std::min(opts_.acquire_timeout, limit), where);
        return l->within(start + limit, std::forward<F>(f));
    }

    /// with_connection around the connection's with_transaction: a transaction as one
    /// operation, acquisition included. A transaction lost with its connection runs again on
    /// that connection, reopened on whichever host fits the target role, when the
    /// connection's RetryPolicy allows (give the pool's connections one with the factory).
    template <class F>
    decltype(auto) with_transaction(F&& f, const call_options& opts = {},
                                    dal::source_location where = dal::source_location::current()) {
        return with_connection(
            [&f](Connection& c) -> decltype(auto) { return c.with_transaction(f); }, opts, where);
    }

    /// The async form: completes with (std::exception_ptr, lease) on the handler's executor.
    /// Opening a connection runs on dal's connector threads (PostgreSQL, MySQL/MariaDB,
    /// without holding a thread) or worker threads (SQLite, connections from a factory), never
    /// on the caller's loop. The io_context may be destroyed with the wait pending: what the
    /// pool promised the waiter comes back. But not while another thread may serve that wait
    /// (return a connection, close the pool): serving cancels the wait's timer, and Asio
    /// forbids using an I/O object while its io_context is being destroyed.
    template <class Token>
    auto async_acquire(Token&& token,
                       std::optional<std::chrono::milliseconds> timeout = std::nullopt,
                       dal::source_location where = dal::source_location::current()) {
        return boost::asio::async_initiate<Token, void(std::exception_ptr, lease)>(
            [self = this->shared_from_this(), timeout, where](auto handler) {
                self->start_async_acquire(std::move(handler), timeout, where);
            },
            token);
    }

    [[nodiscard]] pool_status status() const override {
        const std::lock_guard lk(mutex_);
        return status_locked();
    }

    /// Reports leases held longer than leak_threshold (once each), reclaims them if
    /// `reclaim_leaked`, and returns how many are held that long now. The pool's housekeeping
    /// calls it (on a dal worker thread, where `on_leak` then runs); callable any time.
    std::size_t check_leaks() {
        if (opts_.leak_threshold.count() <= 0) return 0;
        std::vector<leak_report> reports;
        std::size_t held = 0;
        {
            const std::lock_guard lk(mutex_);
            const auto now = detail::coarse_now();
            for (slot& s : slots_) {
                if (!s.in_use || now - s.acquired < opts_.leak_threshold) continue;
                ++held;
                if (s.leak_reported) continue;
                s.leak_reported = true;
                ++leaks_;
                reports.push_back(
                    {s.where,
                     std::chrono::duration_cast<std::chrono::milliseconds>(now - s.acquired),
                     s.tags});
                if (opts_.reclaim_leaked && !s.reclaimed) {
                    // The holder keeps its object; the pool stops counting it and cancels
                    // what it runs (under the lock, as close() does, so the slot stays).
                    s.reclaimed = true;
                    s.condemned = true;
                    ++reclaimed_;
                    ++reclaimed_out_;
                    s.conn->cancel();
                }
            }
            if (opts_.reclaim_leaked) grow_for_waiters_locked();
        }
        if (on_leak_)
            for (const leak_report& r : reports)
                on_leak_(r);
        return held;
    }
    void on_leak(std::function<void(const leak_report&)> f) {
        const std::lock_guard lk(mutex_);
        on_leak_ = std::move(f);
    }

    bool healthy() override {
        std::unique_lock lk(mutex_);
        if (closing_) return false;
        // An idle connection: ping it (it is taken out of the pool for that moment only).
        std::vector<std::unique_ptr<Connection>> expired;
        const taken t = take_idle_locked(dal::source_location::current(), expired);
        if (t.slot) {
            --acquired_;  // a health check is not an acquisition
            lk.unlock();
            expired.clear();
            if (!validate(*t.slot)) return false;
            lease l(this->shared_from_this(), *t.slot);  // back to the pool
            return true;
        }
        // All in use: busy, not unhealthy.
        if (in_use_ > 0) return true;
        // No connection at all: can one be opened?
        if (!can_create_locked()) return true;  // others are opening connections right now
        ++creating_;
        lk.unlock();
        try {
            // On the connector loop like every connect; kept as an idle connection.
            lease l(this->shared_from_this(), open_new_blocking(dal::source_location::current()));
            const std::lock_guard relk(mutex_);
            --acquired_;  // a health check is not an acquisition
            return true;
        } catch (const error&) {
            return false;
        }
    }

    /// Stops handing out connections, fails the waiters, closes idle connections, waits up to
    /// `graceful` for the leases, then cancels the statements of those still out: they are
    /// rolled back and closed when their holders return them (never committed on anyone's
    /// behalf, and never closed under a thread that is using them).
    void close(std::chrono::milliseconds graceful) noexcept override {
        quietly([&] { close_impl(graceful); });
    }

    ~basic_pool() override { close(std::chrono::milliseconds{0}); }
    basic_pool(const basic_pool&) = delete;
    basic_pool& operator=(const basic_pool&) = delete;
    basic_pool(basic_pool&&) = delete;
    basic_pool& operator=(basic_pool&&) = delete;

private:
    void close_impl(std::chrono::milliseconds graceful) {
        // The housekeeping timer stops by itself: its next tick sees `closing_` (or the pool
        // gone). Not cancelled from here: this may run at exit, after dal's I/O thread.
        std::unique_lock lk(mutex_);
        closing_ = true;
        fail_waiters_locked(
            error(make_error_code(client_errc::pool_closed), "the pool '" + name_ + "' is closed"));
        close_idle_locked();
        returned_.wait_for(lk, graceful, [&] { return in_use_ == 0; });
        for (slot& s : slots_) {
            if (!s.in_use) continue;
            s.condemned = true;
            s.conn->cancel();
        }
    }

    // Thread waiters each wait on their own condition variable and are woken alone when
    // served. One shared variable woken in full on every handoff measured 60x the throughput
    // of this in bench/pool_bench.cpp's zero-work loop, but with 64 threads holding 20
    // connections for 500 us it used 3x the CPU for the same throughput, and its wake-up
    // storm made timeouts tens of milliseconds late. docs/pool.md, "Contention".
    //
    // Each waiter has its own lock. The pool serves (or fails) a waiter holding the pool's
    // lock and then the waiter's; a waiter that times out takes only its own, marks itself
    // given up and leaves at once: it stays in the queue until the pool meets it there (or
    // compacts the queue) and skips it. Measured in the stress test: a timeout that had to
    // take the pool's lock again to leave the queue came up to ~10 ms late behind a
    // preempted lock holder (64 threads on 2 cores). A served waiter has been marked
    // acquired by the pool already, so it does not take the pool's lock either.
    //
    // Serving allocates nothing and runs no code of the caller's: a thread waiter is
    // notified; an async waiter's timer is cancelled, and its handler, which runs on the
    // waiter's executor anyway, hands over what the pool put in the waiter. So a handoff
    // cannot fail half-way (the pool's lock held, a connection promised), and a waiter whose
    // io_context is destroyed before its handler runs gives back what it was promised.
    struct waiter {
        std::mutex m;                ///< guards everything below
        std::condition_variable cv;  ///< thread waiters: woken alone, when served
        bool done = false;           ///< served, failed or given up: final
        bool gave_up = false;        ///< timed out (or abandoned); the pool skips it
        bool create = false;         ///< may open a new connection (one was discarded)
        std::optional<slot_iter> got;
        std::exception_ptr error;
        clock::time_point start;     ///< when the wait began
        dal::source_location where;  ///< recorded by the pool when served
        /// What the pool looked like when the wait began, for the timeout's message when the
        /// pool's lock is busy at that moment.
        detail::timeout_figures then;
        /// Async waiters: the timeout, and the wake-up (cancelled when served or failed).
        /// Owned here until the handler runs, which lets go of it on its own executor.
        std::shared_ptr<boost::asio::steady_timer> timer;
    };
    /// Queues a waiter. Given-up waiters are dropped when they are most of a long queue, so a
    /// pool saturated for a long time does not collect them.
    void push_waiter_locked(const std::shared_ptr<waiter>& w) {
        const std::size_t gone = gave_up_queued_.load(std::memory_order_relaxed);
        if (gone >= 64 && gone * 2 >= waiters_.size()) {
            std::erase_if(waiters_, [this](const std::shared_ptr<waiter>& q) {
                const std::lock_guard ql(q->m);
                return met_given_up_locked(*q);
            });
        }
        waiters_.push_back(w);
    }
    /// The pool now, for a timeout's message (noted as each wait begins, before the waiter
    /// is queued and its timer starts).
    [[nodiscard]] detail::timeout_figures figures_locked() const {
        return {.size = slots_.size(),
                .max = opts_.max,
                .in_use = in_use_,
                .waiters = live_waiters_locked()};
    }
    /// A waiter times out (the caller holds its lock and saw it not done).
    void give_up(waiter& w) {
        w.done = true;
        w.gave_up = true;
        gave_up_queued_.fetch_add(1, std::memory_order_relaxed);  // under w.m: see status
        timeouts_.fetch_add(1, std::memory_order_relaxed);
    }
    /// The pool meets a waiter in its queue (holding its lock and the waiter's): true if the
    /// waiter gave up, which then no longer counts as queued.
    bool met_given_up_locked(const waiter& w) {
        if (!w.gave_up) return false;
        gave_up_queued_.fetch_sub(1, std::memory_order_relaxed);
        return true;
    }
    /// A waiter that gave up (see give_up) records its wait and gets its pool_timeout error.
    [[nodiscard]] error timed_out(const waiter& w, clock::time_point start) {
        const auto waited = clock::now() - start;
        record_wait(waited);
        return timeout_error(waited, &w.then);
    }
    /// A timeout's error: the pool now, with its lock if it is free, else as `then` noted it
    /// (no `then`: waits for the lock).
    [[nodiscard]] error timeout_error(clock::duration waited,
                                      const detail::timeout_figures* then) const {
        detail::timeout_figures f;
        {
            std::unique_lock lk(mutex_, std::try_to_lock);
            if (!lk.owns_lock() && then == nullptr) lk.lock();
            f = lk.owns_lock() ? figures_locked() : *then;
        }
        f.timeouts = timeouts_.load(std::memory_order_relaxed);
        return detail::pool_timeout_error(
            name_,  // set at construction, never changed
            f, std::chrono::duration_cast<std::chrono::milliseconds>(waited));
    }
    /// Waiters in the queue that have not given up. A waiter counts itself out under its
    /// own lock before the pool can meet it, so the count never exceeds the queue's.
    [[nodiscard]] std::size_t live_waiters_locked() const {
        return waiters_.size() -
               std::min(waiters_.size(), gave_up_queued_.load(std::memory_order_relaxed));
    }

    basic_pool(config cfg, pool_options opts) : cfg_(std::move(cfg)), opts_(opts) {
        opts_.validate();
        if (opts_.max == 0)
            opts_.max = default_pool_size(std::thread::hardware_concurrency(),
                                          cfg_.pool.expected_concurrency,
                                          opts_.server_connection_limit, opts_.min);
        opts_.min = std::min(opts_.min, opts_.max);
        name_ = std::string(cfg_.effective_alias());
        config_hash_ = cfg_.hash_hex();
    }

    void warm_up() {
        const auto until = detail::deadline_after(clock::now(), opts_.creation_timeout);
        for (std::size_t k = 0; k < opts_.min && clock::now() < until; ++k) {
            {
                const std::lock_guard lk(mutex_);
                if (!can_create_locked()) break;
                ++creating_;
            }
            if (!open_idle()) break;  // the server is not there yet: opened on demand
        }
    }
    /// Opens a connection (reserved with ++creating_) straight into the idle list.
    bool open_idle() {
        try {
            lease l(this->shared_from_this(), open_new_blocking(dal::source_location::current()));
            const std::lock_guard lk(mutex_);
            --acquired_;  // not an acquisition
            return true;
        } catch (const error&) {
            return false;
        }
    }

    // ---- housekeeping: a timer on dal's I/O thread; the work runs on a worker --------------

    /// How often: half the shortest limit it serves, within [50 ms, 30 s].
    [[nodiscard]] std::chrono::milliseconds housekeeping_period() const {
        std::chrono::milliseconds p = opts_.idle_timeout;
        if (opts_.leak_threshold.count() > 0) p = std::min(p, opts_.leak_threshold);
        if (opts_.keepalive_interval.count() > 0) p = std::min(p, opts_.keepalive_interval);
        return std::clamp(p / 2, std::chrono::milliseconds{50}, std::chrono::milliseconds{30'000});
    }
    void start_housekeeping() {
        timer_ = std::make_shared<boost::asio::steady_timer>(dal::detail::shared_io_executor());
        schedule_housekeeping(timer_, this->weak_from_this(), housekeeping_period());
    }
    static void schedule_housekeeping(const std::shared_ptr<boost::asio::steady_timer>& t,
                                      std::weak_ptr<basic_pool> weak,
                                      std::chrono::milliseconds period) {
        t->expires_after(period);
        t->async_wait([t, weak, period](const boost::system::error_code& ec) {
            if (ec) return;
            const auto self = weak.lock();
            if (!self) return;
            {
                const std::lock_guard lk(self->mutex_);
                if (self->closing_) return;
            }
            boost::asio::post(dal::detail::blocking_pool(),
                              [self] { quietly([&] { self->housekeep(); }); });
            schedule_housekeeping(t, weak, period);
        });
    }
    /// Leaks, lifetimes, idle limits, keepalive pings and the minimum size, without waiting
    /// for an acquire to notice.
    void housekeep() {
        check_leaks();
        std::vector<std::unique_ptr<Connection>> retired;
        std::vector<slot_iter> to_ping;
        std::size_t to_open = 0;
        {
            const std::lock_guard lk(mutex_);
            if (closing_) return;
            const auto now = detail::coarse_now();
            for (std::size_t k = 0; k < idle_.size();) {  // oldest first
                const slot_iter s = idle_[k];
                const bool too_idle =
                    slots_.size() > opts_.min && now - s->last_used > opts_.idle_timeout;
                if (now >= s->expires || too_idle) {
                    idle_.erase(idle_.begin() + static_cast<std::ptrdiff_t>(k));
                    retire_locked(s, retired);
                } else if (opts_.keepalive_interval.count() > 0 &&
                           now - s->last_used >= opts_.keepalive_interval) {
                    idle_.erase(idle_.begin() + static_cast<std::ptrdiff_t>(k));
                    // Out for its ping, acquired now: a leak check meanwhile must not take
                    // its last holder's old acquisition for a leak (and reclaim it).
                    mark_acquired_locked(s, dal::source_location::current(), now);
                    --acquired_;  // not an acquisition
                    ++in_use_;
                    to_ping.push_back(s);
                } else {
                    ++k;
                }
            }
            while (slots_.size() + creating_ < opts_.min && can_create_locked()) {
                ++creating_;
                ++to_open;
            }
        }
        retired.clear();  // closes them
        for (const slot_iter s : to_ping)
            if (ping_or_discard(s)) give_back(s);  // back to idle, or to a waiter
        for (; to_open > 0; --to_open)
            if (!open_idle()) break;
    }

    // ---- under the lock ------------------------------------------------------------------

    [[nodiscard]] pool_status status_locked() const {
        pool_status s;
        s.name = name_;
        s.config_hash = config_hash_;
        s.min = opts_.min;
        s.max = opts_.max;
        s.size = slots_.size();
        s.in_use = in_use_;
        s.idle = s.size - s.in_use;
        s.waiters = live_waiters_locked();
        s.opening = creating_;
        s.created = created_;
        s.closed = closed_;
        s.timeouts = timeouts_.load(std::memory_order_relaxed);
        s.leaks = leaks_;
        s.reclaimed = reclaimed_;
        s.acquired = acquired_;
        s.waits = waits_.load(std::memory_order_relaxed);
        s.wait_time = std::chrono::duration_cast<std::chrono::microseconds>(
            clock::duration(wait_time_.load(std::memory_order_relaxed)));
        s.closing = closing_;
        return s;
    }
    /// Counted without the pool's lock: a waiter that timed out does not take it.
    void record_wait(clock::duration waited) {
        waits_.fetch_add(1, std::memory_order_relaxed);
        wait_time_.fetch_add(waited.count(), std::memory_order_relaxed);
    }
    [[nodiscard]] bool can_create_locked() const {
        return slots_.size() - reclaimed_out_ + creating_ < opts_.max &&
               creating_ < opts_.max_concurrent_creations;
    }
    /// What take_idle_locked found: a connection now in use, and whether it must be pinged.
    struct taken {
        std::optional<slot_iter> slot;
        bool stale = false;
    };
    /// The most recently used idle connection (LIFO, so the others can age out to `min`),
    /// marked in use. Expired ones met on the way, and the least recently used one when it
    /// idled past `idle_timeout` above `min`, move to `expired` to be closed outside the lock.
    taken take_idle_locked(const dal::source_location& where,
                           std::vector<std::unique_ptr<Connection>>& expired) {
        const auto now = detail::coarse_now();
        while (!idle_.empty()) {
            const slot_iter s = idle_.back();
            idle_.pop_back();
            if (now >= s->expires) {
                retire_locked(s, expired);
                continue;
            }
            if (!idle_.empty() && slots_.size() > opts_.min &&
                now - idle_.front()->last_used > opts_.idle_timeout) {
                const slot_iter oldest = idle_.front();
                idle_.erase(idle_.begin());
                retire_locked(oldest, expired);
            }
            ++in_use_;
            const bool stale = opts_.validate_after_idle.count() <= 0 ||
                               now - s->last_used > opts_.validate_after_idle;
            mark_acquired_locked(s, where, now);
            return {s, stale};
        }
        return {};
    }
    /// An idle slot leaves the pool; its connection is closed by the caller, unlocked.
    void retire_locked(slot_iter s, std::vector<std::unique_ptr<Connection>>& expired) {
        expired.push_back(std::move(s->conn));
        slots_.erase(s);
        ++closed_;
    }
    void mark_acquired_locked(slot_iter s, const dal::source_location& where,
                              std::chrono::steady_clock::time_point now) {
        s->in_use = true;
        s->acquired = now;
        s->where = where;
        if (!s->tags.empty()) s->tags.clear();
        s->leak_reported = false;
        ++acquired_;
    }
    void close_idle_locked() {
        for (const slot_iter s : idle_) {
            s->conn->close();
            ++closed_;
            slots_.erase(s);
        }
        idle_.clear();
    }
    void fail_waiters_locked(const error& why) {
        // Each leaves the queue once failed: should building an error throw (memory), the
        // rest stay queued, consistent, and are failed by the next attempt or time out.
        while (!waiters_.empty()) {
            const std::shared_ptr<waiter> w = waiters_.front();
            {
                std::unique_lock wl(w->m);
                if (!met_given_up_locked(*w)) {
                    // One exception object per waiter: they are caught on different threads,
                    // and an object shared through exception_ptr is freed by whichever lets
                    // go last, with a reference count ThreadSanitizer cannot see (it lives
                    // in libstdc++.so).
                    w->error = std::make_exception_ptr(why);
                    w->done = true;
                    wake_locked(*w, wl);
                }
            }
            waiters_.pop_front();
        }
    }
    /// While the pool is below max, the oldest waiters get the right to open a connection.
    void grow_for_waiters_locked() {
        while (!waiters_.empty() && can_create_locked())
            serve_waiter_locked(std::nullopt);
    }

    /// Gives `s` (or, with no slot, the right to open one) to the oldest waiter. With `wake`,
    /// the waiter is not woken but returned there, for the caller to wake (wake_waiter) after
    /// unlocking: a thread then wakes to a free mutex instead of blocking on it.
    bool serve_waiter_locked(std::optional<slot_iter> s, std::shared_ptr<waiter>* wake = nullptr) {
        while (!waiters_.empty()) {
            const std::shared_ptr<waiter> w = std::move(waiters_.front());
            waiters_.pop_front();
            std::unique_lock wl(w->m);
            if (met_given_up_locked(*w)) continue;  // timed out meanwhile: the next one
            w->done = true;
            // The acquisition is recorded here, under the pool's lock, so that the waiter
            // need not take that lock when it wakes.
            record_wait(clock::now() - w->start);
            if (s) {
                w->got = s;
                mark_acquired_locked(*s, w->where, detail::coarse_now());  // nobody else's now
            } else {
                w->create = true;
                ++creating_;
            }
            if (wake != nullptr) {
                *wake = w;
                return true;
            }
            wake_locked(*w, wl);
            return true;
        }
        return false;
    }
    /// Wakes a waiter that is done (its lock held by `wl`, which this may release). An async
    /// waiter's timer is cancelled under that lock: its handler, which may run at once on
    /// another thread, lets go of the timer under the same lock, never during the cancel.
    static void wake_locked(waiter& w, std::unique_lock<std::mutex>& wl) {
        if (w.timer) {
            w.timer->cancel();
            return;
        }
        wl.unlock();
        w.cv.notify_one();
    }
    static void wake_waiter(waiter& w) {
        std::unique_lock wl(w.m);
        wake_locked(w, wl);
    }
    /// A reserved creation (++creating_) will not happen: the right passes to the next waiter.
    void creation_abandoned() {
        const std::lock_guard lk(mutex_);
        creation_abandoned_locked();
    }
    void creation_abandoned_locked() {
        --creating_;
        if (!closing_) grow_for_waiters_locked();
    }

    // ---- outside the lock ----------------------------------------------------------------

    /// Opens a connection (the caller reserved it with ++creating_) and returns it in use.
    slot_iter open_new(const dal::source_location& where) {
        std::unique_ptr<Connection> c;
        std::exception_ptr failed;
        try {
            c = factory_ ? factory_(cfg_) : std::make_unique<Connection>(cfg_);
        } catch (...) {
            failed = std::current_exception();
        }
        return adopt_new(std::move(c), failed, where);
    }

    /// Whether the backend can connect without blocking a thread.
    static constexpr bool connects_async = requires(config c) { Connection::async_connect(c); };

    // Where connections are opened. Opening costs milliseconds of CPU in the client (libpq
    // computes SCRAM's 4,096 HMAC rounds inside PQconnectPoll: about 7 ms here), and a pool
    // grows exactly when its process is busiest. On the acquirer's own event loop that blocked
    // every other coroutine on it (measured: timeouts 5-20 ms late while 15 connections opened
    // on 2 cores); at normal priority on any thread it preempts the threads serving requests.
    // So every connect runs on dal's connector threads, below normal priority, without
    // blocking them (the backend's async connect); an acquirer waits for the result, a thread
    // on a condition variable, a coroutine for its completion. A factory's connect is a
    // blocking function: it runs on a dal worker (async acquirers) or the acquiring thread.

    /// Opens a connection on the connector threads; `done(ep, slot)` runs there, once, with
    /// the connection adopted into the pool in use, or the error. Posted, never run inline:
    /// callers may hold the pool's lock, which adopt_new takes.
    template <class Done>
    void connect_on_connector(Done done, const dal::source_location& where) {
        auto self = this->shared_from_this();
        const auto ex = dal::detail::connector_executor();
        boost::asio::post(ex, [self, ex, done = std::move(done), where]() mutable {
            boost::asio::co_spawn(
                ex,
                [self]() -> boost::asio::awaitable<std::unique_ptr<Connection>> {
                    auto c = co_await Connection::async_connect(self->cfg_);
                    c->detach_io();  // its socket must not stay on dal's connector loop
                    co_return c;
                },
                [self, done = std::move(done), where](std::exception_ptr ep,
                                                      std::unique_ptr<Connection> c) mutable {
                    // The acquirer, on another thread, gets an exception object of its own:
                    // the coroutine's frame here may still hold this one, and exception_ptr's
                    // count lives in libstdc++.so, where ThreadSanitizer cannot see a release
                    // here ordered against the acquirer's reads.
                    std::exception_ptr own;
                    std::optional<slot_iter> s;
                    try {
                        s = self->adopt_new(std::move(c), ep, where);
                    } catch (const error& e) {
                        own = std::make_exception_ptr(e);  // shares only e's shared_ptr state
                    } catch (...) {
                        own = std::current_exception();
                    }
                    ep = nullptr;
                    done(std::move(own), s);
                });
        });
    }

    /// open_new for a thread acquirer (the caller reserved it with ++creating_). A connect on
    /// dal's connector loop is waited for until `until`, the acquirer's own limit counted
    /// from `start`: past it the acquirer gets pool_timeout like any waiter, and the
    /// connection, once open, goes to the pool (the oldest waiter, else idle). A factory's
    /// connect (or SQLite's) runs on this thread and is bounded by the connect limit only.
    slot_iter open_new_blocking(const dal::source_location& where, clock::time_point start = {},
                                clock::time_point until = clock::time_point::max()) {
        if constexpr (connects_async) {
            if (!factory_) {
                struct outcome {
                    std::mutex m;
                    std::condition_variable cv;
                    bool done = false;
                    bool abandoned = false;  ///< the acquirer's limit passed first
                    std::optional<slot_iter> s;
                    std::exception_ptr error;
                };
                auto o = std::make_shared<outcome>();
                auto set = [o, self = this->shared_from_this()](std::exception_ptr&& ep,
                                                                std::optional<slot_iter> s) {
                    {
                        const std::lock_guard lk(o->m);
                        if (!o->abandoned) {
                            o->s = s;
                            o->error = std::move(ep);
                            o->done = true;
                            o->cv.notify_one();
                            return;
                        }
                    }
                    if (s) self->give_back_unacquired(*s);
                };
                // Completed also when destroyed unrun (dal's threads stopping at exit): this
                // thread gets an error instead of waiting forever.
                connect_on_connector(
                    detail::complete_once<std::optional<slot_iter>, decltype(set)>(std::move(set)),
                    where);
                std::unique_lock lk(o->m);
                if (!o->cv.wait_until(lk, until, [&] { return o->done; })) {
                    o->abandoned = true;
                    lk.unlock();
                    throw connect_timed_out(start);
                }
                if (o->error) std::rethrow_exception(std::move(o->error));
                return *o->s;
            }
        }
        return open_new(where);
    }

    /// open_new for an async acquirer: `finish` posts to the acquirer's executor.
    template <class Finish>
    void open_new_async(Finish finish, const dal::source_location& where) {
        if constexpr (connects_async) {
            if (!factory_) {
                connect_on_connector(
                    [self = this->shared_from_this(), finish](std::exception_ptr ep,
                                                              std::optional<slot_iter> s) mutable {
                        if (ep) {
                            finish(std::move(ep), lease{});
                            return;
                        }
                        finish(nullptr, lease(self, *s));
                    },
                    where);
                return;
            }
        }
        auto self = this->shared_from_this();
        boost::asio::post(dal::detail::blocking_pool(), [self, finish, where]() mutable {
            std::exception_ptr failed;
            try {
                lease l(self, self->open_new(where));
                finish(nullptr, std::move(l));
                return;
            } catch (...) {
                failed = std::current_exception();
            }
            // Outside the handler, so that the only reference left goes to the waiter.
            finish(std::move(failed), lease{});
        });
    }

    /// open_new_async for an async acquirer, within its own limit (from `start` to `until`):
    /// a timer on the acquirer's executor races the connect, and exactly one of them
    /// completes the acquirer. If the limit passes first, the acquirer gets pool_timeout like
    /// any waiter, and the connection, once open, goes to the pool (the oldest waiter, else
    /// idle).
    template <class Handler, class Executor>
    void open_new_async_within(const std::shared_ptr<std::optional<Handler>>& box,
                               const Executor& ex, const dal::source_location& where,
                               clock::time_point start, clock::time_point until) {
        struct race {
            std::mutex m;
            bool decided = false;
            std::shared_ptr<boost::asio::steady_timer> timer;  ///< let go by its handler
        };
        /// Held by the timer's handler: destroyed unrun (its io_context destroyed first), it
        /// decides the race, so that the connect does not post to that executor.
        struct decide_if_unrun {
            std::shared_ptr<race> r;
            explicit decide_if_unrun(std::shared_ptr<race> rr) : r(std::move(rr)) {}
            decide_if_unrun(decide_if_unrun&&) noexcept = default;
            decide_if_unrun(const decide_if_unrun&) = delete;
            decide_if_unrun& operator=(const decide_if_unrun&) = delete;
            decide_if_unrun& operator=(decide_if_unrun&&) = delete;
            ~decide_if_unrun() {
                if (!r) return;
                const std::lock_guard lk(r->m);
                r->decided = true;
            }
        };
        auto r = std::make_shared<race>();
        r->timer = std::make_shared<boost::asio::steady_timer>(ex, until);
        auto self = this->shared_from_this();
        r->timer->async_wait(
            [g = decide_if_unrun(r), self, box,
             start](const boost::system::error_code& /*expired or cancelled*/) mutable {
                const std::shared_ptr<race> rp = std::move(g.r);
                std::shared_ptr<boost::asio::steady_timer> own;  // let go here, on its executor
                {
                    const std::lock_guard lk(rp->m);
                    own = std::move(rp->timer);
                    if (rp->decided) return;
                    rp->decided = true;
                }
                std::exception_ptr ep;
                try {
                    ep = std::make_exception_ptr(self->connect_timed_out(start));
                } catch (...) {  // memory: the caller still hears of its timeout
                    ep = std::current_exception();
                }
                complete_boxed(box, std::move(ep), lease{});
            });
        try {
            open_new_async(
                [r, box, ex, self](std::exception_ptr ep, lease l) {
                    {
                        const std::lock_guard lk(r->m);
                        if (!r->decided) {
                            r->decided = true;
                            if (r->timer) r->timer->cancel();  // its handler lets go of it
                            boost::asio::post(
                                ex, [box, ep = std::move(ep), l = std::move(l)]() mutable {
                                    complete_boxed(box, std::move(ep), std::move(l));
                                });
                            return;
                        }
                    }
                    if (l) self->uncount_acquisition();  // the limit passed first: to the pool
                },
                where);
        } catch (...) {
            const std::lock_guard lk(r->m);
            r->decided = true;  // the caller reports this failure; the timer must not
            if (r->timer) r->timer->cancel();
            throw;
        }
    }

    /// Takes a newly opened connection (or the failure to open one) into the pool.
    slot_iter adopt_new(std::unique_ptr<Connection> c, const std::exception_ptr& failed,
                        const dal::source_location& where) {
        const std::lock_guard lk(mutex_);
        if (failed) {
            // The right to open passes to the next waiter, who will try (and report) itself.
            creation_abandoned_locked();
            std::rethrow_exception(failed);
        }
        --creating_;
        const auto now = detail::coarse_now();
        slot s;
        s.conn = std::move(c);
        s.created = now;
        s.last_used = now;
        if (opts_.max_lifetime.count() == 0) {
            s.expires = clock::time_point::max();
        } else {
            const auto jitter = std::chrono::duration_cast<std::chrono::milliseconds>(
                opts_.max_lifetime * opts_.lifetime_jitter * detail::pool_jitter());
            s.expires = now + opts_.max_lifetime - jitter;
        }
        slots_.push_back(std::move(s));
        ++created_;
        const auto it = std::prev(slots_.end());
        ++in_use_;
        mark_acquired_locked(it, where, now);
        grow_for_waiters_locked();  // a creation slot is free again (counted after the push)
        return it;
    }

    /// Pings a connection taken from the idle list (it is marked in use); a broken one is
    /// discarded and false returned.
    bool validate(slot_iter s) {
        if (ping_or_discard(s)) return true;
        const std::lock_guard lk(mutex_);
        --acquired_;  // it was never handed out
        return false;
    }
    bool ping_or_discard(slot_iter s) {
        try {
            if (!s->conn->is_open())
                throw error(make_error_code(client_errc::connection_closed), "closed");
            s->conn->ping();
            return true;
        } catch (...) {
            discard(s);
            return false;
        }
    }

    // The noexcept entry points (lease destructors, close) call these through `quietly`: only
    // a failing mutex or allocation can throw here, and then the slot stays counted as in use,
    // visible in status(), rather than terminating the program.
    template <class F>
    static void quietly(F&& f) noexcept {
        try {
            f();
        } catch (...) {  // NOLINT(bugprone-empty-catch): see above
        }
    }

    void discard(slot_iter s) noexcept {
        quietly([&] { discard_impl(s); });
    }
    void discard_impl(slot_iter s) {
        s->conn->close();
        const std::lock_guard lk(mutex_);
        if (s->reclaimed) --reclaimed_out_;
        slots_.erase(s);
        --in_use_;
        ++closed_;
        // Room for a new connection: the oldest waiter may open it.
        if (!closing_ && !waiters_.empty() && can_create_locked())
            serve_waiter_locked(std::nullopt);
        returned_.notify_all();
    }

    /// A lease came back: clean the connection, then hand it on or keep it idle.
    void give_back(slot_iter s) noexcept {
        quietly([&] { give_back_impl(s); });
    }
    /// A connection opened for an acquirer whose limit passed meanwhile goes to the pool,
    /// and was not an acquisition.
    void uncount_acquisition() {
        const std::lock_guard lk(mutex_);
        --acquired_;
    }
    void give_back_unacquired(slot_iter s) noexcept {
        quietly([&] { uncount_acquisition(); });
        give_back(s);
    }
    /// A thread acquirer's limit passed while its connection was being opened.
    [[nodiscard]] error connect_timed_out(clock::time_point start) {
        timeouts_.fetch_add(1, std::memory_order_relaxed);
        return timeout_error(clock::now() - start, nullptr);
    }
    void give_back_impl(slot_iter s) {
        Connection& c = *s->conn;
        c.detach_io();  // an idle connection belongs to no io_context: any may end meanwhile
        bool reuse = c.is_open();
        if (reuse) {
            try {
                // Never commit on someone's behalf: an open transaction is rolled back (also
                // on a connection the closing pool condemned: it is closed afterwards).
                if (c.native_session().in_transaction()) c.native_session().rollback();
            } catch (...) {
                reuse = false;  // the state is unknown: not reused
            }
        }
        const auto now = detail::coarse_now();
        std::shared_ptr<waiter> wake;
        {
            std::unique_lock lk(mutex_);
            if (reuse && !s->condemned && !closing_ && now < s->expires) {
                s->last_used = now;
                if (!serve_waiter_locked(s, &wake)) {
                    s->in_use = false;
                    --in_use_;
                    idle_.push_back(s);
                }
                lk.unlock();
                if (wake) wake_waiter(*wake);
                return;
            }
        }
        discard_impl(s);
    }

    template <class Handler>
    void start_async_acquire(Handler handler, std::optional<std::chrono::milliseconds> timeout,
                             dal::source_location where) {
        auto ex = boost::asio::get_associated_executor(handler, detail_executor());
        auto self = this->shared_from_this();
        // The handler is move-only: kept in a shared box, shared by `finish` (posts to the
        // handler's executor) and the wait's timer handler; it runs exactly once: through
        // `finish` when no wait is needed or a connection is opened for it, else through the
        // timer. A waiter builds its `finish` only if it is handed the right to open one.
        auto box = std::make_shared<std::optional<Handler>>(std::move(handler));
        std::unique_lock lk(mutex_);
        if (closing_) {
            lk.unlock();
            finish_on(box, ex)(
                std::make_exception_ptr(error(make_error_code(client_errc::pool_closed),
                                              "the pool '" + name_ + "' is closed")),
                lease{});
            return;
        }
        if (live_waiters_locked() == 0) {
            std::vector<std::unique_ptr<Connection>> expired;
            const taken t = take_idle_locked(where, expired);
            if (t.slot) {
                lk.unlock();
                const auto s = *t.slot;
                if (!t.stale && expired.empty()) {
                    lease l(self, s);  // first: given back should what follows throw
                    finish_on(box, ex)(nullptr, std::move(l));  // posts to the executor
                    return;
                }
                // Validation pings and closing talks to the server (round trips): on a
                // worker, not on the caller's loop.
                boost::asio::post(dal::detail::blocking_pool(),
                                  [self, s, stale = t.stale, where, finish = finish_on(box, ex),
                                   expired = std::move(expired)]() mutable {
                                      expired.clear();
                                      if (!stale || self->validate(s)) {
                                          finish(nullptr, lease(self, s));
                                          return;
                                      }
                                      self->retry_async(finish, where);
                                  });
                return;
            }
            if (can_create_locked()) {
                ++creating_;
                lk.unlock();
                try {
                    const auto now = clock::now();
                    open_new_async_within(
                        box, ex, where, now,
                        detail::deadline_after(now, timeout.value_or(opts_.acquire_timeout)));
                } catch (...) {
                    creation_abandoned();
                    throw;
                }
                return;
            }
        }
        auto w = std::make_shared<waiter>();
        w->start = clock::now();
        w->where = where;
        w->then = figures_locked();
        w->timer = std::make_shared<boost::asio::steady_timer>(ex);
        w->timer->expires_at(
            detail::deadline_after(w->start, timeout.value_or(opts_.acquire_timeout)));
        push_waiter_locked(w);
        try {
            // Fires when the wait times out, or at once when the pool cancels it (served or
            // failed): the handler then hands over what the pool put in the waiter. With a
            // tiny limit on a loop run by several threads, the handler may run (and let go of
            // the timer) before async_wait has returned here; Asio touches the timer no more
            // by then (Boost 1.81), as with any timer destroyed by its own handler.
            w->timer->async_wait(
                [g = unrun_guard(w, self), self, box, ex,
                 where](const boost::system::error_code& /*cancelled or expired*/) mutable {
                    const std::shared_ptr<waiter> wp = g.disarm();
                    std::shared_ptr<boost::asio::steady_timer> own_timer;  // let go last
                    bool gave_up = false;
                    std::exception_ptr ep;
                    std::optional<slot_iter> got;
                    {
                        const std::lock_guard wl(wp->m);
                        // This runs on the caller's executor, and the timer belongs to the
                        // caller's io_context, which may be destroyed once the wait is over:
                        // let go of it here, not when the pool meets a given-up waiter.
                        own_timer = std::move(wp->timer);
                        if (!wp->done) {
                            self->give_up(*wp);
                            gave_up = true;
                        } else {
                            ep = std::move(wp->error);
                            got = wp->got;
                        }
                    }
                    // Completed here, not posted: this runs on the handler's executor
                    // already. When many waiters fall due at once, each is resumed right
                    // after its own timer instead of after everyone's.
                    if (gave_up) {
                        try {
                            ep = std::make_exception_ptr(self->timed_out(*wp, wp->start));
                        } catch (...) {  // memory: the caller still hears of its timeout
                            ep = std::current_exception();
                        }
                    }
                    if (ep) {  // timed out, or failed (the pool closed)
                        complete_boxed(box, std::move(ep), lease{});
                    } else if (got) {  // served a connection
                        complete_boxed(box, nullptr, lease(self, *got));
                    } else {  // served the right to open one (serve sets `got` or `create`)
                        try {
                            // Within the wait's own limit: its timer's expiry.
                            self->open_new_async_within(
                                box, ex, where, wp->start,
                                own_timer ? own_timer->expiry() : clock::time_point::max());
                        } catch (...) {
                            self->creation_abandoned();
                            complete_boxed(box, std::current_exception(), lease{});
                        }
                    }
                });
        } catch (...) {
            // Ours, at the back (the lock has been held since); the handler, destroyed
            // unrun, marked it given up.
            {
                const std::lock_guard wl(w->m);
                met_given_up_locked(*w);
            }
            waiters_.pop_back();
            throw;
        }
        grow_for_waiters_locked();  // the oldest waiters may open connections
    }

    /// Held by an async waiter's timer handler. When that handler is destroyed without
    /// having run (the caller's io_context destroyed with the wait pending), the waiter
    /// leaves the queue, and what the pool already promised it comes back.
    class unrun_guard {
    public:
        unrun_guard(std::shared_ptr<waiter> w, std::shared_ptr<basic_pool> p)
            : w_(std::move(w)), p_(std::move(p)) {}
        unrun_guard(unrun_guard&& o) noexcept = default;
        unrun_guard(const unrun_guard&) = delete;
        unrun_guard& operator=(const unrun_guard&) = delete;
        unrun_guard& operator=(unrun_guard&&) = delete;
        ~unrun_guard() {
            if (w_) p_->abandon(*w_);
        }
        /// The handler runs: it takes the waiter over.
        std::shared_ptr<waiter> disarm() noexcept { return std::move(w_); }

    private:
        std::shared_ptr<waiter> w_;
        std::shared_ptr<basic_pool> p_;
    };
    void abandon(waiter& w) noexcept {
        quietly([&] {
            std::optional<slot_iter> got;
            bool create = false;
            std::shared_ptr<boost::asio::steady_timer> own_timer;
            {
                const std::lock_guard wl(w.m);
                own_timer = std::move(w.timer);
                if (!w.done) {
                    // Not a timeout: skipped like one, not counted as one.
                    w.done = true;
                    w.gave_up = true;
                    gave_up_queued_.fetch_add(1, std::memory_order_relaxed);
                    return;
                }
                got = w.got;
                create = w.create;
            }
            if (got) {
                {
                    const std::lock_guard lk(mutex_);
                    --acquired_;  // counted when served, but it never reached the caller
                }
                give_back(*got);
            } else if (create) {
                creation_abandoned();
            }
        });
    }

    using finish_fn = std::function<void(std::exception_ptr, lease)>;
    /// Calls a boxed handler, once (the caller is on the handler's executor).
    template <class Handler>
    static void complete_boxed(const std::shared_ptr<std::optional<Handler>>& box,
                               std::exception_ptr ep, lease l) {
        auto h = std::move(**box);
        box->reset();
        std::move(h)(std::move(ep), std::move(l));
    }
    /// Completes a boxed handler from anywhere: posts to its executor, never dispatches (this
    /// runs inside the initiating function for an idle connection, or on dal's threads for a
    /// new one). Type-erased so that a retry (after a failed validation) does not instantiate
    /// a new handler type each time. The error moves along: the calling thread keeps no
    /// reference to it once posted.
    template <class Handler, class Executor>
    static finish_fn finish_on(std::shared_ptr<std::optional<Handler>> box, Executor ex) {
        return [box = std::move(box), ex = std::move(ex)](std::exception_ptr ep, lease l) {
            boost::asio::post(ex, [box, ep = std::move(ep), l = std::move(l)]() mutable {
                complete_boxed(box, std::move(ep), std::move(l));
            });
        };
    }
    struct erased_handler {
        finish_fn f;
        void operator()(std::exception_ptr ep, lease l) { f(std::move(ep), std::move(l)); }
    };
    void retry_async(const finish_fn& finish, dal::source_location where) {
        start_async_acquire(erased_handler{finish}, std::nullopt, where);
    }

    static boost::asio::any_io_executor detail_executor() {
        return dal::detail::shared_io_executor();
    }

    config cfg_;
    pool_options opts_;
    std::string name_;
    std::string config_hash_;
    mutable std::mutex mutex_;
    std::condition_variable returned_;
    std::list<slot> slots_;        // stable iterators: leases point into it
    std::vector<slot_iter> idle_;  // a stack: the most recently returned at the back
    std::size_t in_use_ = 0;
    std::deque<std::shared_ptr<waiter>> waiters_;
    std::size_t creating_ = 0;
    bool closing_ = false;
    std::uint64_t created_ = 0;
    std::uint64_t closed_ = 0;
    std::atomic<std::uint64_t> timeouts_{0};
    std::atomic<std::size_t> gave_up_queued_{0};  ///< given-up waiters still in `waiters_`
    std::atomic<std::uint64_t> waits_{0};
    std::atomic<clock::rep> wait_time_{0};
    std::uint64_t leaks_ = 0;
    std::uint64_t reclaimed_ = 0;
    std::size_t reclaimed_out_ = 0;  ///< reclaimed slots still held (not counted against max)
    std::shared_ptr<boost::asio::steady_timer> timer_;
    factory_type factory_;  ///< empty: Connection(cfg_)
    std::uint64_t acquired_ = 0;
    std::function<void(const leak_report&)> on_leak_;
};

}  // namespace dal
