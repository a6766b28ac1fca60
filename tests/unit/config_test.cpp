// Configuration: URIs, defaults, validation, identity/hash, and the password never leaking.
#include <chrono>
#include <sstream>
#include <string>

#include <boost/test/unit_test.hpp>

#include <dal/config.hpp>
#include <dal/error.hpp>

namespace {

using namespace std::chrono_literals;

/// The message of the dal::error that `f` throws, or a failure.
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const dal::error& e) {
        BOOST_TEST(e.code() == dal::errc::invalid_argument);
        return e.what();
    }
    BOOST_ERROR("expected dal::error");
    return {};
}

bool contains(const std::string& s, std::string_view part) {
    return s.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(postgres_uri) {
    const auto c = dal::config::from_uri(
        "postgresql://app%20user:p%40ss%3Aw0rd@db.example.com:6543/orders"
        "?sslmode=verify-full&sslrootcert=/etc/ca.pem&application_name=billing"
        "&connect_timeout=5&statement_timeout=250ms&acquisition_timeout=2s"
        "&operation_timeout=1min&pool_min=2&pool_max=20&alias=main&env=dev");
    BOOST_TEST((c.backend == dal::backend_kind::postgresql));
    BOOST_TEST(c.user == "app user");
    BOOST_TEST(c.password.reveal() == "p@ss:w0rd");
    BOOST_TEST(c.host() == "db.example.com");
    BOOST_TEST(c.port() == 6543);
    BOOST_TEST(c.database == "orders");
    BOOST_TEST((c.tls.mode == dal::tls_mode::verify_full));
    BOOST_TEST(c.tls.ca_file == "/etc/ca.pem");
    BOOST_TEST(c.timeouts.connect.count() == 5000);
    BOOST_TEST(c.timeouts.statement.count() == 250);
    BOOST_TEST(c.timeouts.acquisition.count() == 2000);
    BOOST_TEST(c.timeouts.operation.count() == 60000);
    BOOST_TEST(c.pool.min == 2u);
    BOOST_TEST(c.pool.max == 20u);
    BOOST_TEST(c.alias == "main");
    BOOST_TEST(c.env == "dev");
    BOOST_TEST(c.option("application_name").value_or("") == "billing");
    BOOST_TEST(!c.option("nope").has_value());
}

BOOST_AUTO_TEST_CASE(defaults) {
    const auto c = dal::config::from_uri("postgres://localhost/db");
    BOOST_TEST(c.port() == 5432);
    BOOST_TEST(c.effective_alias() == "db");  // alias defaults to the database name
    BOOST_TEST(c.env == "prod");
    BOOST_TEST((c.tls.mode == dal::tls_mode::prefer));
    const dal::time_limits t{};
    BOOST_TEST(c.timeouts.connect.count() == t.connect.count());
    BOOST_TEST(t.connect.count() == 10000);
    BOOST_TEST(t.pool_creation.count() == 30000);
    BOOST_TEST(t.acquisition.count() == 10000);
    BOOST_TEST(t.statement.count() == 30000);
    BOOST_TEST(t.operation.count() == 60000);
    BOOST_TEST(dal::config::from_uri("mysql://u@h/db").port() == 3306);
    dal::config empty;
    empty.backend = dal::backend_kind::postgresql;
    BOOST_TEST(empty.host() == "localhost");
}

BOOST_AUTO_TEST_CASE(multi_host_and_ipv6) {
    const auto c = dal::config::from_uri(
        "postgresql://u:pw@db1:5432,db2:5433,[::1]:5434,db4/app?target_session_attrs=read-write");
    BOOST_TEST_REQUIRE(c.hosts.size() == 4u);
    BOOST_TEST(c.hosts[0].host == "db1");
    BOOST_TEST(c.hosts[1].port == 5433);
    BOOST_TEST(c.hosts[2].host == "::1");
    BOOST_TEST(c.hosts[2].port == 5434);
    BOOST_TEST(c.hosts[3].port == 0);  // default
    BOOST_TEST(c.option("target_session_attrs").value_or("") == "read-write");
    BOOST_TEST(c.user == "u");
    BOOST_TEST(c.password.reveal() == "pw");
    BOOST_TEST(c.to_string() ==
               "postgresql://u:***@db1:5432,db2:5433,[::1]:5434,db4/app"
               "?target_session_attrs=read-write");
}

BOOST_AUTO_TEST_CASE(mysql_uri) {
    const auto c = dal::config::from_uri(
        "mariadb://root:pw@127.0.0.1:3307/shop?ssl-mode=REQUIRED&charset=utf8mb4");
    BOOST_TEST((c.backend == dal::backend_kind::mysql));
    BOOST_TEST((c.tls.mode == dal::tls_mode::require));
    BOOST_TEST(c.option("charset").value_or("") == "utf8mb4");
    BOOST_TEST((dal::config::from_uri("mysql://u@h/d?ssl-mode=VERIFY_IDENTITY").tls.mode ==
                dal::tls_mode::verify_full));
}

BOOST_AUTO_TEST_CASE(sqlite_uris) {
    BOOST_TEST(dal::config::from_uri("sqlite:///var/lib/app/data.db").database ==
               "/var/lib/app/data.db");
    BOOST_TEST(dal::config::from_uri("sqlite:relative/data.db").database == "relative/data.db");
    BOOST_TEST(dal::config::from_uri("sqlite::memory:").database == ":memory:");
    BOOST_TEST(dal::config::from_uri("sqlite://:memory:").database == ":memory:");
    const auto c = dal::config::from_uri("sqlite:///tmp/x%20y.db?journal_mode=wal&busy_timeout=5s");
    BOOST_TEST(c.database == "/tmp/x y.db");
    BOOST_TEST(c.option("journal_mode").value_or("") == "wal");
    BOOST_TEST((c.backend == dal::backend_kind::sqlite));
    BOOST_TEST(c.to_string() == "sqlite:///tmp/x%20y.db?journal_mode=wal&busy_timeout=5s");
    BOOST_TEST(dal::config::from_uri("sqlite::memory:").to_string() == "sqlite::memory:");
}

BOOST_AUTO_TEST_CASE(bad_uris_name_the_bad_part) {
    using dal::config;
    BOOST_TEST(contains(error_of([] { (void)config::from_uri("postgresql://h:abc/db"); }),
                        "port 'abc' is not a number from 1 to 65535"));
    BOOST_TEST(contains(error_of([] { (void)config::from_uri("postgresql://h:70000/db"); }),
                        "port '70000'"));
    BOOST_TEST(contains(error_of([] { (void)config::from_uri("oracle://h/db"); }),
                        "unknown scheme 'oracle'"));
    BOOST_TEST(contains(error_of([] { (void)config::from_uri("no scheme here"); }), "no scheme"));
    BOOST_TEST(contains(error_of([] { (void)config::from_uri("postgresql://h:5432"); }),
                        "database name is missing"));
    BOOST_TEST(
        contains(error_of([] { (void)config::from_uri("postgresql://h/a/b"); }), "contains '/'"));
    BOOST_TEST(contains(error_of([] { (void)config::from_uri("sqlite://host/file.db"); }),
                        "an sqlite URI names a file"));
    BOOST_TEST(contains(error_of([] { (void)config::from_uri("postgresql://h/d?sslmode=maybe"); }),
                        "TLS mode 'maybe'"));
    BOOST_TEST(contains(error_of([] {
                            (void)config::from_uri(
                                "postgresql://h/d?connect_timeout=5&connect-timeout=6");
                        }),
                        "given twice"));
    BOOST_TEST(contains(
        error_of([] { (void)config::from_uri("postgresql://h/d?statement_timeout=fast"); }),
        "'statement_timeout' has value 'fast'"));
    BOOST_TEST(
        contains(error_of([] { (void)config::from_uri("postgresql://h/d#frag"); }), "fragment"));
    BOOST_TEST(contains(error_of([] { (void)config::from_uri("postgresql://h1,,h2/d"); }),
                        "a host in the host list is empty"));
    BOOST_TEST(contains(error_of([] { (void)config::from_uri("postgresql://h/d?pool_max=many"); }),
                        "'pool_max' has value 'many'"));
    BOOST_TEST(
        contains(error_of([] { (void)config::from_uri("postgresql://h/d?pool_min=5&pool_max=2"); }),
                 "pool min (5) is larger than pool max (2)"));
    BOOST_TEST(
        contains(error_of([] { (void)config::from_uri("postgresql://h/d?acquisition_timeout=0"); }),
                 "'acquisition' must be positive"));
    BOOST_TEST(contains(error_of([] { (void)config::from_uri("sqlite:"); }), "path is empty"));
    BOOST_TEST(contains(
        error_of([] { (void)config::from_uri("postgresql://h/d?sslmode=require&tls=disable"); }),
        "given twice (or under two of its names)"));
    BOOST_TEST(
        contains(error_of([] { (void)config::from_uri("postgresql://u:pw@h/d?password=x"); }),
                 "password is given both"));
    BOOST_TEST(contains(error_of([] { (void)config::from_uri("postgresql://u@h/d?user=v"); }),
                        "user is given both"));
    BOOST_TEST(contains(error_of([] { (void)config::from_uri("postgresql://u@h/d?host=/tmp"); }),
                        "parameter 'host' is not accepted"));
    BOOST_TEST(contains(error_of([] { (void)config::from_uri("sqlite:a.db?connect_timeout=0"); }),
                        "'connect' must be positive"));
}

BOOST_AUTO_TEST_CASE(password_never_leaks) {
    const std::string pw = "Tr0ub4dor-s3cret";
    const std::string uri = "postgresql://app:" + pw + "@h:1/d?password=" + pw + "x";
    // Duplicate password: the error message must still mask both spellings.
    const auto c = dal::config::from_uri("postgresql://app:" + pw + "@h:1/d");
    BOOST_TEST(!contains(c.to_string(), pw));
    std::ostringstream os;
    os << c << ' ' << c.password;
    BOOST_TEST(!contains(os.str(), pw));
    BOOST_TEST(contains(os.str(), "***"));
    BOOST_TEST(!contains(c.identity(), pw));
    BOOST_TEST(!contains(c.hash_hex(), pw));
    const std::string bad = error_of([&] {
        (void)dal::config::from_uri("postgresql://app:" + pw + "@h:99999/d?password=" + pw);
    });
    BOOST_TEST(!contains(bad, pw), bad);
    BOOST_TEST(contains(bad, "app:***@h:99999/d?password=***"), bad);
    const std::string bad2 = error_of([&] { (void)dal::config::from_uri(uri + "#f"); });
    BOOST_TEST(!contains(bad2, pw), bad2);
    // Unencoded '/', '?' or '#' in a password cut the authority short: still masked.
    for (const char* raw :
         {"postgresql://u:pa/ss-Tr0ub4dor@h/d", "postgresql://u:pa?ss-Tr0ub4dor@h/d",
          "postgresql://u:pa#ss-Tr0ub4dor@h/d"}) {
        const std::string m = error_of([&] { (void)dal::config::from_uri(raw); });
        BOOST_TEST(!contains(m, "Tr0ub4dor"), m);
    }
    // A percent-encoded parameter name is recognised too.
    const std::string m3 =
        error_of([&] { (void)dal::config::from_uri("postgresql://u@h:0/d?pass%77ord=" + pw); });
    BOOST_TEST(!contains(m3, pw), m3);
    // Other secrets passed through to the driver (libpq's sslpassword) stay hidden.
    const auto ssl = dal::config::from_uri("postgresql://u@h/d?sslpassword=" + pw);
    BOOST_TEST(ssl.option("sslpassword").value_or("") == pw);
    BOOST_TEST(!contains(ssl.to_string(), pw), ssl.to_string());
    BOOST_TEST(!contains(ssl.identity(), pw));
    BOOST_TEST(dal::is_sensitive_option("SSLPassword"));
    BOOST_TEST(!dal::is_sensitive_option("application_name"));
}

BOOST_AUTO_TEST_CASE(hash_identity_rules) {
    const auto base = dal::config::from_uri("postgresql://u:pw@h:5432/d");
    // Stable across processes, builds and platforms: a fixed value, checked here.
    BOOST_TEST(base.hash() == dal::config::from_uri("postgresql://u:pw@h:5432/d").hash());
    BOOST_TEST(base.hash_hex().size() == 16u);
    BOOST_TEST(base.hash_hex() == "d35e158e09b62796");
    // Password, alias, env, time limits and pool sizes do not identify the target.
    BOOST_TEST(base.hash() == dal::config::from_uri("postgresql://u:other@h:5432/d").hash());
    BOOST_TEST(base.hash() ==
               dal::config::from_uri("postgresql://u@h/d?alias=x&env=dev&pool_max=3").hash());
    BOOST_TEST(base.hash() == dal::config::from_uri("postgresql://u@H:5432/d").hash());
    // Everything that names the target does.
    for (const char* other :
         {"mysql://u@h:5432/d", "postgresql://u@h2:5432/d", "postgresql://u@h:5433/d",
          "postgresql://u@h:5432/d2", "postgresql://v@h:5432/d",
          "postgresql://u@h:5432/d?sslmode=require", "postgresql://u@h:5432/d?application_name=x",
          "postgresql://u@h:5432,h2/d"}) {
        BOOST_TEST_CONTEXT(other) {
            BOOST_TEST(base.hash() != dal::config::from_uri(other).hash());
            BOOST_TEST(base.identity() != dal::config::from_uri(other).identity());
        }
    }
    // Parameter order does not matter.
    BOOST_TEST(dal::config::from_uri("postgresql://u@h/d?a=1&b=2").identity() ==
               dal::config::from_uri("postgresql://u@h/d?b=2&a=1").identity());
    // Length-prefixed fields: moving characters between fields changes the identity.
    dal::config a = base;
    dal::config b = base;
    a.user = "ab";
    a.database = "c";
    b.user = "a";
    b.database = "bc";
    BOOST_TEST(a.identity() != b.identity());
}

BOOST_AUTO_TEST_CASE(durations) {
    BOOST_TEST(dal::parse_duration("10", "x").count() == 10000);
    BOOST_TEST(dal::parse_duration("250ms", "x").count() == 250);
    BOOST_TEST(dal::parse_duration("2min", "x").count() == 120000);
    BOOST_TEST(dal::parse_duration("1h", "x").count() == 3600000);
    BOOST_TEST(dal::parse_duration("1us", "x").count() == 1);  // rounded up, never to zero
    BOOST_CHECK_THROW((void)dal::parse_duration("-5s", "x"), dal::error);
    BOOST_CHECK_THROW((void)dal::parse_duration("5 s", "x"), dal::error);
    BOOST_CHECK_THROW((void)dal::parse_duration("", "x"), dal::error);
    BOOST_CHECK_THROW((void)dal::parse_duration("99999999999999999999", "x"), dal::error);
    // Beyond ~35 years, whatever the unit: such a limit overflowed the clock when added to now.
    BOOST_CHECK_THROW((void)dal::parse_duration("1099511627776h", "x"), dal::error);
    BOOST_CHECK_THROW((void)dal::parse_duration("400000h", "x"), dal::error);
    BOOST_TEST(dal::parse_duration("300000h", "x").count() == 300000LL * 3600000);  // 34 years
}

BOOST_AUTO_TEST_CASE(built_in_code) {
    dal::config c{.backend = dal::backend_kind::mysql,
                  .database = "shop",
                  .hosts = {{"db", 3307}},
                  .user = "app",
                  .password = dal::secret{"pw"}};
    BOOST_CHECK_NO_THROW(c.validate());
    BOOST_TEST(c.to_string() == "mysql://app:***@db:3307/shop");
    c.pool.min = 10;
    c.pool.max = 5;
    BOOST_CHECK_THROW(c.validate(), dal::error);
    c.pool.min = 1;
    // A limit so long that adding it to the clock would overflow: refused, by name.
    c.timeouts.statement = std::chrono::milliseconds::max();
    try {
        c.validate();
        BOOST_ERROR("a statement limit of milliseconds::max() was accepted");
    } catch (const dal::error& e) {
        BOOST_TEST(
            std::string(e.what()).find("'statement' is longer than 35 years") != std::string::npos,
            e.what());
    }
    c.timeouts.statement = std::chrono::hours(24 * 365 * 34);
    BOOST_CHECK_NO_THROW(c.validate());
    BOOST_TEST((dal::parse_backend_kind("PostgreSQL") == dal::backend_kind::postgresql));
    BOOST_TEST(!dal::parse_backend_kind("oracle").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
