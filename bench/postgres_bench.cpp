// dal on PostgreSQL against raw libpq, same process, same server, same table: a primary-key
// SELECT of one row (three columns, the text copied into a std::string by both), through
// raw libpq with a prepared statement, dal sync and dal async; and 10 such SELECTs sent as one
// dal::batch (pipeline mode) against 10 sequential calls.
// Targets (issue #4): dal sync >= 0.95x raw, async >= 0.90x raw, batch of 10 >= 3x sequential.
// scripts/bench.sh runs this next to `pgbench -S -M prepared -c 1`. Results: docs/benchmarks.md.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>

#include <benchmark/benchmark.h>
#include <libpq-fe.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <dal/postgres.hpp>

namespace {

using namespace dal::literals;  // NOLINT(google-build-using-namespace)
constexpr int rows = 10'000;
using user = std::tuple<std::int64_t, std::string, std::int32_t>;

std::string uri() {
    const char* u = std::getenv("DAL_BENCH_POSTGRES_URI");
    if (u == nullptr) u = std::getenv("DAL_TEST_POSTGRES_URI");
    if (u == nullptr)
        throw std::runtime_error(
            "set DAL_BENCH_POSTGRES_URI (or DAL_TEST_POSTGRES_URI; scripts/bench.sh does)");
    return u;
}

/// Creates the table once per process: 10,000 users.
void ensure_data() {
    static const bool done = [] {
        dal::postgres::connection db(uri());
        db.execute("DROP TABLE IF EXISTS [dal_bench_users]"_sql);
        db.execute(
            "CREATE TABLE [dal_bench_users] ([id] BIGINT PRIMARY KEY, [name] TEXT NOT NULL, "
            "[age] INT)"_sql);
        std::vector<std::tuple<std::int64_t, std::string, int>> data;
        data.reserve(rows);
        for (int k = 0; k < rows; ++k)
            data.emplace_back(k, "user-" + std::to_string(k), k % 90);
        db.execute_many("INSERT INTO [dal_bench_users] VALUES (?, ?, ?)"_sql, data);
        db.execute("ANALYZE [dal_bench_users]"_sql);
        return true;
    }();
    (void)done;
}

struct pq_deleter {
    void operator()(PGconn* c) const noexcept { PQfinish(c); }
    void operator()(PGresult* r) const noexcept { PQclear(r); }
};

void raw_select(benchmark::State& state) {
    ensure_data();
    const dal::config cfg = dal::config::from_uri(uri());
    const std::string conninfo =
        "host=" + std::string(cfg.host()) + " port=" + std::to_string(cfg.port()) +
        " dbname=" + cfg.database + " user=" + cfg.user +
        " password=" + std::string(cfg.password.reveal()) + " sslmode=disable";
    const std::unique_ptr<PGconn, pq_deleter> c(PQconnectdb(conninfo.c_str()));
    if (PQstatus(c.get()) != CONNECTION_OK) {
        state.SkipWithError(PQerrorMessage(c.get()));
        return;
    }
    std::unique_ptr<PGresult, pq_deleter> prep(PQprepare(
        c.get(), "sel", "SELECT id, name, age FROM dal_bench_users WHERE id = $1", 0, nullptr));
    std::int64_t id = 0;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        const std::string key = std::to_string(id++ % rows);
        const char* values[] = {key.c_str()};
        const std::unique_ptr<PGresult, pq_deleter> r(
            PQexecPrepared(c.get(), "sel", 1, values, nullptr, nullptr, 0));
        user u{std::strtoll(PQgetvalue(r.get(), 0, 0), nullptr, 10),
               std::string(PQgetvalue(r.get(), 0, 1),
                           static_cast<std::size_t>(PQgetlength(r.get(), 0, 1))),
               static_cast<std::int32_t>(std::strtol(PQgetvalue(r.get(), 0, 2), nullptr, 10))};
        benchmark::DoNotOptimize(u);
    }
    state.SetItemsProcessed(state.iterations());
}

void dal_select_sync(benchmark::State& state) {
    ensure_data();
    dal::postgres::connection db(uri());
    std::int64_t id = 0;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        auto u = db.query_one<user>(
            "SELECT [id], [name], [age] FROM [dal_bench_users] WHERE [id] = ?"_sql, id++ % rows);
        benchmark::DoNotOptimize(u);
    }
    state.SetItemsProcessed(state.iterations());
}

/// A coroutine issuing the queries one after another, as a service handler does; the
/// io_context waits for the socket (no thread blocks).
void dal_select_async(benchmark::State& state) {
    ensure_data();
    boost::asio::io_context io;
    dal::postgres::connection db(io.get_executor(), dal::config::from_uri(uri()));
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

void dal_sequential_10(benchmark::State& state) {
    ensure_data();
    dal::postgres::connection db(uri());
    std::int64_t id = 0;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        for (int k = 0; k < 10; ++k) {
            auto u = db.query_one<user>(
                "SELECT [id], [name], [age] FROM [dal_bench_users] WHERE [id] = ?"_sql,
                id++ % rows);
            benchmark::DoNotOptimize(u);
        }
    }
    state.SetItemsProcessed(state.iterations() * 10);
}

void dal_batch_10(benchmark::State& state) {
    ensure_data();
    dal::postgres::connection db(uri());
    std::int64_t id = 0;
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        dal::batch b;
        for (int k = 0; k < 10; ++k)
            b.add("SELECT [id], [name], [age] FROM [dal_bench_users] WHERE [id] = ?"_sql,
                  id++ % rows);
        const auto results = db.execute_batch(b);
        for (const auto& r : results) {
            auto u = r.rows[0].as<user>();
            benchmark::DoNotOptimize(u);
        }
    }
    state.SetItemsProcessed(state.iterations() * 10);
}

}  // namespace

BENCHMARK(raw_select)->UseRealTime();
BENCHMARK(dal_select_sync)->UseRealTime();
BENCHMARK(dal_select_async)->UseRealTime();
BENCHMARK(dal_sequential_10)->UseRealTime();
BENCHMARK(dal_batch_10)->UseRealTime();

BENCHMARK_MAIN();
