// The resilience policies without a database: the retry rule, exponential backoff and its
// retry budget, and the circuit breaker. Time comes from a manual clock, so nothing sleeps.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <ratio>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <dal/config.hpp>
#include <dal/error.hpp>
#include <dal/policies/breaker.hpp>
#include <dal/policies/retry.hpp>
#include <dal/policies/timeout.hpp>

namespace {

using namespace std::chrono_literals;
using dal::errc;
using dal::policies::unit;

/// A clock that moves only when a test says so. It starts far from its epoch, as a steady
/// clock does, and is atomic so that threads may read it.
struct manual_clock {
    using rep = std::int64_t;
    using period = std::nano;
    using duration = std::chrono::nanoseconds;
    using time_point = std::chrono::time_point<manual_clock>;
    static constexpr bool is_steady = true;

    static time_point now() noexcept { return time_point{duration{ticks.load()}}; }
    static void advance(duration d) noexcept { ticks.fetch_add(d.count()); }

    static inline std::atomic<rep> ticks{1'000'000'000'000'000};  // 10^6 s
};

using backoff = dal::policies::basic_exponential_backoff<manual_clock>;
using circuit = dal::policies::basic_circuit_breaker<manual_clock>;
using jitter = dal::policies::backoff_settings::jitter_kind;
using dal::policies::breaker_state;

static_assert(dal::policies::retry_policy<backoff>);
static_assert(dal::policies::breaker_policy<circuit>);

/// Codes whose value is a dal::errc: every portable condition, without a backend.
class test_category final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "test"; }
    [[nodiscard]] std::string message(int v) const override {
        return dal::condition_category().message(v);
    }
    [[nodiscard]] std::error_condition default_error_condition(int v) const noexcept override {
        return dal::make_error_condition(static_cast<errc>(v));
    }
};
std::error_code code(errc e) {
    static const test_category category;
    return {static_cast<int>(e), category};
}

const std::vector<errc>& every_condition() {
    static const std::vector<errc> all = [] {
        std::vector<errc> v;
        for (int e = static_cast<int>(errc::connection_error);
             e <= static_cast<int>(errc::internal_error); ++e)
            v.push_back(static_cast<errc>(e));
        return v;
    }();
    return all;
}

bool among(errc e, std::initializer_list<errc> set) {
    return std::find(set.begin(), set.end(), e) != set.end();
}

/// Settings that isolate the backoff arithmetic: no time limit, no budget, many attempts.
dal::policies::backoff_settings bare(jitter j, std::chrono::milliseconds base = 100ms,
                                     std::chrono::milliseconds cap = 5'000ms) {
    dal::policies::backoff_settings s;
    s.base = base;
    s.cap = cap;
    s.jitter = j;
    s.max_attempts = 1'000;
    s.total_budget = 0ms;
    s.budget_window = 0ms;
    return s;
}

