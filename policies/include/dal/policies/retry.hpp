// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// RetryPolicy: decides whether a failed attempt is tried again and after how long.
///
/// The connection tells the policy what kind of unit failed, because the rule for what is safe
/// depends on it (`retry_is_safe`): an error before the statement could reach the server may be
/// retried; a serialization failure or deadlock only when the unit is a whole transaction the
/// library owns; a statement that may have run is never silently re-run. docs/resilience.md.
///
/// `exponential_backoff` adds capped exponential backoff with jitter, a limit on attempts and
/// on the time a retry sequence may take, and a retry budget shared by all copies of the
/// policy (a pool copies one prototype into each connection), so an outage cannot multiply
/// the load on the database.
///
/// Optional hook, called by the connection only when the policy has it
/// (`if constexpr (requires { retry_.on_call(); })`):
///
///   void on_call() noexcept;   // may be const
///
///   Called once per attempt, right before the attempt is sent (after the breaker admitted
///   it): every statement, pipeline or batch sent as one call, first attempts and retries
///   alike (run_native, co_run_native; with_transaction need not call it, its statements
///   do). It counts calls for the retry budget's ratio; a policy that is never told about
///   calls still grants its minimum rate of retries.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <system_error>

#include <dal/error.hpp>
#include <dal/policies/detail/sliding_window.hpp>

namespace dal::policies {

/// What failed, so the policy can apply the safety rule above.
enum class unit : std::uint8_t {
    not_sent,     ///< failed before the statement could have reached the server
    statement,    ///< one statement that may have run
    transaction,  ///< a whole transaction the library owns (auto transaction, user function)
};

/// What a connection asks of its retry policy: given the error, the attempt number (1 for the
/// first failure) and the unit, how long to wait before trying again, or nothing to give up.
template <class P>
concept retry_policy = std::default_initializable<P> &&
    requires(P& p, const std::error_code& ec, unsigned attempt, unit u) {
    { p.next_delay(ec, attempt, u) } -> std::same_as<std::optional<std::chrono::milliseconds>>;
};

/// Never retries: every error reaches the caller at once.
struct no_retry {
    [[nodiscard]] std::optional<std::chrono::milliseconds> next_delay(const std::error_code& /*ec*/,
                                                                      unsigned /*attempt*/,
                                                                      unit /*u*/) const noexcept {
        return std::nullopt;
    }
};

/// The safety rule: may a unit that failed with `ec` be run again without risking running it
/// twice?
///   - never: no error, `transaction_outcome_unknown` (the commit may have happened) and
///     `circuit_open` (retrying around the breaker defeats it);
///   - `unit::not_sent`: any other transient error (`dal::is_transient`);
///   - `unit::transaction`: `serialization_failure` and `deadlock` (the server aborted the
///     whole transaction), `failover_retry` and `pool_timeout` (it never began). Not
///     `connection_error`: it may have broken the link during COMMIT, and the backends do not
///     yet report that case as `transaction_outcome_unknown`;
///   - `unit::statement`: only `failover_retry`, which says the statement did not run.
[[nodiscard]] inline bool retry_is_safe(const std::error_code& ec, unit u) noexcept {
    if (!ec) return false;
    if (ec == errc::transaction_outcome_unknown || ec == errc::circuit_open) return false;
    switch (u) {
        case unit::not_sent: return is_transient(ec);
        case unit::transaction:
            return ec == errc::serialization_failure || ec == errc::deadlock ||
                   ec == errc::failover_retry || ec == errc::pool_timeout;
        case unit::statement: return ec == errc::failover_retry;
    }
    return false;
}

/// Settings of `basic_exponential_backoff` and its retry budget. Defaults in the comments.
struct backoff_settings {
    /// How the delay is drawn from the exponential bound `min(cap, base * 2^(attempt - 1))`.
    enum class jitter_kind : std::uint8_t {
        full,          ///< uniform in [0, bound] (AWS "full jitter"): the default
        decorrelated,  ///< min(cap, uniform in [base, 3 * previous delay]) (AWS "decorrelated")
        none,          ///< exactly the bound: for tests and single clients only
    };

