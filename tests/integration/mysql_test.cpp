// The composed connection on the MySQL/MariaDB backend, against the real MariaDB server
// scripts/test.sh starts: types, transactions, the DDL-in-transaction policy, time limits with
// KILL QUERY, errors, connect limits, and async with many connections on one thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <limits>
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
#include <dal/mysql.hpp>

#include "servers.hpp"
#include "tcp_proxy.hpp"
#include "tls_checks.hpp"

namespace {

using namespace dal::literals;  // NOLINT(google-build-using-namespace): test file
using namespace std::chrono_literals;
namespace utf = boost::unit_test;
namespace asio = boost::asio;
using dal::mysql::connection;
using clk = std::chrono::steady_clock;
using dal_test::expect_error;
using dal_test::silent_listener;
using dal_test::unique_table;

dal::config my_config() {
    return dal_test::config_from_env("DAL_TEST_MYSQL_URI");
}

struct item {
    BOOST_HANA_DEFINE_STRUCT(item, (std::int64_t, id), (std::string, name),
                             (std::optional<double>, price));
};

}  // namespace

BOOST_AUTO_TEST_SUITE(mysql_connection,
                      *utf::precondition(dal_test::server_configured{"DAL_TEST_MYSQL_URI"}))

BOOST_AUTO_TEST_CASE(connects_and_reports_versions) {
    connection db(my_config());
    const dal::server_info info = db.info();
    BOOST_TEST(info.backend == "mysql");
    BOOST_TEST(info.server_version.find("MariaDB") != std::string::npos, info.server_version);
    BOOST_TEST(!info.driver_version.empty());
    BOOST_TEST(db.native_session().is_mariadb());
    BOOST_TEST(db.query_one<std::string>("SELECT @@character_set_client"_sql).value() == "utf8mb4");
    db.ping();
}

BOOST_AUTO_TEST_CASE(crud_with_typed_rows) {
    connection db(my_config());
    db.execute(
        "CREATE TEMPORARY TABLE [items] ([id] BIGINT AUTO_INCREMENT PRIMARY KEY, "
        "[name] VARCHAR(100) NOT NULL, [price] DOUBLE)"_sql);
    BOOST_TEST(db.execute("INSERT INTO [items] ([name], [price]) VALUES (?, ?)"_sql, "pen", 1.5) ==
               1U);
    db.execute("INSERT INTO [items] ([name], [price]) VALUES (?, ?)"_sql, "ink", std::nullopt);
    const auto items =
        db.query<item>("SELECT [id], [name], [price] FROM [items] ORDER BY [id]"_sql);
    BOOST_TEST_REQUIRE(items.size() == 2U);
    BOOST_TEST(items[0].name == "pen");
    BOOST_TEST(items[0].price.value() == 1.5);
    BOOST_TEST(!items[1].price.has_value());
    const dal::rowset rs =
        db.query_rows("SELECT [id], [name] FROM [items] WHERE [price] > ?"_sql, 1.0);
    BOOST_TEST_REQUIRE(rs.size() == 1U);
    BOOST_TEST(rs[0].get<std::string>("name") == "pen");
    // Found rows, not changed rows: an UPDATE to the same value still counts the row.
    BOOST_TEST(db.execute("UPDATE [items] SET [name] = [name] WHERE [id] = ?"_sql, items[0].id) ==
               1U);
    BOOST_TEST(db.execute("DELETE FROM [items]"_sql) == 2U);
    const std::string table = "items";
    BOOST_TEST(db.query<std::int64_t>("SELECT count(*) FROM [" + table + "]").at(0) == 0);
}

BOOST_AUTO_TEST_CASE(integers_signed_and_unsigned) {
    connection db(my_config());
    db.execute(
        "CREATE TEMPORARY TABLE [ints] ([t] TINYINT, [tu] TINYINT UNSIGNED, [s] SMALLINT, "
        "[m] MEDIUMINT, [i] INT, [iu] INT UNSIGNED, [b] BIGINT, [bu] BIGINT UNSIGNED)"_sql);
    db.execute("INSERT INTO [ints] VALUES (?, ?, ?, ?, ?, ?, ?, ?)"_sql, std::int8_t{-128},
               std::uint8_t{255}, std::int16_t{-32768}, -8388608, -2147483647 - 1,
               std::uint32_t{4294967295U}, std::int64_t{-9223372036854775807LL - 1},
               std::uint64_t{18446744073709551615ULL});
    const auto r =
        db.query_one<std::tuple<std::int8_t, std::uint8_t, std::int16_t, std::int32_t, std::int32_t,
                                std::uint32_t, std::int64_t, std::uint64_t>>(
            "SELECT * FROM [ints]"_sql);
    BOOST_TEST(std::get<0>(*r) == -128);
    BOOST_TEST(std::get<1>(*r) == 255);
    BOOST_TEST(std::get<5>(*r) == 4294967295U);
    BOOST_TEST(std::get<6>(*r) == -9223372036854775807LL - 1);
    BOOST_TEST(std::get<7>(*r) == 18446744073709551615ULL);
    // No silent overflow: a BIGINT UNSIGNED beyond int64 into int64_t, 255 into int8_t.
    const dal::error big =
        expect_error([&] { (void)db.query_one<std::int64_t>("SELECT [bu] FROM [ints]"_sql); });
    BOOST_TEST((big.code() == dal::errc::type_mismatch));
    const dal::error small =
        expect_error([&] { (void)db.query_one<std::int8_t>("SELECT [tu] FROM [ints]"_sql); });
    BOOST_TEST((small.code() == dal::errc::type_mismatch));
    BOOST_TEST(db.query_one<std::string>("SELECT CAST([bu] AS CHAR) FROM [ints]"_sql).value() ==
               "18446744073709551615");
    // The server refuses out-of-range values (strict mode), it does not clip them.
    const dal::error clip =
        expect_error([&] { db.execute("UPDATE [ints] SET [t] = ?"_sql, 1000); });
    BOOST_TEST((clip.code() == dal::errc::data_error), clip.what());
}

