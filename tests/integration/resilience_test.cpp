// The resilience policies against real servers: the retry rule's two sides (a connection that
// broke is reopened and the call retried; a statement that may have run is not), a deadlock
// retried as a whole transaction, a COMMIT in flight when the link breaks, the breaker on
// stuck queries of every backend (PostgreSQL pg_sleep, MariaDB SLEEP, an endless SQLite CTE)
// and on a network stall (a loopback proxy that stops forwarding), closing again through
// half-open when the network comes back.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <dal/mysql.hpp>
#include <dal/policies/breaker.hpp>
#include <dal/policies/retry.hpp>
#include <dal/pool.hpp>
#include <dal/postgres.hpp>
#include <dal/sqlite.hpp>

#include "servers.hpp"
#include "tcp_proxy.hpp"

namespace {

using namespace dal::literals;  // NOLINT(google-build-using-namespace): test file
using namespace std::chrono_literals;
namespace utf = boost::unit_test;
namespace pol = dal::policies;
using clk = std::chrono::steady_clock;
using dal_test::expect_error;

template <class Backend>
using resilient = dal::basic_connection<Backend, pol::exponential_backoff, pol::config_timeout,
                                        pol::circuit_breaker>;
using pg_resilient = resilient<dal::postgres::backend>;

long long ms_since(clk::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clk::now() - t).count();
}

/// Short backoff, no budget surprises: the tests count attempts.
pol::exponential_backoff quick_retry() {
    pol::backoff_settings s;
    s.base = 10ms;
    s.cap = 50ms;
    s.max_attempts = 4;
    return pol::exponential_backoff(s);
}

/// Records every transition of a breaker, in order.
struct transitions {
    std::mutex m;
    std::vector<std::pair<pol::breaker_state, pol::breaker_state>> seen;
    void operator()(pol::breaker_state from, pol::breaker_state to) {
        const std::lock_guard lk(m);
        seen.emplace_back(from, to);
    }
    std::size_t count() {
        const std::lock_guard lk(m);
        return seen.size();
    }
};

/// A breaker that opens on slow calls: 3 calls, half of them slower than 100 ms.
pol::breaker_settings slow_call_breaker(transitions& t) {
    pol::breaker_settings s;
    s.window_size = 3;
    s.minimum_calls = 3;
    s.slow_call_threshold = 100ms;
    s.slow_call_rate_threshold = 0.5;
    s.open_duration = 300ms;
    s.half_open_permitted_calls = 2;
    s.on_state_change = [&t](pol::breaker_state from, pol::breaker_state to) { t(from, to); };
    return s;
}

