// The pool's own cost: an acquire + release cycle through dal::basic_pool's public API, against
// the pools a service would write itself in thirty lines (a mutex, a condition variable and a
// vector of idle connections), all holding the same SQLite in-memory connections. Two
// baselines: `naive` lets a thread that comes later take a connection a waiter was woken for
// (fast, unfair: a waiter can starve), `fifo` gives dal's guarantee (first come, first served).
//
//   uncontended: one thread, one connection: the cost of the cycle itself (target <= 100 ns).
//   contended:   8 threads on 2 connections, each holding its connection for a short while
//                (a cheap call on it), so most acquisitions wait: throughput of the handoff
//                (target >= 2x the baseline).
//   contended_async: 16 coroutines on one event loop share 2 connections: the async handoff.
//   timeout_burst: 500 coroutines on one event loop time out at once, waiting on a pool whose
//                only connection is held: the loop's time per timeout, against a plain Asio
//                timer (docs/pool.md, "What a burst of timeouts costs the event loop").
// scripts/bench.sh pool runs them side by side and prints the ratios.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <dal/pool.hpp>
#include <dal/sqlite.hpp>

namespace {

using conn = dal::sqlite::connection;
using dal_pool = dal::basic_pool<conn>;

dal::config memory_config() {
    return dal::config::from_uri("sqlite://:memory:");
}

std::vector<std::unique_ptr<conn>> open_connections(std::size_t n) {
    std::vector<std::unique_ptr<conn>> out;
    out.reserve(n);
    for (std::size_t k = 0; k < n; ++k)
        out.push_back(std::make_unique<conn>(memory_config()));
    return out;
}

/// The baselines' lease: gives the connection back to its pool when it goes away.
template <class Pool>
class baseline_lease {
public:
    baseline_lease(Pool* p, std::unique_ptr<conn> c) : p_(p), c_(std::move(c)) {}
    baseline_lease(const baseline_lease&) = delete;
    baseline_lease& operator=(const baseline_lease&) = delete;
    baseline_lease(baseline_lease&&) = delete;
    baseline_lease& operator=(baseline_lease&&) = delete;
    ~baseline_lease() { p_->release(std::move(c_)); }
    conn* operator->() const { return c_.get(); }

private:
    Pool* p_;
    std::unique_ptr<conn> c_;
};

/// The baseline: a plain mutex + condition-variable pool. The waiter that wakes must take the
/// mutex again and may find the connection taken by a thread that came later (no fairness).
class naive_pool {
public:
    explicit naive_pool(std::size_t n) : idle_(open_connections(n)) {}
    using lease = baseline_lease<naive_pool>;
    lease acquire() {
        std::unique_lock lk(m_);
        cv_.wait(lk, [&] { return !idle_.empty(); });
        std::unique_ptr<conn> c = std::move(idle_.back());
        idle_.pop_back();
        return {this, std::move(c)};
    }
    void release(std::unique_ptr<conn> c) {
        {
            const std::lock_guard lk(m_);
            idle_.push_back(std::move(c));
        }
        cv_.notify_one();
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    std::vector<std::unique_ptr<conn>> idle_;
};

/// The baseline with dal's guarantee: first come, first served, the textbook way with one
/// mutex and one condition variable (a ticket per acquirer; every release wakes all waiters,
/// and the one whose turn it is takes the connection).
class fifo_naive_pool {
public:
    explicit fifo_naive_pool(std::size_t n) : idle_(open_connections(n)) {}
    using lease = baseline_lease<fifo_naive_pool>;
    lease acquire() {
        std::unique_lock lk(m_);
        const std::uint64_t ticket = next_ticket_++;
        cv_.wait(lk, [&] { return serving_ == ticket && !idle_.empty(); });
        ++serving_;
        std::unique_ptr<conn> c = std::move(idle_.back());
        idle_.pop_back();
        const bool more = !idle_.empty();
        lk.unlock();
        if (more) cv_.notify_all();  // the next in line may take the next one
        return {this, std::move(c)};
    }
    void release(std::unique_ptr<conn> c) {
        {
            const std::lock_guard lk(m_);
            idle_.push_back(std::move(c));
        }
        cv_.notify_all();
    }

private:
    std::mutex m_;
    std::condition_variable cv_;
    std::vector<std::unique_ptr<conn>> idle_;
    std::uint64_t next_ticket_ = 0;
    std::uint64_t serving_ = 0;
};

std::shared_ptr<dal_pool> make_dal_pool(std::size_t n) {
    dal::pool_options o;
    o.min = n;
    o.max = n;
    o.acquire_timeout = std::chrono::seconds(60);
    return dal_pool::create(memory_config(), o);
}

// One pool per benchmark, shared by its threads, created before they start (function-local
// statics: thread-safe initialisation) and kept for the process.
dal_pool& dal_pool_of(std::size_t n) {
    static const std::shared_ptr<dal_pool> one = make_dal_pool(1);
    static const std::shared_ptr<dal_pool> two = make_dal_pool(2);
    return n == 1 ? *one : *two;
}
fifo_naive_pool& fifo_pool_of(std::size_t n) {
    static fifo_naive_pool one(1);
    static fifo_naive_pool two(2);
    return n == 1 ? one : two;
}
naive_pool& naive_pool_of(std::size_t n) {
    static naive_pool one(1);
    static naive_pool two(2);
    return n == 1 ? one : two;
}

// Holding the connection as a real statement does: the thread blocks 50 us in "I/O" (a sleep),
// 16 threads on 4 connections. Throughput is bound by the connections; what differs is the
// pool's overhead on top and the CPU it burns while threads wait.
constexpr std::chrono::microseconds io_hold{50};
dal_pool& dal_pool_four() {
    static const std::shared_ptr<dal_pool> four = make_dal_pool(4);
    return *four;
}
naive_pool& naive_pool_four() {
    static naive_pool four(4);
    return four;
}
fifo_naive_pool& fifo_pool_four() {
    static fifo_naive_pool four(4);
    return four;
}

/// The contended cases time every acquisition; the others report the same counters as zero,
/// because Google Benchmark's CSV report aborts when a run lacks a column another one has
/// (which run comes first depends on the random interleaving).
void no_wait_counters(benchmark::State& state) {
    for (const char* name : {"wait_p50_us", "wait_p99_us", "wait_max_us"})
        state.counters[name] = 0;
}

/// One benchmark loop, the same for every pool: acquire, `hold` the lease, release.
template <class Pool, class Hold>
void cycles(benchmark::State& state, Pool& p, Hold hold) {
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        auto l = p.acquire();
        hold(l);
    }
    state.SetItemsProcessed(state.iterations());
    no_wait_counters(state);  // not timed here: a clock read would double the cycle's cost
}

/// The contended loop, also timing every acquisition: what fairness buys is the tail. Every
/// thread runs the same number of cycles (Google Benchmark's rule), so a pool that lets late
/// threads barge in makes the others wait longer; the counters are the threads' average of
/// their own median, 99th percentile and longest wait (microseconds).
template <class Pool, class Hold>
void timed_cycles(benchmark::State& state, Pool& p, Hold hold) {
    using clk = std::chrono::steady_clock;
    std::vector<std::int64_t> waits;
    waits.reserve(1U << 16U);
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        const auto start = clk::now();
        auto l = p.acquire();
        waits.push_back(
            std::chrono::duration_cast<std::chrono::nanoseconds>(clk::now() - start).count());
        hold(l);
    }
    state.SetItemsProcessed(state.iterations());
    if (waits.empty()) return;
    std::sort(waits.begin(), waits.end());
    const auto at = [&](double q) {
        const auto k = static_cast<std::size_t>(q * static_cast<double>(waits.size() - 1));
        return static_cast<double>(waits[k]) / 1000.0;
    };
    using benchmark::Counter;
    state.counters["wait_p50_us"] = Counter(at(0.5), Counter::kAvgThreads);
    state.counters["wait_p99_us"] = Counter(at(0.99), Counter::kAvgThreads);
    state.counters["wait_max_us"] = Counter(at(1.0), Counter::kAvgThreads);
}
/// Uncontended: only keep the compiler from dropping the lease.
constexpr auto touch = [](const auto& l) { benchmark::DoNotOptimize(l.operator->()); };
/// Contended: a call that touches the connection.
constexpr auto use = [](const auto& l) {
    benchmark::DoNotOptimize(l->in_transaction());
    benchmark::DoNotOptimize(l->is_open());
};
/// Contended with real work: blocked as in a statement.
constexpr auto io = [](const auto& /*l*/) { std::this_thread::sleep_for(io_hold); };

