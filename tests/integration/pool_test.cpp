// The connection pool against real databases: SQLite files for the pool's own rules (reuse,
// FIFO, timeouts, cleaning on release, leaks, close) and the PostgreSQL server for validation
// of broken connections, forced close and the stress test (1,000 coroutines and 64 threads on
// a pool of 20).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <fmt/format.h>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <dal/pool.hpp>
#include <dal/pool_registry.hpp>
#include <dal/postgres.hpp>
#include <dal/sqlite.hpp>

#include "async_connect_checks.hpp"
#include "servers.hpp"

namespace {

using namespace dal::literals;  // NOLINT(google-build-using-namespace): test file
using namespace std::chrono_literals;
namespace utf = boost::unit_test;
namespace asio = boost::asio;
namespace fs = std::filesystem;
using clk = std::chrono::steady_clock;
using sqlite_pool = dal::basic_pool<dal::sqlite::connection>;
using pg_pool = dal::basic_pool<dal::postgres::connection>;
using dal_test::expect_error;

struct temp_file {
    fs::path path;
    temp_file() {
        static std::atomic<int> n{0};
        path = fs::temp_directory_path() /
               ("dal-pool-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + ".db");
    }
    temp_file(const temp_file&) = delete;
    temp_file& operator=(const temp_file&) = delete;
    ~temp_file() {
        std::error_code ec;
        fs::remove(path, ec);
        fs::remove(path.string() + "-wal", ec);
        fs::remove(path.string() + "-shm", ec);
    }
    [[nodiscard]] dal::config config() const {
        return dal::config::from_uri("sqlite://" + path.string());
    }
};

/// Fault injection: an executor (over an io_context's) whose n-th `execute` throws, as a
/// bounded executor that rejects work, or an allocation failing, would. Nothing else makes
/// the handoff to an async waiter fail.
class failing_executor {
public:
    failing_executor(asio::io_context& io, std::shared_ptr<std::atomic<int>> countdown)
        : inner_(io.get_executor()), countdown_(std::move(countdown)) {}
    [[nodiscard]] asio::execution_context& query(
        asio::execution::context_t /*unused*/) const noexcept {
        return inner_.context();
    }
    static constexpr asio::execution::blocking_t query(asio::execution::blocking_t /*unused*/) {
        return asio::execution::blocking_t::never;
    }
    [[nodiscard]] failing_executor require(asio::execution::blocking_t::never_t /*unused*/) const {
        return *this;
    }
    template <class F>
    void execute(F&& f) const {
        if (countdown_->fetch_sub(1) == 1) throw std::bad_alloc();
        asio::post(inner_, std::forward<F>(f));
    }
    friend bool operator==(const failing_executor& a, const failing_executor& b) noexcept {
        return a.inner_ == b.inner_;
    }

private:
    asio::io_context::executor_type inner_;
    std::shared_ptr<std::atomic<int>> countdown_;
};

dal::pool_options opts(std::size_t max) {
    dal::pool_options o;
    o.min = 1;
    o.max = max;
    o.acquire_timeout = 2s;
    return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pool)

BOOST_AUTO_TEST_CASE(sizing_rule) {
    BOOST_TEST(dal::default_pool_size(2, 0, 0, 1) == 5U);      // 2·cores + 1
    BOOST_TEST(dal::default_pool_size(8, 4, 0, 1) == 4U);      // fewer users
    BOOST_TEST(dal::default_pool_size(16, 0, 100, 1) == 25U);  // a quarter of the server
    BOOST_TEST(dal::default_pool_size(2, 1, 0, 3) == 3U);      // never below min
    auto p = sqlite_pool::create(temp_file().config());
    BOOST_TEST(p->status().max ==
               dal::default_pool_size(std::thread::hardware_concurrency(), 0, 0, 1));
}

// A setting out of range fails the pool's creation with a message naming it, instead of odd
// behaviour later (every connection expiring at once, a pool that never opens one).
BOOST_AUTO_TEST_CASE(bad_options_are_rejected_naming_the_setting) {
    temp_file f;
    const auto rejects = [&](const std::function<void(dal::pool_options&)>& set,
                             const std::string& says) {
        dal::pool_options o = opts(4);
        set(o);
        try {
            (void)sqlite_pool::create(f.config(), o);
            BOOST_ERROR("accepted: " + says);
        } catch (const dal::error& e) {
            BOOST_TEST((e.code() == dal::client_errc::invalid_config), e.what());
            BOOST_TEST((e.code() == dal::errc::invalid_argument), e.what());
            BOOST_TEST(std::string(e.what()).find(says) != std::string::npos, e.what());
        }
    };
    rejects([](dal::pool_options& o) { o.min = 5; }, "min (5) is larger than max (4)");
    rejects([](dal::pool_options& o) { o.max_concurrent_creations = 0; },
            "max_concurrent_creations is 0");
    rejects([](dal::pool_options& o) { o.lifetime_jitter = 1.0; }, "lifetime_jitter");
    rejects([](dal::pool_options& o) { o.lifetime_jitter = -0.1; }, "lifetime_jitter");
    rejects([](dal::pool_options& o) { o.lifetime_jitter = std::nan(""); }, "lifetime_jitter");
    rejects([](dal::pool_options& o) { o.max_lifetime = -1ms; }, "max_lifetime (-1 ms)");
    rejects([](dal::pool_options& o) { o.max_lifetime = std::chrono::milliseconds::max(); },
            "max_lifetime (9223372036854775807 ms) is longer than 35 years (0: no limit)");
    rejects([](dal::pool_options& o) { o.keepalive_interval = std::chrono::hours(400'000); },
            "keepalive_interval");
    rejects([](dal::pool_options& o) { o.acquire_timeout = -1ms; },
            "acquire_timeout (-1 ms) is negative");
    rejects([](dal::pool_options& o) { o.creation_timeout = -5s; }, "creation_timeout");
    rejects([](dal::pool_options& o) { o.validate_after_idle = -1ms; }, "validate_after_idle");
    rejects([](dal::pool_options& o) { o.idle_timeout = -1ms; }, "idle_timeout");
    rejects([](dal::pool_options& o) { o.leak_threshold = -1ms; }, "leak_threshold");
    rejects([](dal::pool_options& o) { o.keepalive_interval = -1ms; }, "keepalive_interval");
    rejects([](dal::pool_options& o) { o.reclaim_leaked = true; },
            "reclaim_leaked is set but leak_threshold is 0");
    // The edges that are fine: min == max, a derived max below min is raised to min, no
    // jitter, zero limits meaning "at once" or "off".
    dal::pool_options edge = opts(4);
    edge.min = 4;
    edge.lifetime_jitter = 0;
    edge.validate_after_idle = 0ms;
    edge.max_lifetime = 0ms;  // no limit
    edge.acquire_timeout = std::chrono::milliseconds::max();
    edge.creation_timeout = std::chrono::milliseconds::max();
    const auto unlimited = sqlite_pool::create(f.config(), edge);
    BOOST_TEST(unlimited->status().size == 4U);
    {
        auto l = unlimited->acquire();  // a lifetime of 0 is not "expired at once"
        BOOST_TEST(l->query_one<std::int64_t>("SELECT 2"_sql).value() == 2);
    }
    BOOST_TEST(unlimited->status().closed == 0U);
    BOOST_TEST(unlimited->status().created == 4U);
    dal::pool_options derived;
    derived.min = 3;
    BOOST_TEST(sqlite_pool::create(f.config(), derived)->status().max >= 3U);
}

BOOST_AUTO_TEST_CASE(reuses_connections_and_counts) {
    temp_file f;
    auto p = sqlite_pool::create(f.config(), opts(3));
    BOOST_TEST(p->status().size == 1U);  // warmed up to min
    {
        auto a = p->acquire();
        a->execute("CREATE TABLE [t] ([v] INT)"_sql);
        BOOST_TEST(p->status().in_use == 1U);
    }
    {
        auto b = p->acquire();
        b->execute("INSERT INTO [t] VALUES (1)"_sql);
    }
    const dal::pool_status s = p->status();
    BOOST_TEST(s.created == 1U);
    BOOST_TEST(s.acquired == 2U);
    BOOST_TEST(s.idle == 1U);
    BOOST_TEST(s.in_use == 0U);
    BOOST_TEST(s.name == f.path.string());
}

BOOST_AUTO_TEST_CASE(waiters_are_served_first_come_first_served) {
    temp_file f;
    auto p = sqlite_pool::create(f.config(), opts(1));
    auto held = std::make_optional(p->acquire());
    std::mutex m;
    std::vector<int> order;
    std::vector<std::thread> threads;
    for (int k = 0; k < 4; ++k) {
        threads.emplace_back([&, k] {
            auto l = p->acquire();
            {
                const std::lock_guard lk(m);
                order.push_back(k);
            }
            std::this_thread::sleep_for(5ms);
        });
        // Each is in line before the next one starts.
        while (p->status().waiters != static_cast<std::size_t>(k) + 1)
            std::this_thread::sleep_for(1ms);
    }
    held.reset();
    for (auto& t : threads)
        t.join();
    BOOST_TEST(order == (std::vector<int>{0, 1, 2, 3}));
}

BOOST_AUTO_TEST_CASE(timeout_says_the_pool_is_saturated) {
    temp_file f;
    auto p = sqlite_pool::create(f.config(), opts(1));
    auto held = p->acquire();
    const auto start = clk::now();
    const dal::error e = expect_error([&] { (void)p->acquire(100ms); });
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clk::now() - start);
    BOOST_TEST((e.code() == dal::errc::pool_timeout));
    const std::string what = e.what();
    BOOST_TEST(what.find("saturated") != std::string::npos, what);
    BOOST_TEST(what.find("size 1 of max 1") != std::string::npos, what);
    BOOST_TEST(what.find("1 in use") != std::string::npos, what);
    BOOST_TEST(what.find("0 other waiters, 1 timeouts so far") != std::string::npos, what);
    BOOST_TEST(
        what.find("of pool '" + p->status().name + "' became free within ") != std::string::npos,
        what);
    BOOST_TEST(took.count() >= 100);
    BOOST_TEST(took.count() < 300);
    BOOST_TEST(p->status().timeouts == 1U);
}

// A waiter that times out leaves without the pool's lock and stays in the queue until the pool
// meets it. It is never served (the connection goes to the next live waiter), it is not
// counted as waiting, and many of them are dropped before the queue grows with them; an async
// one does not keep the pool alive.
BOOST_AUTO_TEST_CASE(waiters_that_gave_up_are_skipped_and_not_counted) {
    temp_file f;
    auto p = sqlite_pool::create(f.config(), opts(1));
    auto held = std::make_optional(p->acquire());
    // 300 thread waiters and 300 async ones give up while the only connection is held.
    asio::io_context io;
    int async_timeouts = 0;
    for (int k = 0; k < 300; ++k)
        p->async_acquire(
            asio::bind_executor(io,
                                [&](const std::exception_ptr& ep, const sqlite_pool::lease& l) {
                                    if (ep && !l) ++async_timeouts;
                                }),
            5ms);
    std::vector<std::thread> impatient;
    impatient.reserve(4);
    std::atomic<int> thread_timeouts{0};
    for (int t = 0; t < 4; ++t)
        impatient.emplace_back([&] {
            for (int k = 0; k < 75; ++k) {
                try {
                    (void)p->acquire(1ms);
                } catch (const dal::error& e) {
                    if (e.code() == dal::errc::pool_timeout) ++thread_timeouts;
                }
            }
        });
    io.run();
    for (auto& t : impatient)
        t.join();
    BOOST_TEST(async_timeouts == 300);
    BOOST_TEST(thread_timeouts.load() == 300);
    BOOST_TEST(p->status().waiters == 0U, "given-up waiters are not counted as waiting");
    BOOST_TEST(p->status().timeouts == 600U);
    // An async waiter's timer belongs to the caller's io_context, which the caller may
    // destroy once the wait is over, before the pool meets the given-up waiter in its queue.
    {
        asio::io_context brief;
        bool brief_timed_out = false;
        p->async_acquire(
            asio::bind_executor(brief,
                                [&](const std::exception_ptr& ep, const sqlite_pool::lease&) {
                                    brief_timed_out = ep != nullptr;
                                }),
            5ms);
        brief.run();
        BOOST_TEST(brief_timed_out);
    }
    // A patient waiter behind them gets the connection when it comes back.
    std::optional<std::int64_t> got;
    std::thread patient([&] {
        auto l = p->acquire(5s);
        got = l->query_one<std::int64_t>("SELECT 7"_sql).value();
    });
    while (p->status().waiters != 1U)
        std::this_thread::sleep_for(1ms);
    held.reset();
    patient.join();
    BOOST_TEST(got.value_or(0) == 7);
    const dal::pool_status s = p->status();
    BOOST_TEST(s.waiters == 0U);
    BOOST_TEST(s.in_use == 0U);
    BOOST_TEST(s.waits == 602U);  // every wait counted, served or timed out
    BOOST_TEST(s.timeouts == 601U);
    // Nothing the given-up async waiters left behind keeps the pool alive.
    const std::weak_ptr<sqlite_pool> weak = p;
    p.reset();
    BOOST_TEST(weak.expired());
}

// An io_context may be destroyed while an async acquisition waits on it (Asio then destroys
// the pending handlers unrun). A waiter the pool had not served yet leaves the queue; one it
// had served (its handler queued on that context, never run) gives its connection back.
// Either way the pool never touches that context again (ASan: its timer was gone with it).
BOOST_AUTO_TEST_CASE(waiters_whose_io_context_is_destroyed_give_back_and_leave) {
    temp_file f;
    auto p = sqlite_pool::create(f.config(), opts(1));
    auto held = std::make_optional(p->acquire());
    bool ran = false;
    const auto never = [&](const std::exception_ptr&, const sqlite_pool::lease&) { ran = true; };
    {
        asio::io_context gone;
        p->async_acquire(asio::bind_executor(gone, never), 10s);
        BOOST_TEST(p->status().waiters == 1U);
    }
    BOOST_TEST(p->status().waiters == 0U, "a waiter whose handler is gone is not waiting");
    BOOST_TEST(p->status().timeouts == 0U, "and it did not time out");
    held.reset();  // nobody to serve: idle again
    BOOST_TEST(p->status().in_use == 0U);
    BOOST_TEST(p->status().idle == 1U);

    held.emplace(p->acquire());
    const std::uint64_t acquired = p->status().acquired;
    {
        asio::io_context gone;
        p->async_acquire(asio::bind_executor(gone, never), 10s);
        held.reset();  // served: its handler is queued on `gone`, which is never run
        BOOST_TEST(p->status().in_use == 1U, "promised to the waiter");
    }
    BOOST_TEST(!ran);
    const dal::pool_status s = p->status();
    BOOST_TEST(s.in_use == 0U, "the promised connection came back");
    BOOST_TEST(s.idle == 1U);
    BOOST_TEST(s.waiters == 0U);
    BOOST_TEST(s.acquired == acquired, "not counted as acquired: it never reached the caller");
    auto l = p->acquire(1s);  // and is handed out again
    BOOST_TEST(l->query_one<std::int64_t>("SELECT 5"_sql).value() == 5);
}

// A handoff to an async waiter that fails (its executor throws when the completion is to
// run) loses nothing: the thread returning the connection is not involved (the pool only
// cancels the waiter's timer), and the connection comes back when the unrun handler goes.
// Before, the pool posted the completion holding its lock, and the failed post destroyed the
// lease inside it: the returning thread deadlocked on the pool's lock.
BOOST_AUTO_TEST_CASE(failed_handoff_to_an_async_waiter_loses_nothing) {
    temp_file f;
    auto p = sqlite_pool::create(f.config(), opts(1));
    auto held = std::make_optional(p->acquire());
    const std::uint64_t acquired = p->status().acquired;
    asio::io_context io;
    const auto countdown = std::make_shared<std::atomic<int>>(1);  // the first execute throws
    bool ran = false;
    p->async_acquire(asio::bind_executor(
                         failing_executor(io, countdown),
                         [&](const std::exception_ptr&, const sqlite_pool::lease&) { ran = true; }),
                     10s);
    held.reset();  // served: must return at once, whatever the waiter's executor does
    bool threw = false;
    try {
        io.run();
    } catch (const std::bad_alloc&) {
        threw = true;
    }
    BOOST_TEST(threw, "the executor's failure reaches its io_context's run()");
    BOOST_TEST(!ran);
    const dal::pool_status s = p->status();
    BOOST_TEST(s.in_use == 0U, "the connection came back");
    BOOST_TEST(s.idle == 1U);
    BOOST_TEST(s.waiters == 0U);
    BOOST_TEST(s.acquired == acquired);
    auto l = p->acquire(1s);
    BOOST_TEST(l->query_one<std::int64_t>("SELECT 6"_sql).value() == 6);
}

// The wrapper around a thread acquirer's connect completion (detail::complete_once) runs it
// exactly once, also when the loop it was posted to is destroyed without running it: that is
// what happens to connects still pending when dal's connector threads stop at exit, and
// without it the thread would wait on its condition variable forever.
BOOST_AUTO_TEST_CASE(connect_completion_runs_once_even_if_destroyed_unrun) {
    struct seen {
        int calls = 0;
        std::exception_ptr error;
        std::optional<int> result;
    };
    const auto record = [](seen& into) {
        return [&into](std::exception_ptr ep, std::optional<int> r) {
            ++into.calls;
            into.error = std::move(ep);
            into.result = r;
        };
    };
    using once =
        dal::detail::complete_once<std::optional<int>, decltype(record(std::declval<seen&>()))>;

    seen abandoned;
    {
        asio::io_context never_run;
        asio::post(never_run, [o = once(record(abandoned))]() mutable { o(nullptr, 1); });
        BOOST_TEST(abandoned.calls == 0);
    }
    BOOST_TEST(abandoned.calls == 1, "destroying the unrun handler completed it");
    BOOST_TEST(!abandoned.result.has_value());
    BOOST_REQUIRE(abandoned.error);
    try {
        std::rethrow_exception(abandoned.error);
    } catch (const dal::error& e) {
        BOOST_TEST((e.code() == dal::errc::pool_closed));
        BOOST_TEST(std::string(e.what()).find("before the connection was opened") !=
                   std::string::npos);
    }

    seen ran;
    {
        asio::io_context io;
        asio::post(io, [o = once(record(ran))]() mutable { o(nullptr, 7); });
        io.run();
    }
    BOOST_TEST(ran.calls == 1, "run once, and not again when destroyed");
    BOOST_TEST(!ran.error);
    BOOST_TEST(ran.result.value_or(0) == 7);

    seen moved;
    {
        once a(record(moved));
        once b(std::move(a));  // only the live copy completes
    }
    BOOST_TEST(moved.calls == 1);
}

// The scaling signal and the metrics export: waits and their time are counted (threads and
// coroutines, served and timed out), the timeout rate over an interval gives the pressure,
// and the Prometheus text carries every counter under the pool's name.
BOOST_AUTO_TEST_CASE(scaling_signal_and_prometheus_export) {
    asio::io_context io;  // outlives the pool
    temp_file f;
    auto p = sqlite_pool::create(f.config(), opts(1));
    const dal::pool_status before = p->status();
    {
        auto l = p->acquire();  // no wait
    }
    BOOST_TEST(p->status().waits == 0U);
    auto held = p->acquire();
    (void)expect_error([&] { (void)p->acquire(50ms); });  // a thread times out
    std::exception_ptr err;
    p->async_acquire(asio::bind_executor(io, [&](std::exception_ptr ep,
                                                 sqlite_pool::lease) { err = std::move(ep); }),
                     50ms);  // a coroutine times out
    io.run();
    BOOST_TEST(static_cast<bool>(err));
    // A thread waits about 50 ms and is served.
    std::thread giver([l = std::move(held)]() mutable {
        std::this_thread::sleep_for(50ms);
        l = {};
    });
    { auto l = p->acquire(2s); }
    giver.join();
    const dal::pool_status now = p->status();
    BOOST_TEST(now.waits == 3U);
    BOOST_TEST(now.wait_time >= 140ms);
    BOOST_TEST(now.wait_time < 2s);
    BOOST_TEST(now.timeouts == 2U);
    const dal::pool_signal sig = dal::scaling_signal(before, now);
    BOOST_TEST(sig.attempts == 5U);  // 3 served, 2 timed out
    BOOST_TEST(sig.timeouts == 2U);
    BOOST_TEST(sig.timeout_rate == 0.4, boost::test_tools::tolerance(1e-9));
    BOOST_TEST((sig.pressure == dal::pool_pressure::critical));
    BOOST_TEST(sig.mean_wait >= 45ms);
    BOOST_TEST(dal::describe(sig.pressure).find("scale horizontally") != std::string_view::npos);
    // Nothing happened since: the interval's signal is normal again.
    BOOST_TEST((dal::scaling_signal(now, p->status()).pressure == dal::pool_pressure::normal));

    // The design's thresholds: < 0.1 % normal, to 1 % mild, to 5 % high, above critical.
    const auto pressure = [](std::uint64_t served, std::uint64_t timeouts) {
        dal::pool_status a;
        dal::pool_status b;
        b.acquired = served;
        b.timeouts = timeouts;
        return dal::scaling_signal(a, b).pressure;
    };
    BOOST_TEST((pressure(1000, 0) == dal::pool_pressure::normal));
    BOOST_TEST((pressure(2000, 1) == dal::pool_pressure::normal));    // 0.05 %
    BOOST_TEST((pressure(999, 1) == dal::pool_pressure::mild));       // 0.1 %
    BOOST_TEST((pressure(990, 10) == dal::pool_pressure::mild));      // 1 %
    BOOST_TEST((pressure(980, 20) == dal::pool_pressure::high));      // 2 %
    BOOST_TEST((pressure(950, 50) == dal::pool_pressure::high));      // 5 %
    BOOST_TEST((pressure(940, 60) == dal::pool_pressure::critical));  // 6 %
    BOOST_TEST((pressure(0, 0) == dal::pool_pressure::normal));       // nothing asked

    std::ostringstream text;
    const std::vector<dal::pool_status> all{now};
    dal::write_prometheus(text, all);
    const std::string out = text.str();
    BOOST_TEST(now.config_hash == f.config().hash_hex());
    const std::string label = "{pool=\"" + now.name + "\",config=\"" + now.config_hash + "\"";
    BOOST_TEST(out.find("# TYPE dal_pool_timeouts_total counter\n") != std::string::npos, out);
    BOOST_TEST(out.find("dal_pool_timeouts_total" + label + "} 2\n") != std::string::npos, out);
    BOOST_TEST(out.find("dal_pool_waits_total" + label + "} 3\n") != std::string::npos, out);
    BOOST_TEST(out.find("dal_pool_acquired_total" + label + "} 3\n") != std::string::npos, out);
    BOOST_TEST(
        out.find("dal_pool_connections" + label + ",state=\"idle\"} 1\n") != std::string::npos,
        out);
    BOOST_TEST(out.find("dal_pool_max_connections" + label + "} 1\n") != std::string::npos, out);
    BOOST_TEST(out.find("dal_pool_wait_seconds_total" + label + "} 0.") != std::string::npos, out);
    // Every line is a comment or `name{labels} value`; names are escaped, never a password.
    dal::pool_status odd;
    odd.name = "a\"b\\c\nd";
    odd.acquired = 12'345'678'901;  // whole, not 1.23457e+10
    std::ostringstream odd_text;
    const std::vector<dal::pool_status> odd_all{odd};
    dal::write_prometheus(odd_text, odd_all);
    BOOST_TEST(odd_text.str().find(R"(dal_pool_waiters{pool="a\"b\\c\nd",config=""} 0)") !=
                   std::string::npos,
               odd_text.str());
    dal::config with_password = f.config();
    with_password.user = "app";
    with_password.password = dal::secret("hunter2");
    BOOST_TEST(odd_text.str().find(
                   R"(dal_pool_acquired_total{pool="a\"b\\c\nd",config=""} 12345678901)") !=
                   std::string::npos,
               odd_text.str());
    auto secret_pool = sqlite_pool::create(with_password, opts(1));
    std::ostringstream secret_text;
    const std::vector<dal::pool_status> secret_all{secret_pool->status()};
    dal::write_prometheus(secret_text, secret_all);
    BOOST_TEST(secret_text.str().find("hunter2") == std::string::npos, secret_text.str());
}

BOOST_AUTO_TEST_CASE(release_rolls_back_and_discards_broken) {
    temp_file f;
    auto p = sqlite_pool::create(f.config(), opts(2));
    p->acquire()->execute("CREATE TABLE [t] ([v] INT)"_sql);
    {
        auto l = p->acquire();
        l->native_session().begin();  // a transaction nobody commits
        l->execute("INSERT INTO [t] VALUES (1)"_sql);
    }
    {
        auto l = p->acquire();
        BOOST_TEST(!l->in_transaction());
        BOOST_TEST(l->query_one<std::int64_t>("SELECT count(*) FROM [t]"_sql).value() == 0);
        l->close();  // broken: not reused
    }
    const auto before = p->status();
    BOOST_TEST(before.closed == 1U);
    auto l = p->acquire();
    BOOST_TEST(l->is_open());
    BOOST_TEST(p->status().created == before.created + 1);
}

BOOST_AUTO_TEST_CASE(leaks_are_reported_with_where_and_tags) {
    temp_file f;
    dal::pool_options o = opts(2);
    o.leak_threshold = 50ms;
    auto p = sqlite_pool::create(f.config(), o);
    std::mutex m;  // the pool's housekeeping reports from a dal worker thread
    std::vector<dal::leak_report> reports;
    p->on_leak([&](const dal::leak_report& r) {
        const std::lock_guard lk(m);
        reports.push_back(r);
    });
    auto l = p->acquire();
    l.set_tags({{"route", "/orders"}});
    // Nobody asks: the housekeeping finds it.
    const auto reported = [&] {
        const std::lock_guard lk(m);
        return reports.size();
    };
    for (int k = 0; k < 200 && reported() == 0; ++k)
        std::this_thread::sleep_for(10ms);
    BOOST_TEST(p->check_leaks() == 1U);  // still held, reported once
    std::this_thread::sleep_for(120ms);
    const std::lock_guard lk(m);
    BOOST_TEST_REQUIRE(reports.size() == 1U);
    BOOST_TEST(std::string(reports[0].acquired_at.file_name()).find("pool_test.cpp") !=
               std::string::npos);
    BOOST_TEST(reports[0].held_for.count() >= 50);
    BOOST_TEST(reports[0].tags.at(0).second == "/orders");
    BOOST_TEST(p->status().leaks == 1U);
    BOOST_TEST(p->status().reclaimed == 0U);  // reclaiming is opt-in
}

BOOST_AUTO_TEST_CASE(leaked_lease_is_reclaimed_when_opted_in) {
    temp_file f;
    dal::pool_options o = opts(1);
    o.leak_threshold = 100ms;
    o.reclaim_leaked = true;
    auto p = sqlite_pool::create(f.config(), o);
    auto leaked = p->acquire();
    leaked->execute("CREATE TABLE [t] ([v] INT)"_sql);
    auto tx = leaked->begin();
    leaked->execute("INSERT INTO [t] VALUES (1)"_sql);
    // The pool of one is full until the lease is reclaimed; then a new connection serves.
    const auto start = clk::now();
    auto next = p->acquire(3s);
    BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(clk::now() - start).count() >=
               50);
    BOOST_TEST(p->status().reclaimed == 1U);
    BOOST_TEST(&*next != &*leaked);
    next.release();
    // The holder still has a working object (never closed under it) ...
    BOOST_TEST(leaked->in_transaction());
    tx.rollback();
    leaked.release();  // ... and it is closed, not reused, when it comes back
    const dal::pool_status s = p->status();
    BOOST_TEST(s.size == 1U);
    BOOST_TEST(s.in_use == 0U);
    BOOST_TEST(s.closed >= 1U);
    auto again = p->acquire();
    BOOST_TEST(again->query_one<std::int64_t>("SELECT COUNT(*) FROM [t]"_sql).value() == 0);
}

