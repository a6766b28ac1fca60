// Error codes, portable conditions, classification and the exception type; and each backend's
// error category mapping native codes onto the portable conditions.
#include <string>
#include <type_traits>

#include <boost/test/unit_test.hpp>

#include <dal/error.hpp>

#ifdef DAL_HAVE_POSTGRES
#include <dal/postgres/error.hpp>
#endif
#ifdef DAL_HAVE_MYSQL
#include <dal/mysql/error.hpp>
#endif
#ifdef DAL_HAVE_SQLITE
#include <sqlite3.h>

#include <dal/sqlite/error.hpp>
#endif

BOOST_AUTO_TEST_SUITE(error)

BOOST_AUTO_TEST_CASE(client_codes_match_portable_conditions) {
    using dal::client_errc;
    using dal::errc;
    BOOST_TEST(make_error_code(client_errc::pool_timeout) == errc::pool_timeout);
    BOOST_TEST(make_error_code(client_errc::circuit_open) == errc::circuit_open);
    BOOST_TEST(make_error_code(client_errc::invalid_uri) == errc::invalid_argument);
    BOOST_TEST(make_error_code(client_errc::null_value) == errc::type_mismatch);
    BOOST_TEST(make_error_code(client_errc::value_out_of_range) == errc::type_mismatch);
    BOOST_TEST(make_error_code(client_errc::timeout) == errc::timeout);
    BOOST_TEST(make_error_code(client_errc::timeout) != errc::cancelled);
    BOOST_TEST(std::string(dal::client_category().name()) == "dal.client");
    BOOST_TEST(std::string(dal::condition_category().name()) == "dal");
    BOOST_TEST(make_error_code(client_errc::pool_timeout).message() ==
               "timed out waiting for a pooled connection");
}

BOOST_AUTO_TEST_CASE(classification) {
    using dal::client_errc;
    BOOST_TEST(dal::is_transient(make_error_code(client_errc::pool_timeout)));
    BOOST_TEST(dal::is_transient(make_error_code(client_errc::timeout)));
    BOOST_TEST(dal::is_transient(make_error_code(client_errc::circuit_open)));
    BOOST_TEST(!dal::is_transient(make_error_code(client_errc::sql_syntax)));
    BOOST_TEST(!dal::is_transient(make_error_code(client_errc::invalid_uri)));
    BOOST_TEST(!dal::is_transient(make_error_code(client_errc::cancelled)));
    BOOST_TEST(!dal::is_transient(std::error_code{}));
    BOOST_TEST(!dal::is_transient(std::make_error_code(std::errc::invalid_argument)));
}

BOOST_AUTO_TEST_CASE(exception_carries_diagnostics) {
    static_assert(std::is_nothrow_copy_constructible_v<dal::error>);
    const dal::error e(make_error_code(dal::client_errc::timeout),
                       dal::diagnostics{.message = "canceling statement due to statement timeout",
                                        .sqlstate = "57014",
                                        .native_code = 0,
                                        .detail = "d",
                                        .hint = "h",
                                        .position = 3,
                                        .sql = "SELECT pg_sleep($1)"});
    const std::string what = e.what();
    BOOST_TEST(what.find("deadline passed") != std::string::npos, what);
    BOOST_TEST(what.find("canceling statement") != std::string::npos, what);
    BOOST_TEST(what.find("SQLSTATE 57014") != std::string::npos, what);
    BOOST_TEST(what.find("in SQL: SELECT pg_sleep($1)") != std::string::npos, what);
    BOOST_TEST(what.find("detail: d") != std::string::npos, what);
    BOOST_TEST(e.diag().position == 3u);
    BOOST_TEST(e.code() == dal::errc::timeout);
    const dal::error copy = e;  // NOLINT(performance-unnecessary-copy-initialization): tested
    BOOST_TEST(std::string(copy.what()) == what);
    BOOST_CHECK_THROW(dal::throw_if(make_error_code(dal::client_errc::cancelled)), dal::error);
    BOOST_CHECK_NO_THROW(dal::throw_if(std::error_code{}));
}

