// Getting started with dal, as far as the library reaches today (issue #2, the foundation):
// configuration from a URI, portable SQL translated and checked by the compiler for each
// backend, and errors that name what went wrong. The SQLite connection arrives with the next
// issue; this program will then run the whole Getting Started flow on the same file.
#include <cstdio>
#include <filesystem>
#include <string>

#include <dal/config.hpp>
#include <dal/error.hpp>
#include <dal/sql/query.hpp>
#ifdef DAL_HAVE_SQLITE
#include <dal/sqlite/error.hpp>
#endif

using namespace dal::literals;  // NOLINT(google-build-using-namespace): an example program

int main(int argc, char** argv) {
    const std::string file =
        argc > 1 ? argv[1]
                 : (std::filesystem::temp_directory_path() / "dal-getting-started.db").string();
    // 1. Configuration: from a URI (or built in code). Passwords never print.
    const auto cfg = dal::config::from_uri("sqlite://" + file + "?alias=main_db&env=dev");
    std::printf("config      : %s\n", cfg.to_string().c_str());
    std::printf("alias / env : %s / %s\n", std::string(cfg.effective_alias()).c_str(),
                cfg.env.c_str());
    std::printf("pool key    : %s\n", cfg.hash_hex().c_str());
    const auto pg = dal::config::from_uri(
        "postgresql://app:secret@db1:5432,db2:5432/my_database?statement_timeout=5s");
    std::printf("postgres    : %s (statement limit %lld ms)\n", pg.to_string().c_str(),
                static_cast<long long>(pg.timeouts.statement.count()));

    // 2. Portable SQL: [name] quotes identifiers, ? is a parameter. Translated by the compiler;
    //    a wrong argument count or an unterminated quote would not compile.
    const std::string uid = "1";
    const auto sqlite_q =
        dal::sql::bind<dal::sql::sqlite_dialect>("SELECT * FROM [users] WHERE [id] = ?"_sql, uid);
    const auto pg_q = dal::sql::bind<dal::sql::postgresql_dialect>(
        "SELECT * FROM [users] WHERE [id] = ? AND [tags] ??| ARRAY['a']"_sql, uid);
    const auto my_q =
        dal::sql::bind<dal::sql::mysql_dialect>("SELECT * FROM [users] WHERE [id] = ?"_sql, uid);
    std::printf("sqlite SQL  : %.*s\n", static_cast<int>(sqlite_q.sql.size()), sqlite_q.sql.data());
    std::printf("postgres SQL: %.*s\n", static_cast<int>(pg_q.sql.size()), pg_q.sql.data());
    std::printf("mysql SQL   : %.*s\n", static_cast<int>(my_q.sql.size()), my_q.sql.data());

    // 3. SQL built at run time goes through the same translator; mistakes are exceptions.
    try {
        (void)dal::sql::to_native("SELECT [name FROM users", dal::sql::sqlite_dialect);
    } catch (const dal::error& e) {
        std::printf("bad SQL     : %s\n", e.what());
    }
    try {
        (void)dal::config::from_uri("postgresql://app:secret@db:99999/x");
    } catch (const dal::error& e) {
        std::printf("bad URI     : %s\n", e.what());
    }
#ifdef DAL_HAVE_SQLITE
    // 4. Every backend's native errors compare equal to portable conditions.
    const auto ec = dal::sqlite::make_sqlite_error(2067);  // SQLITE_CONSTRAINT_UNIQUE
    std::printf("sqlite error: %s -> constraint_violation? %s (SQLite %s)\n", ec.message().c_str(),
                ec == dal::errc::constraint_violation ? "yes" : "no",
                dal::sqlite::driver_version().c_str());
#endif
    return 0;
}