BOOST_AUTO_TEST_CASE(housekeeping_shrinks_idle_connections_to_min) {
    temp_file f;
    dal::pool_options o = opts(3);
    o.idle_timeout = 100ms;
    auto p = sqlite_pool::create(f.config(), o);
    {
        auto a = p->acquire();
        auto b = p->acquire();
        auto c = p->acquire();
    }
    BOOST_TEST(p->status().size == 3U);
    for (int k = 0; k < 200 && p->status().size > 1U; ++k)
        std::this_thread::sleep_for(10ms);
    BOOST_TEST(p->status().size == 1U);  // min, without anyone acquiring
    BOOST_TEST(p->status().closed == 2U);
}

BOOST_AUTO_TEST_CASE(close_fails_waiters_and_new_acquirers) {
    temp_file f;
    auto p = sqlite_pool::create(f.config(), opts(1));
    auto held = std::make_optional(p->acquire());
    std::optional<dal::error> waiter_error;
    std::thread waiter([&] {
        try {
            (void)p->acquire(5s);
        } catch (const dal::error& e) {
            waiter_error = e;
        }
    });
    while (p->status().waiters != 1U)
        std::this_thread::sleep_for(1ms);
    std::thread closer([&] { p->close(200ms); });
    waiter.join();
    BOOST_TEST_REQUIRE(waiter_error.has_value());
    BOOST_TEST((waiter_error->code() == dal::errc::pool_closed));
    held.reset();  // returned during the grace period: closed, not reused
    closer.join();
    BOOST_TEST(p->status().size == 0U);
    const dal::error after = expect_error([&] { (void)p->acquire(); });
    BOOST_TEST((after.code() == dal::errc::pool_closed));
    BOOST_TEST(!p->healthy());
}

