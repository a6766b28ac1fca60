// The composed connection on the SQLite backend, against real database files: typed reads,
// every bindable type, transactions, the statement cache, per-call options, time limits,
// cancellation, concurrency, async forms, the run-time factory and the bad inputs.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/hana/define_struct.hpp>
#include <boost/test/unit_test.hpp>

#include <dal/sqlite.hpp>

namespace {

using namespace dal::literals;  // NOLINT(google-build-using-namespace): test file
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace asio = boost::asio;

/// A fresh database file per test, removed afterwards.
struct temp_db {
    fs::path dir;
    fs::path file;
    temp_db() {
        static std::atomic<int> counter{0};
        dir = fs::temp_directory_path() /
              ("dal-sqlite-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        fs::create_directories(dir);
        file = dir / "test.db";
    }
    temp_db(const temp_db&) = delete;
    temp_db& operator=(const temp_db&) = delete;
    ~temp_db() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    [[nodiscard]] std::string uri(const std::string& query = "") const {
        return "sqlite://" + file.string() + (query.empty() ? "" : "?" + query);
    }
};

struct user {
    BOOST_HANA_DEFINE_STRUCT(user, (std::int64_t, id), (std::string, name),
                             (std::optional<int>, age));
};

struct money {
    std::int64_t cents;
};

template <class F>
dal::error error_of(F&& f) {
    try {
        f();
    } catch (const dal::error& e) {
        return e;
    }
    throw std::runtime_error("expected dal::error");
}

bool contains(std::string_view s, std::string_view part) {
    return s.find(part) != std::string_view::npos;
}

void make_users(dal::sqlite::connection& db) {
    db.execute(
        "CREATE TABLE [users] ([id] INTEGER PRIMARY KEY, [name] TEXT NOT NULL, [age] INTEGER)"_sql);
    db.execute("INSERT INTO [users] ([name], [age]) VALUES (?, ?)"_sql, "ann", 31);
    db.execute("INSERT INTO [users] ([name], [age]) VALUES (?, ?)"_sql, "bob",
               std::optional<int>{});
}

/// A query that never ends on its own: a recursive CTE counting forever.
constexpr auto endless =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
    "SELECT max(x) FROM c"_sql;

}  // namespace

template <>
struct dal::type_traits<money> {
    using db_type = std::int64_t;
    static db_type to_db(const money& m) noexcept { return m.cents; }
    static money from_db(db_type v) noexcept { return money{v}; }
};

BOOST_AUTO_TEST_SUITE(sqlite_connection)

BOOST_AUTO_TEST_CASE(typed_reads) {
    temp_db t;
    dal::sqlite::connection db(t.uri());
    make_users(db);

    const auto users = db.query<user>("SELECT [id], [name], [age] FROM [users] ORDER BY [id]"_sql);
    BOOST_TEST_REQUIRE(users.size() == 2u);
    BOOST_TEST(users[0].name == "ann");
    BOOST_TEST(users[0].age.value_or(0) == 31);
    BOOST_TEST(!users[1].age.has_value());

    // Struct members are matched by column name, whatever the column order.
    const auto reordered =
        db.query<user>("SELECT [age], [name], [id] FROM [users] ORDER BY [id]"_sql);
    BOOST_TEST(reordered[0].name == "ann");

    const auto tuples = db.query<std::tuple<std::string, std::optional<int>>>(
        "SELECT [name], [age] FROM [users] ORDER BY [id]"_sql);
    BOOST_TEST(std::get<0>(tuples[1]) == "bob");

    const auto count = db.query_one<int>("SELECT count(*) FROM [users]"_sql);
    BOOST_TEST(count.value_or(-1) == 2);
    BOOST_TEST(!db.query_one<int>("SELECT [id] FROM [users] WHERE [id] = ?"_sql, 99).has_value());

    const dal::rowset rs =
        db.query_rows("SELECT [id], [name], [age] FROM [users] ORDER BY [id]"_sql);
    BOOST_TEST(rs.size() == 2u);
    BOOST_TEST(rs.columns() == 3u);
    BOOST_TEST(rs[0].get<std::string>(1) == "ann");
    BOOST_TEST(rs[1].get<std::string>("name") == "bob");
    BOOST_TEST(!rs[1].get<std::optional<int>>("age").has_value());
    BOOST_TEST(rs[0].as<user>().age.value_or(0) == 31);

    // Run-time SQL goes through the same translator.
    const std::string sql = "SELECT [name] FROM [users] WHERE [age] > ?";
    BOOST_TEST(db.query<std::string>(sql, 30).size() == 1u);
}

BOOST_AUTO_TEST_CASE(type_errors_name_the_column) {
    temp_db t;
    dal::sqlite::connection db(t.uri());
    make_users(db);
    const auto null_err = error_of(
        [&] { (void)db.query<int>("SELECT [age] FROM [users] WHERE [name] = 'bob'"_sql); });
    BOOST_TEST(null_err.code() == dal::errc::type_mismatch);
    BOOST_TEST(null_err.code() == dal::client_errc::null_value);
    BOOST_TEST(contains(null_err.what(), "column 'age' is NULL"), null_err.what());

    const auto text_err = error_of([&] { (void)db.query<int>("SELECT [name] FROM [users]"_sql); });
    BOOST_TEST(text_err.code() == dal::client_errc::type_mismatch);
    BOOST_TEST(contains(text_err.what(), "column 'name' is not an integer"), text_err.what());

    const auto narrow = error_of([&] { (void)db.query<std::int8_t>("SELECT 300 AS [big]"_sql); });
    BOOST_TEST(narrow.code() == dal::client_errc::value_out_of_range);
    BOOST_TEST(contains(narrow.what(), "column 'big'"), narrow.what());

    const auto missing =
        error_of([&] { (void)db.query<user>("SELECT [id], [name] FROM [users]"_sql); });
    BOOST_TEST(contains(missing.what(), "no column named 'age'"), missing.what());

    const auto shape =
        error_of([&] { (void)db.query<std::tuple<int, int>>("SELECT [id] FROM [users]"_sql); });
    BOOST_TEST(contains(shape.what(), "1 columns, the tuple 2 elements"), shape.what());
}

BOOST_AUTO_TEST_CASE(every_bindable_type_round_trips) {
    temp_db t;
    dal::sqlite::connection db(t.uri());
    db.execute("CREATE TABLE [v] ([k] TEXT, [val])"_sql);
    const auto round = [&]<class T>(const char* key, const T& value) {
        db.execute("INSERT INTO [v] VALUES (?, ?)"_sql, key, value);
        return db.query_one<T>("SELECT [val] FROM [v] WHERE [k] = ?"_sql, key).value();
    };
    BOOST_TEST(round("bool", true) == true);
    BOOST_TEST(round("i8", std::int8_t{-128}) == -128);
    BOOST_TEST(round("i16", std::int16_t{-32768}) == -32768);
    BOOST_TEST(round("i32", std::numeric_limits<std::int32_t>::min()) ==
               std::numeric_limits<std::int32_t>::min());
    BOOST_TEST(round("i64", std::numeric_limits<std::int64_t>::max()) ==
               std::numeric_limits<std::int64_t>::max());
    BOOST_TEST(round("u8", std::uint8_t{255}) == 255u);
    BOOST_TEST(round("u32", std::numeric_limits<std::uint32_t>::max()) ==
               std::numeric_limits<std::uint32_t>::max());
    BOOST_TEST(round("u64", std::uint64_t{1} << 62) == std::uint64_t{1} << 62);
    BOOST_TEST(round("float", 1.5F) == 1.5F);
    BOOST_TEST(round("double", 0.1) == 0.1);
    BOOST_TEST(round("string", std::string("h\xc3\xa9llo")) == "h\xc3\xa9llo");
    BOOST_TEST(round("empty", std::string()) == "");
    const dal::blob bytes{std::byte{0}, std::byte{0xFF}, std::byte{7}};
    BOOST_TEST((round("blob", bytes) == bytes));
    const dal::date day{std::chrono::year{2024}, std::chrono::month{2}, std::chrono::day{29}};
    BOOST_TEST((round("date", day) == day));
    const dal::timestamp ts = std::chrono::time_point_cast<std::chrono::microseconds>(
        std::chrono::sys_days{day} + 13h + 37min + 5s + 123456us);
    BOOST_TEST((round("ts", ts) == ts));
    BOOST_TEST(round("money", money{1999}).cents == 1999);
    BOOST_TEST(!round("none", std::optional<double>{}).has_value());
    BOOST_TEST(round("some", std::optional<std::string>("x")).value() == "x");

    // A string_view and a const char* bind as text; a null const char* binds NULL.
    db.execute("INSERT INTO [v] VALUES (?, ?)"_sql, "sv", std::string_view("view"));
    BOOST_TEST(db.query_one<std::string>("SELECT [val] FROM [v] WHERE [k] = 'sv'"_sql).value() ==
               "view");
    const char* nothing = nullptr;
    db.execute("INSERT INTO [v] VALUES (?, ?)"_sql, "nullptr", nothing);
    BOOST_TEST(
        !db.query_one<std::optional<std::string>>("SELECT [val] FROM [v] WHERE [k] = 'nullptr'"_sql)
             .value()
             .has_value());

    // No silent truncation on the way in either.
    const auto big = error_of([&] {
        db.execute("INSERT INTO [v] VALUES (?, ?)"_sql, "u64max",
                   std::numeric_limits<std::uint64_t>::max());
    });
    BOOST_TEST(big.code() == dal::client_errc::value_out_of_range);
    BOOST_TEST(contains(big.what(), "does not fit SQLite's signed 64-bit integer"), big.what());
    // A bool column holding 2 is not a bool.
    db.execute("INSERT INTO [v] VALUES ('two', 2)"_sql);
    BOOST_TEST(error_of([&] {
                   (void)db.query_one<bool>("SELECT [val] FROM [v] WHERE [k] = 'two'"_sql);
               }).code() == dal::errc::type_mismatch);
}

BOOST_AUTO_TEST_CASE(bad_inputs_are_clear_errors) {
    temp_db t;
    dal::sqlite::connection db(t.uri());
    make_users(db);
    // Wrong argument count for run-time SQL.
    const std::string sql = "SELECT [name] FROM [users] WHERE [id] = ?";
    const auto count = error_of([&] { (void)db.query<std::string>(sql, 1, 2); });
    BOOST_TEST(count.code() == dal::errc::invalid_argument);
    BOOST_TEST(contains(count.what(), "1 parameter(s) but 2 argument(s)"), count.what());
    // Two statements in one call are refused, not half-run.
    const auto two =
        error_of([&] { db.execute(std::string("DELETE FROM [users]; DELETE FROM [users]")); });
    BOOST_TEST(contains(two.what(), "more than one statement"), two.what());
    BOOST_TEST(db.query_one<int>("SELECT count(*) FROM [users]"_sql).value() == 2);
    // SQL the server rejects keeps the server's message.
    const auto syntax = error_of([&] { db.execute(std::string("SELEC 1")); });
    BOOST_TEST(syntax.code() == dal::errc::syntax_error);
    BOOST_TEST(contains(syntax.diag().message, "syntax error"), syntax.what());
    // A misspelled [column] is an error, not SQLite's legacy string fallback.
    const auto typo =
        error_of([&] { (void)db.query<std::string>("SELECT [nmae] FROM [users]"_sql); });
    BOOST_TEST(contains(typo.diag().message, "no such column: nmae"), typo.what());
    // Constraint violations map to the portable condition.
    const auto unique =
        error_of([&] { db.execute("INSERT INTO [users] ([id], [name]) VALUES (1, 'dup')"_sql); });
    BOOST_TEST(unique.code() == dal::errc::constraint_violation);
    // A closed connection says so.
    db.close();
    const auto closed = error_of([&] { (void)db.query<int>("SELECT 1"_sql); });
    BOOST_TEST(closed.code() == dal::errc::closed);
    // A path that cannot be opened names the path.
    const auto cannot =
        error_of([] { dal::sqlite::connection bad("sqlite:///nonexistent-dir-dal/sub/x.db"); });
    BOOST_TEST(cannot.code() == dal::errc::connection_error);
    BOOST_TEST(contains(cannot.what(), "/nonexistent-dir-dal/sub/x.db"), cannot.what());
    // A file that is not a database.
    temp_db junk;
    {
        std::FILE* f = std::fopen(junk.file.c_str(), "wb");
        std::fputs("this is not a database file, not at all........", f);
        std::fclose(f);
    }
    const auto notadb = error_of([&] { dal::sqlite::connection bad(junk.uri()); });
    BOOST_TEST(contains(notadb.what(), "not a database"), notadb.what());
    // Unknown options are named.
    const auto opt = error_of([&] { dal::sqlite::connection bad(t.uri("journal=wal")); });
    BOOST_TEST(contains(opt.what(), "unknown SQLite option 'journal'"), opt.what());
    // Nothing committed was lost along the way.
    dal::sqlite::connection again(t.uri());
    BOOST_TEST(again.query_one<int>("SELECT count(*) FROM [users]"_sql).value() == 2);
}

BOOST_AUTO_TEST_CASE(defaults_wal_and_foreign_keys) {
    temp_db t;
    dal::sqlite::connection db(t.uri());
    BOOST_TEST(db.query_one<std::string>("PRAGMA journal_mode"_sql).value() == "wal");
    BOOST_TEST(db.query_one<int>("PRAGMA foreign_keys"_sql).value() == 1);
    db.execute("CREATE TABLE [p] ([id] INTEGER PRIMARY KEY)"_sql);
    db.execute("CREATE TABLE [c] ([p] INTEGER REFERENCES [p]([id]))"_sql);
    const auto fk = error_of([&] { db.execute("INSERT INTO [c] VALUES (?)"_sql, 42); });
    BOOST_TEST(fk.code() == dal::errc::constraint_violation);
    temp_db other;  // another file: leaving WAL needs the file to itself
    dal::sqlite::connection off(other.uri("foreign_keys=off&journal_mode=delete"));
    BOOST_TEST(off.query_one<std::string>("PRAGMA journal_mode"_sql).value() == "delete");
    BOOST_TEST(off.query_one<int>("PRAGMA foreign_keys"_sql).value() == 0);
    const auto info = db.info();
    BOOST_TEST(info.backend == "sqlite");
    BOOST_TEST(info.server_version == dal::sqlite::driver_version());
    dal::sqlite::connection memory("sqlite::memory:");
    BOOST_TEST(memory.query_one<int>("SELECT 41 + 1"_sql).value() == 42);
}

BOOST_AUTO_TEST_CASE(transactions_leave_the_database_as_before) {
    temp_db t;
    dal::sqlite::connection db(t.uri());
    make_users(db);
    const auto snapshot = [&] {
        return db.query<std::tuple<std::int64_t, std::string, std::optional<int>>>(
            "SELECT [id], [name], [age] FROM [users] ORDER BY [id]"_sql);
    };
    const auto before = snapshot();

    // An exception inside a guarded block: everything in it is undone.
    BOOST_CHECK_THROW(
        {
            auto tx = db.begin();
            db.execute("INSERT INTO [users] ([name]) VALUES ('carol')"_sql);
            db.execute("UPDATE [users] SET [age] = 99"_sql);
            db.execute("DELETE FROM [users] WHERE [name] = 'ann'"_sql);
            throw std::runtime_error("boom");
        },
        std::runtime_error);
    BOOST_TEST((snapshot() == before));
    BOOST_TEST(!db.in_transaction());

    // A database error inside with_transaction: the same.
    BOOST_CHECK_THROW(db.with_transaction([](auto& c) {
        c.execute("INSERT INTO [users] ([name]) VALUES ('dave')"_sql);
        c.execute("INSERT INTO [users] ([id], [name]) VALUES (1, 'dup')"_sql);  // unique violation
    }),
                      dal::error);
    BOOST_TEST((snapshot() == before));

    // Commit keeps; nesting becomes savepoints; an inner rollback keeps the outer work.
    {
        auto outer = db.begin();
        db.execute("INSERT INTO [users] ([name]) VALUES ('erin')"_sql);
        {
            auto inner = db.begin();
            BOOST_TEST(inner.level() == 2u);
            db.execute("INSERT INTO [users] ([name]) VALUES ('frank')"_sql);
        }                                  // rolled back to the savepoint
        db.with_transaction([](auto& c) {  // joins the open transaction
            c.execute("INSERT INTO [users] ([name]) VALUES ('gina')"_sql);
        });
        outer.commit();
    }
    const auto names = db.query<std::string>("SELECT [name] FROM [users] ORDER BY [id]"_sql);
    BOOST_TEST((names == std::vector<std::string>{"ann", "bob", "erin", "gina"}));

    // Out-of-order use is refused.
    auto a = db.begin();
    auto b = db.begin();
    BOOST_TEST(error_of([&] { a.commit(); }).code() == dal::errc::transaction_state);
    b.rollback();
    a.rollback();
    BOOST_TEST(error_of([&] { a.commit(); }).code() == dal::errc::transaction_state);

    // execute_many: all rows in one transaction, or none.
    std::vector<std::tuple<std::string, int>> rows;
    rows.reserve(1001);
    for (int k = 0; k < 1000; ++k)
        rows.emplace_back("bulk" + std::to_string(k), k);
    BOOST_TEST(db.execute_many("INSERT INTO [users] ([name], [age]) VALUES (?, ?)"_sql, rows) ==
               1000u);
    rows.emplace_back("bad", 0);
    std::get<0>(rows[500]) = "dup";
    db.execute("CREATE UNIQUE INDEX [u_name] ON [users] ([name])"_sql);
    const auto before_bulk = db.query_one<int>("SELECT count(*) FROM [users]"_sql).value();
    BOOST_CHECK_THROW(
        db.execute_many("INSERT INTO [users] ([name], [age]) VALUES (?, ?)"_sql, rows), dal::error);
    BOOST_TEST(db.query_one<int>("SELECT count(*) FROM [users]"_sql).value() == before_bulk);
}

BOOST_AUTO_TEST_CASE(statement_cache) {
    temp_db t;
    using small =
        dal::sqlite::basic_connection<dal::policies::no_retry, dal::policies::config_timeout,
                                      dal::policies::no_breaker, dal::policies::lru_cache>;
    small db(dal::config::from_uri(t.uri()), {}, {}, {}, dal::policies::lru_cache{2});
    db.execute("CREATE TABLE [t] ([a])"_sql);
    const auto s0 = db.statement_cache_stats();
    for (int k = 0; k < 5; ++k)
        db.execute("INSERT INTO [t] VALUES (?)"_sql, k);
    auto s = db.statement_cache_stats();
    BOOST_TEST(s.hits - s0.hits == 4u);  // prepared once, reused four times
    BOOST_TEST(s.capacity == 2u);
    (void)db.query<int>("SELECT [a] FROM [t]"_sql);
    (void)db.query<int>("SELECT count(*) FROM [t]"_sql);
    s = db.statement_cache_stats();
    BOOST_TEST(s.size == 2u);
    BOOST_TEST(s.evictions >= 1u);

    // A schema change under a cached statement: the statement sees the new schema.
    db.execute("CREATE TABLE [w] ([a])"_sql);
    db.execute("INSERT INTO [w] VALUES (1)"_sql);
    BOOST_TEST(db.query_rows("SELECT * FROM [w]"_sql).columns() == 1u);
    db.execute("ALTER TABLE [w] ADD COLUMN [b] DEFAULT 7"_sql);
    const auto rs = db.query_rows("SELECT * FROM [w]"_sql);
    BOOST_TEST(rs.columns() == 2u);
    BOOST_TEST(rs[0].get<int>("b") == 7);

    // no_cache: prepares every time, still correct.
    dal::sqlite::basic_connection<dal::policies::no_retry, dal::policies::config_timeout,
                                  dal::policies::no_breaker, dal::policies::no_cache>
        uncached(dal::config::from_uri(t.uri()));
    BOOST_TEST(uncached.query_one<int>("SELECT count(*) FROM [t]"_sql).value() == 5);
    BOOST_TEST(uncached.statement_cache_stats().hits == 0u);
}

BOOST_AUTO_TEST_CASE(tags_travel_as_sql_comment_without_defeating_the_cache) {
    temp_db t;
    dal::sqlite::connection db(t.uri());
    std::vector<std::string> seen;
    sqlite3_trace_v2(
        db.native_session().native_handle(), SQLITE_TRACE_STMT,
        [](unsigned, void* ctx, void* p, void*) {
            static_cast<std::vector<std::string>*>(ctx)->emplace_back(
                sqlite3_sql(static_cast<sqlite3_stmt*>(p)));
            return 0;
        },
        &seen);
    const dal::call_options opts{.timeout = 2s,
                                 .tags = {{"operation", "get_user"}, {"route", "/u/'x'"}}};
    const auto before = db.statement_cache_stats();
    for (int k = 0; k < 3; ++k)
        BOOST_TEST(db.query_one<int>(opts, "SELECT ?"_sql, k).value() == k);
    const auto after = db.statement_cache_stats();
    BOOST_TEST(after.misses - before.misses == 1u);
    BOOST_TEST(after.hits - before.hits == 2u);
    BOOST_TEST_REQUIRE(!seen.empty());
    BOOST_TEST(seen.back() == "SELECT ? /*operation='get_user',route='%2Fu%2F%27x%27'*/",
               seen.back());
}

BOOST_AUTO_TEST_CASE(statement_timeout_and_cancel) {
    temp_db t;
    dal::sqlite::connection db(t.uri());
    for (const auto limit : {200ms, 50ms}) {
        const auto start = std::chrono::steady_clock::now();
        const auto e = error_of(
            [&] { (void)db.query_one<long long>(dal::call_options{.timeout = limit}, endless); });
        const auto took = std::chrono::steady_clock::now() - start;
        BOOST_TEST(e.code() == dal::errc::timeout, e.what());
        const auto over = std::chrono::duration_cast<std::chrono::microseconds>(took - limit);
        BOOST_TEST_MESSAGE("limit " << limit.count() << " ms, stopped " << over.count()
                                    << " us after it");
        BOOST_TEST(took >= limit);
        BOOST_TEST(over < 10ms);  // the bound: deadline + 10 ms
        // The connection is usable at once.
        BOOST_TEST(db.query_one<int>("SELECT 1"_sql).value() == 1);
    }
    // The configured statement limit applies when the call gives none.
    dal::sqlite::connection limited(t.uri("statement_timeout=100ms"));
    BOOST_TEST(error_of([&] { (void)limited.query_one<long long>(endless); }).code() ==
               dal::errc::timeout);

    // cancel() from another thread stops a running statement with errc::cancelled.
    std::thread canceller([&] {
        std::this_thread::sleep_for(100ms);
        db.cancel();
    });
    const auto cancelled = error_of(
        [&] { (void)db.query_one<long long>(dal::call_options{.timeout = 0ms}, endless); });
    canceller.join();
    BOOST_TEST(cancelled.code() == dal::errc::cancelled, cancelled.what());
    BOOST_TEST(db.query_one<int>("SELECT 2"_sql).value() == 2);
}

BOOST_AUTO_TEST_CASE(many_threads_one_file_no_locked_errors) {
    temp_db t;
    {
        dal::sqlite::connection setup(t.uri());
        setup.execute("CREATE TABLE [hits] ([thread] INTEGER, [n] INTEGER)"_sql);
    }
    constexpr int threads = 8;
    constexpr int per_thread = 100;
    std::atomic<int> failures{0};
    std::string first_failure;
    std::mutex m;
    std::vector<std::thread> pool;
    pool.reserve(threads);
    for (int th = 0; th < threads; ++th) {
        pool.emplace_back([&, th] {
            try {
                dal::sqlite::connection db(t.uri());
                for (int k = 0; k < per_thread; ++k) {
                    if (k % 2 == 0) {
                        db.with_transaction([&](auto& c) {
                            c.execute("INSERT INTO [hits] VALUES (?, ?)"_sql, th, k);
                            (void)c.template query_one<int>("SELECT count(*) FROM [hits]"_sql);
                        });
                    } else {
                        db.execute("INSERT INTO [hits] VALUES (?, ?)"_sql, th, k);
                    }
                }
            } catch (const std::exception& e) {
                ++failures;
                const std::lock_guard lock(m);
                if (first_failure.empty()) first_failure = e.what();
            }
        });
    }
    for (auto& th : pool)
        th.join();
    BOOST_TEST(failures.load() == 0, first_failure);
    dal::sqlite::connection check(t.uri());
    BOOST_TEST(check.query_one<int>("SELECT count(*) FROM [hits]"_sql).value() ==
               threads * per_thread);
}

BOOST_AUTO_TEST_CASE(async_with_awaitable_and_callback) {
    temp_db t;
    asio::io_context io;
    dal::sqlite::connection db(io.get_executor(), dal::config::from_uri(t.uri()));
    db.execute("CREATE TABLE [t] ([v] INTEGER)"_sql);

    int callback_rows = -1;
    db.async_execute("INSERT INTO [t] VALUES (?)"_sql, dal::params(7),
                     [&](const std::exception_ptr& ep, std::uint64_t n) {
                         BOOST_TEST(!ep);
                         callback_rows = static_cast<int>(n);
                     });
    std::vector<int> got;
    std::string error_text;
    std::uint64_t bulk = 0;
    std::size_t rows_above_nine = 0;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await db.async_execute("INSERT INTO [t] VALUES (?)"_sql, dal::params(8),
                                      asio::use_awaitable);
            got = co_await db.async_query<int>("SELECT [v] FROM [t] ORDER BY [v]"_sql,
                                               asio::use_awaitable);
            try {
                co_await db.async_query<int>("SELECT [nope] FROM [t]"_sql, asio::use_awaitable);
            } catch (const dal::error& e) {
                error_text = e.what();
            }
            co_await db.async_with_transaction(
                [](auto& c) { c.execute("INSERT INTO [t] VALUES (9)"_sql); }, asio::use_awaitable);
            co_await db.async_ping(asio::use_awaitable);
            const std::vector<std::tuple<int>> more{{10}, {11}};
            bulk = co_await db.async_execute_many("INSERT INTO [t] VALUES (?)"_sql, more,
                                                  asio::use_awaitable);
            const dal::rowset rs = co_await db.async_query_rows(
                "SELECT [v] FROM [t] WHERE [v] > ?"_sql, dal::params(9), asio::use_awaitable);
            rows_above_nine = rs.size();
        },
        asio::detached);
    io.run();
    BOOST_TEST(callback_rows == 1);
    BOOST_TEST((got == std::vector<int>{7, 8}));
    BOOST_TEST(contains(error_text, "no such column"), error_text);
    BOOST_TEST(bulk == 2u);
    BOOST_TEST(rows_above_nine == 2u);
    BOOST_TEST(db.query_one<int>("SELECT count(*) FROM [t]"_sql).value() == 5);
}