void dal_uncontended(benchmark::State& s) {
    cycles(s, dal_pool_of(1), touch);
}
void fifo_uncontended(benchmark::State& s) {
    cycles(s, fifo_pool_of(1), touch);
}
void naive_uncontended(benchmark::State& s) {
    cycles(s, naive_pool_of(1), touch);
}
void dal_contended(benchmark::State& s) {
    timed_cycles(s, dal_pool_of(2), use);
}
void fifo_contended(benchmark::State& s) {
    timed_cycles(s, fifo_pool_of(2), use);
}
void naive_contended(benchmark::State& s) {
    timed_cycles(s, naive_pool_of(2), use);
}
void dal_contended_io(benchmark::State& s) {
    timed_cycles(s, dal_pool_four(), io);
}
void fifo_contended_io(benchmark::State& s) {
    timed_cycles(s, fifo_pool_four(), io);
}
void naive_contended_io(benchmark::State& s) {
    timed_cycles(s, naive_pool_four(), io);
}

/// Coroutines contending: 16 coroutines on one event loop (one thread) share 2 connections,
/// each lease empty; every acquisition but the first ones waits and is handed over by a
/// release on the same loop. Cycles per second of the async handoff (no baseline: the
/// thirty-line pools have no async form).
void dal_contended_async(benchmark::State& state) {
    namespace asio = boost::asio;
    constexpr int coroutines = 16;
    constexpr int cycles_each = 2000;
    static const std::shared_ptr<dal_pool> pool = make_dal_pool(2);
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        asio::io_context io;
        int failed = 0;
        for (int k = 0; k < coroutines; ++k) {
            asio::co_spawn(
                io,
                [&]() -> asio::awaitable<void> {
                    for (int n = 0; n < cycles_each; ++n) {
                        auto [ep, l] =
                            co_await pool->async_acquire(asio::as_tuple(asio::use_awaitable));
                        if (ep) ++failed;
                    }
                },
                asio::detached);
        }
        io.run();
        if (failed != 0) state.SkipWithError("an acquisition failed");
    }
    state.SetItemsProcessed(state.iterations() * coroutines * cycles_each);
    no_wait_counters(state);
}