// A health check of a pool with no connection opens one (kept, idle) to find out; like its
// ping of an idle one, that is not counted as an acquisition.
BOOST_AUTO_TEST_CASE(health_checks_are_not_acquisitions) {
    temp_file f;
    dal::pool_options o = opts(2);
    o.min = 0;
    auto p = sqlite_pool::create(f.config(), o);
    BOOST_TEST(p->status().size == 0U);
    BOOST_TEST(p->healthy());  // opened one
    BOOST_TEST(p->status().size == 1U);
    BOOST_TEST(p->status().idle == 1U);
    BOOST_TEST(p->healthy());  // pinged it
    BOOST_TEST(p->status().acquired == 0U);
    BOOST_TEST(p->status().created == 1U);
}

BOOST_AUTO_TEST_CASE(async_acquire_and_timeout) {
    asio::io_context io;  // outlives the pool (see the stress test)
    temp_file f;
    auto p = sqlite_pool::create(f.config(), opts(2));
    int done = 0;
    for (int k = 0; k < 20; ++k) {
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                auto l = co_await p->async_acquire(asio::use_awaitable);
                BOOST_TEST(l->template query_one<int>("SELECT 1"_sql).value() == 1);
                ++done;
            },
            asio::detached);
    }
    io.run();
    BOOST_TEST(done == 20);
    BOOST_TEST(p->status().size <= 2U);
    // Saturated: the async waiter times out with the same message.
    auto a = p->acquire();
    auto b = p->acquire();
    BOOST_TEST((a && b));
    io.restart();
    std::exception_ptr err;
    p->async_acquire(asio::bind_executor(io, [&](std::exception_ptr ep,
                                                 sqlite_pool::lease) { err = std::move(ep); }),
                     100ms);
    io.run();
    BOOST_TEST_REQUIRE(static_cast<bool>(err));
    try {
        std::rethrow_exception(err);
    } catch (const dal::error& e) {
        BOOST_TEST((e.code() == dal::errc::pool_timeout));
    }
    BOOST_TEST(p->healthy());  // busy is not unhealthy
}