/// Stuck queries count as slow calls and open the breaker; the connection stays healthy and
/// the breaker closes again through half-open. The same for every backend.
template <class Connection>
void stuck_queries_open_the_breaker(dal::config cfg, const std::string& stuck) {
    cfg.timeouts.statement = 200ms;
    transitions t;
    const pol::circuit_breaker breaker(slow_call_breaker(t));
    Connection db(cfg, {}, {}, breaker);  // connecting is the window's first (fast) call
    int stuck_calls = 0;
    while (breaker.state() == pol::breaker_state::closed && stuck_calls < 5) {
        const dal::error e = expect_error([&] { db.execute(stuck); });
        BOOST_TEST((e.code() == dal::errc::timeout), e.what());
        ++stuck_calls;
    }
    BOOST_TEST(stuck_calls == 2);  // 2 slow calls of 3 >= the 50 % slow-call threshold
    BOOST_TEST((breaker.state() == pol::breaker_state::open));
    // Open: calls fail at once, saying when the next probe may go.
    const auto start = clk::now();
    const dal::error open = expect_error([&] { db.execute("SELECT 1"); });
    BOOST_TEST((open.code() == dal::errc::circuit_open), open.what());
    BOOST_TEST(ms_since(start) < 50);
    // The connection itself is fine: the statements were cancelled, not the session.
    BOOST_TEST(db.is_open());
    std::this_thread::sleep_for(350ms);
    for (int k = 0; k < 2; ++k)
        BOOST_TEST(db.template query_one<std::int64_t>("SELECT 1").value() == 1);
    BOOST_TEST((breaker.state() == pol::breaker_state::closed));
    const std::lock_guard lk(t.m);
    BOOST_TEST_REQUIRE(t.seen.size() == 3U);
    BOOST_TEST((t.seen[0].second == pol::breaker_state::open));
    BOOST_TEST((t.seen[1].second == pol::breaker_state::half_open));
    BOOST_TEST((t.seen[2].second == pol::breaker_state::closed));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
/// How a test ends its own session on the server: the id of this session, and the statement
/// another session runs to terminate it.
struct session_killer {
    const char* own_id;     ///< SQL that returns this session's id
    const char* terminate;  ///< SQL prefix; the id is appended
};
const session_killer pg_killer{"SELECT pg_backend_pid()", "SELECT pg_terminate_backend("};
const session_killer mysql_killer{"SELECT CONNECTION_ID()", "KILL CONNECTION ("};

template <class Connection, class Admin>
void kill_session(Connection& victim, Admin& admin, const session_killer& k) {
    const auto id = victim.template query_one<std::int64_t>(std::string(k.own_id)).value();
    admin.execute(std::string(k.terminate) + std::to_string(id) + ")");
    std::this_thread::sleep_for(100ms);
}

/// A transaction whose connection breaks before COMMIT: the server rolled it back, so the
/// error says "retry" (failover_retry), with_transaction runs it again as a whole on the
/// reopened connection, and every row lands exactly once.
template <class Backend, class Plain>
void lost_transaction_is_rerun_as_a_whole(const char* uri_variable, const session_killer& k) {
    const dal::config cfg = dal_test::config_from_env(uri_variable);
    const std::string table = dal_test::unique_table("res_lost");
    Plain admin(cfg);
    admin.execute("DROP TABLE IF EXISTS " + table);
    admin.execute("CREATE TABLE " + table + " (id INT PRIMARY KEY)");
    const std::string insert = "INSERT INTO " + table + " VALUES (?)";

    // 1. No retry policy: the next statement, the commit and the guard each say so.
    {
        Plain db(cfg);
        auto tx = db.begin();
        db.execute(insert, 1);
        kill_session(db, admin, k);
        const dal::error next = expect_error([&] { db.execute(insert, 2); });
        BOOST_TEST((next.code() == dal::errc::failover_retry), next.what());
        BOOST_TEST((next.code() == dal::client_errc::transaction_lost), next.what());
        const dal::error commit = expect_error([&] { tx.commit(); });
        BOOST_TEST((commit.code() == dal::errc::failover_retry), commit.what());
        BOOST_TEST(!tx.active());
        BOOST_TEST(!db.in_transaction());
    }
    // The guard of a lost transaction rolls back quietly: the server did already.
    {
        Plain db(cfg);
        auto tx = db.begin();
        db.execute(insert, 3);
        kill_session(db, admin, k);
        tx.rollback();
        BOOST_TEST(!db.in_transaction());
    }
    BOOST_TEST(admin.template query_one<std::int64_t>("SELECT COUNT(*) FROM " + table).value() ==
               0);

    // 2. With a retry policy: run again as a whole, on a reopened connection.
    const pol::exponential_backoff retry = quick_retry();
    resilient<Backend> db(cfg, retry);
    const auto first_id = db.template query_one<std::int64_t>(std::string(k.own_id)).value();
    int attempts = 0;
    db.with_transaction([&](resilient<Backend>& c) {
        ++attempts;
        c.execute(insert, 10);
        if (attempts == 1) kill_session(c, admin, k);
        c.execute(insert, 11);
    });
    BOOST_TEST(attempts == 2);
    BOOST_TEST(retry.stats().granted == 1U);
    BOOST_TEST(db.template query_one<std::int64_t>(std::string(k.own_id)).value() != first_id);
    BOOST_TEST(admin.template query<std::int64_t>("SELECT id FROM " + table + " ORDER BY id") ==
                   (std::vector<std::int64_t>{10, 11}),
               "the transaction applied exactly once");
    admin.execute("DROP TABLE " + table);
}

BOOST_AUTO_TEST_SUITE(resilience_postgres,
                      *utf::precondition(dal_test::server_configured{"DAL_TEST_POSTGRES_URI"}))

BOOST_AUTO_TEST_CASE(retry_rule_both_sides) {
    const dal::config cfg = dal_test::config_from_env("DAL_TEST_POSTGRES_URI");
    const pol::exponential_backoff retry = quick_retry();
    pg_resilient db(cfg, retry);
    dal::postgres::connection admin(cfg);
    const auto pid = db.query_one<std::int32_t>("SELECT pg_backend_pid()"_sql).value();
    admin.execute("SELECT pg_terminate_backend(?)"_sql, pid);
    std::this_thread::sleep_for(100ms);
    // 1. Sent on a link that turned out dead: the statement may have run, so it is not
    //    re-run, whatever the policy allows.
    const dal::error sent = expect_error([&] { db.execute("SELECT 1"_sql); });
    BOOST_TEST((sent.code() == dal::errc::connection_error), sent.what());
    BOOST_TEST(retry.stats().denied_unsafe == 1U);
    BOOST_TEST(!db.is_open());
    // 2. The next call finds the connection broken before sending anything: that is safe,
    //    so the policy reopens it and the call succeeds.
    const auto again = db.query_one<std::int32_t>("SELECT pg_backend_pid()"_sql).value();
    BOOST_TEST(again != pid);
    BOOST_TEST(retry.stats().granted == 1U);
    // 3. Without a retry policy the broken connection says so (a connection_error).
    dal::postgres::connection plain(cfg);
    admin.execute("SELECT pg_terminate_backend(?)"_sql,
                  plain.query_one<std::int32_t>("SELECT pg_backend_pid()"_sql).value());
    std::this_thread::sleep_for(100ms);
    (void)expect_error([&] { plain.execute("SELECT 1"_sql); });
    const dal::error broken = expect_error([&] { plain.execute("SELECT 1"_sql); });
    BOOST_TEST((broken.code() == dal::errc::connection_error), broken.what());
    // 4. Closed by its owner: never reopened.
    db.close();
    const dal::error closed = expect_error([&] { db.execute("SELECT 1"_sql); });
    BOOST_TEST((closed.code() == dal::errc::closed), closed.what());
}

BOOST_AUTO_TEST_CASE(operation_deadline_bounds_the_retries) {
    dal::config cfg = dal_test::config_from_env("DAL_TEST_POSTGRES_URI");
    auto proxy = std::make_unique<dal_test::tcp_proxy>(cfg.hosts.at(0).port);
    cfg.hosts[0].port = proxy->port();
    cfg.timeouts.connect = 100ms;
    // A policy that would retry every 30 ms for ever: only the operation limit stops it.
    pol::backoff_settings s;
    s.base = 30ms;
    s.cap = 30ms;
    s.jitter = pol::backoff_settings::jitter_kind::none;
    s.max_attempts = 1000;
    s.total_budget = 0ms;
    s.budget_window = 0ms;
    const pol::exponential_backoff retry(s);
    pg_resilient db(cfg, retry);
    dal::postgres::connection admin(dal_test::config_from_env("DAL_TEST_POSTGRES_URI"));
    admin.execute("SELECT pg_terminate_backend(?)"_sql,
                  db.query_one<std::int32_t>("SELECT pg_backend_pid()"_sql).value());
    proxy.reset();  // the server is unreachable from now on: reconnecting is refused
    (void)expect_error([&] { db.execute("SELECT 1"_sql); });  // sent: not retried
    dal::call_options o;
    o.operation = 200ms;
    const auto start = clk::now();
    const dal::error e = expect_error([&] { db.execute(o, "SELECT 1"_sql); });
    const auto took = ms_since(start);
    BOOST_TEST((e.code() == dal::errc::connection_error), e.what());
    BOOST_TEST(took >= 150);
    BOOST_TEST(took < 350, "retries went on past the operation limit: " << took << " ms");
    BOOST_TEST(retry.stats().granted >= 3U);
}

BOOST_AUTO_TEST_CASE(deadlock_is_retried_as_a_whole_transaction) {
    const dal::config cfg = dal_test::config_from_env("DAL_TEST_POSTGRES_URI");
    const std::string table = dal_test::unique_table("res_deadlock");
    dal::postgres::connection admin(cfg);
    admin.execute("DROP TABLE IF EXISTS " + table);
    admin.execute("CREATE TABLE " + table + " (id INT PRIMARY KEY, n INT NOT NULL)");
    admin.execute("INSERT INTO " + table + " VALUES (1, 0), (2, 0)");
    const pol::exponential_backoff retry = quick_retry();
    std::atomic<int> attempts{0};
    const std::string update = "UPDATE " + table + " SET n = n + 1 WHERE id = ?";
    auto worker = [&](int first, int second) {
        pg_resilient db(cfg, retry);
        db.with_transaction([&](pg_resilient& c) {
            ++attempts;
            c.execute(update, first);
            std::this_thread::sleep_for(200ms);
            c.execute(update, second);
        });
    };
    std::thread a(worker, 1, 2);
    std::thread b(worker, 2, 1);
    a.join();
    b.join();
    // One of them was the deadlock victim and ran again, as a whole.
    BOOST_TEST(attempts == 3);
    BOOST_TEST(retry.stats().granted == 1U);
    const auto n = admin.query<std::int64_t>("SELECT n FROM " + table + " ORDER BY id");
    BOOST_TEST(n == (std::vector<std::int64_t>{2, 2}), "each transaction applied exactly once");
    admin.execute("DROP TABLE " + table);
}

BOOST_AUTO_TEST_CASE(link_broken_during_commit_is_outcome_unknown) {
    const dal::config cfg = dal_test::config_from_env("DAL_TEST_POSTGRES_URI");
    const std::string table = dal_test::unique_table("res_commit");
    dal::postgres::connection admin(cfg);
    admin.execute("DROP TABLE IF EXISTS " + table);
    admin.execute("CREATE TABLE " + table + " (id INT PRIMARY KEY)");
    // A deferred constraint trigger that sleeps: COMMIT takes a second, long enough to kill
    // the server process while it is in flight.
    admin.execute("CREATE OR REPLACE FUNCTION " + table +
                  "_slow() RETURNS trigger LANGUAGE plpgsql AS "
                  "$$ BEGIN PERFORM pg_sleep(1); RETURN NULL; END $$");
    admin.execute("CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON " + table +
                  " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION " + table +
                  "_slow()");
    pg_resilient db(cfg, quick_retry());
    const auto pid = db.query_one<std::int32_t>("SELECT pg_backend_pid()"_sql).value();
    std::thread killer([&] {
        std::this_thread::sleep_for(400ms);
        admin.execute("SELECT pg_terminate_backend(?)"_sql, pid);
    });
    const dal::error e = expect_error([&] {
        auto tx = db.begin();
        db.execute("INSERT INTO " + table + " VALUES (1)");
        tx.commit();
    });
    killer.join();
    BOOST_TEST((e.code() == dal::errc::transaction_outcome_unknown), e.what());
    BOOST_TEST(!db.in_transaction());
    admin.execute("DROP TABLE " + table);
    admin.execute("DROP FUNCTION " + table + "_slow()");
}

BOOST_AUTO_TEST_CASE(lost_transaction_is_failover_retry_and_rerun_whole) {
    lost_transaction_is_rerun_as_a_whole<dal::postgres::backend, dal::postgres::connection>(
        "DAL_TEST_POSTGRES_URI", pg_killer);
}

BOOST_AUTO_TEST_CASE(pool_operation_limit_covers_acquisition) {
    const dal::config cfg = dal_test::config_from_env("DAL_TEST_POSTGRES_URI");
    dal::pool_options o = dal::pool_options::from(cfg);
    o.min = 0;
    o.max = 1;
    o.acquire_timeout = 5s;
    auto pool = dal::basic_pool<dal::postgres::connection>::create(cfg, o);
    dal::call_options op;
    op.operation = 300ms;
    {
        const auto held = pool->acquire();
        // The pool is saturated: the operation's limit, not the 5 s acquisition limit, ends
        // the wait.
        const auto start = clk::now();
        const dal::error e =
            expect_error([&] { pool->with_transaction([](dal::postgres::connection&) {}, op); });
        BOOST_TEST((e.code() == dal::errc::pool_timeout), e.what());
        BOOST_TEST(ms_since(start) < 1000);
    }
    // What the wait used is gone from the statements' share: a statement that would run for
    // 5 s ends at the operation's limit.
    const auto start = clk::now();
    const dal::error e = expect_error([&] {
        pool->with_transaction(
            [](dal::postgres::connection& c) { c.execute("SELECT pg_sleep(5)"_sql); }, op);
    });
    BOOST_TEST((e.code() == dal::errc::timeout), e.what());
    BOOST_TEST(ms_since(start) < 2000);
    // The same outside a transaction.
    const auto again = clk::now();
    const dal::error plain = expect_error([&] {
        pool->with_connection(
            [](dal::postgres::connection& c) { c.execute("SELECT pg_sleep(5)"_sql); }, op);
    });
    BOOST_TEST((plain.code() == dal::errc::timeout), plain.what());
    BOOST_TEST(ms_since(again) < 2000);
    // And the pool still works.
    const auto n = pool->with_transaction(
        [](dal::postgres::connection& c) { return c.query_one<std::int32_t>("SELECT 7"_sql); });
    BOOST_TEST(n.value() == 7);
}

BOOST_AUTO_TEST_CASE(late_cancel_request_does_not_hit_the_next_statement) {
    namespace asio = boost::asio;
    dal::config cfg = dal_test::config_from_env("DAL_TEST_POSTGRES_URI");
    dal_test::tcp_proxy proxy(cfg.hosts.at(0).port);
    cfg.hosts[0].port = proxy.port();
    cfg.timeouts.statement = 200ms;
    cfg.options.emplace_back("cancel_grace", "2s");
    asio::io_context io;
    dal::postgres::connection db(io.get_executor(), cfg);
    // The cancel request (a connection of its own) is held up at the proxy: the statement it
    // was sent for finishes on its own first.
    proxy.hold_new();
    std::atomic<bool> first_done{false};
    std::optional<dal::error> second_failed;
    std::optional<int> second;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            try {
                co_await db.async_execute("SELECT pg_sleep(0.3)"_sql, asio::use_awaitable);
            } catch (const dal::error&) {  // NOLINT(bugprone-empty-catch): either outcome
            }
            first_done = true;
            try {
                second = co_await db.async_query_one<int>("SELECT 7 FROM pg_sleep(0.12)"_sql,
                                                          dal::params(), asio::use_awaitable);
            } catch (const dal::error& e) {
                second_failed = e;
            }
        },
        asio::detached);
    std::thread release([&] {
        while (!first_done)
            std::this_thread::sleep_for(1ms);
        // The second statement is running (or waiting for the cancel to land) now.
        std::this_thread::sleep_for(40ms);
        proxy.accept_new();
    });
    io.run();
    release.join();
    // Landing during the second statement, the request would have cancelled it; the session
    // waits for it to land (on an idle backend) before sending the next statement instead.
    BOOST_TEST(!second_failed.has_value(), (second_failed ? second_failed->what() : ""));
    BOOST_TEST(second.value_or(0) == 7);
}

