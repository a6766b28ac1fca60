// The composed connection on the PostgreSQL backend, against the real server scripts/test.sh
// starts (and the pgbouncer in front of it): types, transactions, the statement cache,
// pipelines, time limits and cancellation, errors, connect limits, and the async forms with
// many connections on one thread.
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/hana/define_struct.hpp>
#include <boost/json/value.hpp>
#include <boost/test/unit_test.hpp>

#include <dal/decimal.hpp>
#include <dal/json.hpp>
#include <dal/postgres.hpp>

#include "servers.hpp"
#include "tls_checks.hpp"

namespace {

using namespace dal::literals;  // NOLINT(google-build-using-namespace): test file
using namespace std::chrono_literals;
namespace utf = boost::unit_test;
namespace asio = boost::asio;
using dal::postgres::connection;
using clk = std::chrono::steady_clock;
using dal_test::expect_error;
using dal_test::silent_listener;
using dal_test::unique_table;

dal::config pg_config() {
    return dal_test::config_from_env("DAL_TEST_POSTGRES_URI");
}

struct item {
    BOOST_HANA_DEFINE_STRUCT(item, (std::int64_t, id), (std::string, name),
                             (std::optional<double>, price));
};

}  // namespace

BOOST_AUTO_TEST_SUITE(postgres_connection,
                      *utf::precondition(dal_test::server_configured{"DAL_TEST_POSTGRES_URI"}))

BOOST_AUTO_TEST_CASE(connects_and_reports_versions) {
    connection db(pg_config());
    BOOST_TEST(db.is_open());
    const dal::server_info info = db.info();
    BOOST_TEST(info.backend == "postgresql");
    BOOST_TEST(info.server_version.starts_with("15"));
    BOOST_TEST(!info.driver_version.empty());
    BOOST_TEST(
        db.query_one<std::string>("SELECT current_setting('application_name')"_sql).value() ==
        "dal");
    db.ping();
}

BOOST_AUTO_TEST_CASE(crud_with_typed_rows) {
    connection db(pg_config());
    db.execute(
        "CREATE TEMP TABLE [items] ([id] BIGSERIAL PRIMARY KEY, [name] TEXT NOT NULL, "
        "[price] DOUBLE PRECISION)"_sql);
    BOOST_TEST(db.execute("INSERT INTO [items] ([name], [price]) VALUES (?, ?)"_sql, "pen", 1.5) ==
               1U);
    db.execute("INSERT INTO [items] ([name], [price]) VALUES (?, ?)"_sql, "ink", std::nullopt);
    const auto items =
        db.query<item>("SELECT [id], [name], [price] FROM [items] ORDER BY [id]"_sql);
    BOOST_TEST_REQUIRE(items.size() == 2U);
    BOOST_TEST(items[0].name == "pen");
    BOOST_TEST(items[0].price.value() == 1.5);
    BOOST_TEST(!items[1].price.has_value());
    const auto tuples = db.query<std::tuple<std::string, std::optional<double>>>(
        "SELECT [name], [price] FROM [items] ORDER BY [id]"_sql);
    BOOST_TEST(std::get<0>(tuples[1]) == "ink");
    const dal::rowset rs =
        db.query_rows("SELECT [id], [name] FROM [items] WHERE [price] > ?"_sql, 1.0);
    BOOST_TEST_REQUIRE(rs.size() == 1U);
    BOOST_TEST(rs[0].get<std::string>("name") == "pen");
    BOOST_TEST(db.execute("UPDATE [items] SET [price] = ? WHERE [price] IS NULL"_sql, 2.0) == 1U);
    BOOST_TEST(db.execute("DELETE FROM [items]"_sql) == 2U);
    // Run-time SQL is translated per call.
    const std::string table = "items";
    BOOST_TEST(db.query<std::int64_t>("SELECT count(*) FROM [" + table + "]").at(0) == 0);
}

BOOST_AUTO_TEST_CASE(integer_widths_and_ranges) {
    connection db(pg_config());
    const auto r = db.query_one<std::tuple<std::int16_t, std::int32_t, std::int64_t, bool>>(
        "SELECT ?::int2, ?::int4, ?::int8, ?::bool"_sql, std::int16_t{-32768}, 2147483647,
        std::int64_t{-9223372036854775807LL - 1}, true);
    BOOST_TEST(std::get<0>(*r) == -32768);
    BOOST_TEST(std::get<1>(*r) == 2147483647);
    BOOST_TEST(std::get<2>(*r) == -9223372036854775807LL - 1);
    BOOST_TEST(std::get<3>(*r));
    // No silent truncation on reading...
    const dal::error narrow =
        expect_error([&] { (void)db.query_one<std::int8_t>("SELECT 300::int4"_sql); });
    BOOST_TEST((narrow.code() == dal::errc::type_mismatch));
    BOOST_TEST(std::string(narrow.what()).find("does not fit") != std::string::npos);
    // ... nor on binding: the server checks the declared type.
    const dal::error wide =
        expect_error([&] { (void)db.query_one<std::int32_t>("SELECT ?::int2"_sql, 70000); });
    BOOST_TEST((wide.code() == dal::errc::data_error));
    // Unsigned values beyond int64 go through exactly as numeric.
    BOOST_TEST(db.query_one<std::string>("SELECT (?::numeric)::text"_sql,
                                         std::uint64_t{18446744073709551615ULL})
                   .value() == "18446744073709551615");
}