// A limit of milliseconds::max() means "wait as long as it takes" for threads and
// coroutines alike; added to the clock it used to overflow into the past and time out at
// once. A negative limit is a budget already spent: a timeout at once.
BOOST_AUTO_TEST_CASE(waits_without_a_limit_wait_and_negative_limits_end_at_once) {
    temp_file f;
    auto p = sqlite_pool::create(f.config(), opts(1));
    auto held = std::make_optional(p->acquire());
    const dal::error spent = expect_error([&] { (void)p->acquire(-5ms); });
    BOOST_TEST((spent.code() == dal::errc::pool_timeout), spent.what());

    std::atomic<bool> thread_got{false};
    std::atomic<bool> thread_failed{false};
    std::exception_ptr thread_error;  // read after join
    std::thread t([&] {
        try {
            auto l = p->acquire(std::chrono::milliseconds::max());
            thread_got = true;
        } catch (...) {
            thread_error = std::current_exception();
            thread_failed = true;
        }
    });
    while (p->status().waiters < 1U && !thread_failed)
        std::this_thread::sleep_for(1ms);
    asio::io_context io;
    bool async_got = false;
    std::exception_ptr async_error;
    p->async_acquire(asio::bind_executor(io,
                                         [&](std::exception_ptr ep, sqlite_pool::lease l) {
                                             async_error = std::move(ep);
                                             async_got = static_cast<bool>(l);
                                         }),
                     std::chrono::milliseconds::max());
    std::this_thread::sleep_for(100ms);
    BOOST_TEST(!thread_got.load());
    BOOST_TEST(p->status().waiters == 2U, "both still waiting");
    held.reset();  // to the thread, first in line; then, when it lets go, to the coroutine
    t.join();
    BOOST_TEST(thread_got.load());
    BOOST_TEST(!thread_error);
    io.run();
    BOOST_TEST(async_got);
    BOOST_TEST(!async_error);
    BOOST_TEST(p->status().timeouts == 1U, "only the spent budget timed out");
}