BOOST_AUTO_TEST_CASE(decimals_floats_text_blobs_dates_json) {
    connection db(my_config());
    db.execute(
        "CREATE TEMPORARY TABLE [v] ([d] DECIMAL(38, 10), [f] FLOAT, [x] DOUBLE, [c] CHAR(3), "
        "[t] TEXT, [bl] BLOB, [bi] VARBINARY(16), [dt] DATE, [ts] DATETIME(6), [tz] TIMESTAMP(6) "
        "NULL, [j] JSON)"_sql);
    const std::string dec = "1234567890123456789012345678.0123456789";
    dal::blob bytes(256);
    for (std::size_t k = 0; k < bytes.size(); ++k)
        bytes[k] = static_cast<std::byte>(k);
    const dal::date day{std::chrono::year{2024}, std::chrono::month{2}, std::chrono::day{29}};
    const dal::timestamp when = std::chrono::sys_days{day} + 13h + 14min + 15s + 123456us;
    const boost::json::value doc = {{"name", "dal"}, {"n", 3}};
    const std::string unicode = "Grüße 世界 'quoted' \\ \"double\"";
    db.execute("INSERT INTO [v] VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"_sql, dal::decimal(dec),
               2.5F, 0.1, "abc", unicode, bytes, dal::blob{std::byte{0}, std::byte{255}}, day, when,
               when, doc);
    const auto r = db.query_one<
        std::tuple<dal::decimal, float, double, std::string, std::string, dal::blob, dal::blob,
                   dal::date, dal::timestamp, dal::timestamp, boost::json::value>>(
        "SELECT * FROM [v]"_sql);
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(std::get<0>(*r).str() == dec);
    BOOST_TEST(std::get<1>(*r) == 2.5F);
    BOOST_TEST(std::get<2>(*r) == 0.1);
    BOOST_TEST(std::get<3>(*r) == "abc");
    BOOST_TEST(std::get<4>(*r) == unicode);
    BOOST_TEST((std::get<5>(*r) == bytes));
    BOOST_TEST((std::get<6>(*r) == dal::blob{std::byte{0}, std::byte{255}}));
    BOOST_TEST((std::get<7>(*r) == day));
    BOOST_TEST((std::get<8>(*r) == when));
    BOOST_TEST((std::get<9>(*r) == when));  // TIMESTAMP: the session's zone is UTC
    BOOST_TEST((std::get<10>(*r) == doc));
    // DECIMAL never goes through a double.
    const dal::error dbl =
        expect_error([&] { (void)db.query_one<double>("SELECT [d] FROM [v]"_sql); });
    BOOST_TEST((dbl.code() == dal::errc::type_mismatch));
    BOOST_TEST(db.query_one<std::int64_t>("SELECT CAST(42 AS DECIMAL(10, 2))"_sql).value() == 42);
    // NULL into a non-optional names the column.
    const dal::error null =
        expect_error([&] { (void)db.query_one<int>("SELECT NULL AS [n]"_sql); });
    BOOST_TEST(std::string(null.what()).find("'n'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(transactions_and_savepoints) {
    connection db(my_config());
    db.execute("CREATE TEMPORARY TABLE [t] ([v] INT PRIMARY KEY) ENGINE=InnoDB"_sql);
    {
        auto tx = db.begin();
        db.execute("INSERT INTO [t] VALUES (1)"_sql);
        {
            auto inner = db.begin();
            db.execute("INSERT INTO [t] VALUES (2)"_sql);
        }
        tx.commit();
    }
    BOOST_TEST(db.query<int>("SELECT [v] FROM [t]"_sql) == std::vector<int>{1});
    BOOST_CHECK_THROW(db.with_transaction([](connection& c) {
        c.execute("INSERT INTO [t] VALUES (3)"_sql);
        c.execute("INSERT INTO [t] VALUES (1)"_sql);  // duplicate key
    }),
                      dal::error);
    BOOST_TEST(db.query<int>("SELECT [v] FROM [t] ORDER BY 1"_sql) == std::vector<int>{1});
    BOOST_TEST(!db.in_transaction());
    std::vector<std::tuple<int>> rows;
    for (int k = 10; k < 110; ++k)
        rows.emplace_back(k);
    BOOST_TEST(db.execute_many("INSERT INTO [t] VALUES (?)"_sql, rows) == 100U);
    BOOST_TEST(db.query_one<std::int64_t>("SELECT count(*) FROM [t]"_sql).value() == 101);
}

BOOST_AUTO_TEST_CASE(execute_many_uses_bulk_binding) {
    connection db(my_config());
    db.execute(
        "CREATE TEMPORARY TABLE [bulk] ([id] INT PRIMARY KEY, [name] VARCHAR(20), [score] DOUBLE, "
        "[day] DATE, [big] BIGINT UNSIGNED) ENGINE=InnoDB"_sql);
    using row_t = std::tuple<int, std::optional<std::string>, std::optional<double>, dal::date,
                             std::uint64_t>;
    const dal::date day{std::chrono::year{2025}, std::chrono::month{1}, std::chrono::day{31}};
    std::vector<row_t> rows;
    rows.reserve(2500);
    for (int k = 0; k < 2500; ++k)
        rows.emplace_back(
            k, k % 3 == 0 ? std::nullopt : std::optional<std::string>("n" + std::to_string(k)),
            k % 5 == 0 ? std::nullopt : std::optional<double>(k * 0.5), day,
            std::numeric_limits<std::uint64_t>::max() - static_cast<std::uint64_t>(k));
    BOOST_TEST(db.execute_many("INSERT INTO [bulk] VALUES (?, ?, ?, ?, ?)"_sql, rows) == 2500U);
    BOOST_TEST(db.query_one<std::int64_t>("SELECT count(*) FROM [bulk]"_sql).value() == 2500);
    const auto r = db.query_one<row_t>("SELECT * FROM [bulk] WHERE [id] = ?"_sql, 7);
    BOOST_TEST((r.value() == rows[7]));
    const auto nulls = db.query_one<std::tuple<std::optional<std::string>, std::optional<double>>>(
        "SELECT [name], [score] FROM [bulk] WHERE [id] = 0"_sql);
    BOOST_TEST(!std::get<0>(*nulls).has_value());
    BOOST_TEST(!std::get<1>(*nulls).has_value());
    // The cached statement runs single rows again afterwards.
    BOOST_TEST(db.execute("INSERT INTO [bulk] VALUES (?, ?, ?, ?, ?)"_sql, 9000, "one", 1.0, day,
                          std::uint64_t{1}) == 1U);
    // A failing chunk: named, and the whole call is rolled back (one transaction).
    std::vector<row_t> clash = {{9001, "a", 1.0, day, 1U}, {7, "dup", 1.0, day, 1U}};
    const dal::error e = expect_error(
        [&] { db.execute_many("INSERT INTO [bulk] VALUES (?, ?, ?, ?, ?)"_sql, clash); });
    BOOST_TEST((e.code() == dal::errc::constraint_violation), e.what());
    BOOST_TEST(std::string(e.what()).find("execute_many rows 0 to 1") != std::string::npos);
    BOOST_TEST(db.query_one<std::int64_t>("SELECT count(*) FROM [bulk]"_sql).value() == 2501);
    BOOST_TEST(!db.in_transaction());
}

// A statement run again keeps Connector/C's binding while it fits: these are the cases where
// it must not (longer values, other parameter kinds, a changed table, bulk binding between).
BOOST_AUTO_TEST_CASE(binding_is_reused_only_while_it_fits) {
    connection db(my_config());
    db.execute(
        "CREATE TEMPORARY TABLE [b] ([id] INT PRIMARY KEY, [s] VARCHAR(300), [n] BIGINT)"_sql);
    const std::string long_text(250, 'x');
    const auto insert = [&](int id, const std::optional<std::string>& s, std::optional<double> n) {
        db.execute("INSERT INTO [b] VALUES (?, ?, ?)"_sql, id, s, n);
    };
    insert(1, "a", 5.0);
    insert(2, long_text, std::nullopt);  // other kinds: null where a double was
    insert(3, std::nullopt, 7.0);
    // Parameters of the same kinds, by value only: the binding Connector/C holds is reused.
    for (int k = 4; k < 8; ++k)
        db.execute("INSERT INTO [b] ([id], [n]) VALUES (?, ?)"_sql, k, k * 10);
    BOOST_TEST(db.query_one<std::int64_t>("SELECT [n] FROM [b] WHERE [id] = ?"_sql, 7).value() ==
               70);
    // Then other kinds for the same statement: a double and a null, then integers again.
    db.execute("INSERT INTO [b] ([id], [n]) VALUES (?, ?)"_sql, 8, 80.0);
    db.execute("INSERT INTO [b] ([id], [n]) VALUES (?, ?)"_sql, 9, std::nullopt);
    db.execute("INSERT INTO [b] ([id], [n]) VALUES (?, ?)"_sql, 10, 100);
    using ns = std::tuple<std::int64_t, std::optional<std::int64_t>>;
    const auto got = db.query_rows("SELECT [id], [n] FROM [b] WHERE [id] >= 8 ORDER BY [id]"_sql);
    BOOST_TEST_REQUIRE(got.size() == 3U);
    BOOST_TEST((got[0].as<ns>() == ns{8, 80}));
    BOOST_TEST((got[1].as<ns>() == ns{9, std::nullopt}));
    BOOST_TEST((got[2].as<ns>() == ns{10, 100}));

    // Results: a short value, then one longer than any before (the buffers must grow), then
    // a NULL, then the short one again.
    const auto text_of = [&](int id) {
        return db.query_one<std::optional<std::string>>("SELECT [s] FROM [b] WHERE [id] = ?"_sql,
                                                        id);
    };
    BOOST_TEST(text_of(1).value().value_or("?") == "a");
    BOOST_TEST(text_of(2).value().value_or("?") == long_text);
    BOOST_TEST(!text_of(3).value().has_value());
    BOOST_TEST(text_of(1).value().value_or("?") == "a");

    // The table changes under the cached statement: MariaDB re-prepares it, and the columns
    // (count, names, types) are read again.
    const auto all = [&] { return db.query_rows("SELECT * FROM [b] WHERE [id] = ?"_sql, 1); };
    BOOST_TEST(all().columns() == 3U);
    db.execute("ALTER TABLE [b] ADD COLUMN [extra] VARCHAR(10) DEFAULT 'new'"_sql);
    const dal::rowset wider = all();
    BOOST_TEST_REQUIRE(wider.columns() == 4U);
    using wide = std::tuple<int, std::string, std::int64_t, std::string>;
    BOOST_TEST((wider[0].as<wide>() == wide{1, "a", 5, "new"}));
    // A column renamed: the new name from the first run on (Connector/C keeps the old ones
    // in the statement, which is prepared again in place before its next run).
    db.execute("ALTER TABLE [b] CHANGE [extra] [renamed] VARCHAR(10)"_sql);
    BOOST_TEST(all().column_names().back() == "renamed");
    BOOST_TEST(all().column_names().back() == "renamed");
    db.execute("ALTER TABLE [b] CHANGE [renamed] [extra] VARCHAR(10)"_sql);
    {
        auto tx = db.begin();  // inside a transaction the same
        BOOST_TEST(all().column_names().back() == "extra");
        tx.commit();
    }
    BOOST_TEST(all()[0].get<std::string>("extra") == "new");
    // The same number of columns, another type: Connector/C updates the types in place.
    db.execute("UPDATE [b] SET [extra] = '42'"_sql);
    db.execute("ALTER TABLE [b] MODIFY [extra] INT"_sql);
    const dal::rowset retyped = all();
    BOOST_TEST(retyped[0].get<std::int64_t>(3) == 42);

    // Bulk binding of the same statement in between single executions.
    db.execute("INSERT INTO [b] ([id], [n]) VALUES (?, ?)"_sql, 20, 1);
    const std::vector<std::tuple<int, int>> many{{21, 2}, {22, 3}};
    db.execute_many("INSERT INTO [b] ([id], [n]) VALUES (?, ?)"_sql, many);
    db.execute("INSERT INTO [b] ([id], [n]) VALUES (?, ?)"_sql, 23, 4);
    BOOST_TEST(
        db.query_one<std::int64_t>("SELECT sum([n]) FROM [b] WHERE [id] >= 20"_sql).value() == 10);
}

// Another connection changes the table's columns under cached statements: a query is
// prepared again and re-run; a statement that may have changed data is not re-run; inside a
// transaction the call fails and the next one prepares again.
BOOST_AUTO_TEST_CASE(columns_changed_under_a_cached_statement) {
    const std::string table = unique_table("dal_reprepare");
    connection db(my_config());
    connection other(my_config());
    db.execute("DROP TABLE IF EXISTS [" + table + "]");
    db.execute("CREATE TABLE [" + table + "] ([id] INT PRIMARY KEY, [v] INT) ENGINE=InnoDB");
    const std::string select = "SELECT * FROM [" + table + "] ORDER BY [id]";
    const std::string insert = "INSERT INTO [" + table + "] ([id], [v]) VALUES (?, 1) RETURNING *";
    BOOST_TEST(db.query_rows(insert, 1).columns() == 2U);
    BOOST_TEST(db.query_rows(select).columns() == 2U);

    other.execute("ALTER TABLE [" + table + "] ADD COLUMN [w] INT DEFAULT 7");
    const dal::rowset rs = db.query_rows(select);  // prepared again, re-run
    BOOST_TEST_REQUIRE(rs.columns() == 3U);
    BOOST_TEST(rs[0].get<int>("w") == 7);
    // The INSERT ran but its rows could not be read: said so, and not run a second time.
    const dal::error e = expect_error([&] { db.query_rows(insert, 2); });
    BOOST_TEST(std::string(e.what()).find("the statement ran") != std::string::npos, e.what());
    BOOST_TEST(
        db.query_one<std::int64_t>("SELECT count(*) FROM [" + table + "] WHERE [id] = 2").value() ==
        1);
    BOOST_TEST(db.query_rows(insert, 3).columns() == 3U);  // works

    // Inside a transaction: the error stands (the caller decides), and the statement is
    // prepared again by the next call, still inside the same transaction.
    other.execute("ALTER TABLE [" + table + "] ADD COLUMN [x] INT DEFAULT 8");
    auto tx = db.begin();
    const dal::error stale = expect_error([&] { db.query_rows(select); });
    BOOST_TEST(stale.diag().native_code == 1615, stale.what());
    BOOST_TEST(db.query_rows(select).columns() == 4U);
    // The INSERT too: it ran and says so; the next run, still in the transaction, is prepared
    // again in place and works.
    const dal::error ran = expect_error([&] { db.query_rows(insert, 4); });
    BOOST_TEST(ran.diag().native_code == 2057, ran.what());
    BOOST_TEST(db.query_rows(insert, 5).columns() == 4U);
    tx.commit();
    BOOST_TEST(
        db.query_one<std::int64_t>("SELECT count(*) FROM [" + table + "] WHERE [id] IN (4, 5)")
            .value() == 2);
    // The same for an async run: prepared again in place without blocking.
    other.execute("ALTER TABLE [" + table + "] ADD COLUMN [y] INT DEFAULT 9");
    const dal::error ran_again = expect_error([&] { db.query_rows(insert, 6); });
    BOOST_TEST(ran_again.diag().native_code == 2057, ran_again.what());
    asio::io_context io;
    std::size_t cols = 0;
    std::exception_ptr failed;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            const dal::rowset r =
                co_await db.async_query_rows(insert, dal::params(7), asio::use_awaitable);
            cols = r.columns();
        },
        [&](const std::exception_ptr& ep) { failed = ep; });
    io.run();
    db.detach_io();  // io goes away first
    BOOST_TEST(!failed);
    BOOST_TEST(cols == 5U);

    // An async query whose result is larger than the socket's buffers: its rows (15 MB) are
    // dropped (with waits on the event loop: mysql_stmt_free_result_start/_cont), the
    // connection stays in step, and the query runs again.
    db.execute("INSERT INTO [" + table + "] ([id], [v]) SELECT [seq], 1 FROM seq_100_to_5099");
    const auto rows = db.query_one<std::int64_t>("SELECT count(*) FROM [" + table + "]").value();
    BOOST_TEST(db.query_rows(select).columns() == 5U);  // the cached statement, 5 columns
    other.execute("ALTER TABLE [" + table +
                  "] ADD COLUMN [pad] VARCHAR(3000) NOT NULL DEFAULT (REPEAT('p', 3000))");
    std::size_t got = 0;
    std::size_t pad = 0;
    cols = 0;
    failed = nullptr;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            const dal::rowset r =
                co_await db.async_query_rows(select, dal::params(), asio::use_awaitable);
            cols = r.columns();
            got = r.size();
            if (got > 0) pad = r[got - 1].get<std::string>("pad").size();
        },
        [&](const std::exception_ptr& ep) { failed = ep; });
    io.restart();
    io.run();
    db.detach_io();
    BOOST_TEST(!failed);
    BOOST_TEST(cols == 6U);
    BOOST_TEST(got == static_cast<std::size_t>(rows));
    BOOST_TEST(pad == 3000U);
    BOOST_TEST(db.query_one<std::int64_t>("SELECT 1"_sql).value() == 1);  // still in step
    db.execute("DROP TABLE [" + table + "]");
}