BOOST_AUTO_TEST_CASE(floats_text_and_bytes) {
    connection db(pg_config());
    BOOST_TEST(db.query_one<double>("SELECT ?::float8"_sql, 0.1).value() == 0.1);
    BOOST_TEST(db.query_one<float>("SELECT ?::float4"_sql, 2.5F).value() == 2.5F);
    BOOST_TEST(std::isinf(db.query_one<double>("SELECT 'Infinity'::float8"_sql).value()));
    BOOST_TEST(std::isnan(db.query_one<double>("SELECT ?::float8"_sql, std::nan("")).value()));
    const std::string unicode = "Grüße, 世界 — \"quotes\" and 'apostrophes' \\ backslash";
    BOOST_TEST(db.query_one<std::string>("SELECT ?::text"_sql, unicode).value() == unicode);
    dal::blob all(256);
    for (std::size_t k = 0; k < all.size(); ++k)
        all[k] = static_cast<std::byte>(k);
    BOOST_TEST((db.query_one<dal::blob>("SELECT ?::bytea"_sql, all).value() == all));
    BOOST_TEST(db.query_one<dal::blob>("SELECT ''::bytea"_sql).value().empty());
    // A NUL byte cannot live in PostgreSQL text: a clear error, not a truncated string.
    const dal::error nul =
        expect_error([&] { db.execute("SELECT ?::text"_sql, std::string("a\0b", 3)); });
    BOOST_TEST((nul.code() == dal::errc::type_mismatch));
    BOOST_TEST(std::string(nul.what()).find("NUL") != std::string::npos);
    // A blob only binds to bytea.
    const dal::error blob_int = expect_error([&] { db.execute("SELECT ?::int4"_sql, all); });
    BOOST_TEST(std::string(blob_int.what()).find("bytea") != std::string::npos);
    BOOST_TEST(db.query_one<int>("SELECT 1"_sql).value() == 1);  // still usable
}

BOOST_AUTO_TEST_CASE(numeric_is_exact) {
    connection db(pg_config());
    const std::string big = "12345678901234567890.123456789012345678";
    BOOST_TEST(db.query_one<std::string>("SELECT ?::numeric"_sql, big).value() == big);
    BOOST_TEST(
        db.query_one<dal::decimal>("SELECT ?::numeric"_sql, dal::decimal(big)).value().str() ==
        big);
    BOOST_TEST(
        db.query_one<std::int64_t>("SELECT sum(x) FROM generate_series(1, 100) x"_sql).value() ==
        5050);
    BOOST_TEST(db.query_one<int>("SELECT 42.000::numeric"_sql).value() == 42);
    // Never silently through a double.
    const dal::error dbl =
        expect_error([&] { (void)db.query_one<double>("SELECT 0.1::numeric"_sql); });
    BOOST_TEST((dbl.code() == dal::errc::type_mismatch));
    BOOST_TEST(std::string(dbl.what()).find("dal::decimal") != std::string::npos);
    const dal::error frac =
        expect_error([&] { (void)db.query_one<int>("SELECT 4.5::numeric"_sql); });
    BOOST_TEST(std::string(frac.what()).find("fraction") != std::string::npos);
    BOOST_CHECK_THROW(dal::decimal("1e5x"), dal::error);
}