BOOST_AUTO_TEST_CASE(registry_shares_pools_by_config) {
    temp_file f;
    temp_file g;
    dal::pool_registry registry;
    dal::config a = f.config();
    dal::config same = f.config();
    same.alias = "another-name";  // not part of the identity
    auto p1 = registry.get<dal::sqlite::connection>(a);
    auto p2 = registry.get<dal::sqlite::connection>(same);
    auto p3 = registry.get<dal::sqlite::connection>(g.config());
    BOOST_TEST(p1 == p2);
    BOOST_TEST(p1 != p3);
    BOOST_TEST(registry.size() == 2U);
    BOOST_TEST(registry.status_all().size() == 2U);
    for (const auto& [name, ok] : registry.health_all())
        BOOST_TEST(ok, name);
    auto held = p1->acquire();
    registry.close(a, 10ms);
    BOOST_TEST(registry.size() == 1U);
    BOOST_TEST(p1->status().closing);
    BOOST_TEST(!p3->status().closing);
    auto fresh = registry.get<dal::sqlite::connection>(a);  // a new pool after close
    BOOST_TEST(fresh != p1);
    registry.close_all(10ms);
    BOOST_TEST(registry.size() == 0U);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(pool_postgres,
                      *utf::precondition(dal_test::server_configured{"DAL_TEST_POSTGRES_URI"}))

BOOST_AUTO_TEST_CASE(connects_in_flight_hold_no_thread) {
    dal_test::connects_in_flight_hold_no_thread<dal::basic_pool<dal::postgres::connection>>(
        dal_test::config_from_env("DAL_TEST_POSTGRES_URI"));
}

BOOST_AUTO_TEST_CASE(async_connect_ends_at_the_connect_limit) {
    dal_test::async_connect_ends_at_the_connect_limit<dal::postgres::connection>(
        dal_test::config_from_env("DAL_TEST_POSTGRES_URI"));
}

// libpq closes a socket inside PQconnectPoll when it moves on (here: `prefer-standby` finds a
// primary, closes, and connects again). Async connects on one loop run by two threads must not
// deregister a number that the other thread's new socket already has: that socket's wait
// would never end and its connect would run into the limit. ThreadSanitizer reported it in
// the failover test (fixed: the wait's view is released before PQconnectPoll).
BOOST_AUTO_TEST_CASE(async_connects_that_change_sockets_share_a_loop) {
    namespace asio = boost::asio;
    dal::config cfg = dal_test::config_from_env("DAL_TEST_POSTGRES_URI");
    cfg.options.emplace_back("target_session_attrs", "prefer-standby");
    cfg.timeouts.connect = 20s;
    constexpr int rounds = 3;
    constexpr int per_round = 24;
    std::mutex m;
    int ok = 0;
    std::vector<std::string> failures;
    for (int round = 0; round < rounds; ++round) {
        asio::io_context io;
        for (int i = 0; i < per_round; ++i)
            asio::co_spawn(
                io,
                [&]() -> asio::awaitable<void> {
                    std::optional<std::string> failed;
                    try {
                        auto c = co_await dal::postgres::connection::async_connect(cfg);
                        const auto one = co_await c->async_query_one<std::int64_t>(
                            std::string("SELECT 1"), dal::params(), asio::use_awaitable);
                        if (one.value_or(0) != 1) failed = "SELECT 1 returned no 1";
                    } catch (const dal::error& e) {
                        failed = e.what();
                    }
                    const std::lock_guard lk(m);
                    if (failed)
                        failures.push_back(std::move(*failed));
                    else
                        ++ok;
                },
                asio::detached);
        std::thread second([&io] { io.run(); });
        io.run();
        second.join();
    }
    for (const std::string& f : failures)
        BOOST_TEST_MESSAGE("connect failed: " << f);
    BOOST_TEST(failures.empty());
    BOOST_TEST(ok == rounds * per_round);
}

// An acquirer that opens a connection for itself, thread or coroutine, waits for it only
// within its own limit: with the connect held at a proxy, it gets pool_timeout at its limit,
// not when the connect limit (10 s) ends the connect; the connection, once open, goes to the
// pool.
BOOST_AUTO_TEST_CASE(a_slow_connect_ends_at_the_acquirers_limit) {
    dal::config cfg = dal_test::config_from_env("DAL_TEST_POSTGRES_URI");
    dal_test::tcp_proxy proxy(cfg.hosts.at(0).port);
    cfg.hosts[0].port = proxy.port();
    dal::pool_options o = opts(1);
    o.min = 0;
    for (const bool async : {false, true}) {
        BOOST_TEST_CONTEXT((async ? "coroutine" : "thread")) {
            auto p = pg_pool::create(cfg, o);
            proxy.hold_new();
            const auto start = clk::now();
            std::exception_ptr failed;
            if (async) {
                asio::io_context io;
                p->async_acquire(asio::bind_executor(io,
                                                     [&](std::exception_ptr ep, pg_pool::lease l) {
                                                         failed = std::move(ep);
                                                         BOOST_TEST(!l);
                                                     }),
                                 200ms);
                io.run();  // ends with the acquirer's completion: nothing else waits on it
            } else {
                try {
                    (void)p->acquire(200ms);
                } catch (...) {
                    failed = std::current_exception();
                }
            }
            const auto took =
                std::chrono::duration_cast<std::chrono::milliseconds>(clk::now() - start);
            BOOST_TEST((took >= 200ms));
            BOOST_TEST((took < 1s), "took " << took.count() << " ms");
            BOOST_REQUIRE(failed);
            try {
                std::rethrow_exception(failed);
            } catch (const dal::error& e) {
                BOOST_TEST((e.code() == dal::errc::pool_timeout), e.what());
            }
            BOOST_TEST(p->status().timeouts == 1U);
            proxy.accept_new();  // the connect goes through: the connection goes to the pool
            const auto waiting = clk::now();
            while (p->status().idle == 0U && clk::now() - waiting < 5s)
                std::this_thread::sleep_for(5ms);
            const dal::pool_status s = p->status();
            BOOST_TEST(s.idle == 1U);
            BOOST_TEST(s.size == 1U);
            BOOST_TEST(s.acquired == 0U, "not counted as acquired: nobody got it");
            auto l = p->acquire(1s);
            BOOST_TEST(l->query_one<std::int32_t>("SELECT 7"_sql).value() == 7);
        }
    }
}

BOOST_AUTO_TEST_CASE(broken_idle_connection_is_replaced_not_handed_out) {
    const dal::config cfg = dal_test::config_from_env("DAL_TEST_POSTGRES_URI");
    dal::pool_options o = opts(2);
    o.validate_after_idle = 0ms;
    auto p = pg_pool::create(cfg, o);
    std::int32_t pid = 0;
    {
        auto l = p->acquire();
        pid = l->query_one<std::int32_t>("SELECT pg_backend_pid()"_sql).value();
    }
    dal::postgres::connection admin(cfg);
    admin.execute("SELECT pg_terminate_backend(?)"_sql, pid);
    std::this_thread::sleep_for(100ms);
    auto l = p->acquire();  // the dead one fails its ping and is replaced
    BOOST_TEST(l->query_one<std::int32_t>("SELECT pg_backend_pid()"_sql).value() != pid);
    BOOST_TEST(p->status().closed >= 1U);
}

BOOST_AUTO_TEST_CASE(keepalive_finds_dead_idle_connections_and_refills_to_min) {
    const dal::config cfg = dal_test::config_from_env("DAL_TEST_POSTGRES_URI");
    dal::pool_options o = opts(4);
    o.min = 2;
    o.keepalive_interval = 100ms;
    auto p = pg_pool::create(cfg, o);
    std::vector<std::int32_t> pids;
    {
        auto a = p->acquire();
        auto b = p->acquire();
        pids.push_back(a->query_one<std::int32_t>("SELECT pg_backend_pid()"_sql).value());
        pids.push_back(b->query_one<std::int32_t>("SELECT pg_backend_pid()"_sql).value());
    }
    dal::postgres::connection admin(cfg);
    for (const std::int32_t pid : pids)
        admin.execute("SELECT pg_terminate_backend(?)"_sql, pid);
    // Nobody acquires: the keepalive pings find both dead, and the pool opens two new ones.
    for (int k = 0; k < 300 && p->status().closed < 2U; ++k)
        std::this_thread::sleep_for(10ms);
    for (int k = 0; k < 300 && p->status().idle < 2U; ++k)
        std::this_thread::sleep_for(10ms);
    const dal::pool_status s = p->status();
    BOOST_TEST(s.closed == 2U);
    BOOST_TEST(s.idle == 2U);
    BOOST_TEST(s.created == 4U);
    BOOST_TEST(s.acquired == 2U);  // pings and refills are not acquisitions
    auto l = p->acquire();
    const auto pid = l->query_one<std::int32_t>("SELECT pg_backend_pid()"_sql).value();
    BOOST_TEST((pid != pids[0] && pid != pids[1]));
}

BOOST_AUTO_TEST_CASE(forced_close_cancels_running_statements) {
    const dal::config cfg = dal_test::config_from_env("DAL_TEST_POSTGRES_URI");
    auto p = pg_pool::create(cfg, opts(2));
    std::optional<dal::error> e;
    std::atomic<bool> started{false};
    std::thread user([&] {
        auto l = p->acquire();
        auto tx = l->begin();
        l->execute("CREATE TEMP TABLE [x] ([v] INT)"_sql);
        started = true;
        try {
            l->execute("SELECT pg_sleep(10)"_sql);
        } catch (const dal::error& err) {
            e = err;
        }
    });
    while (!started)
        std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(100ms);
    const auto start = clk::now();
    p->close(200ms);
    user.join();
    BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(clk::now() - start).count() <
               2000);
    BOOST_TEST_REQUIRE(e.has_value());
    BOOST_TEST((e->code() == dal::errc::cancelled), e->what());
    BOOST_TEST(p->status().size == 0U);  // rolled back and closed when it came back
}

