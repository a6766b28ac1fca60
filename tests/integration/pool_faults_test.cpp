// The pool on MariaDB, and the pool when its server dies: scripts/test-servers.sh kills the real
// PostgreSQL or MariaDB server (SIGKILL to the server and its children) while threads insert
// through the pool, then starts it again on the same data. The pool must discard the dead
// connections and serve again without a restart of the process, and every insert it
// acknowledged must be in the table afterwards.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <dal/mysql.hpp>
#include <dal/policies/retry.hpp>
#include <dal/pool.hpp>
#include <dal/postgres.hpp>

#include "async_connect_checks.hpp"
#include "servers.hpp"

namespace {

using namespace dal::literals;  // NOLINT(google-build-using-namespace): test file
using namespace std::chrono_literals;
namespace utf = boost::unit_test;
using clk = std::chrono::steady_clock;
using my_pool = dal::basic_pool<dal::mysql::connection>;
using pg_pool = dal::basic_pool<dal::postgres::connection>;
namespace asio = boost::asio;

dal::pool_options opts(std::size_t max) {
    dal::pool_options o;
    o.min = 1;
    o.max = max;
    o.acquire_timeout = 2s;
    return o;
}

long long ms_since(clk::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clk::now() - t).count();
}

/// What the workers saw, under one mutex (the workers spend their time in the database).
struct outcomes {
    std::mutex m;
    std::vector<std::int64_t> acknowledged;
    std::map<std::string, int> errors;  ///< condition message -> count
    std::vector<clk::time_point> last_success;
    int unexpected = 0;  ///< errors that are not connection/timeout/pool errors
    std::vector<std::string> unexpected_what;  ///< their messages, printed by the main thread
};

/// Threads insert uniquely keyed rows through the pool; the server is killed and resumed
/// meanwhile. Returns after every thread has succeeded again (or 20 s).
template <class Pool>
void killed_and_restarted_under_load(const dal::config& base, const char* server) {
    dal::config cfg = base;
    cfg.timeouts.connect = 2s;
    cfg.timeouts.statement = 2s;
    const std::string table = dal_test::unique_table(std::string("pool_crash_") + server);
    {
        typename Pool::connection_type admin(cfg);
        admin.execute("DROP TABLE IF EXISTS " + table);
        admin.execute("CREATE TABLE " + table + " (id BIGINT PRIMARY KEY, worker INT NOT NULL)");
    }
    constexpr int threads = 8;
    auto pool = Pool::create(cfg, opts(6));
    outcomes out;
    out.last_success.assign(threads, clk::time_point{});
    std::atomic<std::int64_t> next_id{1};
    std::atomic<bool> stop{false};
    const std::string insert = "INSERT INTO " + table + " (id, worker) VALUES (?, ?)";
    std::vector<std::thread> workers;
    const dal_test::stop_and_join guard{stop, workers};
    for (int w = 0; w < threads; ++w) {
        workers.emplace_back([&, w] {
            while (!stop) {
                const std::int64_t id = next_id++;
                try {
                    auto db = pool->acquire();
                    db->execute(insert, id, w);
                    const std::lock_guard lk(out.m);
                    out.acknowledged.push_back(id);
                    out.last_success[static_cast<std::size_t>(w)] = clk::now();
                } catch (const dal::error& e) {
                    const bool expected =
                        e.code() == dal::errc::connection_error || e.code() == dal::errc::timeout ||
                        e.code() == dal::errc::pool_timeout || e.code() == dal::errc::cancelled;
                    const std::lock_guard lk(out.m);
                    ++out.errors[e.code().message()];
                    if (!expected) {
                        ++out.unexpected;
                        out.unexpected_what.emplace_back(e.what());
                    }
                    std::this_thread::sleep_for(5ms);  // the server is down: do not spin
                }
                std::this_thread::sleep_for(1ms);
            }
        });
    }
    std::this_thread::sleep_for(400ms);
    const auto killed = clk::now();
    dal_test::server_ctl("kill", server);
    std::this_thread::sleep_for(500ms);
    dal_test::server_ctl("resume", server);
    const auto up = clk::now();
    BOOST_TEST_MESSAGE(server << ": down for " << ms_since(killed) << " ms");

    // Every worker succeeds again, without anything done to the pool.
    long long first_ok_ms = -1;
    long long all_ok_ms = -1;
    while (ms_since(up) < 20'000) {
        {
            const std::lock_guard lk(out.m);
            const auto ok = [&](clk::time_point t) { return t > up; };
            if (first_ok_ms < 0 &&
                std::any_of(out.last_success.begin(), out.last_success.end(), ok))
                first_ok_ms = ms_since(up);
            if (std::all_of(out.last_success.begin(), out.last_success.end(), ok)) {
                all_ok_ms = ms_since(up);
                break;
            }
        }
        std::this_thread::sleep_for(5ms);
    }
    std::this_thread::sleep_for(200ms);
    stop = true;
    for (std::thread& t : workers)
        t.join();

    const dal::pool_status s = pool->status();
    BOOST_TEST_MESSAGE(server << ": first success " << first_ok_ms << " ms and every worker "
                              << all_ok_ms << " ms after the server was up again; "
                              << out.acknowledged.size() << " inserts acknowledged; pool created "
                              << s.created << ", closed " << s.closed);
    for (const auto& [what, n] : out.errors)
        BOOST_TEST_MESSAGE("  " << n << " x " << what);
    for (const std::string& w : out.unexpected_what)
        BOOST_TEST_MESSAGE("unexpected error: " << w);
    BOOST_TEST(out.unexpected == 0);
    BOOST_TEST(!out.errors.empty(), "the outage was not noticed at all");
    BOOST_TEST_REQUIRE(all_ok_ms >= 0, "the pool did not recover within 20 s");
    BOOST_TEST(s.closed >= 1U);  // dead connections were discarded
    BOOST_TEST(s.in_use == 0U);
    BOOST_TEST(s.size <= s.max);

    // Every acknowledged insert survived the crash; nothing else appeared.
    typename Pool::connection_type admin(cfg);
    const auto rows = admin.template query<std::int64_t>("SELECT id FROM " + table);
    const std::set<std::int64_t> present(rows.begin(), rows.end());
    std::size_t missing = 0;
    for (const std::int64_t id : out.acknowledged)
        missing += present.contains(id) ? 0U : 1U;
    BOOST_TEST(missing == 0U, missing << " acknowledged inserts are missing");
    BOOST_TEST(present.size() >= out.acknowledged.size());
    admin.execute("DROP TABLE " + table);
    pool->close(1s);
}