BOOST_AUTO_TEST_CASE(dates_times_uuid_json_arrays) {
    connection db(pg_config());
    const dal::date d{std::chrono::year{2024}, std::chrono::month{2}, std::chrono::day{29}};
    BOOST_TEST((db.query_one<dal::date>("SELECT ?::date"_sql, d).value() == d));
    const dal::timestamp t = std::chrono::sys_days{d} + 13h + 14min + 15s + 123456us;
    BOOST_TEST((db.query_one<dal::timestamp>("SELECT ?::timestamptz"_sql, t).value() == t));
    BOOST_TEST((db.query_one<dal::timestamp>("SELECT ?::timestamp"_sql, t).value() == t));
    // timestamptz is printed in the session's zone; the offset is applied on reading.
    db.execute("SET TimeZone = 'Asia/Kolkata'"_sql);
    BOOST_TEST((db.query_one<dal::timestamp>("SELECT ?::timestamptz"_sql, t).value() == t));
    BOOST_TEST(db.query_one<std::string>("SELECT ?::timestamptz::text"_sql, t).value() ==
               "2024-02-29 18:44:15.123456+05:30");
    db.execute("SET TimeZone = 'UTC'"_sql);
    const std::string u = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
    BOOST_TEST(db.query_one<std::string>("SELECT ?::uuid"_sql, u).value() == u);
    const boost::json::value doc = {{"name", "dal"}, {"tags", {1, 2, 3}}};
    BOOST_TEST(db.query_one<boost::json::value>("SELECT ?::jsonb"_sql, doc).value() == doc);
    BOOST_TEST(db.query_one<boost::json::value>("SELECT ?::json"_sql, doc).value() == doc);
    BOOST_TEST(db.query_one<std::string>("SELECT '{\"a\": 1}'::jsonb"_sql).value() == "{\"a\": 1}");
    BOOST_TEST(db.query_one<std::string>("SELECT ARRAY[1, 2, NULL]::int4[]"_sql).value() ==
               "{1,2,NULL}");
    // Arrays read into vectors, element by element with the same strict rules.
    BOOST_TEST(
        (db.query_one<std::vector<std::optional<int>>>("SELECT ARRAY[1, 2, NULL]::int4[]"_sql)
             .value() == std::vector<std::optional<int>>{1, 2, std::nullopt}));
    BOOST_TEST(
        (db.query_one<std::vector<std::string>>(
               "SELECT ARRAY['a', 'b,c', 'd\"e', 'NULL', '', 'back\\slash']"_sql)
             .value() == std::vector<std::string>{"a", "b,c", "d\"e", "NULL", "", "back\\slash"}));
    BOOST_TEST((db.query_one<std::vector<double>>("SELECT ARRAY[1.5, -2]::float8[]"_sql).value() ==
                std::vector<double>{1.5, -2}));
    BOOST_TEST((db.query_one<std::vector<bool>>("SELECT ARRAY[true, false]"_sql).value() ==
                std::vector<bool>{true, false}));
    BOOST_TEST(
        (db.query_one<std::vector<std::int64_t>>("SELECT '{}'::int8[]"_sql).value().empty()));
    BOOST_TEST(
        (db.query_one<std::vector<dal::decimal>>("SELECT ARRAY[1.10, 2]::numeric[]"_sql).value() ==
         std::vector<dal::decimal>{dal::decimal("1.10"), dal::decimal("2")}));
    BOOST_TEST(
        (db.query_one<std::vector<dal::timestamp>>("SELECT ARRAY[?::timestamptz]"_sql, t).value() ==
         std::vector<dal::timestamp>{t}));
    BOOST_TEST((db.query_one<std::vector<int>>("SELECT '[0:1]={7,8}'::int4[]"_sql).value() ==
                std::vector<int>{7, 8}));
    const dal::error null_element =
        expect_error([&] { (void)db.query_one<std::vector<int>>("SELECT ARRAY[1, NULL]"_sql); });
    BOOST_TEST((null_element.code() == dal::errc::type_mismatch));
    const dal::error nested = expect_error(
        [&] { (void)db.query_one<std::vector<int>>("SELECT ARRAY[[1, 2], [3, 4]]"_sql); });
    BOOST_TEST(std::string(nested.what()).find("multi-dimensional") != std::string::npos);
    const dal::error not_array =
        expect_error([&] { (void)db.query_one<std::vector<int>>("SELECT 'x'::text"_sql); });
    BOOST_TEST(std::string(not_array.what()).find("not an array") != std::string::npos);
    const dal::error narrow = expect_error(
        [&] { (void)db.query_one<std::vector<std::int8_t>>("SELECT ARRAY[1, 1000]"_sql); });
    BOOST_TEST((narrow.code() == dal::errc::type_mismatch));
    const dal::error infinite =
        expect_error([&] { (void)db.query_one<dal::date>("SELECT 'infinity'::date"_sql); });
    BOOST_TEST((infinite.code() == dal::errc::type_mismatch));
}

