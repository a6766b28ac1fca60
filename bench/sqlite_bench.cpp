// dal on SQLite against the raw sqlite3 C API, same process, same file, same settings (WAL,
// synchronous=NORMAL, foreign keys on): a primary-key SELECT of one row (three columns, the
// text copied into a std::string by both) and a single-row INSERT in autocommit.
// Target (issue #3): dal sync >= 0.95x raw throughput. Results: docs/benchmarks.md.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <tuple>

#include <unistd.h>

#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <boost/asio/io_context.hpp>

#include <dal/sqlite.hpp>

namespace {

using namespace dal::literals;  // NOLINT(google-build-using-namespace)
constexpr int rows = 10'000;

std::string db_path() {
    static const std::string path = (std::filesystem::temp_directory_path() /
                                     ("dal-bench-" + std::to_string(::getpid()) + ".db"))
                                        .string();
    return path;
}

/// Creates the file once per process: 10,000 users.
void ensure_data() {
    static const bool done = [] {
        std::filesystem::remove(db_path());
        dal::sqlite::connection db("sqlite://" + db_path());
        db.execute(
            "CREATE TABLE [users] ([id] INTEGER PRIMARY KEY, [name] TEXT NOT NULL, [age] INTEGER)"_sql);
        db.execute("CREATE TABLE [log] ([id] INTEGER PRIMARY KEY, [msg] TEXT, [n] INTEGER)"_sql);
        std::vector<std::tuple<std::string, int>> data;
        data.reserve(rows);
        for (int k = 0; k < rows; ++k)
            data.emplace_back("user-" + std::to_string(k), k % 90);
        db.execute_many("INSERT INTO [users] ([name], [age]) VALUES (?, ?)"_sql, data);
        return true;
    }();
    (void)done;
}

struct raw_db {
    sqlite3* db = nullptr;
    raw_db() {
        sqlite3_open_v2(db_path().c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        nullptr);
        sqlite3_busy_timeout(db, 5000);
        sqlite3_exec(db,
                     "PRAGMA foreign_keys=ON; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
                     nullptr, nullptr, nullptr);
    }
    raw_db(const raw_db&) = delete;
    raw_db& operator=(const raw_db&) = delete;
    ~raw_db() { sqlite3_close_v2(db); }
};

/// The same table in a private in-memory database: no file locking, so the numbers show the
/// library's own cost (range(0) == 1), next to the file numbers (range(0) == 0).
void fill_memory(sqlite3* db) {
    sqlite3_exec(db, "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER)",
                 nullptr, nullptr, nullptr);
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    for (int k = 0; k < rows; ++k) {
        const std::string sql = "INSERT INTO users (name, age) VALUES ('user-" + std::to_string(k) +
                                "', " + std::to_string(k % 90) + ")";
        sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
}

void raw_select(benchmark::State& state) {
    ensure_data();
    raw_db r;
    if (state.range(0) == 1) {
        sqlite3_close_v2(r.db);
        sqlite3_open_v2(":memory:", &r.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
        fill_memory(r.db);
    }
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v3(r.db, R"(SELECT "id", "name", "age" FROM "users" WHERE "id" = ?)", -1,
                       SQLITE_PREPARE_PERSISTENT, &st, nullptr);
    std::int64_t id = 0;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        sqlite3_bind_int64(st, 1, id % rows + 1);
        if (sqlite3_step(st) != SQLITE_ROW) state.SkipWithError("no row");
        std::tuple<std::int64_t, std::string, int> row{
            sqlite3_column_int64(st, 0),
            std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)),  // NOLINT
                        static_cast<std::size_t>(sqlite3_column_bytes(st, 1))),
            sqlite3_column_int(st, 2)};
        benchmark::DoNotOptimize(row);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        ++id;
    }
    sqlite3_finalize(st);
}
BENCHMARK(raw_select)->Arg(0)->Arg(1);

/// The primary-key SELECT loop, for any connection type.
template <class Connection>
void select_loop(benchmark::State& state, Connection& db) {
    std::int64_t id = 0;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        auto row = db.template query_one<std::tuple<std::int64_t, std::string, int>>(
            "SELECT [id], [name], [age] FROM [users] WHERE [id] = ?"_sql, id % rows + 1);
        benchmark::DoNotOptimize(row);
        ++id;
    }
}

void dal_select(benchmark::State& state) {
    ensure_data();
    dal::sqlite::connection db(state.range(0) == 1 ? std::string("sqlite::memory:")
                                                   : "sqlite://" + db_path());
    if (state.range(0) == 1) fill_memory(db.native_session().native_handle());
    select_loop(state, db);
}
BENCHMARK(dal_select)->Arg(0)->Arg(1);

/// The same with no statement time limit (no_timeout): what reading the clock costs.
void dal_select_no_timeout(benchmark::State& state) {
    ensure_data();
    dal::sqlite::basic_connection<dal::policies::no_retry, dal::policies::no_timeout> db(
        dal::config::from_uri("sqlite://" + db_path()));
    select_loop(state, db);
}
BENCHMARK(dal_select_no_timeout);

void dal_async_select(benchmark::State& state) {
    ensure_data();
    boost::asio::io_context io;
    dal::sqlite::connection db(io.get_executor(), dal::config::from_uri("sqlite://" + db_path()));
    std::int64_t id = 0;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        db.async_query_one<std::tuple<std::int64_t, std::string, int>>(
            "SELECT [id], [name], [age] FROM [users] WHERE [id] = ?"_sql,
            dal::params(id % rows + 1),
            [](const std::exception_ptr&,
               const std::optional<std::tuple<std::int64_t, std::string, int>>& row) {
                benchmark::DoNotOptimize(row);
            });
        io.restart();
        io.run();
        ++id;
    }
}
BENCHMARK(dal_async_select);

void raw_insert(benchmark::State& state) {
    ensure_data();
    raw_db r;
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v3(r.db, R"(INSERT INTO "log" ("msg", "n") VALUES (?, ?))", -1,
                       SQLITE_PREPARE_PERSISTENT, &st, nullptr);
    const std::string msg = "a log line of typical length for a service";
    int n = 0;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        sqlite3_bind_text(st, 1, msg.data(), static_cast<int>(msg.size()), SQLITE_STATIC);
        sqlite3_bind_int(st, 2, n++);
        if (sqlite3_step(st) != SQLITE_DONE) state.SkipWithError("insert failed");
        benchmark::DoNotOptimize(sqlite3_changes(r.db));
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    sqlite3_finalize(st);
}
BENCHMARK(raw_insert);

void dal_insert(benchmark::State& state) {
    ensure_data();
    dal::sqlite::connection db("sqlite://" + db_path());
    const std::string msg = "a log line of typical length for a service";
    int n = 0;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        benchmark::DoNotOptimize(
            db.execute("INSERT INTO [log] ([msg], [n]) VALUES (?, ?)"_sql, msg, n++));
    }
}
BENCHMARK(dal_insert);

}  // namespace

BENCHMARK_MAIN();