/// 200 coroutines on one event loop run transactions (BEGIN, INSERT of a unique key, COMMIT)
/// through the pool while the server is killed (-9) and started again. Every call ends, in
/// success or a clear error, within the limits on its path (acquisition 500 ms, a connect
/// 500 ms, three statements of 500 ms) + 50 ms; the service recovers by itself; every
/// acknowledged commit is in the table afterwards.
template <class Pool>
void killed_under_200_async_clients(const dal::config& base, const char* server) {
    // Declared first, destroyed last: connections that ran async statements hold I/O objects
    // of this io_context.
    asio::io_context io;
    dal::config cfg = base;
    constexpr auto limit = 500ms;
    cfg.timeouts.connect = limit;
    cfg.timeouts.statement = limit;
    const auto call_limit = 5 * limit + 50ms;  // acquire + connect + 3 statements, + 50 ms
    const std::string table = dal_test::unique_table(std::string("async_crash_") + server);
    {
        typename Pool::connection_type admin(cfg);
        admin.execute("DROP TABLE IF EXISTS " + table);
        admin.execute("CREATE TABLE " + table + " (id BIGINT PRIMARY KEY)");
    }
    dal::pool_options o = opts(20);
    o.min = 5;
    o.acquire_timeout = limit;
    o.max_concurrent_creations = 4;
    auto pool = Pool::create(cfg, o);
    std::mutex m;
    std::vector<std::pair<std::int64_t, clk::time_point>> acknowledged;
    std::map<std::string, int> errors;
    int unexpected = 0;
    std::vector<std::string> unexpected_what;  // printed by the main thread
    long long slowest_ms = 0;
    std::atomic<std::int64_t> next_id{1};
    std::atomic<bool> stop{false};
    const std::string insert = "INSERT INTO " + table + " (id) VALUES (?)";
    for (int c = 0; c < 200; ++c) {
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                while (!stop) {
                    const std::int64_t id = next_id++;
                    const auto start = clk::now();
                    bool ok = false;
                    try {
                        auto db = co_await pool->async_acquire(asio::use_awaitable);
                        co_await db->async_execute("BEGIN"_sql, asio::use_awaitable);
                        co_await db->async_execute(insert, dal::params(id), asio::use_awaitable);
                        co_await db->async_execute("COMMIT"_sql, asio::use_awaitable);
                        ok = true;
                    } catch (const dal::error& e) {
                        const bool expected = e.code() == dal::errc::connection_error ||
                                              e.code() == dal::errc::timeout ||
                                              e.code() == dal::errc::pool_timeout ||
                                              e.code() == dal::errc::cancelled;
                        const std::lock_guard lk(m);
                        ++errors[e.code().message()];
                        if (!expected) {
                            ++unexpected;
                            unexpected_what.emplace_back(e.what());
                        }
                    }
                    const auto now = clk::now();
                    {
                        const std::lock_guard lk(m);
                        slowest_ms = std::max<long long>(
                            slowest_ms,
                            std::chrono::duration_cast<std::chrono::milliseconds>(now - start)
                                .count());
                        if (ok) acknowledged.emplace_back(id, now);
                    }
                    if (!ok) {  // the server is down: do not spin
                        asio::steady_timer pause(co_await asio::this_coro::executor, 20ms);
                        co_await pause.async_wait(asio::use_awaitable);
                    }
                }
            },
            asio::detached);
    }
    std::vector<std::thread> loop;
    const dal_test::stop_and_join guard{stop, loop};
    loop.emplace_back([&] { io.run(); });
    std::this_thread::sleep_for(500ms);
    dal_test::server_ctl("kill", server);
    std::this_thread::sleep_for(500ms);
    dal_test::server_ctl("resume", server);
    const auto up = clk::now();  // accepting connections again
    long long recovered_ms = -1;
    while (recovered_ms < 0 && ms_since(up) < 20'000) {
        {
            const std::lock_guard lk(m);
            for (auto it = acknowledged.rbegin(); it != acknowledged.rend() && it->second > up;
                 ++it)
                recovered_ms =
                    std::chrono::duration_cast<std::chrono::milliseconds>(it->second - up).count();
        }
        std::this_thread::sleep_for(5ms);
    }
    std::this_thread::sleep_for(300ms);
    stop = true;
    loop.front().join();
    BOOST_TEST_MESSAGE(server << " under 200 async clients: " << acknowledged.size()
                              << " commits acknowledged; slowest call " << slowest_ms
                              << " ms (limit " << call_limit.count()
                              << " ms); first commit after the server was up again: "
                              << recovered_ms << " ms");
    for (const auto& [what, n] : errors)
        BOOST_TEST_MESSAGE("  " << n << " x " << what);
    for (const std::string& w : unexpected_what)
        BOOST_TEST_MESSAGE("unexpected error: " << w);
    BOOST_TEST(unexpected == 0);
    BOOST_TEST(!errors.empty(), "the outage was not noticed at all");
    BOOST_TEST(slowest_ms <= call_limit.count());
    BOOST_TEST_REQUIRE(recovered_ms >= 0, "no commit within 20 s of the restart");
    BOOST_TEST(recovered_ms <= 1000);
    typename Pool::connection_type admin(cfg);
    const auto rows = admin.template query<std::int64_t>("SELECT id FROM " + table);
    const std::set<std::int64_t> present(rows.begin(), rows.end());
    std::size_t missing = 0;
    for (const auto& [id, at] : acknowledged)
        missing += present.contains(id) ? 0U : 1U;
    BOOST_TEST(missing == 0U, missing << " acknowledged commits are missing");
    admin.execute("DROP TABLE " + table);
    pool->close(1s);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(pool_mysql,
                      *utf::precondition(dal_test::server_configured{"DAL_TEST_MYSQL_URI"}))