BOOST_AUTO_TEST_CASE(huge_sql_is_cut_in_messages) {
    const dal::error e(make_error_code(dal::client_errc::sql_syntax),
                       dal::diagnostics{.sql = std::string(5000, 'x')});
    const std::string what = e.what();
    BOOST_TEST(what.size() < 1200u);
    BOOST_TEST(what.find("3976 more bytes") != std::string::npos, what);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(backend_errors)

#ifdef DAL_HAVE_POSTGRES
BOOST_AUTO_TEST_CASE(postgres_sqlstates) {
    using dal::errc;
    using dal::postgres::make_sqlstate_error;
    static_assert(dal::postgres::pack_sqlstate("40P01") != 0);
    static_assert(dal::postgres::pack_sqlstate("4001") == 0);
    static_assert(dal::postgres::pack_sqlstate("40p01") == 0);
    BOOST_TEST(dal::postgres::unpack_sqlstate(dal::postgres::pack_sqlstate("40P01")) == "40P01");
    BOOST_TEST(make_sqlstate_error("40001") == errc::serialization_failure);
    BOOST_TEST(make_sqlstate_error("40P01") == errc::deadlock);
    BOOST_TEST(make_sqlstate_error("23505") == errc::constraint_violation);
    BOOST_TEST(make_sqlstate_error("23503") == errc::constraint_violation);
    BOOST_TEST(make_sqlstate_error("08006") == errc::connection_error);
    BOOST_TEST(make_sqlstate_error("57014") == errc::cancelled);
    BOOST_TEST(make_sqlstate_error("42601") == errc::syntax_error);
    BOOST_TEST(make_sqlstate_error("42P01") == errc::undefined_object);
    BOOST_TEST(make_sqlstate_error("42501") == errc::permission_denied);
    BOOST_TEST(make_sqlstate_error("28P01") == errc::permission_denied);
    BOOST_TEST(make_sqlstate_error("53300") == errc::resource_exhausted);
    BOOST_TEST(make_sqlstate_error("22003") == errc::data_error);
    BOOST_TEST(make_sqlstate_error("25006") == errc::read_only);
    BOOST_TEST(make_sqlstate_error("55P03") == errc::lock_timeout);
    BOOST_TEST(make_sqlstate_error("XX000") == errc::internal_error);
    BOOST_TEST(make_sqlstate_error("42P07") == errc::already_exists);
    BOOST_TEST(make_sqlstate_error("57P05") == errc::connection_error);
    BOOST_TEST(make_sqlstate_error("54001") == errc::feature_not_supported);
    BOOST_TEST(!dal::is_transient(make_sqlstate_error("54001")));
    BOOST_TEST(static_cast<bool>(make_sqlstate_error("bad")));  // never a false error_code
    BOOST_TEST(make_sqlstate_error("bad") == errc::internal_error);
    BOOST_TEST(dal::is_transient(make_sqlstate_error("40001")));
    BOOST_TEST(dal::is_transient(make_sqlstate_error("08006")));
    BOOST_TEST(!dal::is_transient(make_sqlstate_error("23505")));
    BOOST_TEST(!dal::is_transient(make_sqlstate_error("42601")));
    const auto ec = make_sqlstate_error("40P01");
    BOOST_TEST(ec.message() == "PostgreSQL SQLSTATE 40P01 (deadlock detected)");
    BOOST_TEST(std::string(ec.category().name()) == "dal.postgres");
    BOOST_TEST(!dal::postgres::driver_version().empty());
}
#endif

#ifdef DAL_HAVE_MYSQL
BOOST_AUTO_TEST_CASE(mysql_error_numbers) {
    using dal::errc;
    using dal::mysql::make_mysql_error;
    BOOST_TEST(make_mysql_error(1213) == errc::deadlock);
    BOOST_TEST(make_mysql_error(1205) == errc::lock_timeout);
    BOOST_TEST(make_mysql_error(1062) == errc::constraint_violation);
    BOOST_TEST(make_mysql_error(1452) == errc::constraint_violation);
    BOOST_TEST(make_mysql_error(2006) == errc::connection_error);
    BOOST_TEST(make_mysql_error(2013) == errc::connection_error);
    BOOST_TEST(make_mysql_error(1317) == errc::cancelled);
    BOOST_TEST(make_mysql_error(1969) == errc::timeout);
    BOOST_TEST(make_mysql_error(3024) == errc::timeout);
    BOOST_TEST(make_mysql_error(1064) == errc::syntax_error);
    BOOST_TEST(make_mysql_error(1146) == errc::undefined_object);
    BOOST_TEST(make_mysql_error(1045) == errc::permission_denied);
    BOOST_TEST(make_mysql_error(1040) == errc::resource_exhausted);
    BOOST_TEST(make_mysql_error(1792) == errc::read_only);
    BOOST_TEST(make_mysql_error(2999) == errc::internal_error);  // unknown client error
    BOOST_TEST(make_mysql_error(2031) == errc::internal_error);  // CR_PARAMS_NOT_BOUND: a bug
    BOOST_TEST(make_mysql_error(2003) == errc::connection_error);
    BOOST_TEST(make_mysql_error(1050) == errc::already_exists);
    BOOST_TEST(make_mysql_error(4031) == errc::internal_error);  // MariaDB: a trigger error
    BOOST_TEST(dal::is_transient(make_mysql_error(1213)));
    BOOST_TEST(!dal::is_transient(make_mysql_error(1062)));
    BOOST_TEST(make_mysql_error(1062).message() ==
               "MySQL error 1062 ER_DUP_ENTRY (constraint violation)");
    BOOST_TEST(!dal::mysql::driver_version().empty());
}
#endif

#ifdef DAL_HAVE_SQLITE
BOOST_AUTO_TEST_CASE(sqlite_result_codes) {
    using dal::errc;
    using dal::sqlite::make_sqlite_error;
    BOOST_TEST(make_sqlite_error(SQLITE_CONSTRAINT_UNIQUE) == errc::constraint_violation);
    BOOST_TEST(make_sqlite_error(SQLITE_CONSTRAINT_FOREIGNKEY) == errc::constraint_violation);
    BOOST_TEST(make_sqlite_error(SQLITE_BUSY) == errc::lock_timeout);
    BOOST_TEST(make_sqlite_error(SQLITE_BUSY_SNAPSHOT) == errc::serialization_failure);
    BOOST_TEST(make_sqlite_error(SQLITE_INTERRUPT) == errc::cancelled);
    BOOST_TEST(make_sqlite_error(SQLITE_CANTOPEN) == errc::connection_error);
    BOOST_TEST(make_sqlite_error(SQLITE_READONLY) == errc::read_only);
    BOOST_TEST(make_sqlite_error(SQLITE_MISMATCH) == errc::type_mismatch);
    BOOST_TEST(dal::is_transient(make_sqlite_error(SQLITE_BUSY)));
    BOOST_TEST(!dal::is_transient(make_sqlite_error(SQLITE_CONSTRAINT_UNIQUE)));
    const std::string m = make_sqlite_error(SQLITE_CONSTRAINT_UNIQUE).message();
    BOOST_TEST(m.find("constraint failed") != std::string::npos, m);
    BOOST_TEST(!dal::sqlite::driver_version().empty());
}
#endif

BOOST_AUTO_TEST_CASE(every_backend_of_this_build_was_tested) {
    // In CI all three drivers are installed: a backend silently missing from the build would
    // otherwise make this suite pass while testing nothing.
    const char* ci = std::getenv("CI");
    if (ci != nullptr && std::string_view(ci) == "true") {
#if !defined(DAL_HAVE_POSTGRES) || !defined(DAL_HAVE_MYSQL) || !defined(DAL_HAVE_SQLITE)
        BOOST_FAIL("a backend is missing from the CI build");
#endif
    }
    BOOST_TEST(true);
}

BOOST_AUTO_TEST_SUITE_END()