    /// First backoff bound (50 ms).
    std::chrono::milliseconds base{50};
    /// No delay is longer (5 s).
    std::chrono::milliseconds cap{5'000};
    /// Attempts in all, the first included (4): attempt numbers >= this are not retried.
    unsigned max_attempts{4};
    /// Longest a retry sequence may take from its first failure to the end of the delay it is
    /// granted (10 s); zero: no limit.
    std::chrono::milliseconds total_budget{10'000};
    /// Jitter (full).
    jitter_kind jitter{jitter_kind::full};

    /// Retry budget: retries in the window may reach this share of the calls (0.1)...
    double budget_ratio{0.1};
    /// ...or this many per second of the window, whichever is more (10).
    unsigned budget_min_retries_per_second{10};
    /// The window the budget counts over (10 s); zero turns the budget off.
    std::chrono::milliseconds budget_window{10'000};
};

/// Retries granted and refused, summed over every copy of a policy.
struct retry_stats {
    std::uint64_t granted = 0;              ///< retries the policy allowed
    std::uint64_t denied_unsafe = 0;        ///< errors `retry_is_safe` refuses
    std::uint64_t denied_attempts = 0;      ///< `max_attempts` reached
    std::uint64_t denied_total_budget = 0;  ///< the delay would end past `total_budget`
    std::uint64_t denied_retry_budget = 0;  ///< the retry budget was spent
};

namespace detail {
/// `s`, or throws dal::error (client_errc::invalid_config) naming what is wrong.
inline const backoff_settings& checked(const backoff_settings& s) {
    const auto bad = [](const char* what) {
        throw error(make_error_code(client_errc::invalid_config),
                    std::string("backoff_settings: ") + what);
    };
    using ms = std::chrono::milliseconds;
    if (s.base < ms::zero() || s.cap < ms::zero()) bad("base and cap must not be negative");
    if (s.total_budget < ms::zero()) bad("total_budget must not be negative");
    if (s.budget_window < ms::zero()) bad("budget_window must not be negative");
    if (!(s.budget_ratio >= 0.0)) bad("budget_ratio must be a number >= 0");
    return s;
}
}  // namespace detail

/// A retry budget (Finagle's RetryBudget): over a sliding window, retries may not exceed
/// `max(min_per_second * window seconds, ratio * calls)`. Thread-safe; one mutex, held for a
/// few additions per call.
template <class Clock = std::chrono::steady_clock>
class basic_retry_budget {
    static_assert(std::chrono::is_clock_v<Clock>, "dal: the retry budget's Clock is no clock");

public:
    using time_point = typename Clock::time_point;

    explicit basic_retry_budget(const backoff_settings& s = {})
        : enabled_(s.budget_window > std::chrono::milliseconds::zero()),
          window_(s.budget_window),
          floor_(static_cast<double>(s.budget_min_retries_per_second) *
                 std::chrono::duration<double>(s.budget_window).count()),
          ratio_(s.budget_ratio) {}

    /// Records one call.
    void on_call() noexcept { on_call(Clock::now()); }
    void on_call(time_point now) noexcept {
        if (!enabled_) return;
        const std::lock_guard lock(mutex_);
        window_.add(now, {1, 0});
    }

    /// Takes one retry from the budget: true (and recorded) when the budget allows it.
    [[nodiscard]] bool try_withdraw() noexcept { return try_withdraw(Clock::now()); }
    [[nodiscard]] bool try_withdraw(time_point now) noexcept {
        if (!enabled_) return true;
        const std::lock_guard lock(mutex_);
        const auto [calls, retries] = window_.sum(now);
        if (static_cast<double>(retries) >= std::max(floor_, ratio_ * static_cast<double>(calls)))
            return false;
        window_.add(now, {0, 1});
        return true;
    }

    /// Calls and retries in the window now.
    struct usage {
        std::uint64_t calls = 0;
        std::uint64_t retries = 0;
    };
    [[nodiscard]] usage in_window() const noexcept {
        const std::lock_guard lock(mutex_);
        const auto [calls, retries] = window_.sum(Clock::now());
        return {calls, retries};
    }

private:
    bool enabled_;
    mutable std::mutex mutex_;
    detail::time_buckets<Clock, 2> window_;  // {calls, retries}
    double floor_;
    double ratio_;
};
using retry_budget = basic_retry_budget<>;

/// Capped exponential backoff with jitter, attempt and time limits and a shared retry budget.
/// `next_delay` gives up (nullopt) when the error is not safe to retry (`retry_is_safe`), when
/// `attempt >= max_attempts`, when the delay would end past `total_budget` counted from the
/// sequence's first failure (attempt 1), or when the retry budget is spent.
///
/// Copies share the budget and the stats; each copy has its own random generator (reseeded on
/// copy, so the connections of a pool do not back off in step) and its own sequence state. One
/// object is used by one thread at a time, as a connection is.
template <class Clock = std::chrono::steady_clock>
class basic_exponential_backoff {
    static_assert(std::chrono::is_clock_v<Clock>, "dal: exponential_backoff's Clock is no clock");

public:
    using clock = Clock;
    using budget_type = basic_retry_budget<Clock>;
    using milliseconds = std::chrono::milliseconds;

    basic_exponential_backoff() : basic_exponential_backoff(backoff_settings{}) {}
    /// Throws dal::error (client_errc::invalid_config) for negative durations or ratio.
    explicit basic_exponential_backoff(const backoff_settings& s)
        : basic_exponential_backoff(s, std::random_device{}()) {}
    /// A fixed seed, for reproducible delays in tests.
    basic_exponential_backoff(const backoff_settings& s, std::uint64_t seed)
        : shared_(std::make_shared<shared_state>(s, seed)), rng_(engine_seed(seed)) {}

    // A copy shares the budget and draws from a fresh stream; moves keep the source usable.
    basic_exponential_backoff(const basic_exponential_backoff& o) noexcept
        : shared_(o.shared_), rng_(o.fresh_seed()) {}
    basic_exponential_backoff& operator=(const basic_exponential_backoff& o) noexcept {
        if (this != &o) {
            shared_ = o.shared_;
            rng_.seed(o.fresh_seed());
            sequence_start_ = {};
            previous_ = {};
        }
        return *this;
    }
    // A copy, so the source stays usable.
    basic_exponential_backoff(basic_exponential_backoff&& o) noexcept
        : shared_(o.shared_),  // NOLINT(performance-move-constructor-init)
          rng_(o.rng_),
          sequence_start_(o.sequence_start_),
          previous_(o.previous_) {}
    basic_exponential_backoff& operator=(basic_exponential_backoff&& o) noexcept {
        shared_ = o.shared_;
        rng_ = o.rng_;
        sequence_start_ = o.sequence_start_;
        previous_ = o.previous_;
        return *this;
    }
    ~basic_exponential_backoff() = default;

    /// The retry policy: the delay before attempt `attempt + 1`, or nullopt to give up.
    [[nodiscard]] std::optional<milliseconds> next_delay(const std::error_code& ec,
                                                         unsigned attempt, unit u) {
        shared_state& sh = *shared_;
        if (!retry_is_safe(ec, u)) return deny(sh.denied_unsafe);
        const backoff_settings& s = sh.settings;
        const unsigned a = std::max(attempt, 1U);
        const typename Clock::time_point now = Clock::now();
        if (a == 1) {
            sequence_start_ = now;
            previous_ = s.base;
        }
        if (a >= s.max_attempts) return deny(sh.denied_attempts);
        const milliseconds delay = draw(s, a);
        if (s.total_budget > milliseconds::zero() && now - sequence_start_ + delay > s.total_budget)
            return deny(sh.denied_total_budget);
        if (!sh.budget.try_withdraw(now)) return deny(sh.denied_retry_budget);
        sh.granted.fetch_add(1, std::memory_order_relaxed);
        previous_ = delay;
        return delay;
    }

    /// Optional hook (see the top of this file): records a call for the retry budget.
    void on_call() const noexcept { shared_->budget.on_call(); }

    [[nodiscard]] const backoff_settings& settings() const noexcept { return shared_->settings; }
    [[nodiscard]] const budget_type& budget() const noexcept { return shared_->budget; }
    [[nodiscard]] retry_stats stats() const noexcept {
        const shared_state& sh = *shared_;
        constexpr auto relaxed = std::memory_order_relaxed;
        return {sh.granted.load(relaxed), sh.denied_unsafe.load(relaxed),
                sh.denied_attempts.load(relaxed), sh.denied_total_budget.load(relaxed),
                sh.denied_retry_budget.load(relaxed)};
    }

    /// The bound of full jitter and the delay without jitter: min(cap, base * 2^(attempt-1)),
    /// without overflow for any attempt.
    [[nodiscard]] static milliseconds exponential_bound(const backoff_settings& s,
                                                        unsigned attempt) noexcept {
        const unsigned shift = std::max(attempt, 1U) - 1;
        if (s.base <= milliseconds::zero()) return milliseconds::zero();
        if (shift >= 62 || s.base.count() > (s.cap.count() >> shift)) return s.cap;
        return milliseconds{s.base.count() << shift};
    }

private:
    struct shared_state {
        shared_state(const backoff_settings& s, std::uint64_t seed_)
            : settings(detail::checked(s)), budget(s), seed(seed_) {}
        const backoff_settings settings;
        budget_type budget;
        const std::uint64_t seed;
        std::atomic<std::uint64_t> streams{0};
        std::atomic<std::uint64_t> granted{0};
        std::atomic<std::uint64_t> denied_unsafe{0};
        std::atomic<std::uint64_t> denied_attempts{0};
        std::atomic<std::uint64_t> denied_total_budget{0};
        std::atomic<std::uint64_t> denied_retry_budget{0};
    };

    static std::optional<milliseconds> deny(std::atomic<std::uint64_t>& counter) noexcept {
        counter.fetch_add(1, std::memory_order_relaxed);
        return std::nullopt;
    }

    static std::minstd_rand::result_type engine_seed(std::uint64_t x) noexcept {
        // minstd_rand has 2^31 - 2 states; never seed it with a multiple of its modulus.
        return static_cast<std::minstd_rand::result_type>(detail::mix_seed(x) % 2147483646U + 1U);
    }
    [[nodiscard]] std::minstd_rand::result_type fresh_seed() const noexcept {
        const std::uint64_t stream = shared_->streams.fetch_add(1, std::memory_order_relaxed) + 1;
        return engine_seed(shared_->seed ^ detail::mix_seed(stream));
    }

    milliseconds uniform(milliseconds lo, milliseconds hi) {
        if (hi <= lo) return lo;
        std::uniform_int_distribution<milliseconds::rep> d(lo.count(), hi.count());
        return milliseconds{d(rng_)};
    }

    milliseconds draw(const backoff_settings& s, unsigned attempt) {
        switch (s.jitter) {
            case backoff_settings::jitter_kind::none: return exponential_bound(s, attempt);
            case backoff_settings::jitter_kind::decorrelated: {
                constexpr milliseconds::rep most = std::numeric_limits<milliseconds::rep>::max();
                const milliseconds::rep prev = std::max(previous_, s.base).count();
                const milliseconds hi{prev > most / 3 ? most : prev * 3};
                return std::min(s.cap, uniform(s.base, hi));
            }
            case backoff_settings::jitter_kind::full: break;
        }
        return uniform(milliseconds::zero(), exponential_bound(s, attempt));
    }

    std::shared_ptr<shared_state> shared_;
    std::minstd_rand rng_;
    typename Clock::time_point sequence_start_{};
    milliseconds previous_{};  // the last delay, for decorrelated jitter
};
using exponential_backoff = basic_exponential_backoff<>;

static_assert(retry_policy<no_retry>);
static_assert(retry_policy<exponential_backoff>);

}  // namespace dal::policies