BOOST_AUTO_TEST_CASE(stuck_pg_sleep_opens_the_breaker) {
    stuck_queries_open_the_breaker<pg_resilient>(dal_test::config_from_env("DAL_TEST_POSTGRES_URI"),
                                                 "SELECT pg_sleep(30)");
}

BOOST_AUTO_TEST_CASE(constraint_violations_do_not_open_the_breaker) {
    const dal::config cfg = dal_test::config_from_env("DAL_TEST_POSTGRES_URI");
    pol::breaker_settings s;
    s.minimum_calls = 3;
    s.window_size = 5;
    const pol::circuit_breaker breaker(s);
    pg_resilient db(cfg, {}, {}, breaker);
    db.execute("CREATE TEMP TABLE [u] ([id] INT PRIMARY KEY)"_sql);
    db.execute("INSERT INTO [u] VALUES (1)"_sql);
    for (int k = 0; k < 10; ++k) {
        const dal::error e = expect_error([&] { db.execute("INSERT INTO [u] VALUES (1)"_sql); });
        BOOST_TEST((e.code() == dal::errc::constraint_violation));
    }
    (void)expect_error([&] { db.execute("SELEC 1"_sql); });
    BOOST_TEST((breaker.state() == pol::breaker_state::closed));
}

BOOST_AUTO_TEST_CASE(network_stall_opens_the_breaker_and_half_open_closes_it) {
    dal::config cfg = dal_test::config_from_env("DAL_TEST_POSTGRES_URI");
    BOOST_TEST_REQUIRE(cfg.hosts.size() == 1U);
    dal_test::tcp_proxy proxy(cfg.hosts[0].port);
    cfg.hosts[0].port = proxy.port();
    cfg.timeouts.statement = 300ms;
    cfg.timeouts.connect = 300ms;
    cfg.options.emplace_back("cancel_grace", "200ms");
    transitions t;
    pol::breaker_settings s;
    s.window_size = 4;
    s.minimum_calls = 4;
    s.failure_rate_threshold = 0.5;
    s.open_duration = 500ms;
    s.half_open_permitted_calls = 2;
    s.on_state_change = [&t](pol::breaker_state from, pol::breaker_state to) { t(from, to); };
    const pol::circuit_breaker breaker(s);
    // One breaker for the pool: every connection gets a copy of the prototype.
    dal::pool_options o;
    o.min = 2;
    o.max = 4;
    o.acquire_timeout = 1s;
    auto pool = dal::basic_pool<pg_resilient>::create(cfg, o, [&](const dal::config& c) {
        return std::make_unique<pg_resilient>(c, pol::exponential_backoff{}, pol::config_timeout{},
                                              breaker);
    });
    auto call = [&] {
        auto db = pool->acquire();
        return db->query_one<std::int64_t>("SELECT 1"_sql).value();
    };
    for (int k = 0; k < 5; ++k)
        BOOST_TEST(call() == 1);
    proxy.stall();
    // Calls hit their deadlines (statement limit + cancel grace, or the connect limit) ...
    int failures = 0;
    for (int k = 0; k < 10 && breaker.state() != pol::breaker_state::open; ++k) {
        const auto start = clk::now();
        const dal::error e = expect_error([&] { (void)call(); });
        BOOST_TEST(((e.code() == dal::errc::timeout) || (e.code() == dal::errc::connection_error)),
                   e.what());
        BOOST_TEST(ms_since(start) < 1500, "a call outlived its limits: " << ms_since(start));
        ++failures;
    }
    // ... until the breaker opens; then they fail at once.
    BOOST_TEST((breaker.state() == pol::breaker_state::open));
    BOOST_TEST(failures >= 2);
    const auto start = clk::now();
    const dal::error open = expect_error([&] { (void)call(); });
    BOOST_TEST((open.code() == dal::errc::circuit_open), open.what());
    BOOST_TEST(ms_since(start) < 100);
    // The network comes back; after open_duration, probes close the breaker again.
    proxy.resume();
    std::this_thread::sleep_for(600ms);
    const auto recovering = clk::now();
    while (breaker.state() != pol::breaker_state::closed && ms_since(recovering) < 5000) {
        try {
            (void)call();
        } catch (const dal::error& e) {
            BOOST_TEST_MESSAGE("while recovering: " << e.what());
            std::this_thread::sleep_for(50ms);
        }
    }
    BOOST_TEST((breaker.state() == pol::breaker_state::closed));
    BOOST_TEST(call() == 1);
    const std::lock_guard lk(t.m);
    BOOST_TEST_REQUIRE(t.seen.size() >= 3U);
    BOOST_TEST((t.seen.front().second == pol::breaker_state::open));
    BOOST_TEST((t.seen.back().first == pol::breaker_state::half_open));
    BOOST_TEST((t.seen.back().second == pol::breaker_state::closed));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(resilience_mysql,
                      *utf::precondition(dal_test::server_configured{"DAL_TEST_MYSQL_URI"}))

BOOST_AUTO_TEST_CASE(lost_transaction_is_failover_retry_and_rerun_whole) {
    lost_transaction_is_rerun_as_a_whole<dal::mysql::backend, dal::mysql::connection>(
        "DAL_TEST_MYSQL_URI", mysql_killer);
}

BOOST_AUTO_TEST_CASE(stuck_sleep_opens_the_breaker) {
    stuck_queries_open_the_breaker<resilient<dal::mysql::backend>>(
        dal_test::config_from_env("DAL_TEST_MYSQL_URI"), "SELECT SLEEP(30)");
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(resilience_sqlite)

BOOST_AUTO_TEST_CASE(endless_cte_opens_the_breaker) {
    const std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("dal-res-" + std::to_string(::getpid()) + ".db");
    stuck_queries_open_the_breaker<resilient<dal::sqlite::backend>>(
        dal::config::from_uri("sqlite://" + path.string()),
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
        "SELECT count(*) FROM c");
    std::error_code ec;
    std::filesystem::remove(path, ec);
}

BOOST_AUTO_TEST_SUITE_END()