// The network stalls in the middle of a result that dal must drop (its table's columns
// changed under the cached statement): the drop waits under the statement's deadline, on the
// event loop or with poll, so the call ends at deadline + cancel grace with a timeout and the
// connection is closed, instead of a read that blocks until the network comes back.
BOOST_AUTO_TEST_CASE(dropping_a_changed_result_ends_at_the_deadline_when_the_network_stalls) {
    const std::string table = unique_table("dal_drop_stall");
    connection admin(my_config());
    admin.execute("DROP TABLE IF EXISTS [" + table + "]");
    admin.execute("CREATE TABLE [" + table + "] ([id] INT PRIMARY KEY, [v] INT) ENGINE=InnoDB");
    admin.execute("INSERT INTO [" + table + "] ([id], [v]) SELECT [seq], 1 FROM seq_1_to_5000");
    const std::string select = "SELECT * FROM [" + table + "] ORDER BY [id]";
    dal::config cfg = my_config();
    dal_test::tcp_proxy proxy(cfg.hosts.at(0).port);
    cfg.hosts[0].port = proxy.port();
    cfg.timeouts.statement = 1s;
    cfg.options.emplace_back("cancel_grace", "300ms");
    for (const bool async : {true, false}) {
        BOOST_TEST_CONTEXT((async ? "async" : "sync")) {
            proxy.resume();
            connection db(cfg);
            const std::size_t columns = db.query_rows(select).columns();  // cached
            admin.execute("ALTER TABLE [" + table + "] ADD COLUMN [pad" + std::to_string(columns) +
                          "] VARCHAR(3000) NOT NULL DEFAULT (REPEAT('p', 3000))");
            proxy.stall_after(1 << 20);  // 1 MB of the 15 MB result, then nothing
            const auto start = clk::now();
            std::exception_ptr failed;
            if (async) {
                asio::io_context io;
                asio::co_spawn(
                    io,
                    [&]() -> asio::awaitable<void> {
                        (void)co_await db.async_query_rows(select, dal::params(),
                                                           asio::use_awaitable);
                    },
                    [&](const std::exception_ptr& ep) { failed = ep; });
                io.run();
                db.detach_io();
            } else {
                try {
                    (void)db.query_rows(select);
                } catch (...) {
                    failed = std::current_exception();
                }
            }
            const auto took =
                std::chrono::duration_cast<std::chrono::milliseconds>(clk::now() - start);
            BOOST_TEST(took < 5s, "the call outlived its limits: " << took.count() << " ms");
            BOOST_TEST(took >= 1s, "it ended before its deadline: " << took.count() << " ms");
            BOOST_REQUIRE(failed);
            try {
                std::rethrow_exception(failed);
            } catch (const dal::error& e) {
                BOOST_TEST((e.code() == dal::errc::timeout), e.what());
            }
        }
    }
    proxy.resume();
    admin.execute("DROP TABLE [" + table + "]");
}