BOOST_AUTO_TEST_CASE(null_and_shape_errors_name_the_column) {
    connection db(pg_config());
    const dal::error null =
        expect_error([&] { (void)db.query_one<int>("SELECT NULL::int4 AS [n]"_sql); });
    BOOST_TEST((null.code() == dal::errc::type_mismatch));
    BOOST_TEST(std::string(null.what()).find("'n'") != std::string::npos);
    const dal::error text =
        expect_error([&] { (void)db.query_one<int>("SELECT 'x' AS [label]"_sql); });
    BOOST_TEST(std::string(text.what()).find("label") != std::string::npos);
    BOOST_TEST(!db.query_one<std::optional<int>>("SELECT NULL::int4"_sql).value().has_value());
    // Wrong argument count at run time.
    const dal::error count = expect_error([&] { db.execute(std::string("SELECT ?, ?"), 1); });
    BOOST_TEST((count.code() == dal::errc::invalid_argument));
}

BOOST_AUTO_TEST_CASE(transactions_savepoints_and_guards) {
    connection db(pg_config());
    db.execute("CREATE TEMP TABLE [t] ([v] INT PRIMARY KEY)"_sql);
    {
        auto tx = db.begin();
        db.execute("INSERT INTO [t] VALUES (1)"_sql);
        {
            auto inner = db.begin();  // SAVEPOINT
            db.execute("INSERT INTO [t] VALUES (2)"_sql);
        }  // rolled back to the savepoint
        tx.commit();
    }
    BOOST_TEST(db.query<int>("SELECT [v] FROM [t]"_sql) == std::vector<int>{1});
    // An exception inside the guarded block leaves the table as it was.
    BOOST_CHECK_THROW(db.with_transaction([](connection& c) {
        c.execute("INSERT INTO [t] VALUES (3)"_sql);
        c.execute("INSERT INTO [t] VALUES (1)"_sql);  // duplicate key
    }),
                      dal::error);
    BOOST_TEST(db.query<int>("SELECT [v] FROM [t] ORDER BY 1"_sql) == std::vector<int>{1});
    BOOST_TEST(!db.in_transaction());
    // COMMIT of a transaction an error aborted is an error, not a silent rollback.
    auto tx = db.begin();
    BOOST_CHECK_THROW(db.execute("INSERT INTO [t] VALUES (1)"_sql), dal::error);
    const dal::error aborted = expect_error([&] { tx.commit(); });
    BOOST_TEST((aborted.code() == dal::errc::transaction_state));
    BOOST_TEST(!db.in_transaction());
}

BOOST_AUTO_TEST_CASE(statement_cache_and_schema_changes) {
    connection db(pg_config());
    db.execute("CREATE TEMP TABLE [s] ([a] INT)"_sql);
    db.execute("INSERT INTO [s] VALUES (1)"_sql);
    for (int k = 0; k < 5; ++k)
        (void)db.query_rows("SELECT * FROM [s]"_sql);
    const auto before = db.statement_cache_stats();
    BOOST_TEST(before.hits >= 4U);
    // The cached plan's result type changes: prepared again once, transparently.
    db.execute("ALTER TABLE [s] ADD COLUMN [b] TEXT DEFAULT 'x'"_sql);
    const dal::rowset rs = db.query_rows("SELECT * FROM [s]"_sql);
    BOOST_TEST(rs.columns() == 2U);
    BOOST_TEST(rs[0].get<std::string>("b") == "x");
    // Inside a transaction the stale statement's error stands (the transaction is aborted and
    // nothing can run again there), and the statement leaves the cache; its DEALLOCATE waits
    // for the transaction's end instead of failing with the aborted transaction and being lost.
    const auto prepared_for = [&](std::string_view text) {
        return db
            .query_one<std::int64_t>(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement = ?"_sql,
                std::string(text))
            .value();
    };
    BOOST_TEST(prepared_for("SELECT * FROM \"s\"") == 1);
    {
        auto tx = db.begin();
        db.execute("ALTER TABLE [s] ADD COLUMN [c] INT"_sql);
        const dal::error stale =
            expect_error([&] { (void)db.query_rows("SELECT * FROM [s]"_sql); });
        BOOST_TEST(stale.diag().sqlstate == "0A000", stale.what());  // cached plan must not change
        // A statement already prepared (prepared_for's) runs: the queued DEALLOCATE would go
        // out first.
        const dal::error aborted = expect_error([&] { (void)prepared_for("SELECT 1"); });
        BOOST_TEST(aborted.diag().sqlstate == "25P02", aborted.what());
        tx.rollback();
    }
    BOOST_TEST(prepared_for("SELECT * FROM \"s\"") == 0);  // deallocated after the rollback
    BOOST_TEST(db.query_rows("SELECT * FROM [s]"_sql).columns() == 2U);  // the ALTER rolled back
    BOOST_TEST(prepared_for("SELECT * FROM \"s\"") == 1);
    // Prepared statements do not pile up on the server when the cache evicts.
    dal::postgres::basic_connection<dal::policies::no_retry, dal::policies::config_timeout,
                                    dal::policies::no_breaker, dal::policies::lru_cache>
        small(pg_config(), {}, {}, {}, dal::policies::lru_cache{4});
    for (int k = 0; k < 40; ++k)
        (void)small.query_one<int>("SELECT " + std::to_string(k));
    const auto prepared =
        small.query_one<std::int64_t>("SELECT count(*) FROM pg_prepared_statements"_sql);
    BOOST_TEST(prepared.value() <= 6);
}