/// The issue's stress test. `fixed_size`: min = max = 20, opened at creation (HikariCP's
/// recommended setting); otherwise the pool starts at 5 and grows under the load, so the
/// server starts 15 backends (fork, authentication) on the same 2 cores meanwhile.
void stress_on_20(bool fixed_size) {
    // Declared first, destroyed last: connections that ran async statements hold I/O objects
    // of this io_context (the usual Asio rule: the context outlives its I/O objects).
    asio::io_context io;
    const dal::config cfg = dal_test::config_from_env("DAL_TEST_POSTGRES_URI");
    dal::pool_options o = opts(20);
    o.min = fixed_size ? 20 : 5;
    o.max_concurrent_creations = 4;
    auto p = pg_pool::create(cfg, o);
    constexpr auto timeout = 500ms;
    std::mutex m;
    std::set<const void*> out;  // connections on loan now: never twice
    std::atomic<int> ok{0};
    std::atomic<int> timed_out{0};
    std::atomic<int> other{0};
    std::atomic<int> twice{0};
    std::vector<long> thread_late_us;  // how late each timeout came, under `m`
    std::vector<long> coro_late_us;
    auto use = [&](dal::postgres::connection& c) {
        {
            const std::lock_guard lk(m);
            if (!out.insert(&c).second) ++twice;
        }
        c.execute("SELECT pg_sleep(0.005)"_sql);
        const std::lock_guard lk(m);
        out.erase(&c);
    };
    auto record_late = [&](clk::time_point start, std::chrono::milliseconds limit,
                           std::vector<long>& late) {
        const auto over =
            std::chrono::duration_cast<std::chrono::microseconds>(clk::now() - start - limit)
                .count();
        const std::lock_guard lk(m);
        late.push_back(over);
    };
    auto record_timeout = [&](clk::time_point start, std::chrono::milliseconds limit,
                              std::vector<long>& late) {
        ++timed_out;
        record_late(start, limit, late);
    };
    // The bound is for every acquirer: one that is served, with an idle connection or one it
    // had opened for it, must be served within its limit + 5 ms too.
    std::vector<long> served_late_us;  // under `m`: served after their limit
    auto record_served = [&](clk::time_point start, std::chrono::milliseconds limit) {
        if (clk::now() - start > limit) record_late(start, limit, served_late_us);
    };
    // Controls, measured in the same run under the same load: how late this machine wakes a
    // thread from a plain 30 ms wait on a condition variable, and how late the event loop runs
    // a plain 30 ms timer (no pool in either). The pool's own share of a timeout's lateness is
    // what exceeds these.
    std::atomic<bool> load_done{false};
    std::atomic<int> coroutines_left{1000};
    std::vector<long> machine_late_us;  // under `m`
    std::vector<long> loop_late_us;
    std::vector<std::thread> controls;
    controls.reserve(5);
    for (int t = 0; t < 4; ++t) {
        controls.emplace_back([&] {
            std::mutex cm;
            std::condition_variable never;
            std::unique_lock lk(cm);
            while (!load_done) {
                const auto start = clk::now();
                never.wait_until(lk, start + 30ms, [] { return false; });
                record_late(start, 30ms, machine_late_us);
            }
        });
    }
    // Spawned first: its timer falls due with the impatient coroutines' and runs before theirs.
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            asio::steady_timer t(co_await asio::this_coro::executor);
            while (coroutines_left > 0) {
                const auto start = clk::now();
                t.expires_at(start + 30ms);
                co_await t.async_wait(asio::use_awaitable);
                record_late(start, 30ms, loop_late_us);
            }
        },
        asio::detached);
    // And the same burst without the pool: as many coroutines as time out above, on an event
    // loop of their own, each waiting 30 ms on a plain timer and then throwing and catching
    // an exception of its own (what a timed-out `use_awaitable` wait ends in).
    asio::io_context plain_io;
    std::vector<long> burst_late_us;
    for (int k = 0; k < 500; ++k) {
        asio::co_spawn(
            plain_io,
            [&]() -> asio::awaitable<void> {
                asio::steady_timer t(co_await asio::this_coro::executor);
                const auto start = clk::now();
                t.expires_at(start + 30ms);
                co_await t.async_wait(asio::use_awaitable);
                try {
                    throw std::runtime_error("timed out");
                } catch (const std::runtime_error&) {
                    record_late(start, 30ms, burst_late_us);
                }
            },
            asio::detached);
    }
    std::vector<std::thread> threads;
    threads.reserve(64);
    for (int t = 0; t < 64; ++t) {
        threads.emplace_back([&, t] {
            for (int k = 0; k < 5; ++k) {
                // Every other thread is impatient too.
                const std::chrono::milliseconds limit = t % 2 == 0 ? timeout : 30ms;
                const auto start = clk::now();
                try {
                    auto l = p->acquire(limit);
                    record_served(start, limit);
                    use(*l);
                    ++ok;
                } catch (const dal::error& e) {
                    if (e.code() == dal::errc::pool_timeout)
                        record_timeout(start, limit, thread_late_us);
                    else
                        ++other;
                }
            }
        });
    }
    for (int k = 0; k < 1000; ++k) {
        asio::co_spawn(
            io,
            [&, k]() -> asio::awaitable<void> {
                // Counted out however it ends (the loop's control runs until all are).
                const std::unique_ptr<std::atomic<int>, void (*)(std::atomic<int>*)> left(
                    &coroutines_left, [](std::atomic<int>* n) { --*n; });
                // Half of them are impatient: they exercise the timeout path under load.
                const std::chrono::milliseconds limit = k % 2 == 0 ? timeout : 30ms;
                const auto start = clk::now();
                try {
                    auto l = co_await p->async_acquire(asio::use_awaitable, limit);
                    record_served(start, limit);
                    // The statement runs on the connection's own async path.
                    {
                        const std::lock_guard lk(m);
                        if (!out.insert(&*l).second) ++twice;
                    }
                    co_await l->async_execute("SELECT pg_sleep(0.005)"_sql, asio::use_awaitable);
                    {
                        const std::lock_guard lk(m);
                        out.erase(&*l);
                    }
                    ++ok;
                } catch (const dal::error& e) {
                    if (e.code() == dal::errc::pool_timeout)
                        record_timeout(start, limit, coro_late_us);
                    else
                        ++other;
                }
            },
            asio::detached);
    }
    controls.emplace_back([&] { plain_io.run(); });  // starts its burst with the pool's
    io.run();
    for (auto& t : threads)
        t.join();
    load_done = true;
    for (auto& t : controls)
        t.join();
    // Connects whose acquirers' limits passed first finish after them, into the pool: waited
    // for (a connection leaked would keep in_use above 0 here, and fail below).
    const auto settling = clk::now();
    while ((p->status().opening > 0 || p->status().in_use > 0) && clk::now() - settling < 5s)
        std::this_thread::sleep_for(5ms);
    const dal::pool_status s = p->status();
    // Milliseconds late: median and worst.
    const auto late = [](std::vector<long> v) {
        if (v.empty()) return std::pair<double, double>{0, 0};
        std::sort(v.begin(), v.end());
        return std::pair<double, double>{static_cast<double>(v[v.size() / 2]) / 1000.0,
                                         static_cast<double>(v.back()) / 1000.0};
    };
    const auto [thread_median, thread_max] = late(thread_late_us);
    const auto [coro_median, coro_max] = late(coro_late_us);
    const auto [machine_median, machine_max] = late(machine_late_us);
    const auto [loop_median, loop_max] = late(loop_late_us);
    const auto [burst_median, burst_max] = late(burst_late_us);
    const auto [served_late_median, served_late_max] = late(served_late_us);
    const auto ms = [](double median, double worst) {
        return fmt::format("{:.2f}/{:.2f}", median, worst);  // Boost.Test prints 17 digits
    };
    BOOST_TEST_MESSAGE(
        "stress (" << (fixed_size ? "fixed size" : "growing") << "): " << ok << " served, "
                   << timed_out << " timed out (" << thread_late_us.size() << " threads, "
                   << coro_late_us.size() << " coroutines); late by (median/max ms): threads "
                   << ms(thread_median, thread_max) << ", coroutines " << ms(coro_median, coro_max)
                   << "; controls without the pool: plain waits " << ms(machine_median, machine_max)
                   << " (" << machine_late_us.size() << "), the loop's plain timer "
                   << ms(loop_median, loop_max) << " (" << loop_late_us.size()
                   << "), a burst of 500 plain timers " << ms(burst_median, burst_max)
                   << "; served after their limit " << served_late_us.size() << " (late by "
                   << ms(served_late_median, served_late_max) << "); created " << s.created
                   << ", closed " << s.closed << ", size " << s.size);
    BOOST_TEST(!machine_late_us.empty());  // the controls ran alongside
    BOOST_TEST(!loop_late_us.empty());
    BOOST_TEST(burst_late_us.size() == 500U);
    BOOST_TEST(ok + timed_out == 64 * 5 + 1000);  // everyone got a connection or a timeout
    BOOST_TEST(other == 0);
    BOOST_TEST(twice == 0);      // never handed out twice
    BOOST_TEST(s.in_use == 0U);  // none leaked
    BOOST_TEST(s.size <= 20U);
    BOOST_TEST(s.waiters == 0U);
    BOOST_TEST(s.timeouts == static_cast<std::uint64_t>(timed_out.load()));  // counters add up
    BOOST_TEST(s.acquired >= static_cast<std::uint64_t>(ok.load()));
    // Lateness is measured, and printed above; the issue's bound is timeout + 5 ms. The
    // bounds asserted here only catch regressions (a wake-up storm, a blocked event loop):
    // this box runs the 20 server backends, 64 threads and the event loop on 2 cores, so
    // exact bounds would flake. In an optimised build (CTest's integration.pool_stress_timing,
    // DAL_TEST_OPTIMISED) they are tighter than under a sanitizer. Measured: docs/pool.md.
    const bool optimised = std::getenv("DAL_TEST_OPTIMISED") != nullptr;
    if (fixed_size) {
        BOOST_TEST(thread_max < (optimised ? 25.0 : 100.0));
        BOOST_TEST(coro_max < (optimised ? 25.0 : 1000.0));
        BOOST_TEST(s.created == 20U);  // all opened at creation
    } else {
        BOOST_TEST(thread_max < (optimised ? 50.0 : 100.0));
        BOOST_TEST(coro_max < (optimised ? 100.0 : 1000.0));
        BOOST_TEST(s.created >= 15U);  // the pool grew towards max for its waiters
    }
}

BOOST_AUTO_TEST_CASE(stress_1000_coroutines_and_64_threads_on_20) {
    stress_on_20(true);
}

BOOST_AUTO_TEST_CASE(stress_while_the_pool_grows) {
    stress_on_20(false);
}

BOOST_AUTO_TEST_SUITE_END()