/// Only the budget limits: many attempts, no time limit, 1 retry per second minimum over 10 s.
dal::policies::backoff_settings budgeted() {
    dal::policies::backoff_settings s = bare(jitter::none, 1ms, 1ms);
    s.budget_ratio = 0.1;
    s.budget_min_retries_per_second = 1;
    s.budget_window = 10s;
    return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(retry)

BOOST_AUTO_TEST_CASE(safety_rule_for_every_unit) {
    using dal::policies::retry_is_safe;
    const std::initializer_list<errc> transaction_ok = {errc::serialization_failure, errc::deadlock,
                                                        errc::failover_retry, errc::pool_timeout};
    int checked = 0;
    for (const errc e : every_condition()) {
        const std::error_code ec = code(e);
        BOOST_TEST_CONTEXT("condition " << e) {
            const bool not_sent_ok = dal::is_transient(ec) && e != errc::circuit_open &&
                                     e != errc::transaction_outcome_unknown;
            BOOST_TEST(retry_is_safe(ec, unit::not_sent) == not_sent_ok);
            BOOST_TEST(retry_is_safe(ec, unit::transaction) == among(e, transaction_ok));
            BOOST_TEST(retry_is_safe(ec, unit::statement) == (e == errc::failover_retry));
        }
        ++checked;
    }
    BOOST_TEST(checked == 25);
    // The cases the rule exists for, spelled out.
    BOOST_TEST(retry_is_safe(code(errc::connection_error), unit::not_sent));
    BOOST_TEST(!retry_is_safe(code(errc::connection_error), unit::statement));
    BOOST_TEST(!retry_is_safe(code(errc::connection_error), unit::transaction));
    BOOST_TEST(!retry_is_safe(code(errc::deadlock), unit::statement));
    BOOST_TEST(!retry_is_safe(code(errc::timeout), unit::statement));
    BOOST_TEST(!retry_is_safe(code(errc::circuit_open), unit::not_sent));
    for (const unit u : {unit::not_sent, unit::statement, unit::transaction}) {
        BOOST_TEST(!retry_is_safe(code(errc::transaction_outcome_unknown), u));
        BOOST_TEST(!retry_is_safe(std::error_code{}, u));
    }
    // dal's own codes and the standard library's are judged by their condition too.
    BOOST_TEST(retry_is_safe(dal::make_error_code(dal::client_errc::pool_timeout), unit::not_sent));
    BOOST_TEST(
        !retry_is_safe(dal::make_error_code(dal::client_errc::circuit_open), unit::not_sent));
    BOOST_TEST(!retry_is_safe(std::make_error_code(std::errc::io_error), unit::not_sent));
}

BOOST_AUTO_TEST_CASE(the_policy_applies_the_rule) {
    backoff p(bare(jitter::none), 1);
    BOOST_TEST(!p.next_delay(code(errc::deadlock), 1, unit::statement));
    BOOST_TEST(!p.next_delay(code(errc::constraint_violation), 1, unit::not_sent));
    BOOST_TEST(p.next_delay(code(errc::deadlock), 1, unit::transaction).has_value());
    BOOST_TEST(p.next_delay(code(errc::failover_retry), 1, unit::statement).has_value());
    const auto s = p.stats();
    BOOST_TEST(s.denied_unsafe == 2u);
    BOOST_TEST(s.granted == 2u);
}

BOOST_AUTO_TEST_CASE(full_jitter_stays_in_bounds_with_mean_half_the_bound) {
    backoff p(bare(jitter::full), 12345);
    const std::error_code ec = code(errc::connection_error);
    for (unsigned attempt = 1; attempt <= 8; ++attempt) {
        const auto bound = std::min(5'000ms, 100ms * (1 << (attempt - 1)));
        BOOST_TEST(backoff::exponential_bound(p.settings(), attempt) == bound);
        double sum = 0;
        constexpr int draws = 10'000;
        std::chrono::milliseconds lo = bound;
        std::chrono::milliseconds hi = 0ms;
        for (int k = 0; k < draws; ++k) {
            const auto d = p.next_delay(ec, attempt, unit::not_sent);
            BOOST_TEST_REQUIRE(d.has_value());
            lo = std::min(lo, *d);
            hi = std::max(hi, *d);
            sum += static_cast<double>(d->count());
        }
        BOOST_TEST_CONTEXT("attempt " << attempt) {
            BOOST_TEST(lo >= 0ms);
            BOOST_TEST(hi <= bound);
            const double half = static_cast<double>(bound.count()) / 2;
            BOOST_TEST(sum / draws >= half * 0.9);
            BOOST_TEST(sum / draws <= half * 1.1);
        }
    }
}

BOOST_AUTO_TEST_CASE(no_jitter_is_the_bound) {
    backoff p(bare(jitter::none), 1);
    const std::error_code ec = code(errc::connection_error);
    BOOST_TEST(*p.next_delay(ec, 1, unit::not_sent) == 100ms);
    BOOST_TEST(*p.next_delay(ec, 2, unit::not_sent) == 200ms);
    BOOST_TEST(*p.next_delay(ec, 3, unit::not_sent) == 400ms);
    BOOST_TEST(*p.next_delay(ec, 6, unit::not_sent) == 3'200ms);
    BOOST_TEST(*p.next_delay(ec, 7, unit::not_sent) == 5'000ms);
}

BOOST_AUTO_TEST_CASE(decorrelated_jitter_stays_in_bounds) {
    backoff p(bare(jitter::decorrelated), 99);
    const std::error_code ec = code(errc::connection_error);
    for (int sequence = 0; sequence < 2'000; ++sequence) {
        std::int64_t grow = 1;  // 3^attempt
        for (unsigned attempt = 1; attempt <= 10; ++attempt) {
            grow *= 3;
            const auto d = p.next_delay(ec, attempt, unit::not_sent);
            BOOST_TEST_REQUIRE(d.has_value());
            const auto hi = std::min(5'000ms, 100ms * grow);
            if (*d < 100ms || *d > hi) BOOST_ERROR("attempt " << attempt << ": " << d->count());
        }
    }
}

BOOST_AUTO_TEST_CASE(cap_holds_for_large_attempts) {
    const std::error_code ec = code(errc::connection_error);
    for (const jitter j : {jitter::full, jitter::decorrelated, jitter::none}) {
        backoff p(bare(j), 7);
        for (const unsigned attempt : {60U, 63U, 64U, 200U, 999U}) {
            const auto d = p.next_delay(ec, attempt, unit::not_sent);
            BOOST_TEST_REQUIRE(d.has_value());
            BOOST_TEST(*d <= 5'000ms);
            BOOST_TEST(*d >= 0ms);
            if (j == jitter::none) BOOST_TEST(*d == 5'000ms);
        }
    }
    const auto s = bare(jitter::none);
    BOOST_TEST(backoff::exponential_bound(s, 60) == 5'000ms);
    BOOST_TEST(backoff::exponential_bound(s, std::numeric_limits<unsigned>::max()) == 5'000ms);
    auto huge = s;
    huge.base = std::chrono::milliseconds{std::numeric_limits<std::int64_t>::max() / 2};
    huge.cap = std::chrono::milliseconds::max();
    BOOST_TEST(backoff::exponential_bound(huge, 2) == huge.base * 2);
    BOOST_TEST(backoff::exponential_bound(huge, 3) == huge.cap);
}

BOOST_AUTO_TEST_CASE(max_attempts_counts_the_first) {
    auto s = bare(jitter::none);
    s.max_attempts = 3;
    backoff p(s, 1);
    const std::error_code ec = code(errc::connection_error);
    BOOST_TEST(p.next_delay(ec, 1, unit::not_sent).has_value());  // before attempt 2
    BOOST_TEST(p.next_delay(ec, 2, unit::not_sent).has_value());  // before attempt 3
    BOOST_TEST(!p.next_delay(ec, 3, unit::not_sent));             // three attempts made
    BOOST_TEST(p.stats().denied_attempts == 1u);
    s.max_attempts = 1;
    backoff never(s, 1);
    BOOST_TEST(!never.next_delay(ec, 1, unit::not_sent));
}

BOOST_AUTO_TEST_CASE(total_budget_stops_a_sequence) {
    auto s = bare(jitter::none, 1'000ms, 1'000ms);
    s.total_budget = 2'500ms;
    backoff p(s, 1);
    const std::error_code ec = code(errc::connection_error);
    BOOST_TEST(*p.next_delay(ec, 1, unit::not_sent) == 1'000ms);  // ends at 1.0 s
    manual_clock::advance(1'200ms);                               // the wait and a failed try
    BOOST_TEST(*p.next_delay(ec, 2, unit::not_sent) == 1'000ms);  // ends at 2.2 s
    manual_clock::advance(1'200ms);
    BOOST_TEST(!p.next_delay(ec, 3, unit::not_sent));  // would end at 3.4 s > 2.5 s
    BOOST_TEST(p.stats().denied_total_budget == 1u);
    // A new sequence starts its own clock.
    BOOST_TEST(p.next_delay(ec, 1, unit::not_sent).has_value());
}

BOOST_AUTO_TEST_CASE(budget_limits_retries_during_an_outage) {
    backoff p(budgeted(), 1);
    const std::error_code ec = code(errc::connection_error);
    std::uint64_t calls = 0;
    std::uint64_t granted = 0;
    // 2,000 operations against a dead database, each trying up to 1,000 times.
    for (int op = 0; op < 2'000; ++op) {
        for (unsigned attempt = 1;; ++attempt) {
            p.on_call();
            ++calls;
            if (!p.next_delay(ec, attempt, unit::not_sent)) break;
            ++granted;
        }
        if (op % 200 == 199) manual_clock::advance(500ms);  // 5 s in all: one window
    }
    const double allowed = std::max(10.0, 0.1 * static_cast<double>(calls));
    BOOST_TEST(static_cast<double>(granted) <= allowed + 1);
    BOOST_TEST(static_cast<double>(granted) >= allowed - 1);  // and the budget is usable
    BOOST_TEST(granted < 300u);                               // not 2,000 x 999
    const auto s = p.stats();
    BOOST_TEST(s.granted == granted);
    BOOST_TEST(s.denied_retry_budget == 2'000u);
}

BOOST_AUTO_TEST_CASE(budget_floor_applies_without_calls_and_recovers) {
    backoff p(budgeted(), 1);
    const std::error_code ec = code(errc::connection_error);
    // No calls reported: the floor is 1 retry per second over 10 s.
    int granted = 0;
    for (int k = 0; k < 50; ++k)
        granted += p.next_delay(ec, 1, unit::not_sent) ? 1 : 0;
    BOOST_TEST(granted == 10);
    BOOST_TEST(p.budget().in_window().retries == 10u);
    manual_clock::advance(5s);
    BOOST_TEST(!p.next_delay(ec, 1, unit::not_sent));  // still inside the window
    manual_clock::advance(6s);                         // the retries have left it
    BOOST_TEST(p.budget().in_window().retries == 0u);
    BOOST_TEST(p.next_delay(ec, 1, unit::not_sent).has_value());
}

BOOST_AUTO_TEST_CASE(copies_share_the_budget_not_the_random_stream) {
    const backoff prototype(budgeted(), 42);
    backoff a = prototype;
    backoff b = prototype;
    const std::error_code ec = code(errc::connection_error);
    for (int k = 0; k < 10; ++k)
        BOOST_TEST(a.next_delay(ec, 1, unit::not_sent).has_value());
    BOOST_TEST(!b.next_delay(ec, 1, unit::not_sent));  // a spent the shared budget
    BOOST_TEST(prototype.stats().granted == 10u);
    BOOST_TEST(prototype.stats().denied_retry_budget == 1u);

    // Copies of one seeded prototype draw different, reproducible delays.
    const backoff seeded(bare(jitter::full), 42);
    const auto draws = [&](backoff p) {
        std::vector<std::int64_t> v;
        v.reserve(20);
        for (int k = 0; k < 20; ++k)
            v.push_back(p.next_delay(ec, 6, unit::not_sent)->count());
        return v;
    };
    const auto first = draws(seeded);
    const auto second = draws(seeded);
    BOOST_TEST((first != second));
    BOOST_TEST((draws(backoff(bare(jitter::full), 7)) == draws(backoff(bare(jitter::full), 7))));
}

BOOST_AUTO_TEST_CASE(copies_in_threads) {
    // Eight connections' copies of one policy, each failing and asking at once (for TSan).
    auto s = budgeted();
    s.budget_ratio = 0.5;
    const backoff prototype(s, 3);
    std::vector<std::thread> threads;
    threads.reserve(8);
    std::atomic<std::uint64_t> asked{0};
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&prototype, &asked] {
            backoff mine = prototype;
            for (int k = 0; k < 2'000; ++k) {
                mine.on_call();
                (void)mine.next_delay(code(errc::connection_error), 1, unit::not_sent);
                asked.fetch_add(1);
            }
        });
    for (std::thread& t : threads)
        t.join();
    const auto st = prototype.stats();
    BOOST_TEST(st.granted + st.denied_retry_budget == asked.load());
    BOOST_TEST(st.granted == prototype.budget().in_window().retries);
    BOOST_TEST(prototype.budget().in_window().calls == 16'000u);
    BOOST_TEST(static_cast<double>(st.granted) <= 0.5 * 16'000 + 1);
}

BOOST_AUTO_TEST_CASE(invalid_settings_are_refused) {
    auto s = bare(jitter::full);
    s.base = -1ms;
    BOOST_CHECK_EXCEPTION(backoff{s}, dal::error, [](const dal::error& e) {
        return e.code() == dal::client_errc::invalid_config;
    });
    s = bare(jitter::full);
    s.budget_ratio = -0.5;
    BOOST_CHECK_THROW(backoff{s}, dal::error);
    BOOST_CHECK_NO_THROW(dal::policies::exponential_backoff{});
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

dal::policies::breaker_settings count_window(std::size_t size, std::size_t minimum) {
    dal::policies::breaker_settings s;
    s.window_size = size;
    s.minimum_calls = minimum;
    s.half_open_permitted_calls = 3;
    return s;
}

void fail(const circuit& b, int n, errc e = errc::connection_error) {
    for (int k = 0; k < n; ++k)
        b.on_failure(code(e), 1ms);
}
void succeed(const circuit& b, int n, std::chrono::nanoseconds took = 1ms) {
    for (int k = 0; k < n; ++k)
        b.on_success(took);
}

/// Opens `b` (count window, minimum reached) and returns when that happened.
void trip(const circuit& b) {
    fail(b, static_cast<int>(b.settings().window_size));
    BOOST_TEST_REQUIRE((b.state() == breaker_state::open));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(breaker)

BOOST_AUTO_TEST_CASE(which_errors_count) {
    using dal::policies::breaker_counts_as_failure;
    const std::initializer_list<errc> unhealthy = {errc::connection_error, errc::timeout,
                                                   errc::resource_exhausted, errc::failover_retry,
                                                   errc::transaction_outcome_unknown};
    for (const errc e : every_condition())
        BOOST_TEST_CONTEXT("condition " << e) {
            BOOST_TEST(breaker_counts_as_failure(code(e)) == among(e, unhealthy));
        }
    BOOST_TEST(breaker_counts_as_failure(dal::make_error_code(dal::client_errc::timeout)));
    BOOST_TEST(!breaker_counts_as_failure(std::error_code{}));
}

BOOST_AUTO_TEST_CASE(opens_on_failure_rate_but_not_before_minimum_calls) {
    const circuit b(count_window(100, 20));
    BOOST_TEST((b.state() == breaker_state::closed));
    fail(b, 19);
    BOOST_TEST((b.state() == breaker_state::closed));  // 100 % failures, but only 19 calls
    BOOST_TEST(!b.rejects());
    fail(b, 1);
    BOOST_TEST((b.state() == breaker_state::open));
    BOOST_TEST(b.rejects().has_value());

    const circuit half(count_window(100, 20));
    succeed(half, 10);
    fail(half, 9);
    BOOST_TEST((half.state() == breaker_state::closed));  // 9 of 19: too few calls
    fail(half, 1);                                        // 10 of 20 = 50 %
    BOOST_TEST((half.state() == breaker_state::open));

    const circuit below(count_window(100, 20));
    succeed(below, 11);
    fail(below, 9);  // 45 %
    BOOST_TEST((below.state() == breaker_state::closed));
    const auto s = below.snapshot();
    BOOST_TEST(s.calls == 20u);
    BOOST_TEST(s.failures == 9u);
}

BOOST_AUTO_TEST_CASE(answers_from_the_server_do_not_count) {
    const circuit b(count_window(10, 5));
    for (const errc e : {errc::constraint_violation, errc::syntax_error, errc::deadlock,
                         errc::serialization_failure, errc::lock_timeout, errc::cancelled})
        fail(b, 10, e);
    BOOST_TEST((b.state() == breaker_state::closed));
    const auto s = b.snapshot();
    BOOST_TEST(s.total_calls == 60u);
    BOOST_TEST(s.total_failures == 0u);
    BOOST_TEST(s.calls == 10u);  // the count window holds the last 10
}

BOOST_AUTO_TEST_CASE(count_window_forgets_the_oldest) {
    const circuit b(count_window(10, 10));
    fail(b, 4);
    succeed(b, 6);  // 40 %
    BOOST_TEST((b.state() == breaker_state::closed));
    succeed(b, 4);  // the 4 failures left the window
    BOOST_TEST(b.snapshot().failures == 0u);
    fail(b, 4);
    BOOST_TEST((b.state() == breaker_state::closed));
    fail(b, 1);  // 5 of the last 10
    BOOST_TEST((b.state() == breaker_state::open));
}

BOOST_AUTO_TEST_CASE(slow_calls_open_it) {
    auto s = count_window(10, 4);
    s.slow_call_threshold = 100ms;
    s.slow_call_rate_threshold = 0.5;
    const circuit b(s);
    succeed(b, 3, 100ms);  // not slower than the threshold
    succeed(b, 1, 250ms);
    BOOST_TEST((b.state() == breaker_state::closed));
    BOOST_TEST(b.snapshot().slow == 1u);
    // Answered, but slowly: slow, not failed. 2 of 5 slow is still below 50 %.
    b.on_failure(code(errc::constraint_violation), 300ms);
    BOOST_TEST((b.state() == breaker_state::closed));
    b.on_failure(code(errc::syntax_error), 2s);  // 3 of 6
    BOOST_TEST((b.state() == breaker_state::open));
    const auto snap = b.snapshot();
    BOOST_TEST(snap.failures == 0u);
    BOOST_TEST(snap.slow == 3u);
    BOOST_TEST(snap.calls == 6u);

    const circuit off(count_window(10, 4));  // threshold 0: no call is slow
    succeed(off, 10, 1h);
    BOOST_TEST((off.state() == breaker_state::closed));
    BOOST_TEST(off.snapshot().total_slow == 0u);
}

BOOST_AUTO_TEST_CASE(open_rejects_with_the_time_left) {
    const circuit b(count_window(10, 10));
    trip(b);
    BOOST_TEST((b.rejects() == 30'000ms));
    manual_clock::advance(10s);
    BOOST_TEST((b.rejects() == 20'000ms));
    manual_clock::advance(19'999ms + 500us);
    BOOST_TEST((b.rejects() == 1ms));  // rounded up, never zero
    BOOST_TEST((b.state() == breaker_state::open));
    BOOST_TEST(b.snapshot().rejected == 3u);
    succeed(b, 5);  // late reports of calls admitted earlier change nothing
    BOOST_TEST((b.state() == breaker_state::open));
}

BOOST_AUTO_TEST_CASE(half_open_after_open_duration_permits_exactly_n) {
    const circuit b(count_window(10, 10));
    trip(b);
    manual_clock::advance(30s);
    BOOST_TEST((b.state() == breaker_state::open));  // moves only when asked
    BOOST_TEST(!b.rejects());                        // probe 1
    BOOST_TEST((b.state() == breaker_state::half_open));
    BOOST_TEST(!b.rejects());  // probe 2
    BOOST_TEST(!b.rejects());  // probe 3
    BOOST_TEST((b.rejects() == 1ms));
    BOOST_TEST((b.rejects() == 1ms));
    const auto s = b.snapshot();
    BOOST_TEST(s.permitted == 3u);
    BOOST_TEST(s.rejected == 2u);
}

BOOST_AUTO_TEST_CASE(half_open_closes_when_probes_succeed) {
    const circuit b(count_window(10, 10));
    trip(b);
    manual_clock::advance(30s);
    for (int k = 0; k < 3; ++k)
        BOOST_TEST(!b.rejects());
    succeed(b, 2);
    fail(b, 1);  // 1 of 3 < 50 %: decided when the third probe reports
    BOOST_TEST((b.state() == breaker_state::closed));
    const auto s = b.snapshot();
    BOOST_TEST(s.calls == 0u);  // a fresh window
    BOOST_TEST(!b.rejects());
    fail(b, 9);  // it takes a full minimum again
    BOOST_TEST((b.state() == breaker_state::closed));
}

BOOST_AUTO_TEST_CASE(half_open_reopens_when_probes_fail) {
    const circuit b(count_window(10, 10));
    trip(b);
    manual_clock::advance(30s);
    for (int k = 0; k < 3; ++k)
        BOOST_TEST(!b.rejects());
    fail(b, 1);
    BOOST_TEST((b.state() == breaker_state::half_open));  // waits for every probe
    succeed(b, 1);
    fail(b, 1);  // 2 of 3
    BOOST_TEST((b.state() == breaker_state::open));
    BOOST_TEST((b.rejects() == 30'000ms));
    const auto s = b.snapshot();
    BOOST_TEST(s.transitions == 3u);
    BOOST_TEST((s.last_transition == manual_clock::now()));
}

BOOST_AUTO_TEST_CASE(half_open_reopens_when_probes_never_report) {
    auto s = count_window(10, 10);
    s.half_open_max_wait = 5s;
    const circuit b(s);
    trip(b);
    manual_clock::advance(30s);
    for (int k = 0; k < 3; ++k)
        BOOST_TEST(!b.rejects());
    manual_clock::advance(4s);
    BOOST_TEST((b.rejects() == 1ms));
    manual_clock::advance(1s);
    BOOST_TEST((b.rejects() == 30'000ms));
    BOOST_TEST((b.state() == breaker_state::open));
}

BOOST_AUTO_TEST_CASE(time_window_drops_old_outcomes) {
    dal::policies::breaker_settings s;
    s.window = dal::policies::breaker_settings::window_kind::time;
    s.window_duration = 60s;
    s.minimum_calls = 20;
    const circuit b(s);
    fail(b, 15);
    BOOST_TEST(b.snapshot().calls == 15u);
    manual_clock::advance(61s);
    BOOST_TEST(b.snapshot().calls == 0u);
    fail(b, 15);  // 30 failures in all, but only 15 in the last minute
    BOOST_TEST((b.state() == breaker_state::closed));
    manual_clock::advance(30s);
    fail(b, 5);  // 20 within the minute
    BOOST_TEST((b.state() == breaker_state::open));
}

BOOST_AUTO_TEST_CASE(callback_sees_every_transition_in_order) {
    std::vector<std::pair<breaker_state, breaker_state>> seen;
    auto s = count_window(10, 10);
    s.on_state_change = [&seen](breaker_state from, breaker_state to) {
        seen.emplace_back(from, to);
    };
    const circuit b(s);
    trip(b);
    manual_clock::advance(30s);
    for (int k = 0; k < 3; ++k)
        (void)b.rejects();
    fail(b, 3);
    manual_clock::advance(30s);
    for (int k = 0; k < 3; ++k)
        (void)b.rejects();
    succeed(b, 3);
    using S = breaker_state;
    const std::vector<std::pair<S, S>> expected = {{S::closed, S::open},
                                                   {S::open, S::half_open},
                                                   {S::half_open, S::open},
                                                   {S::open, S::half_open},
                                                   {S::half_open, S::closed}};
    BOOST_TEST((seen == expected));
    BOOST_TEST(b.snapshot().transitions == 5u);
}

BOOST_AUTO_TEST_CASE(a_callback_may_use_the_breaker) {
    std::vector<breaker_state> seen;
    std::optional<circuit> self;
    auto s = count_window(10, 10);
    s.open_duration = 0ms;
    s.on_state_change = [&](breaker_state /*from*/, breaker_state to) {
        seen.push_back(self->state());                       // reads under no lock
        if (to == breaker_state::half_open) fail(*self, 3);  // reports from the callback
    };
    self.emplace(s);
    trip(*self);
    BOOST_TEST(!self->rejects());  // open_duration 0: half-open at once
    // The probes the callback reported reopened it; the transition came after the first.
    BOOST_TEST((self->state() == breaker_state::open));
    BOOST_TEST(seen.size() == 3u);
}

BOOST_AUTO_TEST_CASE(copies_share_state) {
    const circuit prototype(count_window(10, 10));
    // NOLINTNEXTLINE(performance-unnecessary-copy-initialization): the copy is the subject
    const circuit a = prototype;
    circuit b;
    b = prototype;
    fail(a, 5);
    fail(b, 5);
    BOOST_TEST((prototype.state() == breaker_state::open));
    BOOST_TEST(a.shares_state_with(b));
    BOOST_TEST(prototype.snapshot().total_calls == 10u);
    BOOST_TEST(!circuit().shares_state_with(circuit()));
}

BOOST_AUTO_TEST_CASE(attach_shares_by_configuration) {
    const auto cfg = dal::config::from_uri("postgresql://app:one@db1:5432/orders");
    auto same = dal::config::from_uri("postgresql://app:two@db1/orders?application_name=x");
    same.options.clear();  // only the password and the spelling of the port differ
    const auto other = dal::config::from_uri("postgresql://app:one@db2:5432/orders");
    BOOST_TEST(cfg.hash() == same.hash());
    BOOST_TEST(cfg.hash() != other.hash());

    circuit a;
    circuit b;
    circuit c;
    BOOST_TEST(!a.shares_state_with(b));
    a.attach(cfg);
    b.attach(same);
    c.attach(other);
    BOOST_TEST(a.shares_state_with(b));
    BOOST_TEST(!a.shares_state_with(c));
    fail(a, 100);
    BOOST_TEST((b.state() == breaker_state::open));
    BOOST_TEST((c.state() == breaker_state::closed));

    // A moved-in default breaker still attaches (the connection's constructor does that).
    circuit fresh;
    circuit moved_in(std::move(fresh));
    moved_in.attach(cfg);
    BOOST_TEST(moved_in.shares_state_with(a));

    // Explicit settings, or a breaker already copied (one per pool), keep their own state.
    circuit own(count_window(10, 10));
    own.attach(cfg);
    BOOST_TEST(!own.shares_state_with(a));
    circuit pool_prototype;
    const circuit pool_copy = pool_prototype;
    pool_prototype.attach(cfg);
    BOOST_TEST(!pool_prototype.shares_state_with(a));
    BOOST_TEST(pool_prototype.shares_state_with(pool_copy));
    // Attaching twice changes nothing.
    a.attach(other);
    BOOST_TEST(a.shares_state_with(b));
}

BOOST_AUTO_TEST_CASE(concurrent_reports_keep_counts) {
    auto s = count_window(100, 20);
    s.failure_rate_threshold = 1.0;  // alternating outcomes never fill a window with failures
    const circuit b(s);
    std::vector<std::thread> threads;
    threads.reserve(8);
    constexpr int per_thread = 10'000;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([copy = b] {
            for (int k = 0; k < per_thread; ++k) {
                if (copy.rejects()) continue;
                if (k % 2 == 0)
                    copy.on_failure(code(errc::timeout), 1ms);
                else
                    copy.on_success(1ms);
            }
        });
    for (std::thread& t : threads)
        t.join();
    const auto snap = b.snapshot();
    BOOST_TEST((snap.state == breaker_state::closed));
    BOOST_TEST(snap.total_calls == 8u * per_thread);
    BOOST_TEST(snap.total_failures == 4u * per_thread);
    BOOST_TEST(snap.calls == 100u);
    BOOST_TEST(snap.failures >= 40u);
    BOOST_TEST(snap.failures <= 60u);
}

BOOST_AUTO_TEST_CASE(concurrent_transitions_reach_the_callback_in_order) {
    std::mutex m;
    std::vector<std::pair<breaker_state, breaker_state>> seen;
    auto s = count_window(10, 5);
    s.failure_rate_threshold = 0.3;
    s.open_duration = 0ms;
    s.half_open_permitted_calls = 2;
    s.on_state_change = [&](breaker_state from, breaker_state to) {
        const std::lock_guard lock(m);
        seen.emplace_back(from, to);
    };
    const circuit b(s);
    std::vector<std::thread> threads;
    threads.reserve(8);
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&b] {
            for (int k = 0; k < 5'000; ++k) {
                if (b.rejects()) continue;
                if (k % 3 == 0)
                    b.on_failure(code(errc::connection_error), 1ms);
                else
                    b.on_success(1ms);
                (void)b.state();
            }
        });
    for (std::thread& t : threads)
        t.join();
    const auto snap = b.snapshot();
    const std::lock_guard lock(m);
    BOOST_TEST(seen.size() == snap.transitions);
    BOOST_TEST(seen.size() > 2u);
    breaker_state at = breaker_state::closed;
    for (const auto& [from, to] : seen) {
        BOOST_TEST_REQUIRE((from == at));  // each starts where the last ended
        at = to;
    }
    BOOST_TEST((at == snap.state));
}

BOOST_AUTO_TEST_CASE(invalid_settings_are_refused) {
    auto s = count_window(10, 5);
    s.failure_rate_threshold = 0;
    BOOST_CHECK_EXCEPTION(circuit{s}, dal::error, [](const dal::error& e) {
        return e.code() == dal::client_errc::invalid_config;
    });
    s = count_window(0, 5);
    BOOST_CHECK_THROW(circuit{s}, dal::error);
    s = count_window(10, 5);
    s.half_open_permitted_calls = 0;
    BOOST_CHECK_THROW(circuit{s}, dal::error);
    BOOST_CHECK_NO_THROW(dal::policies::circuit_breaker{});
    BOOST_TEST(dal::policies::to_string(breaker_state::half_open) == "half_open");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(timeouts)

// Limits become deadlines without overflow: milliseconds::max() (no limit, in effect) is the
// end of time, not a point in the past; zero means no limit; a limit ends at now + limit.
BOOST_AUTO_TEST_CASE(config_timeout_saturates_instead_of_overflowing) {
    using clock = std::chrono::steady_clock;
    const dal::policies::config_timeout t;
    dal::time_limits limits;
    limits.statement = 2s;
    limits.operation = 0ms;
    const clock::time_point now = clock::now();
    BOOST_TEST((t.statement_deadline(limits, {}, now) == now + 2s));
    BOOST_TEST((t.operation_deadline(limits, {}, now) == clock::time_point::max()));
    const dal::policies::timeout_request huge{std::chrono::milliseconds::max(),
                                              std::chrono::milliseconds::max()};
    BOOST_TEST((t.statement_deadline(limits, huge, now) == clock::time_point::max()));
    BOOST_TEST((t.operation_deadline(limits, huge, now) == clock::time_point::max()));
    const dal::policies::timeout_request short_ones{250ms, 1s};
    BOOST_TEST((t.statement_deadline(limits, short_ones, now) == now + 250ms));
    BOOST_TEST((t.operation_deadline(limits, short_ones, now) == now + 1s));
}

BOOST_AUTO_TEST_SUITE_END()
