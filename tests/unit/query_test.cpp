// The compile-time query layer (`"..."_sql`, compiled<>, bind) and the run-time translator API.
#include <optional>
#include <string>

#include <boost/test/unit_test.hpp>

#include <dal/error.hpp>
#include <dal/sql/query.hpp>

namespace {

using namespace dal::literals;  // NOLINT(google-build-using-namespace): test file, not a header
using dal::sql::compiled;
using dal::sql::mysql_dialect;
using dal::sql::postgresql_dialect;
using dal::sql::sqlite_dialect;

struct money {
    long long cents;
};
struct not_a_db_type {};

}  // namespace

template <>
struct dal::type_traits<money> {
    using db_type = long long;
    static db_type to_db(const money& m) noexcept { return m.cents; }
    static money from_db(db_type v) noexcept { return money{v}; }
};

namespace {

// Translation happens in the compiler: these are facts about the program, not run-time checks.
static_assert(compiled<postgresql_dialect, "SELECT [a] FROM [t] WHERE [id] = ? AND [b] = ?">::sql ==
              R"(SELECT "a" FROM "t" WHERE "id" = $1 AND "b" = $2)");
static_assert(compiled<postgresql_dialect, "SELECT 1">::parameter_count == 0);
static_assert(compiled<mysql_dialect, "SELECT [a] FROM [t] WHERE [id] = ?">::sql ==
              "SELECT `a` FROM `t` WHERE `id` = ?");
static_assert(compiled<sqlite_dialect, "SELECT [a] FROM [t] WHERE [id] = ?">::parameter_count == 1);
static_assert(compiled<postgresql_dialect, "SELECT $1, $2">::parameter_count == 2);

static_assert(dal::bindable<int>);
static_assert(dal::bindable<const std::string&>);
static_assert(dal::bindable<const char (&)[4]>);
static_assert(dal::bindable<std::optional<double>>);
static_assert(dal::bindable<dal::blob>);
static_assert(dal::bindable<dal::date>);
static_assert(dal::bindable<dal::timestamp>);
static_assert(dal::bindable<money>);
static_assert(dal::bindable<std::optional<money>>);
static_assert(!dal::bindable<not_a_db_type>);
static_assert(!dal::bindable<char>);  // a char is neither clearly text nor a number
static_assert(!dal::bindable<std::optional<not_a_db_type>>);

}  // namespace

BOOST_AUTO_TEST_SUITE(query)

BOOST_AUTO_TEST_CASE(bind_ties_native_sql_to_arguments) {
    const int id = 42;
    const std::string name = "ann";
    const auto q = dal::sql::bind<postgresql_dialect>(
        "SELECT * FROM [users] WHERE [id] = ? AND [name] = ?"_sql, id, name);
    BOOST_TEST(q.sql == R"(SELECT * FROM "users" WHERE "id" = $1 AND "name" = $2)");
    BOOST_TEST(std::string_view(q.c_str) == q.sql);  // NUL-terminated for C drivers
    BOOST_TEST(std::get<0>(q.args) == 42);
    BOOST_TEST(&std::get<1>(q.args) == &name);  // a view: no copies of the arguments
    const auto m = dal::sql::bind<mysql_dialect>("UPDATE [t] SET [v] = ?"_sql, money{5});
    BOOST_TEST(m.sql == "UPDATE `t` SET `v` = ?");
}

BOOST_AUTO_TEST_CASE(runtime_translation) {
    const auto q = dal::sql::to_native("SELECT [a] FROM [t] WHERE [x] = ? OR [y] = ?",
                                       dal::sql::postgresql_dialect);
    BOOST_TEST(q.text == R"(SELECT "a" FROM "t" WHERE "x" = $1 OR "y" = $2)");
    BOOST_TEST(q.parameter_count == 2u);
    dal::sql::check_argument_count(q, 2);
}

BOOST_AUTO_TEST_CASE(runtime_errors_name_the_problem) {
    try {
        (void)dal::sql::to_native("SELECT [a FROM t WHERE p = 'secret'", dal::sql::mysql_dialect);
        BOOST_FAIL("no exception");
    } catch (const dal::error& e) {
        BOOST_TEST(e.code() == dal::errc::syntax_error);
        BOOST_TEST(e.code() == dal::client_errc::sql_syntax);
        const std::string what = e.what();
        BOOST_TEST(what.find("unterminated [identifier]") != std::string::npos, what);
        BOOST_TEST(what.find("at byte 7") != std::string::npos, what);
        BOOST_TEST(what.find("mysql dialect") != std::string::npos, what);
        BOOST_TEST(what.find("secret") == std::string::npos, what);  // literals redacted
        BOOST_TEST(what.find("'***'") != std::string::npos, what);
    }
    try {
        (void)dal::sql::to_native("SELECT ?, $2", dal::sql::postgresql_dialect);
        BOOST_FAIL("no exception");
    } catch (const dal::error& e) {
        BOOST_TEST(std::string(e.what()).find("mixed") != std::string::npos, e.what());
    }
    const auto q = dal::sql::to_native("SELECT ? WHERE a = 'pw'", dal::sql::sqlite_dialect);
    try {
        dal::sql::check_argument_count(q, 3);
        BOOST_FAIL("no exception");
    } catch (const dal::error& e) {
        BOOST_TEST(e.code() == dal::errc::invalid_argument);
        const std::string what = e.what();
        BOOST_TEST(what.find("has 1 parameter(s) but 3 argument(s)") != std::string::npos, what);
        BOOST_TEST(what.find("'pw'") == std::string::npos, what);
        BOOST_TEST(what.find("'***'") != std::string::npos, what);
    }
}

BOOST_AUTO_TEST_CASE(error_code_form_does_not_throw) {
    dal::sql::native_sql out;
    std::error_code ec;
    std::string msg;
    dal::sql::to_native("SELECT 'x", dal::sql::sqlite_dialect, out, ec, &msg);
    BOOST_TEST(ec == dal::errc::syntax_error);
    BOOST_TEST(msg == "unterminated string literal at byte 7 (sqlite dialect)");
    dal::sql::to_native("SELECT ?", dal::sql::sqlite_dialect, out, ec);
    BOOST_TEST(!ec);
    BOOST_TEST(out.parameter_count == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
