// dal on MariaDB against the raw C API (Connector/C), same process, same server, same table:
// a primary-key SELECT of one row (three columns, the text copied into a std::string by both)
// through a raw prepared statement, dal sync and dal async; and 1,000 single-row INSERTs in a
// loop against one execute_many of the same rows (MariaDB's bulk binding).
// Targets (issue #5): dal sync >= 0.95x raw, async >= 0.90x raw, execute_many >= 5x the loop.
// scripts/bench.sh runs this next to `mariadb-slap` with one client. Results: docs/benchmarks.md.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include <benchmark/benchmark.h>
#include <mysql.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <dal/mysql.hpp>

namespace {

using namespace dal::literals;  // NOLINT(google-build-using-namespace)
constexpr int rows = 10'000;
using user = std::tuple<std::int64_t, std::string, std::int32_t>;

std::string uri() {
    const char* u = std::getenv("DAL_BENCH_MYSQL_URI");
    if (u == nullptr) u = std::getenv("DAL_TEST_MYSQL_URI");
    if (u == nullptr)
        throw std::runtime_error(
            "set DAL_BENCH_MYSQL_URI (or DAL_TEST_MYSQL_URI; scripts/bench.sh does)");
    return u;
}

void ensure_data() {
    static const bool done = [] {
        dal::mysql::connection db(uri());
        db.execute("DROP TABLE IF EXISTS [dal_bench_users]"_sql);
        db.execute(
            "CREATE TABLE [dal_bench_users] ([id] BIGINT PRIMARY KEY, [name] VARCHAR(64) NOT "
            "NULL, [age] INT) ENGINE=InnoDB"_sql);
        std::vector<std::tuple<std::int64_t, std::string, int>> data;
        data.reserve(rows);
        for (int k = 0; k < rows; ++k)
            data.emplace_back(k, "user-" + std::to_string(k), k % 90);
        db.execute_many("INSERT INTO [dal_bench_users] VALUES (?, ?, ?)"_sql, data);
        db.execute("DROP TABLE IF EXISTS [dal_bench_log]"_sql);
        db.execute(
            "CREATE TABLE [dal_bench_log] ([id] BIGINT PRIMARY KEY, [msg] VARCHAR(64), [n] INT) "
            "ENGINE=InnoDB"_sql);
        return true;
    }();
    (void)done;
}

struct my_deleter {
    void operator()(MYSQL* m) const noexcept { mysql_close(m); }
    void operator()(MYSQL_STMT* s) const noexcept { mysql_stmt_close(s); }
};

void raw_select(benchmark::State& state) {
    ensure_data();
    const dal::config cfg = dal::config::from_uri(uri());
    const std::unique_ptr<MYSQL, my_deleter> m(mysql_init(nullptr));
    const std::string pw(cfg.password.reveal());
    if (mysql_real_connect(m.get(), std::string(cfg.host()).c_str(), cfg.user.c_str(), pw.c_str(),
                           cfg.database.c_str(), cfg.port(), nullptr, 0) == nullptr) {
        state.SkipWithError(mysql_error(m.get()));
        return;
    }
    const std::unique_ptr<MYSQL_STMT, my_deleter> st(mysql_stmt_init(m.get()));
    const std::string sql = "SELECT id, name, age FROM dal_bench_users WHERE id = ?";
    mysql_stmt_prepare(st.get(), sql.c_str(), sql.size());
    std::int64_t key = 0;
    MYSQL_BIND param{};
    param.buffer_type = MYSQL_TYPE_LONGLONG;
    param.buffer = &key;
    mysql_stmt_bind_param(st.get(), &param);
    std::int64_t id = 0;
    char name[65];
    unsigned long name_len = 0;
    std::int32_t age = 0;
    MYSQL_BIND out[3]{};
    out[0].buffer_type = MYSQL_TYPE_LONGLONG;
    out[0].buffer = &id;
    out[1].buffer_type = MYSQL_TYPE_STRING;
    out[1].buffer = name;
    out[1].buffer_length = sizeof name;
    out[1].length = &name_len;
    out[2].buffer_type = MYSQL_TYPE_LONG;
    out[2].buffer = &age;
    mysql_stmt_bind_result(st.get(), out);
    std::int64_t next = 0;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        key = next++ % rows;
        mysql_stmt_execute(st.get());
        mysql_stmt_store_result(st.get());
        if (mysql_stmt_fetch(st.get()) != 0) state.SkipWithError("no row");
        user u{id, std::string(name, name_len), age};
        benchmark::DoNotOptimize(u);
        mysql_stmt_free_result(st.get());
    }
    state.SetItemsProcessed(state.iterations());
}

void dal_select_sync(benchmark::State& state) {
    ensure_data();
    dal::mysql::connection db(uri());
    std::int64_t id = 0;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        auto u = db.query_one<user>(
            "SELECT [id], [name], [age] FROM [dal_bench_users] WHERE [id] = ?"_sql, id++ % rows);
        benchmark::DoNotOptimize(u);
    }
    state.SetItemsProcessed(state.iterations());
}

void dal_select_async(benchmark::State& state) {
    ensure_data();
    boost::asio::io_context io;
    dal::mysql::connection db(io.get_executor(), dal::config::from_uri(uri()));
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
            std::int64_t id = 0;
            for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
                auto u = co_await db.async_query_one<user>(
                    "SELECT [id], [name], [age] FROM [dal_bench_users] WHERE [id] = ?"_sql,
                    dal::params(id++ % rows), boost::asio::use_awaitable);
                benchmark::DoNotOptimize(u);
            }
        },
        [](const std::exception_ptr& ep) {
            if (ep) std::rethrow_exception(ep);
        });
    io.run();
    state.SetItemsProcessed(state.iterations());
}

/// 1,000 rows, one INSERT each, in one transaction.
void dal_insert_loop_1000(benchmark::State& state) {
    ensure_data();
    dal::mysql::connection db(uri());
    std::int64_t id = 0;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        db.execute("DELETE FROM [dal_bench_log]"_sql);
        auto tx = db.begin();
        for (int k = 0; k < 1000; ++k)
            db.execute("INSERT INTO [dal_bench_log] VALUES (?, ?, ?)"_sql, id++, "message", k);
        tx.commit();
    }
    state.SetItemsProcessed(state.iterations() * 1000);
}

/// The same 1,000 rows with one execute_many (bulk binding).
void dal_execute_many_1000(benchmark::State& state) {
    ensure_data();
    dal::mysql::connection db(uri());
    std::int64_t id = 0;
    std::vector<std::tuple<std::int64_t, std::string, int>> data(1000);
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        db.execute("DELETE FROM [dal_bench_log]"_sql);
        for (int k = 0; k < 1000; ++k)
            data[static_cast<std::size_t>(k)] = {id++, "message", k};
        db.execute_many("INSERT INTO [dal_bench_log] VALUES (?, ?, ?)"_sql, data);
    }
    state.SetItemsProcessed(state.iterations() * 1000);
}

}  // namespace

BENCHMARK(raw_select)->UseRealTime();
BENCHMARK(dal_select_sync)->UseRealTime();
BENCHMARK(dal_select_async)->UseRealTime();
BENCHMARK(dal_insert_loop_1000)->UseRealTime();
BENCHMARK(dal_execute_many_1000)->UseRealTime();

BENCHMARK_MAIN();