BOOST_AUTO_TEST_CASE(io_context_keeps_running_during_a_slow_query) {
    temp_db t;
    asio::io_context io;
    dal::sqlite::connection db(io.get_executor(),
                               dal::config::from_uri(t.uri("statement_timeout=300ms")));
    int ticks = 0;
    bool done = false;
    asio::steady_timer timer(io);
    std::function<void()> tick = [&] {
        timer.expires_after(10ms);
        timer.async_wait([&](boost::system::error_code ec) {
            if (ec || done) return;
            ++ticks;
            tick();
        });
    };
    tick();
    const auto start = std::chrono::steady_clock::now();
    std::chrono::steady_clock::duration took{};
    db.async_query_one<long long>(
        endless, dal::params(), [&](const std::exception_ptr& ep, const std::optional<long long>&) {
            BOOST_TEST(static_cast<bool>(ep));  // stopped by its 300 ms limit
            took = std::chrono::steady_clock::now() - start;
            done = true;
            timer.cancel();
        });
    io.run();
    BOOST_TEST_MESSAGE("timer ticks while the query ran: " << ticks);
    // The query ran ~300 ms on a worker; a blocked io_context would have ticked at most once.
    BOOST_TEST(ticks >= 10);
    BOOST_TEST(took >= 250ms);
}

