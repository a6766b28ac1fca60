// What the portable dialect costs. Literal SQL is translated by the compiler, so its run-time
// cost is reading a string_view; SQL built at run time is lexed once per call (the connection
// caches it per call site). Baseline: copying the same SQL into a std::string, the least any
// driver call does with a statement.
#include <string>
#include <string_view>

#include <benchmark/benchmark.h>

#include <dal/sql/query.hpp>

namespace {

using namespace dal::literals;  // NOLINT(google-build-using-namespace)

constexpr std::string_view typical =
    "SELECT [id], [name], [email], [created_at] FROM [users] WHERE [id] = ? AND [status] = ? "
    "AND [name] LIKE 'a%' ORDER BY [created_at] DESC LIMIT ?";

void copy_baseline(benchmark::State& state) {
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        std::string s(typical);
        benchmark::DoNotOptimize(s.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * typical.size()));
}
BENCHMARK(copy_baseline);

void runtime_translate_postgres(benchmark::State& state) {
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        auto q = dal::sql::to_native(typical, dal::sql::postgresql_dialect);
        benchmark::DoNotOptimize(q.text.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * typical.size()));
}
BENCHMARK(runtime_translate_postgres);

void runtime_translate_mysql(benchmark::State& state) {
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        auto q = dal::sql::to_native(typical, dal::sql::mysql_dialect);
        benchmark::DoNotOptimize(q.text.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * typical.size()));
}
BENCHMARK(runtime_translate_mysql);

void compile_time_translate(benchmark::State& state) {
    for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores)
        const auto q = dal::sql::bind<dal::sql::postgresql_dialect>(
            "SELECT [id], [name], [email], [created_at] FROM [users] WHERE [id] = ? AND [status] = ? AND [name] LIKE 'a%' ORDER BY [created_at] DESC LIMIT ?"_sql,
            1, 2, 3);
        benchmark::DoNotOptimize(q.sql.data());
    }
}
BENCHMARK(compile_time_translate);

}  // namespace

BENCHMARK_MAIN();