BOOST_AUTO_TEST_CASE(statement_timeout_cancels_on_the_server) {
    dal::config cfg = pg_config();
    connection db(cfg);
    dal::call_options opts;
    opts.timeout = 200ms;
    const auto start = clk::now();
    const dal::error e = expect_error([&] { db.execute(opts, "SELECT pg_sleep(30)"_sql); });
    const auto took = clk::now() - start;
    BOOST_TEST((e.code() == dal::errc::timeout), e.what());
    BOOST_TEST(e.diag().sqlstate == "57014");
    BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(took).count() < 300);
    BOOST_TEST(db.is_open());
    BOOST_TEST(db.query_one<int>("SELECT 7"_sql).value() == 7);
    // The server's own limit (a session setting) is reported as a timeout too.
    db.execute("SET statement_timeout = 100"_sql);
    const dal::error server = expect_error([&] { db.execute("SELECT pg_sleep(5)"_sql); });
    BOOST_TEST((server.code() == dal::errc::timeout), server.what());
    db.execute("SET statement_timeout = 0"_sql);
    // A call may ask for more than the configured limit: the server's is raised for it.
    cfg.timeouts.statement = 200ms;
    connection shortlimit(cfg);
    dal::call_options longer;
    longer.timeout = 5s;
    BOOST_TEST(shortlimit.execute(longer, "SELECT pg_sleep(0.5)"_sql) <= 1U);
    // Inside a transaction too.
    auto tx = shortlimit.begin();
    BOOST_TEST(shortlimit.execute(longer, "SELECT pg_sleep(0.4)"_sql) <= 1U);
    tx.commit();
}

BOOST_AUTO_TEST_CASE(cancel_from_another_thread) {
    connection db(pg_config());
    std::thread canceller([&] {
        std::this_thread::sleep_for(200ms);
        db.cancel();
    });
    const dal::error e = expect_error([&] { db.execute("SELECT pg_sleep(30)"_sql); });
    canceller.join();
    BOOST_TEST((e.code() == dal::errc::cancelled), e.what());
    BOOST_TEST(db.query_one<int>("SELECT 1"_sql).value() == 1);
}

BOOST_AUTO_TEST_CASE(server_errors_keep_the_servers_words) {
    connection db(pg_config());
    db.execute("CREATE TEMP TABLE [u] ([id] INT PRIMARY KEY)"_sql);
    db.execute("INSERT INTO [u] VALUES (1)"_sql);
    const dal::error dup = expect_error([&] { db.execute("INSERT INTO [u] VALUES (?)"_sql, 1); });
    BOOST_TEST((dup.code() == dal::errc::constraint_violation));
    BOOST_TEST(dup.diag().sqlstate == "23505");
    BOOST_TEST(dup.diag().detail.find("already exists") != std::string::npos);
    const dal::error syntax = expect_error([&] { db.execute(std::string("SELEC 1")); });
    BOOST_TEST((syntax.code() == dal::errc::syntax_error));
    BOOST_TEST(syntax.diag().position == 1U);
    const dal::error missing =
        expect_error([&] { db.execute("SELECT * FROM [no_such_table]"_sql); });
    BOOST_TEST((missing.code() == dal::errc::undefined_object));
    const dal::error hint = expect_error([&] { db.execute("SELECT [nope] FROM [u]"_sql); });
    BOOST_TEST(!hint.diag().message.empty());
    // String literals never reach the message.
    const dal::error lit = expect_error([&] { db.execute("SELECT 'secret-value'::int"_sql); });
    BOOST_TEST(lit.diag().sql.find("secret-value") == std::string::npos);
    BOOST_TEST(lit.diag().sql.find("***") != std::string::npos);
    BOOST_TEST(db.query_one<int>("SELECT 1"_sql).value() == 1);
}