/// How a timed-out wait ends in the burst: dal's pool_timeout thrown in the coroutine
/// (use_awaitable) or returned (as_tuple); the baselines wait on a plain Asio timer for the
/// same time, then throw an exception of their own or do nothing.
enum class burst { dal_thrown, dal_returned, timer_thrown, timer_plain };

template <burst How>
void timeout_burst(benchmark::State& state) {
    namespace asio = boost::asio;
    using clk = std::chrono::steady_clock;
    constexpr int waiters = 500;
    constexpr auto limit = std::chrono::milliseconds(2);
    static const std::shared_ptr<dal_pool> pool = make_dal_pool(1);
    static const dal_pool::lease held = pool->acquire();  // nobody is ever served
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        asio::io_context io;
        clk::time_point first{};
        clk::time_point last{};
        int ended = 0;
        const auto note = [&] {
            last = clk::now();
            if (ended++ == 0) first = last;
        };
        for (int k = 0; k < waiters; ++k) {
            asio::co_spawn(
                io,
                [&]() -> asio::awaitable<void> {
                    if constexpr (How == burst::dal_thrown) {
                        try {
                            auto l = co_await pool->async_acquire(asio::use_awaitable, limit);
                        } catch (const dal::error&) {
                            note();
                        }
                    } else if constexpr (How == burst::dal_returned) {
                        auto [ep, l] = co_await pool->async_acquire(
                            asio::as_tuple(asio::use_awaitable), limit);
                        if (ep) note();
                    } else {
                        asio::steady_timer t(io, limit);
                        co_await t.async_wait(asio::use_awaitable);
                        if constexpr (How == burst::timer_thrown) {
                            try {
                                throw std::runtime_error("timed out, as a pool would say so");
                            } catch (const std::runtime_error&) {
                                note();
                            }
                        } else {
                            note();
                        }
                    }
                },
                asio::detached);
        }
        io.run();
        if (ended != waiters) state.SkipWithError("not every wait timed out");
        state.SetIterationTime(std::chrono::duration<double>(last - first).count());
    }
    state.SetItemsProcessed(state.iterations() * waiters);
    no_wait_counters(state);
}

BENCHMARK(dal_uncontended);
BENCHMARK(fifo_uncontended);
BENCHMARK(naive_uncontended);
BENCHMARK(dal_contended)->Threads(8)->UseRealTime();
BENCHMARK(naive_contended)->Threads(8)->UseRealTime();
BENCHMARK(fifo_contended)->Threads(8)->UseRealTime();
BENCHMARK(dal_contended_io)->Threads(16)->UseRealTime();
BENCHMARK(naive_contended_io)->Threads(16)->UseRealTime();
BENCHMARK(fifo_contended_io)->Threads(16)->UseRealTime();
BENCHMARK(dal_contended_async)->UseRealTime();
// Manual time: from the first timeout to the last of each burst (the waits themselves are
// not the loop's work). 30 bursts per repetition.
BENCHMARK(timeout_burst<burst::dal_thrown>)
    ->Name("dal_timeout_burst_thrown")
    ->Iterations(30)
    ->UseManualTime();
BENCHMARK(timeout_burst<burst::dal_returned>)
    ->Name("dal_timeout_burst_returned")
    ->Iterations(30)
    ->UseManualTime();
BENCHMARK(timeout_burst<burst::timer_thrown>)
    ->Name("timer_burst_thrown")
    ->Iterations(30)
    ->UseManualTime();
BENCHMARK(timeout_burst<burst::timer_plain>)
    ->Name("timer_burst_plain")
    ->Iterations(30)
    ->UseManualTime();

}  // namespace

BENCHMARK_MAIN();
