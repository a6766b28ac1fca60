// Smoke tests against the real servers scripts/test.sh starts (and a real SQLite file): each
// answers SELECT 1 through its C driver with the settings parsed by dal::config, and each
// server's own error codes map onto dal's portable conditions.
//
// The servers are found through DAL_TEST_POSTGRES_URI and DAL_TEST_MYSQL_URI. Outside CI a
// missing variable skips the suite with a plain message; with CI=true it fails loudly.
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "servers.hpp"

#include <dal/config.hpp>
#include <dal/error.hpp>

#ifdef DAL_HAVE_POSTGRES
#include <libpq-fe.h>

#include <dal/postgres/error.hpp>
#endif
#ifdef DAL_HAVE_MYSQL
#include <mysql.h>

#include <dal/mysql/error.hpp>
#endif
#ifdef DAL_HAVE_SQLITE
#include <sqlite3.h>

#include <dal/sqlite/error.hpp>
#endif

namespace {

namespace utf = boost::unit_test;
using dal_test::config_from_env;
using dal_test::server_configured;

}  // namespace

// ---------------------------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(postgres_smoke,
                      *utf::precondition(server_configured{"DAL_TEST_POSTGRES_URI"}))

#ifdef DAL_HAVE_POSTGRES
namespace {
struct pg_conn_deleter {
    void operator()(PGconn* c) const noexcept { PQfinish(c); }
};
struct pg_result_deleter {
    void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using pg_conn = std::unique_ptr<PGconn, pg_conn_deleter>;
using pg_result = std::unique_ptr<PGresult, pg_result_deleter>;

pg_conn connect_pg() {
    const dal::config cfg = config_from_env("DAL_TEST_POSTGRES_URI");
    BOOST_TEST_REQUIRE((cfg.backend == dal::backend_kind::postgresql));
    const std::string port = std::to_string(cfg.port());
    const std::string timeout = std::to_string(cfg.timeouts.connect.count() / 1000);
    const char* keys[] = {
        "host", "port", "dbname", "user", "password", "connect_timeout", "application_name",
        nullptr};
    const std::string host(cfg.host());
    const char* values[] = {host.c_str(),
                            port.c_str(),
                            cfg.database.c_str(),
                            cfg.user.c_str(),
                            cfg.password.reveal().c_str(),
                            timeout.c_str(),
                            "dal-smoke",
                            nullptr};
    pg_conn c(PQconnectdbParams(keys, values, 0));
    BOOST_TEST_REQUIRE((c && PQstatus(c.get()) == CONNECTION_OK),
                       "connect failed: " << (c ? PQerrorMessage(c.get()) : "out of memory"));
    return c;
}
}  // namespace

BOOST_AUTO_TEST_CASE(select_one) {
    const pg_conn c = connect_pg();
    const pg_result r(PQexec(c.get(), "SELECT 1"));
    BOOST_TEST_REQUIRE(PQresultStatus(r.get()) == PGRES_TUPLES_OK);
    BOOST_TEST(std::string_view(PQgetvalue(r.get(), 0, 0)) == "1");
    BOOST_TEST_MESSAGE("PostgreSQL server " << PQserverVersion(c.get()) << ", libpq "
                                            << dal::postgres::driver_version());
}

BOOST_AUTO_TEST_CASE(server_errors_map_to_portable_conditions) {
    const pg_conn c = connect_pg();
    const auto sqlstate_of = [&](const char* sql) {
        const pg_result r(PQexec(c.get(), sql));
        const char* s = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
        return std::string(s != nullptr ? s : "");
    };
    BOOST_TEST(
        (dal::postgres::make_sqlstate_error(sqlstate_of("SELEC 1")) == dal::errc::syntax_error));
    BOOST_TEST((dal::postgres::make_sqlstate_error(sqlstate_of("SELECT * FROM no_such_table")) ==
                dal::errc::undefined_object));
    BOOST_TEST(sqlstate_of("CREATE TEMP TABLE smoke (id int PRIMARY KEY)").empty());
    BOOST_TEST(sqlstate_of("INSERT INTO smoke VALUES (1)").empty());
    const std::string dup = sqlstate_of("INSERT INTO smoke VALUES (1)");
    BOOST_TEST(dup == "23505");
    BOOST_TEST((dal::postgres::make_sqlstate_error(dup) == dal::errc::constraint_violation));
}
#else
BOOST_AUTO_TEST_CASE(backend_built) {
    BOOST_TEST(!dal_test::in_ci(), "dal::postgres was not built, but CI must test it");
}
#endif

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(mysql_smoke, *utf::precondition(server_configured{"DAL_TEST_MYSQL_URI"}))

#ifdef DAL_HAVE_MYSQL
namespace {
struct mysql_deleter {
    void operator()(MYSQL* m) const noexcept { mysql_close(m); }
};
struct mysql_result_deleter {
    void operator()(MYSQL_RES* r) const noexcept { mysql_free_result(r); }
};
using mysql_conn = std::unique_ptr<MYSQL, mysql_deleter>;

mysql_conn connect_mysql() {
    const dal::config cfg = config_from_env("DAL_TEST_MYSQL_URI");
    BOOST_TEST_REQUIRE((cfg.backend == dal::backend_kind::mysql));
    mysql_conn m(mysql_init(nullptr));
    BOOST_TEST_REQUIRE(m != nullptr);
    const auto timeout = static_cast<unsigned>(cfg.timeouts.connect.count() / 1000);
    mysql_options(m.get(), MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    const std::string host(cfg.host());
    MYSQL* ok =
        mysql_real_connect(m.get(), host.c_str(), cfg.user.c_str(), cfg.password.reveal().c_str(),
                           cfg.database.c_str(), cfg.port(), nullptr, 0);
    BOOST_TEST_REQUIRE(ok != nullptr, "connect failed: " << mysql_error(m.get()));
    return m;
}
}  // namespace

BOOST_AUTO_TEST_CASE(select_one) {
    const mysql_conn m = connect_mysql();
    BOOST_TEST_REQUIRE(mysql_query(m.get(), "SELECT 1") == 0, mysql_error(m.get()));
    const std::unique_ptr<MYSQL_RES, mysql_result_deleter> r(mysql_store_result(m.get()));
    BOOST_TEST_REQUIRE(r != nullptr);
    MYSQL_ROW row = mysql_fetch_row(r.get());
    BOOST_TEST_REQUIRE(row != nullptr);
    BOOST_TEST(std::string_view(row[0]) == "1");
    BOOST_TEST_MESSAGE("MySQL/MariaDB server " << mysql_get_server_info(m.get()) << ", client "
                                               << dal::mysql::driver_version());
}

BOOST_AUTO_TEST_CASE(server_errors_map_to_portable_conditions) {
    const mysql_conn m = connect_mysql();
    const auto errno_of = [&](const char* sql) {
        if (mysql_query(m.get(), sql) == 0) {
            mysql_free_result(mysql_store_result(m.get()));
            return 0U;
        }
        return mysql_errno(m.get());
    };
    BOOST_TEST((dal::mysql::make_mysql_error(errno_of("SELEC 1")) == dal::errc::syntax_error));
    BOOST_TEST(errno_of("CREATE TEMPORARY TABLE smoke (id INT PRIMARY KEY)") == 0U);
    BOOST_TEST(errno_of("INSERT INTO smoke VALUES (1)") == 0U);
    const unsigned dup = errno_of("INSERT INTO smoke VALUES (1)");
    BOOST_TEST(dup == 1062U);
    BOOST_TEST((dal::mysql::make_mysql_error(dup) == dal::errc::constraint_violation));
    BOOST_TEST((dal::mysql::make_mysql_error(errno_of("SELECT * FROM no_such_table")) ==
                dal::errc::undefined_object));
}
#else
BOOST_AUTO_TEST_CASE(backend_built) {
    BOOST_TEST(!dal_test::in_ci(), "dal::mysql was not built, but CI must test it");
}
#endif

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------
BOOST_AUTO_TEST_SUITE(sqlite_smoke)

#ifdef DAL_HAVE_SQLITE
BOOST_AUTO_TEST_CASE(select_one_on_a_real_file) {
    const auto dir =
        std::filesystem::temp_directory_path() / ("dal-smoke-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto cfg = dal::config::from_uri("sqlite://" + (dir / "smoke.db").string());
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(cfg.database.c_str(), &raw,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    const std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, sqlite3_close);
    BOOST_TEST_REQUIRE(rc == SQLITE_OK);
    sqlite3_extended_result_codes(db.get(), 1);
    std::string value;
    const auto cb = [](void* out, int, char** cols, char**) {
        *static_cast<std::string*>(out) = cols[0];
        return 0;
    };
    BOOST_TEST_REQUIRE(sqlite3_exec(db.get(), "SELECT 1", cb, &value, nullptr) == SQLITE_OK);
    BOOST_TEST(value == "1");
    BOOST_TEST(sqlite3_exec(db.get(), "CREATE TABLE t (id INTEGER PRIMARY KEY)", nullptr, nullptr,
                            nullptr) == SQLITE_OK);
    BOOST_TEST(sqlite3_exec(db.get(), "INSERT INTO t VALUES (1)", nullptr, nullptr, nullptr) ==
               SQLITE_OK);
    const int dup = sqlite3_exec(db.get(), "INSERT INTO t VALUES (1)", nullptr, nullptr, nullptr);
    BOOST_TEST((dal::sqlite::make_sqlite_error(sqlite3_extended_errcode(db.get())) ==
                dal::errc::constraint_violation));
    BOOST_TEST((dup & 0xFF) == SQLITE_CONSTRAINT);  // extended: SQLITE_CONSTRAINT_PRIMARYKEY
    std::filesystem::remove_all(dir);
}
#else
BOOST_AUTO_TEST_CASE(backend_built) {
    BOOST_TEST(!dal_test::in_ci(), "dal::sqlite was not built, but CI must test it");
}
#endif

BOOST_AUTO_TEST_SUITE_END()
