// Uses dal through the installed headers and libraries only.
#include <cstdio>

#include <dal/config.hpp>
#include <dal/error.hpp>
#include <dal/sql/query.hpp>
#include <dal/sqlite/error.hpp>

using namespace dal::literals;  // NOLINT(google-build-using-namespace)

int main() {
    const auto cfg = dal::config::from_uri("sqlite::memory:");
    const auto q =
        dal::sql::bind<dal::sql::sqlite_dialect>("SELECT [a] FROM [t] WHERE [id] = ?"_sql, 7);
    const auto ec = dal::sqlite::make_sqlite_error(19);  // SQLITE_CONSTRAINT
    std::printf("consumer: %s | %.*s | %s | sqlite %s\n", cfg.to_string().c_str(),
                static_cast<int>(q.sql.size()), q.sql.data(), ec.message().c_str(),
                dal::sqlite::driver_version().c_str());
    return ec == dal::errc::constraint_violation && q.sql == R"(SELECT "a" FROM "t" WHERE "id" = ?)"
               ? 0
               : 1;
}