BOOST_AUTO_TEST_CASE(ddl_inside_a_transaction) {
    const std::string table = unique_table("dal_ddl");
    const std::string other = unique_table("dal_ddl_other");
    connection db(my_config());
    db.execute("DROP TABLE IF EXISTS [" + table + "], [" + other + "]");
    db.execute("CREATE TABLE [" + table + "] ([v] INT) ENGINE=InnoDB");
    // Default: rejected before it reaches the server; the transaction is untouched.
    {
        auto tx = db.begin();
        db.execute("INSERT INTO [" + table + "] VALUES (1)");
        const dal::error e =
            expect_error([&] { db.execute("CREATE TABLE [" + other + "] ([x] INT)"); });
        BOOST_TEST((e.code() == dal::errc::transaction_state), e.what());
        BOOST_TEST(std::string(e.what()).find("ddl_in_transaction=allow") != std::string::npos);
        BOOST_TEST(db.in_transaction());
    }  // rolled back
    BOOST_TEST(db.query_one<std::int64_t>("SELECT count(*) FROM [" + table + "]").value() == 0);
    // Temporary tables do not commit: allowed.
    {
        auto tx = db.begin();
        db.execute("CREATE TEMPORARY TABLE [tmp_ok] ([x] INT)"_sql);
        tx.commit();
    }
    // Opted in: the DDL runs, commits the transaction implicitly, and is counted. A rollback
    // afterwards cannot undo what came before the DDL (docs/mysql.md).
    dal::config cfg = my_config();
    cfg.options.emplace_back("ddl_in_transaction", "allow");
    connection allowing(cfg);
    {
        auto tx = allowing.begin();
        allowing.execute("INSERT INTO [" + table + "] VALUES (1)");
        allowing.execute("CREATE TABLE [" + other + "] ([x] INT)");
        allowing.execute("INSERT INTO [" + table + "] VALUES (2)");
        tx.rollback();
    }
    BOOST_TEST(allowing.native_session().implicit_commits() == 1U);
    BOOST_TEST(allowing.native_session().last_warning().find("committed") != std::string::npos);
    // Row 1 was committed by the DDL; row 2 ran in autocommit after it (MySQL starts no new
    // transaction after the implicit commit), so both survive the "rollback".
    BOOST_TEST(allowing.query<int>("SELECT [v] FROM [" + table + "] ORDER BY 1") ==
               (std::vector<int>{1, 2}));
    db.execute("DROP TABLE [" + table + "], [" + other + "]");
}