BOOST_AUTO_TEST_CASE(runtime_factory) {
    temp_db t;
    dal::any_connection db = dal::connect(t.uri());
    db.execute("CREATE TABLE [kv] ([k] TEXT PRIMARY KEY, [v] INTEGER)");
    db.execute("INSERT INTO [kv] VALUES (?, ?)", "a", 1);
    db.with_transaction(
        [](dal::any_connection& c) { c.execute("INSERT INTO [kv] VALUES (?, ?)", "b", 2); });
    BOOST_CHECK_THROW(db.with_transaction([](dal::any_connection& c) {
        c.execute("INSERT INTO [kv] VALUES (?, ?)", "c", 3);
        throw std::runtime_error("undo");
    }),
                      std::runtime_error);
    const auto rs = db.query("SELECT [k], [v] FROM [kv] ORDER BY [k]");
    BOOST_TEST(rs.size() == 2u);
    BOOST_TEST(rs[1].get<int>("v") == 2);
    BOOST_TEST((db.query_as<std::tuple<std::string, int>>("SELECT [k], [v] FROM [kv] WHERE [k] = ?",
                                                          "a")[0] ==
                std::tuple<std::string, int>{"a", 1}));
    BOOST_TEST(db.info().backend == "sqlite");

    // By backend name and a config built in code (the Python DatabaseFactory form).
    dal::config cfg;
    cfg.database = t.file.string();
    dal::any_connection named = dal::connect("sqlite", cfg);
    BOOST_TEST(named.query("SELECT count(*) AS [n] FROM [kv]")[0].get<int>("n") == 2);

    BOOST_TEST(error_of([] { (void)dal::connect("oracle", dal::config{}); }).code() ==
               dal::errc::invalid_argument);
    // A backend this program does not link says which header and target are missing.
    const auto missing = error_of([] { (void)dal::connect("postgresql://u@h/d"); });
    BOOST_TEST(missing.code() == dal::errc::feature_not_supported);
    BOOST_TEST(contains(missing.what(), "include <dal/postgres.hpp> and link dal::postgres"),
               missing.what());
}

BOOST_AUTO_TEST_SUITE_END()