BOOST_AUTO_TEST_CASE(deadlock_is_detected_and_mapped) {
    const std::string table = unique_table("dal_deadlock");
    connection a(pg_config());
    connection b(pg_config());
    a.execute("DROP TABLE IF EXISTS [" + table + "]");
    a.execute("CREATE TABLE [" + table + "] ([id] INT PRIMARY KEY, [v] INT)");
    a.execute("INSERT INTO [" + table + "] VALUES (1, 0), (2, 0)");
    auto ta = a.begin();
    auto tb = b.begin();
    a.execute("UPDATE [" + table + "] SET [v] = 1 WHERE [id] = 1");
    b.execute("UPDATE [" + table + "] SET [v] = 1 WHERE [id] = 2");
    auto other = std::async(std::launch::async, [&]() -> std::optional<dal::error> {
        try {
            b.execute("UPDATE [" + table + "] SET [v] = 2 WHERE [id] = 1");
        } catch (const dal::error& e) {
            return e;
        }
        return std::nullopt;
    });
    std::optional<dal::error> mine;
    try {
        a.execute("UPDATE [" + table + "] SET [v] = 2 WHERE [id] = 2");
    } catch (const dal::error& e) {
        mine = e;
    }
    const std::optional<dal::error> theirs = other.get();
    BOOST_TEST_REQUIRE((mine.has_value() != theirs.has_value()));
    const dal::error& e = mine ? *mine : *theirs;
    BOOST_TEST((e.code() == dal::errc::deadlock));
    BOOST_TEST(dal::is_transient(e.code()));
    ta.rollback();
    tb.rollback();
    a.execute("DROP TABLE [" + table + "]");
}

BOOST_AUTO_TEST_CASE(terminated_backend_is_a_connection_error) {
    connection db(pg_config());
    connection admin(pg_config());
    const auto pid = db.query_one<int>("SELECT pg_backend_pid()"_sql).value();
    std::thread killer([&] {
        std::this_thread::sleep_for(200ms);
        admin.execute("SELECT pg_terminate_backend(?)"_sql, pid);
    });
    const dal::error e = expect_error([&] { db.execute("SELECT pg_sleep(30)"_sql); });
    killer.join();
    BOOST_TEST((e.code() == dal::errc::connection_error), e.what());
    const dal::error after = expect_error([&] { db.execute("SELECT 1"_sql); });
    BOOST_TEST(
        ((after.code() == dal::errc::connection_error) || (after.code() == dal::errc::closed)),
        after.what());
}

BOOST_AUTO_TEST_CASE(connect_limits) {
    // A port that accepts but never answers: the connect limit is honoured.
    const silent_listener silent;
    dal::config cfg = pg_config();
    cfg.hosts = {{"127.0.0.1", silent.port}};
    cfg.timeouts.connect = 300ms;
    auto start = clk::now();
    const dal::error hung = expect_error([&] { connection db(cfg); });
    BOOST_TEST((hung.code() == dal::errc::timeout), hung.what());
    BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(clk::now() - start).count() <
               1500);
    // A closed port fails at once with a connection error naming the target, no password.
    cfg.hosts = {{"127.0.0.1", 1}};
    const dal::error refused = expect_error([&] { connection db(cfg); });
    BOOST_TEST((refused.code() == dal::errc::connection_error), refused.what());
    BOOST_TEST(std::string(refused.what()).find("127.0.0.1") != std::string::npos);
    // Wrong password: permission_denied, and the password is never printed.
    dal::config bad = pg_config();
    bad.password = dal::secret("wrong-password-xyz");
    const dal::error auth = expect_error([&] { connection db(bad); });
    BOOST_TEST((auth.code() == dal::errc::permission_denied), auth.what());
    BOOST_TEST(std::string(auth.what()).find("wrong-password-xyz") == std::string::npos);
    // Unknown options are named.
    dal::config opt = pg_config();
    opt.options.emplace_back("named_statement", "off");
    const dal::error unknown = expect_error([&] { connection db(opt); });
    BOOST_TEST(std::string(unknown.what()).find("named_statement") != std::string::npos);
    // Multi-host: the first host is down, the second answers.
    dal::config multi = pg_config();
    multi.hosts.insert(multi.hosts.begin(), dal::endpoint{"127.0.0.1", 1});
    connection db(multi);
    BOOST_TEST(db.query_one<int>("SELECT 1"_sql).value() == 1);
}

BOOST_AUTO_TEST_CASE(execute_many_uses_one_pipeline) {
    connection db(pg_config());
    db.execute("CREATE TEMP TABLE [bulk] ([id] INT PRIMARY KEY, [name] TEXT)"_sql);
    std::vector<std::tuple<int, std::string>> rows;
    rows.reserve(2500);
    for (int k = 0; k < 2500; ++k)
        rows.emplace_back(k, "n" + std::to_string(k));
    BOOST_TEST(db.execute_many("INSERT INTO [bulk] VALUES (?, ?)"_sql, rows) == 2500U);
    BOOST_TEST(db.query_one<std::int64_t>("SELECT count(*) FROM [bulk]"_sql).value() == 2500);
    // A failing row: named in the error, and nothing of the call is kept (one transaction).
    std::vector<std::tuple<int, std::string>> clash = {
        {5000, "a"}, {5001, "b"}, {7, "dup"}, {5002, "c"}};
    const dal::error e =
        expect_error([&] { db.execute_many("INSERT INTO [bulk] VALUES (?, ?)"_sql, clash); });
    BOOST_TEST((e.code() == dal::errc::constraint_violation));
    BOOST_TEST(std::string(e.what()).find("row 2") != std::string::npos);
    BOOST_TEST(db.query_one<std::int64_t>("SELECT count(*) FROM [bulk]"_sql).value() == 2500);
    BOOST_TEST(!db.in_transaction());
}