BOOST_AUTO_TEST_CASE(statement_timeout_kills_the_query) {
    connection db(my_config());
    dal::call_options opts;
    opts.timeout = 200ms;
    const auto start = clk::now();
    const dal::error e = expect_error([&] { db.execute(opts, "SELECT SLEEP(30)"_sql); });
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clk::now() - start);
    BOOST_TEST((e.code() == dal::errc::timeout), e.what());
    BOOST_TEST(took.count() < 300);
    BOOST_TEST(db.query_one<int>("SELECT 7"_sql).value() == 7);
    // The server's own limit (max_statement_time) is a timeout too.
    db.execute("SET SESSION max_statement_time = 0.1"_sql);
    const dal::error server = expect_error(
        [&] { db.execute("SELECT count(*) FROM seq_1_to_100000000 a, seq_1_to_1000 b"_sql); });
    BOOST_TEST((server.code() == dal::errc::timeout), server.what());
    db.execute("SET SESSION max_statement_time = 0"_sql);
    // A call may ask for more than the configured limit: the server's is raised for it.
    dal::config cfg = my_config();
    cfg.timeouts.statement = 200ms;
    connection shortlimit(cfg);
    dal::call_options longer;
    longer.timeout = 5s;
    BOOST_TEST(shortlimit.query_one<int>(longer, "SELECT SLEEP(0.5)"_sql).value() == 0);
}