BOOST_AUTO_TEST_CASE(connects_in_flight_hold_no_thread) {
    dal_test::connects_in_flight_hold_no_thread<my_pool>(
        dal_test::config_from_env("DAL_TEST_MYSQL_URI"));
}

BOOST_AUTO_TEST_CASE(async_connect_ends_at_the_connect_limit) {
    dal_test::async_connect_ends_at_the_connect_limit<dal::mysql::connection>(
        dal_test::config_from_env("DAL_TEST_MYSQL_URI"));
}

BOOST_AUTO_TEST_CASE(threads_share_connections_and_counters_add_up) {
    const dal::config cfg = dal_test::config_from_env("DAL_TEST_MYSQL_URI");
    auto p = my_pool::create(cfg, opts(4));
    std::atomic<int> done{0};
    std::atomic<int> twice{0};
    std::atomic<int> wrong{0};
    std::mutex m;
    std::set<const void*> concurrent;  // connections in use at the same moment are distinct
    std::vector<std::thread> ts;
    ts.reserve(8);
    // Boost.Test's checks are not thread-safe: the threads count, the main thread checks.
    for (int t = 0; t < 8; ++t) {
        ts.emplace_back([&] {
            for (int i = 0; i < 40; ++i) {
                auto db = p->acquire(5s);
                {
                    const std::lock_guard lk(m);
                    if (!concurrent.insert(&*db).second) ++twice;
                }
                if (db->query_one<std::int64_t>("SELECT ? + 1"_sql, i).value() != i + 1) ++wrong;
                {
                    const std::lock_guard lk(m);
                    concurrent.erase(&*db);
                }
                ++done;
            }
        });
    }
    for (std::thread& t : ts)
        t.join();
    BOOST_TEST(twice == 0, "handed out twice");
    BOOST_TEST(wrong == 0);
    const dal::pool_status s = p->status();
    BOOST_TEST(done == 320);
    BOOST_TEST(s.acquired == 320U);
    BOOST_TEST(s.size <= 4U);
    BOOST_TEST(s.created - s.closed == s.size);
    BOOST_TEST(s.in_use == 0U);
    BOOST_TEST(s.timeouts == 0U);
}