BOOST_AUTO_TEST_CASE(batch_reports_each_statement) {
    connection db(pg_config());
    db.execute("CREATE TEMP TABLE [b] ([id] INT PRIMARY KEY)"_sql);
    dal::batch batch;
    batch.add("INSERT INTO [b] VALUES (?)"_sql, 1);
    batch.add("SELECT [id] FROM [b] WHERE [id] = ?"_sql, 1);
    batch.add("INSERT INTO [b] VALUES (?)"_sql, 1);  // duplicate
    batch.add("INSERT INTO [b] VALUES (?)"_sql, 2);
    const auto results = db.execute_batch(batch);
    BOOST_TEST_REQUIRE(results.size() == 4U);
    BOOST_TEST(results[0].ok());
    BOOST_TEST(results[0].affected == 1U);
    BOOST_TEST(results[1].ok());
    BOOST_TEST_REQUIRE(results[1].rows.size() == 1U);
    BOOST_TEST(results[1].rows[0].get<int>(0) == 1);
    BOOST_TEST((results[2].status == dal::batch_result::state::failed));
    BOOST_TEST((results[2].failure->code() == dal::errc::constraint_violation));
    BOOST_TEST((results[3].status == dal::batch_result::state::not_executed));
    BOOST_TEST(results[3].failure.has_value());
    // The pipeline ran as one implicit transaction up to the failure: its statements are
    // rolled back together (PostgreSQL's semantics for a pipeline without BEGIN).
    BOOST_TEST(db.query_one<std::int64_t>("SELECT count(*) FROM [b]"_sql).value() == 0);
    // Batches of reads.
    dal::batch reads;
    for (int k = 0; k < 10; ++k)
        reads.add("SELECT ?::int * 2"_sql, k);
    const auto doubled = db.execute_batch(reads);
    for (int k = 0; k < 10; ++k)
        BOOST_TEST(doubled[static_cast<std::size_t>(k)].rows[0].get<int>(0) == 2 * k);
}

BOOST_AUTO_TEST_CASE(async_many_connections_on_one_thread) {
    asio::io_context io;
    constexpr int n = 20;
    std::vector<std::unique_ptr<connection>> conns;
    conns.reserve(n);
    for (int k = 0; k < n; ++k)
        conns.push_back(std::make_unique<connection>(pg_config()));
    std::atomic<int> done{0};
    int ticks = 0;
    const auto start = clk::now();
    for (int k = 0; k < n; ++k) {
        asio::co_spawn(
            io,
            [&, k]() -> asio::awaitable<void> {
                auto r = co_await conns[static_cast<std::size_t>(k)]->async_query_one<int>(
                    "SELECT ?::int FROM pg_sleep(0.3)"_sql, dal::params(k), asio::use_awaitable);
                BOOST_TEST(r.value() == k);
                ++done;
            },
            asio::detached);
    }
    // A timer on the same thread keeps firing while the queries run.
    asio::steady_timer timer(io);
    std::function<void()> tick = [&] {
        timer.expires_after(20ms);
        timer.async_wait([&](boost::system::error_code ec) {
            if (ec || done == n) return;
            ++ticks;
            tick();
        });
    };
    tick();
    io.run();
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clk::now() - start);
    BOOST_TEST(done.load() == n);
    // 20 × 300 ms one after another would take 6 s; on one thread they overlap.
    BOOST_TEST(took.count() < 3000);
    BOOST_TEST(ticks >= 5);
}