BOOST_AUTO_TEST_CASE(cancel_from_another_thread) {
    connection db(my_config());
    std::thread canceller([&] {
        std::this_thread::sleep_for(200ms);
        db.cancel();
    });
    const dal::error e = expect_error(
        [&] { db.execute("SELECT count(*) FROM seq_1_to_100000000 a, seq_1_to_1000 b"_sql); });
    canceller.join();
    BOOST_TEST((e.code() == dal::errc::cancelled), e.what());
    BOOST_TEST(db.query_one<int>("SELECT 1"_sql).value() == 1);
}

BOOST_AUTO_TEST_CASE(server_errors_are_mapped) {
    connection db(my_config());
    db.execute("CREATE TEMPORARY TABLE [u] ([id] INT PRIMARY KEY)"_sql);
    db.execute("INSERT INTO [u] VALUES (1)"_sql);
    const dal::error dup = expect_error([&] { db.execute("INSERT INTO [u] VALUES (?)"_sql, 1); });
    BOOST_TEST((dup.code() == dal::errc::constraint_violation));
    BOOST_TEST(dup.diag().native_code == 1062);
    BOOST_TEST(dup.diag().sqlstate == "23000");
    BOOST_TEST(dup.diag().message.find("Duplicate") != std::string::npos);
    const dal::error syntax = expect_error([&] { db.execute(std::string("SELEC 1")); });
    BOOST_TEST((syntax.code() == dal::errc::syntax_error));
    const dal::error missing =
        expect_error([&] { db.execute("SELECT * FROM [no_such_table]"_sql); });
    BOOST_TEST((missing.code() == dal::errc::undefined_object));
    const dal::error lit =
        expect_error([&] { db.execute("SELECT * FROM [nope] WHERE [a] = 'secret-value'"_sql); });
    BOOST_TEST(lit.diag().sql.find("secret-value") == std::string::npos);
    BOOST_TEST(db.query_one<int>("SELECT 1"_sql).value() == 1);
}