BOOST_AUTO_TEST_CASE(broken_idle_connection_is_replaced_not_handed_out) {
    const dal::config cfg = dal_test::config_from_env("DAL_TEST_MYSQL_URI");
    dal::pool_options o = opts(2);
    o.validate_after_idle = 0ms;
    auto p = my_pool::create(cfg, o);
    std::uint64_t id = 0;
    {
        auto l = p->acquire();
        id = l->query_one<std::uint64_t>("SELECT CONNECTION_ID()"_sql).value();
    }
    dal::mysql::connection admin(cfg);
    admin.execute("KILL ?"_sql, id);
    std::this_thread::sleep_for(100ms);
    auto l = p->acquire();  // the dead one fails its ping and is replaced
    BOOST_TEST(l->query_one<std::uint64_t>("SELECT CONNECTION_ID()"_sql).value() != id);
    BOOST_TEST(p->status().closed >= 1U);
}

BOOST_AUTO_TEST_CASE(forced_close_cancels_running_statements) {
    const dal::config cfg = dal_test::config_from_env("DAL_TEST_MYSQL_URI");
    auto p = my_pool::create(cfg, opts(2));
    std::optional<dal::error> e;
    std::atomic<bool> started{false};
    std::thread user([&] {
        auto l = p->acquire();
        auto tx = l->begin();
        started = true;
        try {
            l->execute("SELECT SLEEP(10)"_sql);
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
    BOOST_TEST(ms_since(start) < 2000);
    BOOST_TEST_REQUIRE(e.has_value());
    BOOST_TEST((e->code() == dal::errc::cancelled), e->what());
    BOOST_TEST(p->status().size == 0U);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
// Kills the real servers: CTest runs this suite alone (RUN_SERIAL).
BOOST_AUTO_TEST_SUITE(pool_faults, *utf::precondition(dal_test::servers_controllable{}))

BOOST_AUTO_TEST_CASE(postgres_killed_and_restarted_under_load,
                     *utf::precondition(dal_test::server_configured{"DAL_TEST_POSTGRES_URI"})) {
    killed_and_restarted_under_load<pg_pool>(dal_test::config_from_env("DAL_TEST_POSTGRES_URI"),
                                             "postgres");
}

BOOST_AUTO_TEST_CASE(postgres_killed_under_200_async_clients,
                     *utf::precondition(dal_test::server_configured{"DAL_TEST_POSTGRES_URI"})) {
    killed_under_200_async_clients<pg_pool>(dal_test::config_from_env("DAL_TEST_POSTGRES_URI"),
                                            "postgres");
}

BOOST_AUTO_TEST_CASE(mysql_killed_under_200_async_clients,
                     *utf::precondition(dal_test::server_configured{"DAL_TEST_MYSQL_URI"})) {
    killed_under_200_async_clients<my_pool>(dal_test::config_from_env("DAL_TEST_MYSQL_URI"),
                                            "mysql");
}

BOOST_AUTO_TEST_CASE(mysql_killed_and_restarted_under_load,
                     *utf::precondition(dal_test::server_configured{"DAL_TEST_MYSQL_URI"})) {
    killed_and_restarted_under_load<my_pool>(dal_test::config_from_env("DAL_TEST_MYSQL_URI"),
                                             "mysql");
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
// Failover: a PostgreSQL primary and its streaming-replication standby (scripts/test-servers.sh
// starts both). The pool's config lists both hosts with target_session_attrs=read-write; the
// primary is killed (-9) under a write load and the standby promoted. Kills servers: CTest runs
// it alone (RUN_SERIAL).
/// One failover topology: a primary and a replica the test scripts can kill and promote.
struct failover_setup {
    const char* primary_uri;     ///< environment variable of the primary's URI
    const char* replica_uri;     ///< and of the replica's
    const char* primary_server;  ///< names for scripts/test-servers.sh
    const char* replica_server;
    std::pair<std::string, std::string> role;  ///< the option that asks for the writable host
    const char* in_recovery_sql;               ///< 1 on a read-only replica, 0 on a primary
};

/// Writers through two pools on a config listing the primary and then the replica, asking
/// for the writable one: four threads insert single rows (autocommit), two run two-row
/// transactions through `basic_pool::with_transaction` with a retry policy. The primary is
/// killed and the replica promoted. Measures the time from the kill to the first write
/// acknowledged by the promoted replica (target: 5 s), checks that every write acknowledged
/// after the kill is there, that every transaction is all or nothing, and that transactions
/// in flight at the kill were lost as a whole (failover_retry) and run again on the new
/// primary.
template <class Backend>
void primary_killed_replica_promoted(const failover_setup& f) {
    using plain = dal::basic_connection<Backend>;
    using retrying = dal::basic_connection<Backend, dal::policies::exponential_backoff>;
    const dal::config primary = dal_test::config_from_env(f.primary_uri);
    const dal::config replica = dal_test::config_from_env(f.replica_uri);
    dal_test::server_ctl("reset", f.replica_server);  // a fresh replica, whatever ran before
    dal::config cfg = primary;
    cfg.hosts = {primary.hosts.at(0), replica.hosts.at(0)};
    cfg.options.push_back(f.role);
    cfg.timeouts.connect = 1s;
    cfg.timeouts.statement = 1s;
    const std::string table = dal_test::unique_table(std::string("failover_") + f.primary_server);
    {
        plain admin(primary);
        admin.execute("DROP TABLE IF EXISTS " + table);
        admin.execute("CREATE TABLE " + table + " (id BIGINT PRIMARY KEY)");
        plain follower(replica);  // wait until the replica has replayed it
        const auto start = clk::now();
        while (true) {
            try {
                (void)follower.execute("SELECT COUNT(*) FROM " + table);
                break;
            } catch (const dal::error&) {
                BOOST_TEST_REQUIRE(ms_since(start) < 10'000, "the replica does not replicate");
                std::this_thread::sleep_for(20ms);
            }
        }
    }
    auto pool = dal::basic_pool<plain>::create(cfg, opts(4));
    dal::policies::backoff_settings bs;
    bs.base = 50ms;
    bs.cap = 400ms;
    bs.max_attempts = 40;
    bs.total_budget = 15s;
    bs.budget_window = 0ms;  // no retry budget: two writers cannot overload anything
    const dal::policies::exponential_backoff retry(bs);
    auto tx_pool = dal::basic_pool<retrying>::create(cfg, opts(2), [&retry](const dal::config& c) {
        return std::make_unique<retrying>(c, retry);
    });
    dal::call_options op;
    op.operation = 15s;

    std::mutex m;
    std::vector<std::pair<std::int64_t, clk::time_point>> acknowledged;
    std::vector<std::pair<std::int64_t, std::int64_t>> pairs;  // every transaction tried
    std::map<std::string, int> errors;
    int unexpected = 0;
    int rerun = 0;  // transactions that ran again after losing their connection
    std::vector<std::string> unexpected_what;  // printed by the main thread
    std::atomic<std::int64_t> next_id{1};
    std::atomic<bool> stop{false};
    const std::string insert = "INSERT INTO " + table + " (id) VALUES (?)";
    const auto failed = [&](const dal::error& e, bool expected) {
        const std::lock_guard lk(m);
        ++errors[e.code().message()];
        if (!expected) {
            ++unexpected;
            unexpected_what.emplace_back(e.what());
        }
    };
    std::vector<std::thread> writers;
    const dal_test::stop_and_join guard{stop, writers};
    for (int w = 0; w < 4; ++w) {
        writers.emplace_back([&] {
            while (!stop) {
                const std::int64_t id = next_id++;
                try {
                    auto db = pool->acquire();
                    db->execute(insert, id);
                    const std::lock_guard lk(m);
                    acknowledged.emplace_back(id, clk::now());
                } catch (const dal::error& e) {
                    // A statement in flight: it may have run, so nothing retries it.
                    failed(e, e.code() == dal::errc::connection_error ||
                                  e.code() == dal::errc::timeout ||
                                  e.code() == dal::errc::pool_timeout);
                    std::this_thread::sleep_for(5ms);
                }
                std::this_thread::sleep_for(1ms);
            }
        });
    }
    for (int w = 0; w < 2; ++w) {
        writers.emplace_back([&] {
            while (!stop) {
                const std::int64_t a = next_id++;
                const std::int64_t b = next_id++;
                int attempts = 0;
                {
                    const std::lock_guard lk(m);
                    pairs.emplace_back(a, b);
                }
                try {
                    tx_pool->with_transaction(
                        [&](retrying& c) {
                            ++attempts;
                            c.execute(insert, a);
                            std::this_thread::sleep_for(10ms);  // in a transaction most of the time
                            c.execute(insert, b);
                        },
                        op);
                    const std::lock_guard lk(m);
                    acknowledged.emplace_back(a, clk::now());
                    acknowledged.emplace_back(b, clk::now());
                    if (attempts > 1) ++rerun;
                } catch (const dal::error& e) {
                    // COMMIT in flight: outcome unknown, never retried. The others only when
                    // the retries ran out.
                    failed(e, e.code() == dal::errc::transaction_outcome_unknown ||
                                  e.code() == dal::errc::connection_error ||
                                  e.code() == dal::errc::timeout);
                    std::this_thread::sleep_for(5ms);
                }
            }
        });
    }
    std::this_thread::sleep_for(400ms);
    const auto killed = clk::now();
    dal_test::server_ctl("kill", f.primary_server);
    const auto dead = clk::now();  // from here on, only the promoted replica can acknowledge
    dal_test::server_ctl("promote", f.replica_server);
    const long long promoted_ms = ms_since(killed);
    long long first_write_ms = -1;
    while (first_write_ms < 0 && ms_since(killed) < 20'000) {
        {
            const std::lock_guard lk(m);
            for (const auto& [id, at] : acknowledged)
                if (at > dead) {
                    first_write_ms =
                        std::chrono::duration_cast<std::chrono::milliseconds>(at - killed).count();
                    break;
                }
        }
        std::this_thread::sleep_for(5ms);
    }
    std::this_thread::sleep_for(300ms);
    stop = true;
    for (std::thread& t : writers)
        t.join();
    BOOST_TEST_MESSAGE(f.primary_server << " failover: replica promoted " << promoted_ms
                                        << " ms after the kill; first write on it "
                                        << first_write_ms << " ms after the kill; " << rerun
                                        << " transactions lost with the primary ran again on "
                                           "the new one");
    for (const auto& [what, n] : errors)
        BOOST_TEST_MESSAGE("  " << n << " x " << what);
    for (const std::string& w : unexpected_what)
        BOOST_TEST_MESSAGE("unexpected error: " << w);
    BOOST_TEST(unexpected == 0);
    BOOST_TEST_REQUIRE(first_write_ms >= 0, "no write succeeded within 20 s of the kill");
    BOOST_TEST(first_write_ms <= 5000);  // the target
    BOOST_TEST(rerun >= 1, "no transaction was in flight at the kill");

    // On the new primary: every write acknowledged after the kill is there. Writes the old
    // primary acknowledged just before it died may be missing: replication is asynchronous
    // (a synchronous replica would make them wait); they are counted.
    plain now_primary(replica);
    BOOST_TEST(now_primary.template query_one<std::int64_t>(f.in_recovery_sql).value() == 0);
    const auto rows = now_primary.template query<std::int64_t>("SELECT id FROM " + table);
    const std::set<std::int64_t> present(rows.begin(), rows.end());
    std::size_t lost_after = 0;
    std::size_t lost_before = 0;
    for (const auto& [id, at] : acknowledged)
        if (!present.contains(id)) (at > dead ? lost_after : lost_before) += 1;
    std::size_t torn = 0;
    for (const auto& [a, b] : pairs)
        if (present.contains(a) != present.contains(b)) ++torn;
    BOOST_TEST_MESSAGE("acknowledged " << acknowledged.size() << " writes; missing on the new "
                                       << "primary: " << lost_before
                                       << " acknowledged by the old primary before it died "
                                          "(asynchronous replication), "
                                       << lost_after << " after; " << pairs.size()
                                       << " transactions tried");
    BOOST_TEST(lost_after == 0U);
    BOOST_TEST(torn == 0U, torn << " transactions are half there");
    now_primary.execute("DROP TABLE " + table);
    pool->close(1s);
    tx_pool->close(1s);
    // Back to the usual topology for the tests that follow.
    dal_test::server_ctl("resume", f.primary_server);
    dal_test::server_ctl("reset", f.replica_server);
}

/// Recovery by role: a pool asking for a standby (prefer-standby) falls back to the primary
/// while the replica is down, and uses the replica again once it is back, as its connections
/// are renewed (a short max_lifetime here).
template <class Backend>
void replica_back_is_used_again(const failover_setup& f,
                                std::pair<std::string, std::string> prefer) {
    using plain = dal::basic_connection<Backend>;
    const dal::config primary = dal_test::config_from_env(f.primary_uri);
    const dal::config replica = dal_test::config_from_env(f.replica_uri);
    dal_test::server_ctl("reset", f.replica_server);
    dal::config cfg = primary;
    cfg.hosts = {primary.hosts.at(0), replica.hosts.at(0)};
    cfg.options.push_back(std::move(prefer));
    cfg.timeouts.connect = 1s;
    dal::pool_options o = opts(2);
    o.min = 0;
    o.max_lifetime = 300ms;
    o.lifetime_jitter = 0;
    auto pool = dal::basic_pool<plain>::create(cfg, o);
    const auto on_replica = [&] {
        auto db = pool->acquire();
        return db->template query_one<std::int64_t>(f.in_recovery_sql).value() == 1;
    };
    BOOST_TEST(on_replica(), "a standby is preferred");
    dal_test::server_ctl("kill", f.replica_server);
    std::this_thread::sleep_for(400ms);  // the pooled connection expires
    BOOST_TEST(!on_replica(), "without the replica, the primary serves");
    dal_test::server_ctl("resume", f.replica_server);
    std::this_thread::sleep_for(400ms);
    BOOST_TEST(on_replica(), "the replica is back, so new connections go there again");
    pool->close(1s);
}

BOOST_AUTO_TEST_SUITE(failover, *utf::precondition(dal_test::servers_controllable{}))

BOOST_AUTO_TEST_CASE(postgres_primary_killed_standby_promoted,
                     *utf::precondition(dal_test::server_configured{"DAL_TEST_STANDBY_URI"})) {
    primary_killed_replica_promoted<dal::postgres::backend>(
        {"DAL_TEST_POSTGRES_URI",
         "DAL_TEST_STANDBY_URI",
         "postgres",
         "standby",
         {"target_session_attrs", "read-write"},
         "SELECT CASE WHEN pg_is_in_recovery() THEN 1 ELSE 0 END"});
}

BOOST_AUTO_TEST_CASE(postgres_standby_back_is_used_again,
                     *utf::precondition(dal_test::server_configured{"DAL_TEST_STANDBY_URI"})) {
    replica_back_is_used_again<dal::postgres::backend>(
        {"DAL_TEST_POSTGRES_URI",
         "DAL_TEST_STANDBY_URI",
         "postgres",
         "standby",
         {"target_session_attrs", "read-write"},
         "SELECT CASE WHEN pg_is_in_recovery() THEN 1 ELSE 0 END"},
        {"target_session_attrs", "prefer-standby"});
}

BOOST_AUTO_TEST_CASE(mysql_replica_back_is_used_again,
                     *utf::precondition(dal_test::server_configured{
                         "DAL_TEST_MYSQL_REPLICA_URI"})) {
    replica_back_is_used_again<dal::mysql::backend>({"DAL_TEST_MYSQL_URI",
                                                     "DAL_TEST_MYSQL_REPLICA_URI",
                                                     "mysql",
                                                     "replica",
                                                     {"target_role", "primary"},
                                                     "SELECT @@global.read_only"},
                                                    {"target_role", "prefer_standby"});
}

BOOST_AUTO_TEST_CASE(mysql_primary_killed_replica_promoted,
                     *utf::precondition(dal_test::server_configured{
                         "DAL_TEST_MYSQL_REPLICA_URI"})) {
    primary_killed_replica_promoted<dal::mysql::backend>({"DAL_TEST_MYSQL_URI",
                                                          "DAL_TEST_MYSQL_REPLICA_URI",
                                                          "mysql",
                                                          "replica",
                                                          {"target_role", "primary"},
                                                          "SELECT @@global.read_only"});
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
// MySQL/MariaDB target roles: the role of a host is read from @@global.read_only after
// connecting (a replica is read-only, a primary is not). The one test server plays both parts:
// the test switches read_only (so CTest runs it alone).
BOOST_AUTO_TEST_SUITE(roles, *utf::precondition(dal_test::server_configured{"DAL_TEST_MYSQL_URI"}))

BOOST_AUTO_TEST_CASE(mysql_target_role_follows_read_only) {
    const dal::config base = dal_test::config_from_env("DAL_TEST_MYSQL_URI");
    dal::mysql::connection admin(base);
    struct writable_again {
        dal::mysql::connection& c;
        writable_again(const writable_again&) = delete;
        writable_again& operator=(const writable_again&) = delete;
        writable_again(writable_again&&) = delete;
        writable_again& operator=(writable_again&&) = delete;
        explicit writable_again(dal::mysql::connection& a) : c(a) {}
        ~writable_again() {
            try {
                c.execute("SET GLOBAL read_only = 0"_sql);
            } catch (...) {  // NOLINT(bugprone-empty-catch): reported by the test itself
            }
        }
    } restore(admin);
    // A host that refuses first, then the server: the hosts are tried in order.
    const auto with_role = [&](const char* role) {
        dal::config c = base;
        c.hosts.insert(c.hosts.begin(), dal::endpoint{"127.0.0.1", 1});  // refused
        c.options.emplace_back("target_role", role);
        return c;
    };
    const auto role_of = [&](const char* role) {
        dal::mysql::connection db(with_role(role));
        return db.query_one<std::int64_t>("SELECT @@global.read_only"_sql).value();
    };
    admin.execute("SET GLOBAL read_only = 1"_sql);  // the server acts as a replica
    const dal::error e =
        dal_test::expect_error([&] { dal::mysql::connection db(with_role("primary")); });
    BOOST_TEST((e.code() == dal::errc::connection_error), e.what());
    BOOST_TEST(std::string(e.what()).find("read-only") != std::string::npos);
    BOOST_TEST(role_of("standby") == 1);
    BOOST_TEST(role_of("prefer_standby") == 1);
    admin.execute("SET GLOBAL read_only = 0"_sql);  // promoted
    BOOST_TEST(role_of("primary") == 0);
    BOOST_TEST(role_of("prefer_standby") == 0);  // no standby: any host
    const dal::error none =
        dal_test::expect_error([&] { dal::mysql::connection db(with_role("standby")); });
    BOOST_TEST((none.code() == dal::errc::connection_error), none.what());
    const dal::error bad =
        dal_test::expect_error([&] { dal::mysql::connection db(with_role("leader")); });
    BOOST_TEST((bad.code() == dal::errc::invalid_argument), bad.what());
}

BOOST_AUTO_TEST_SUITE_END()