BOOST_AUTO_TEST_CASE(async_timeout_cancel_and_callbacks) {
    asio::io_context io;
    dal::config cfg = pg_config();
    cfg.timeouts.statement = 200ms;
    connection db(io.get_executor(), cfg);
    std::optional<dal::error> failure;
    std::chrono::milliseconds took{};
    std::optional<int> after;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            const auto start = clk::now();
            try {
                co_await db.async_execute("SELECT pg_sleep(30)"_sql, asio::use_awaitable);
            } catch (const dal::error& e) {
                failure = e;
            }
            took = std::chrono::duration_cast<std::chrono::milliseconds>(clk::now() - start);
            after = co_await db.async_query_one<int>("SELECT 5"_sql, dal::params(),
                                                     asio::use_awaitable);
        },
        asio::detached);
    io.run();
    BOOST_TEST_REQUIRE(failure.has_value());
    BOOST_TEST((failure->code() == dal::errc::timeout), failure->what());
    BOOST_TEST(took.count() < 300);
    BOOST_TEST(after.value() == 5);
    // A plain callback, on the connection's executor.
    io.restart();
    std::vector<std::int64_t> got;
    db.async_query<std::int64_t>("SELECT x FROM generate_series(1, 3) x"_sql, dal::params(),
                                 [&](const std::exception_ptr& ep, std::vector<std::int64_t> v) {
                                     BOOST_TEST(!ep);
                                     got = std::move(v);
                                 });
    io.run();
    BOOST_TEST(got == (std::vector<std::int64_t>{1, 2, 3}));
    // Errors arrive as the exception_ptr.
    io.restart();
    std::exception_ptr err;
    db.async_execute("SELECT * FROM [missing_table]"_sql,
                     [&](std::exception_ptr ep, std::uint64_t) { err = std::move(ep); });
    io.run();
    BOOST_TEST(static_cast<bool>(err));
}

BOOST_AUTO_TEST_CASE(factory_builds_postgres_from_a_uri) {
    const char* uri = std::getenv("DAL_TEST_POSTGRES_URI");
    BOOST_TEST_REQUIRE(uri != nullptr);
    auto db = dal::connect(uri);
    BOOST_TEST(db.query("SELECT ?::int + 1 AS [n]", 41)[0].get<int>("n") == 42);
    BOOST_TEST(db.info().backend == "postgresql");
}

BOOST_AUTO_TEST_CASE(tls_used_and_verified,
                     *utf::precondition(dal_test::server_configured{"DAL_TEST_TLS_CA"})) {
    dal_test::tls_is_used_and_verified<dal::postgres::connection>(
        pg_config(), "SELECT coalesce(version, '') FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
// Behind pgbouncer in transaction pooling mode: no named statements, no session state.
BOOST_AUTO_TEST_SUITE(postgres_pgbouncer,
                      *utf::precondition(dal_test::server_configured{"DAL_TEST_PGBOUNCER_URI"}))

BOOST_AUTO_TEST_CASE(unnamed_statements_through_pgbouncer) {
    dal::config cfg = dal_test::config_from_env("DAL_TEST_PGBOUNCER_URI");
    cfg.options.emplace_back("named_statements", "off");
    const std::string table = unique_table("dal_bouncer");
    connection a(cfg);
    connection b(cfg);
    BOOST_TEST(!a.native_session().named_statements());
    a.execute("DROP TABLE IF EXISTS [" + table + "]");
    a.execute("CREATE TABLE [" + table + "] ([id] INT PRIMARY KEY, [name] TEXT, [data] BYTEA)");
    // Many statements from two clients that share server connections: with named statements
    // these would fail with "prepared statement does not exist" or "already exists".
    for (int k = 0; k < 50; ++k) {
        connection& c = (k % 2 == 0) ? a : b;
        dal::blob data{std::byte{1}, static_cast<std::byte>(k)};
        c.execute("INSERT INTO [" + table + "] VALUES (?, ?, ?)", k, "n" + std::to_string(k), data);
        BOOST_TEST(c.query_one<std::string>("SELECT [name] FROM [" + table + "] WHERE [id] = ?", k)
                       .value() == "n" + std::to_string(k));
    }
    a.with_transaction([&](connection& c) {
        c.execute("UPDATE [" + table + "] SET [name] = ? WHERE [id] = ?", "x", 1);
    });
    std::vector<std::tuple<int, std::string, dal::blob>> rows;
    for (int k = 100; k < 200; ++k)
        rows.emplace_back(k, "bulk", dal::blob{});
    BOOST_TEST(b.execute_many("INSERT INTO [" + table + "] VALUES (?, ?, ?)", rows) == 100U);
    BOOST_TEST(a.query_one<std::int64_t>("SELECT count(*) FROM [" + table + "]").value() == 150);
    dal::call_options opts;
    opts.timeout = 200ms;
    const dal::error e = expect_error([&] { a.execute(opts, "SELECT pg_sleep(10)"_sql); });
    BOOST_TEST((e.code() == dal::errc::timeout), e.what());
    BOOST_TEST(a.query_one<int>("SELECT 1"_sql).value() == 1);
    a.execute("DROP TABLE [" + table + "]");
}

BOOST_AUTO_TEST_SUITE_END()