BOOST_AUTO_TEST_CASE(deadlock_is_detected_and_mapped) {
    const std::string table = unique_table("dal_deadlock");
    connection a(my_config());
    connection b(my_config());
    a.execute("DROP TABLE IF EXISTS [" + table + "]");
    a.execute("CREATE TABLE [" + table + "] ([id] INT PRIMARY KEY, [v] INT) ENGINE=InnoDB");
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
    std::this_thread::sleep_for(100ms);
    std::optional<dal::error> mine;
    try {
        a.execute("UPDATE [" + table + "] SET [v] = 2 WHERE [id] = 2");
    } catch (const dal::error& e) {
        mine = e;
    }
    const std::optional<dal::error> theirs = other.get();
    BOOST_TEST_REQUIRE((mine.has_value() != theirs.has_value()));
    const dal::error& e = mine ? *mine : *theirs;
    BOOST_TEST((e.code() == dal::errc::deadlock), e.what());
    BOOST_TEST(dal::is_transient(e.code()));
    try {
        ta.rollback();
    } catch (const dal::error&) {  // NOLINT(bugprone-empty-catch): the victim's is gone
    }
    try {
        tb.rollback();
    } catch (const dal::error&) {  // NOLINT(bugprone-empty-catch)
    }
    a.execute("DROP TABLE [" + table + "]");
}

