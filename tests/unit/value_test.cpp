// Conversions between C++ values and the backend-neutral views, the LRU statement cache and
// the sqlcommenter encoding: the pieces of the connection that need no database.
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include <boost/test/unit_test.hpp>

#include <dal/connection.hpp>
#include <dal/detail/async_io.hpp>
#include <dal/error.hpp>
#include <dal/policies/cache.hpp>
#include <dal/value.hpp>

namespace {

using namespace std::chrono_literals;
using K = dal::field_view::kind;

dal::field_view text(std::string_view s) {
    dal::field_view f;
    f.type = K::text;
    f.bytes = s;
    f.column = "c";
    return f;
}
dal::field_view integer(std::int64_t v) {
    dal::field_view f;
    f.type = K::int64;
    f.i = v;
    f.column = "n";
    return f;
}

template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const dal::error& e) {
        return e.what();
    }
    return "no error";
}

/// A movable stand-in for a prepared statement that counts how many are alive.
struct fake_statement {
    static inline int alive = 0;
    int id = 0;
    fake_statement() { ++alive; }
    explicit fake_statement(int i) : id(i) { ++alive; }
    fake_statement(fake_statement&& o) noexcept : id(o.id) { ++alive; }
    fake_statement& operator=(fake_statement&& o) noexcept {
        id = o.id;
        return *this;
    }
    fake_statement(const fake_statement&) = delete;
    fake_statement& operator=(const fake_statement&) = delete;
    ~fake_statement() { --alive; }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(values)

BOOST_AUTO_TEST_CASE(integers_are_range_checked) {
    BOOST_TEST(dal::from_field<std::int8_t>(integer(-128)) == -128);
    BOOST_TEST(error_of([] {
                   (void)dal::from_field<std::int8_t>(integer(128));
               }).find("column 'n' holds an integer that does not fit") != std::string::npos);
    BOOST_TEST(error_of([] { (void)dal::from_field<std::uint32_t>(integer(-1)); }) != "no error");
    BOOST_TEST(dal::from_field<std::uint64_t>(integer(std::numeric_limits<std::int64_t>::max())) ==
               static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
    BOOST_TEST(dal::from_field<double>(integer(3)) == 3.0);
    dal::field_view big;
    big.type = K::float64;
    big.d = 1e300;
    BOOST_TEST(error_of([&] { (void)dal::from_field<float>(big); }).find("too large for float") !=
               std::string::npos);
    BOOST_TEST(!dal::from_field<std::optional<int>>(dal::field_view{}).has_value());
}

BOOST_AUTO_TEST_CASE(dates_and_timestamps) {
    using std::chrono::day;
    using std::chrono::month;
    using std::chrono::sys_days;
    using std::chrono::year;
    using std::chrono::year_month_day;
    const auto d = dal::from_field<dal::date>(text("2024-02-29"));
    BOOST_TEST((d == year_month_day{year{2024}, month{2}, day{29}}));
    for (const char* bad : {"2023-02-29", "2024-13-01", "24-01-01", "2024-01-01x", ""})
        BOOST_TEST(error_of([&] {
                       (void)dal::from_field<dal::date>(text(bad));
                   }).find("is not a date") != std::string::npos,
                   bad);
    const auto base = sys_days{year_month_day{year{2024}, month{1}, day{2}}} + 3h + 4min + 5s;
    BOOST_TEST((dal::from_field<dal::timestamp>(text("2024-01-02 03:04:05")) == base));
    BOOST_TEST((dal::from_field<dal::timestamp>(text("2024-01-02T03:04:05.5Z")) == base + 500ms));
    BOOST_TEST((dal::from_field<dal::timestamp>(text("2024-01-02 03:04:05.123456+00:00")) ==
                base + 123456us));
    BOOST_TEST((dal::from_field<dal::timestamp>(text("2024-01-02 03:04:05.1234567")) ==
                base + 123456us));  // beyond microseconds: cut, as the servers store it
    BOOST_TEST((dal::from_field<dal::timestamp>(integer(0)) == dal::timestamp{}));
    // A UTC offset, as PostgreSQL prints timestamptz in the session's zone, is applied.
    BOOST_TEST((dal::from_field<dal::timestamp>(text("2024-01-02 05:04:05+02")) == base));
    BOOST_TEST(
        (dal::from_field<dal::timestamp>(text("2024-01-02 08:34:05.25+05:30")) == base + 250ms));
    BOOST_TEST((dal::from_field<dal::timestamp>(text("2024-01-01 23:04:05-04:00")) == base));
    BOOST_TEST((dal::from_field<dal::timestamp>(text("2024-01-02 03:23:37+00:19:32")) == base));
    for (const char* bad : {"2024-01-02 25:00:00", "2024-01-02 03:04", "2024-01-02 03:04:05.",
                            "2024-01-02 03:04:05+2:00", "2024-01-02 03:04:05+02:0",
                            "2024-01-02 03:04:05+16", "2024-01-02 03:04:05 UTC"})
        BOOST_TEST(error_of([&] {
                       (void)dal::from_field<dal::timestamp>(text(bad));
                   }).find("is not a timestamp") != std::string::npos,
                   bad);
    char buf[40];
    const auto n = dal::detail::format_timestamp(
        std::chrono::time_point_cast<std::chrono::microseconds>(base + 7us), buf);
    BOOST_TEST(std::string(buf, n) == "2024-01-02 03:04:05.000007");
    const auto m = dal::detail::format_date(year_month_day{year{-44}, month{3}, day{15}}, buf);
    BOOST_TEST(std::string(buf, m) == "-0044-03-15");
}

BOOST_AUTO_TEST_CASE(arrays_read_into_vectors) {
    dal::field_view f;
    f.type = K::array;
    f.column = "a";
    f.element = dal::field_view::element_kind::integer;
    f.bytes = "{1,-2,NULL}";
    BOOST_TEST((dal::from_field<std::vector<std::optional<int>>>(f) ==
                std::vector<std::optional<int>>{1, -2, std::nullopt}));
    BOOST_TEST(dal::from_field<std::string>(f) == "{1,-2,NULL}");  // the text, too
    BOOST_TEST(error_of([&] { (void)dal::from_field<std::vector<int>>(f); }).find("'a'") !=
               std::string::npos);
    f.element = dal::field_view::element_kind::text;
    f.bytes = R"({"x,y","q\"uote",plain,"NULL"})";
    BOOST_TEST((dal::from_field<std::vector<std::string>>(f) ==
                std::vector<std::string>{"x,y", "q\"uote", "plain", "NULL"}));
    for (const char* bad : {"1,2", "{1,2", "{\"open}", "{{1},{2}}", "{1,}", "{\"a\"b}"}) {
        f.bytes = bad;
        BOOST_TEST(!error_of([&] { (void)dal::from_field<std::vector<std::string>>(f); }).empty(),
                   bad);
    }
}