BOOST_AUTO_TEST_CASE(killed_connection_is_a_connection_error) {
    connection db(my_config());
    connection admin(my_config());
    const auto id = db.query_one<std::int64_t>("SELECT CONNECTION_ID()"_sql).value();
    std::thread killer([&] {
        std::this_thread::sleep_for(200ms);
        admin.execute("KILL CONNECTION " + std::to_string(id));
    });
    const dal::error e = expect_error([&] { db.execute("SELECT SLEEP(30)"_sql); });
    killer.join();
    BOOST_TEST((e.code() == dal::errc::connection_error), e.what());
    const dal::error after = expect_error([&] { db.execute("SELECT 1"_sql); });
    BOOST_TEST(
        ((after.code() == dal::errc::connection_error) || (after.code() == dal::errc::closed)),
        after.what());
}

BOOST_AUTO_TEST_CASE(connect_limits) {
    const silent_listener silent;
    dal::config cfg = my_config();
    cfg.hosts = {{"127.0.0.1", silent.port}};
    cfg.timeouts.connect = 300ms;
    const auto start = clk::now();
    const dal::error hung = expect_error([&] { connection db(cfg); });
    BOOST_TEST((hung.code() == dal::errc::timeout), hung.what());
    BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(clk::now() - start).count() <
               1500);
    cfg.hosts = {{"127.0.0.1", 1}};
    const dal::error refused = expect_error([&] { connection db(cfg); });
    BOOST_TEST((refused.code() == dal::errc::connection_error), refused.what());
    dal::config bad = my_config();
    bad.password = dal::secret("wrong-password-xyz");
    const dal::error auth = expect_error([&] { connection db(bad); });
    BOOST_TEST((auth.code() == dal::errc::permission_denied), auth.what());
    BOOST_TEST(std::string(auth.what()).find("wrong-password-xyz") == std::string::npos);
    dal::config opt = my_config();
    opt.options.emplace_back("ddl_in_transactions", "allow");
    const dal::error unknown = expect_error([&] { connection db(opt); });
    BOOST_TEST(std::string(unknown.what()).find("ddl_in_transactions") != std::string::npos);
    // The first host is down, the second answers.
    dal::config multi = my_config();
    multi.hosts.insert(multi.hosts.begin(), dal::endpoint{"127.0.0.1", 1});
    connection db(multi);
    BOOST_TEST(db.query_one<int>("SELECT 1"_sql).value() == 1);
}

BOOST_AUTO_TEST_CASE(async_many_connections_on_one_thread) {
    asio::io_context io;
    constexpr int n = 20;
    std::vector<std::unique_ptr<connection>> conns;
    conns.reserve(n);
    for (int k = 0; k < n; ++k)
        conns.push_back(std::make_unique<connection>(my_config()));
    std::atomic<int> done{0};
    int ticks = 0;
    const auto start = clk::now();
    for (int k = 0; k < n; ++k) {
        asio::co_spawn(
            io,
            [&, k]() -> asio::awaitable<void> {
                auto r = co_await conns[static_cast<std::size_t>(k)]->async_query_one<int>(
                    "SELECT ? + SLEEP(0.3)"_sql, dal::params(k), asio::use_awaitable);
                BOOST_TEST(r.value() == k);
                ++done;
            },
            asio::detached);
    }
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
    BOOST_TEST(took.count() < 3000);  // 20 × 300 ms one after another would take 6 s
    BOOST_TEST(ticks >= 5);
}

BOOST_AUTO_TEST_CASE(async_timeout_and_callbacks) {
    asio::io_context io;
    dal::config cfg = my_config();
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
                co_await db.async_execute("SELECT SLEEP(30)"_sql, asio::use_awaitable);
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
    io.restart();
    std::vector<std::int64_t> got;
    db.async_query<std::int64_t>("SELECT [seq] FROM seq_1_to_3"_sql, dal::params(),
                                 [&](const std::exception_ptr& ep, std::vector<std::int64_t> v) {
                                     BOOST_TEST(!ep);
                                     got = std::move(v);
                                 });
    io.run();
    BOOST_TEST(got == (std::vector<std::int64_t>{1, 2, 3}));
}

BOOST_AUTO_TEST_CASE(factory_builds_mysql_from_a_uri) {
    const char* uri = std::getenv("DAL_TEST_MYSQL_URI");
    BOOST_TEST_REQUIRE(uri != nullptr);
    auto db = dal::connect(uri);
    BOOST_TEST(db.query("SELECT ? + 1 AS [n]", 41)[0].get<int>("n") == 42);
    BOOST_TEST(db.info().backend == "mysql");
}

BOOST_AUTO_TEST_CASE(tls_used_and_verified,
                     *utf::precondition(dal_test::server_configured{"DAL_TEST_TLS_CA"})) {
    dal_test::tls_is_used_and_verified<dal::mysql::connection>(
        my_config(),
        "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = "
        "'Ssl_version'");
}

BOOST_AUTO_TEST_SUITE_END()