BOOST_AUTO_TEST_CASE(params) {
    BOOST_TEST(static_cast<int>(dal::to_param(std::int8_t{-1}).type) ==
               static_cast<int>(dal::param_ref::kind::int64));
    BOOST_TEST(dal::to_param(std::int8_t{-1}).num.i == -1);
    BOOST_TEST(dal::to_param(std::uint64_t{7}).num.u == 7u);
    const char* none = nullptr;
    BOOST_TEST(static_cast<int>(dal::to_param(none).type) ==
               static_cast<int>(dal::param_ref::kind::null));
    BOOST_TEST(dal::to_param("abc").bytes == "abc");
    BOOST_TEST(static_cast<int>(dal::to_param(std::optional<int>{}).type) ==
               static_cast<int>(dal::param_ref::kind::null));
}

BOOST_AUTO_TEST_CASE(sqlcommenter_encoding) {
    BOOST_TEST(dal::detail::sql_comment({}).empty());
    BOOST_TEST(dal::detail::sql_comment({{"route", "/a b"}, {"app", "x*/y'z"}}) ==
               " /*app='x%2A%2Fy%27z',route='%2Fa%20b'*/");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(policies)

BOOST_AUTO_TEST_CASE(server_limit_is_raised_in_whole_seconds) {
    using dal::detail::raised_server_limit;
    using ms = std::chrono::milliseconds;
    const auto now = std::chrono::steady_clock::now();
    // Shorter than the session's limit: the client's deadline enforces it, nothing is sent.
    BOOST_TEST(!raised_server_limit(30'000, now + ms(200), now).has_value());
    // Longer: raised to whole seconds, one second past the deadline.
    BOOST_TEST(raised_server_limit(30'000, now + ms(45'500), now).value() == 47'000);
    // The same limit again, whatever time passed before the call: not raised again (this
    // varied by a millisecond and sent a SET each time).
    const std::int64_t raised = raised_server_limit(30'000, now + ms(30'000), now).value();
    BOOST_TEST(raised == 31'000);
    BOOST_TEST(!raised_server_limit(raised, now + ms(30'000), now).has_value());
    BOOST_TEST(!raised_server_limit(raised, now + ms(29'999), now).has_value());
    BOOST_TEST(!raised_server_limit(raised, now + ms(29'000) + std::chrono::microseconds(1), now)
                    .has_value());
    // No deadline: no limit (0); no limit set, or raised to none: nothing to do.
    BOOST_TEST(raised_server_limit(30'000, dal::deadline::max(), now).value() == 0);
    BOOST_TEST(!raised_server_limit(0, now + ms(5), now).has_value());
    BOOST_TEST(
        !raised_server_limit(dal::detail::unlimited_server_limit, now + ms(5), now).has_value());
}

BOOST_AUTO_TEST_CASE(lru_cache_keeps_the_most_recent) {
    {
        dal::policies::lru_cache::cache_for<fake_statement> c(dal::policies::lru_cache{2});
        const auto put = [&](std::string sql, int id) {
            fake_statement s(id);
            const std::size_t h = dal::sql::hash_sql(sql);
            return c.insert(std::move(sql), h, s);
        };
        const auto get = [&](std::string_view sql) { return c.find(sql, dal::sql::hash_sql(sql)); };
        BOOST_TEST(put("a", 1)->id == 1);
        BOOST_TEST(put("b", 2)->id == 2);
        BOOST_TEST(get("a")->id == 1);     // a is now the most recent
        BOOST_TEST(put("c", 3)->id == 3);  // evicts b
        BOOST_TEST(get("b") == nullptr);
        BOOST_TEST(get("a") != nullptr);
        BOOST_TEST(get("c") != nullptr);
        const auto s = c.stats();
        BOOST_TEST(s.hits == 3u);
        BOOST_TEST(s.misses == 1u);
        BOOST_TEST(s.evictions == 1u);
        BOOST_TEST(s.size == 2u);
        BOOST_TEST(fake_statement::alive == 2);  // the evicted one was finalised
        c.erase("a", dal::sql::hash_sql("a"));
        BOOST_TEST(get("a") == nullptr);
        BOOST_TEST(fake_statement::alive == 1);
        c.clear();
        BOOST_TEST(fake_statement::alive == 0);
    }
    // Capacity zero and no_cache keep nothing and leave the statement with the caller.
    dal::policies::lru_cache::cache_for<fake_statement> none(dal::policies::lru_cache{0});
    fake_statement s(9);
    BOOST_TEST(none.insert("x", 1, s) == nullptr);
    BOOST_TEST(s.id == 9);
    dal::policies::no_cache::cache_for<fake_statement> nc(dal::policies::no_cache{});
    BOOST_TEST(nc.insert("x", 1, s) == nullptr);
    BOOST_TEST(nc.find("x", 1) == nullptr);
    BOOST_TEST(nc.stats().misses == 1u);
}

BOOST_AUTO_TEST_CASE(config_timeout_deadlines) {
    const dal::policies::config_timeout t;
    const dal::time_limits limits{};  // statement: 30 s
    const auto now = std::chrono::steady_clock::now();
    BOOST_TEST((t.statement_deadline(limits, {}, now) == now + 30s));
    BOOST_TEST((t.statement_deadline(limits, {200ms}, now) == now + 200ms));
    BOOST_TEST((t.statement_deadline(limits, {0ms}, now) == dal::deadline::max()));
    BOOST_TEST((dal::policies::no_timeout{}.statement_deadline(limits, {200ms}, now) ==
                dal::deadline::max()));
}

BOOST_AUTO_TEST_SUITE_END()
