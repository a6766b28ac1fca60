// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// BreakerPolicy: stops sending work to a database that is failing, so callers fail fast with
/// `errc::circuit_open` instead of piling up behind timeouts.
///
/// `circuit_breaker` is resilience4j's closed/open/half-open breaker with a count- or
/// time-based sliding window, failure-rate and slow-call-rate thresholds. Its state lives in
/// one thread-safe object that every copy shares (a pool copies one prototype into each
/// connection: one breaker per pool). Only errors that say the database is unhealthy count as
/// failures (`breaker_counts_as_failure`). docs/resilience.md.
///
/// Optional hook, called by the connection only when the policy has it
/// (`if constexpr (requires { breaker_.attach(cfg_); })`):
///
///   void attach(const dal::config& cfg);
///
///   Called once, in the connection's constructor before its first call (and by a pool on
///   its prototype, before copying it into connections). A breaker that was default-
///   constructed and never copied then switches to the process-wide breaker of `cfg`'s target
///   (by `cfg.identity()`), so connections and pools of one database share one breaker. A
///   breaker built from settings, or already copied, keeps its own state. Not thread-safe for
///   the one object it is called on (it replaces that object's state).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include <dal/config.hpp>
#include <dal/error.hpp>
#include <dal/policies/detail/sliding_window.hpp>

namespace dal::policies {

/// What a connection asks of its breaker: may a call start (nullopt) or not (the time until
/// the next probe), and what happened to each call that started.
template <class P>
concept breaker_policy = std::default_initializable<P> &&
    requires(P& p, const std::error_code& ec, std::chrono::nanoseconds took) {
    { p.rejects() } -> std::same_as<std::optional<std::chrono::milliseconds>>;
    { p.on_success(took) } -> std::same_as<void>;
    { p.on_failure(ec, took) } -> std::same_as<void>;
};

/// Never opens.
struct no_breaker {
    [[nodiscard]] std::optional<std::chrono::milliseconds> rejects() const noexcept {
        return std::nullopt;
    }
    void on_success(std::chrono::nanoseconds /*took*/) const noexcept {}
    void on_failure(const std::error_code& /*ec*/,
                    std::chrono::nanoseconds /*took*/) const noexcept {}
};

enum class breaker_state : std::uint8_t {
    closed,     ///< calls pass; outcomes are recorded in the window
    open,       ///< calls are rejected until `open_duration` has passed
    half_open,  ///< a few probe calls pass; their outcomes decide: closed or open again
};

[[nodiscard]] constexpr std::string_view to_string(breaker_state s) noexcept {
    switch (s) {
        case breaker_state::closed: return "closed";
        case breaker_state::open: return "open";
        case breaker_state::half_open: return "half_open";
    }
    return "unknown";
}

/// Whether a failed call says the database is unhealthy: connection_error, timeout,
/// resource_exhausted (out of connections, memory or disk), failover_retry and
/// transaction_outcome_unknown. Any other error (constraint_violation, syntax_error, deadlock,
/// lock_timeout, cancelled...) means the server answered: it counts as a success.
[[nodiscard]] inline bool breaker_counts_as_failure(const std::error_code& ec) noexcept {
    return ec == errc::connection_error || ec == errc::timeout || ec == errc::resource_exhausted ||
           ec == errc::failover_retry || ec == errc::transaction_outcome_unknown;
}

/// Settings of `basic_circuit_breaker` (resilience4j's names in brackets). Defaults in the
/// comments.
struct breaker_settings {
    enum class window_kind : std::uint8_t {
        count,  ///< the last `window_size` calls [COUNT_BASED]: the default
        time,   ///< the calls of the last `window_duration`, in 1 s buckets [TIME_BASED]
    };

    /// Kind of sliding window (count) [slidingWindowType].
    window_kind window{window_kind::count};
    /// Calls in a count window (100) [slidingWindowSize].
    std::size_t window_size{100};
    /// Length of a time window (60 s) [slidingWindowSize in seconds].
    std::chrono::milliseconds window_duration{60'000};
    /// Calls the window must hold before the rates are judged (20); for a count window at
    /// most `window_size` [minimumNumberOfCalls].
    std::size_t minimum_calls{20};
    /// Opens when failures / calls >= this (0.5); in (0, 1] [failureRateThreshold].
    double failure_rate_threshold{0.5};
    /// A call that took longer is slow, failed or not (0 = off) [slowCallDurationThreshold].
    std::chrono::milliseconds slow_call_threshold{0};
    /// Opens when slow calls / calls >= this (1.0); in (0, 1] [slowCallRateThreshold].
    double slow_call_rate_threshold{1.0};
    /// How long the breaker stays open before it lets probes through (30 s)
    /// [waitDurationInOpenState].
    std::chrono::milliseconds open_duration{30'000};
    /// Probe calls admitted in half-open; their outcomes decide (5); at least 1
    /// [permittedNumberOfCallsInHalfOpenState].
    std::size_t half_open_permitted_calls{5};
    /// When the probes have not all reported this long after the breaker went half-open (a
    /// call that ended with an exception the connection did not report), it opens again
    /// (60 s, longer than the default statement limit; 0 = wait forever)
    /// [maxWaitDurationInHalfOpenState].
    std::chrono::milliseconds half_open_max_wait{60'000};
    /// Called with each transition, in order, never under the breaker's lock, one at a time
    /// (possibly on another thread than the call that caused it). It may read the breaker and
    /// report outcomes to it; exceptions it throws are ignored. Empty: no callback.
    std::function<void(breaker_state from, breaker_state to)> on_state_change;
};

/// What a breaker looks like at one moment (for metrics, health checks and logs).
template <class Clock = std::chrono::steady_clock>
struct basic_breaker_snapshot {
    breaker_state state = breaker_state::closed;
    /// Outcomes the next decision weighs: the window when closed or open, the probes when
    /// half-open.
    std::size_t calls = 0;
    std::size_t failures = 0;
    std::size_t slow = 0;
    std::size_t permitted = 0;  ///< probes admitted so far (half-open only)
    /// Since the breaker was created.
    std::uint64_t total_calls = 0;
    std::uint64_t total_failures = 0;
    std::uint64_t total_slow = 0;
    std::uint64_t rejected = 0;  ///< calls `rejects()` refused
    std::uint64_t transitions = 0;
    /// When the state last changed; the clock's epoch before the first transition.
    typename Clock::time_point last_transition{};
};
using breaker_snapshot = basic_breaker_snapshot<>;

namespace detail {

/// `s`, or throws dal::error (client_errc::invalid_config) naming what is wrong.
inline breaker_settings checked(breaker_settings s) {
    const auto bad = [](const char* what) {
        throw error(make_error_code(client_errc::invalid_config),
                    std::string("breaker_settings: ") + what);
    };
    using ms = std::chrono::milliseconds;
    const auto rate = [](double r) { return r > 0.0 && r <= 1.0; };
    if (s.window == breaker_settings::window_kind::count && s.window_size == 0)
        bad("window_size must be at least 1");
    if (s.window == breaker_settings::window_kind::time && s.window_duration <= ms::zero())
        bad("window_duration must be positive");
    if (!rate(s.failure_rate_threshold)) bad("failure_rate_threshold must be in (0, 1]");
    if (!rate(s.slow_call_rate_threshold)) bad("slow_call_rate_threshold must be in (0, 1]");
    if (s.slow_call_threshold < ms::zero() || s.open_duration < ms::zero() ||
        s.half_open_max_wait < ms::zero())
        bad("durations must not be negative");
    if (s.half_open_permitted_calls == 0) bad("half_open_permitted_calls must be at least 1");
    return s;
}

/// The state every copy of a breaker shares. One mutex guards it; `state_` is also atomic so
/// that a closed breaker admits calls without taking the lock.
template <class Clock>
class breaker_core {
public:
    using time_point = typename Clock::time_point;
    using milliseconds = std::chrono::milliseconds;

    breaker_core(breaker_settings s, bool from_default)
        : attachable(from_default),
          settings_(checked(std::move(s))),
          minimum_calls_(std::max<std::size_t>(
              1, settings_.window == breaker_settings::window_kind::count
                     ? std::min(settings_.minimum_calls, settings_.window_size)
                     : settings_.minimum_calls)) {
        if (settings_.window == breaker_settings::window_kind::count)
            ring_.resize(settings_.window_size);
        else
            time_window_ = time_buckets<Clock, 3>(settings_.window_duration, 300);
    }

    /// Created by a default-constructed breaker: attach() may replace it.
    const bool attachable;
    /// Set when a breaker holding it was copied: attach() then leaves it alone.
    std::atomic<bool> copied{false};

    [[nodiscard]] const breaker_settings& settings() const noexcept { return settings_; }
    [[nodiscard]] breaker_state state() const noexcept {
        return state_.load(std::memory_order_acquire);
    }

    std::optional<milliseconds> rejects() {
        if (state() == breaker_state::closed) return std::nullopt;
        std::optional<milliseconds> wait;
        bool changed = false;
        {
            const std::lock_guard lock(mutex_);
            const time_point now = Clock::now();
            switch (state_.load(std::memory_order_relaxed)) {
                case breaker_state::closed: return std::nullopt;
                case breaker_state::open: {
                    const auto open_for = now - opened_at_;
                    if (open_for >= settings_.open_duration) {
                        changed = move_to(breaker_state::half_open, now);
                        ++permitted_;  // this call is the first probe
                        break;
                    }
                    wait = at_least_1ms(
                        std::chrono::ceil<milliseconds>(settings_.open_duration - open_for));
                    ++rejected_;
                    break;
                }
                case breaker_state::half_open:
                    if (permitted_ < settings_.half_open_permitted_calls) {
                        ++permitted_;
                        break;
                    }
                    ++rejected_;
                    if (settings_.half_open_max_wait > milliseconds::zero() &&
                        now - half_open_since_ >= settings_.half_open_max_wait) {
                        changed = move_to(breaker_state::open, now);
                        wait = at_least_1ms(settings_.open_duration);
                        break;
                    }
                    // Every probe is out; their outcomes decide, which takes about a call.
                    wait = milliseconds{1};
                    break;
            }
        }
        if (changed) dispatch();
        return wait;
    }

    void record(bool failed, std::chrono::nanoseconds took) {
        const bool slow = settings_.slow_call_threshold > milliseconds::zero() &&
                          took > settings_.slow_call_threshold;
        bool changed = false;
        {
            const std::lock_guard lock(mutex_);
            ++total_calls_;
            if (failed) ++total_failures_;
            if (slow) ++total_slow_;
            switch (state_.load(std::memory_order_relaxed)) {
                case breaker_state::closed: {
                    const bool timed = settings_.window == breaker_settings::window_kind::time;
                    const time_point now = timed ? Clock::now() : time_point{};
                    const counts c = add_to_window(failed, slow, now);
                    if (c.calls >= minimum_calls_ && opens(c))
                        changed = move_to(breaker_state::open, timed ? now : Clock::now());
                    break;
                }
                case breaker_state::open:
                    // A call admitted before the breaker opened: it changes nothing now.
                    break;
                case breaker_state::half_open:
                    // As resilience4j: every outcome reported in half-open counts as a probe.
                    ++probes_.calls;
                    if (failed) ++probes_.failures;
                    if (slow) ++probes_.slow;
                    if (probes_.calls >= settings_.half_open_permitted_calls)
                        changed =
                            move_to(opens(probes_) ? breaker_state::open : breaker_state::closed,
                                    Clock::now());
                    break;
            }
        }
        if (changed) dispatch();
    }

    [[nodiscard]] basic_breaker_snapshot<Clock> snapshot() const {
        const std::lock_guard lock(mutex_);
        basic_breaker_snapshot<Clock> s;
        s.state = state_.load(std::memory_order_relaxed);
        const counts c = s.state == breaker_state::half_open ? probes_ : window_counts();
        s.calls = c.calls;
        s.failures = c.failures;
        s.slow = c.slow;
        s.permitted = s.state == breaker_state::half_open ? permitted_ : 0;
        s.total_calls = total_calls_;
        s.total_failures = total_failures_;
        s.total_slow = total_slow_;
        s.rejected = rejected_;
        s.transitions = transitions_;
        s.last_transition = last_transition_;
        return s;
    }

private:
    struct counts {
        std::size_t calls = 0;
        std::size_t failures = 0;
        std::size_t slow = 0;
    };
    struct transition {
        breaker_state from;
        breaker_state to;
    };
    static constexpr std::uint8_t failed_bit = 1;
    static constexpr std::uint8_t slow_bit = 2;

    static milliseconds at_least_1ms(milliseconds d) noexcept {
        return std::max(d, milliseconds{1});
    }

    [[nodiscard]] bool opens(const counts& c) const noexcept {
        if (c.calls == 0) return false;
        const auto calls = static_cast<double>(c.calls);
        if (static_cast<double>(c.failures) >= settings_.failure_rate_threshold * calls)
            return true;
        return settings_.slow_call_threshold > milliseconds::zero() &&
               static_cast<double>(c.slow) >= settings_.slow_call_rate_threshold * calls;
    }

    counts add_to_window(bool failed, bool slow, time_point now) {
        if (settings_.window == breaker_settings::window_kind::time) {
            time_window_.add(now, {1, failed ? 1U : 0U, slow ? 1U : 0U});
            return window_counts(now);
        }
        std::uint8_t& slot = ring_[ring_next_];
        if (ring_used_ == ring_.size()) {  // the oldest outcome leaves the window
            --ring_counts_.calls;
            if ((slot & failed_bit) != 0) --ring_counts_.failures;
            if ((slot & slow_bit) != 0) --ring_counts_.slow;
        } else {
            ++ring_used_;
        }
        slot = static_cast<std::uint8_t>((failed ? failed_bit : 0U) | (slow ? slow_bit : 0U));
        ++ring_counts_.calls;
        if (failed) ++ring_counts_.failures;
        if (slow) ++ring_counts_.slow;
        ring_next_ = (ring_next_ + 1) % ring_.size();
        return ring_counts_;
    }

    [[nodiscard]] counts window_counts(time_point now) const {
        const auto [calls, failures, slow] = time_window_.sum(now);
        return {static_cast<std::size_t>(calls), static_cast<std::size_t>(failures),
                static_cast<std::size_t>(slow)};
    }
    [[nodiscard]] counts window_counts() const {
        if (settings_.window == breaker_settings::window_kind::time)
            return window_counts(Clock::now());
        return ring_counts_;
    }

    /// Under the lock. Returns whether a callback has something to deliver.
    bool move_to(breaker_state to, time_point now) {
        const breaker_state from = state_.load(std::memory_order_relaxed);
        state_.store(to, std::memory_order_release);
        last_transition_ = now;
        ++transitions_;
        switch (to) {
            case breaker_state::open: opened_at_ = now; break;
            case breaker_state::half_open:
                half_open_since_ = now;
                permitted_ = 0;
                probes_ = {};
                break;
            case breaker_state::closed:  // a fresh window
                std::fill(ring_.begin(), ring_.end(), std::uint8_t{0});
                ring_next_ = 0;
                ring_used_ = 0;
                ring_counts_ = {};
                time_window_.clear();
                break;
        }
        if (!settings_.on_state_change) return false;
        pending_.push_back({from, to});
        return true;
    }

    /// Without the lock: delivers pending transitions in order, one thread at a time. A thread
    /// that finds another delivering leaves its transition to that one.
    void dispatch() {
        std::unique_lock lock(mutex_);
        if (dispatching_) return;
        dispatching_ = true;
        while (!pending_.empty()) {
            const transition t = pending_.front();
            pending_.pop_front();
            lock.unlock();
            try {
                settings_.on_state_change(t.from, t.to);
            } catch (...) {  // NOLINT(bugprone-empty-catch): documented: ignored
            }
            lock.lock();
        }
        dispatching_ = false;
    }

    const breaker_settings settings_;
    const std::size_t minimum_calls_;
    mutable std::mutex mutex_;
    std::atomic<breaker_state> state_{breaker_state::closed};

    // Count window: one byte per call (failed_bit | slow_bit), and its sums.
    std::vector<std::uint8_t> ring_;
    std::size_t ring_next_ = 0;
    std::size_t ring_used_ = 0;
    counts ring_counts_;
    // Time window: {calls, failures, slow} per bucket.
    time_buckets<Clock, 3> time_window_;

    time_point opened_at_{};
    time_point half_open_since_{};
    time_point last_transition_{};
    std::size_t permitted_ = 0;
    counts probes_;

    std::uint64_t total_calls_ = 0;
    std::uint64_t total_failures_ = 0;
    std::uint64_t total_slow_ = 0;
    std::uint64_t rejected_ = 0;
    std::uint64_t transitions_ = 0;

    std::deque<transition> pending_;
    bool dispatching_ = false;
};

/// The process-wide breakers that attach() hands out, one per target. It keys by
/// `config::identity()`, not `hash()`: a hash collision would make one database's outage
/// open another's breaker (the pool registry decided the same, docs/architecture.md). It
/// holds weak references: a breaker lives as long as a connection or pool uses it.
template <class Clock>
class breaker_registry {
public:
    using core = breaker_core<Clock>;

    static std::shared_ptr<core> get(const config& cfg) {
        std::string key = cfg.identity();
        state& st = instance();
        const std::lock_guard lock(st.mutex);
        if (const auto it = st.breakers.find(key); it != st.breakers.end())
            if (std::shared_ptr<core> p = it->second.lock()) return p;
        std::erase_if(st.breakers, [](const auto& kv) { return kv.second.expired(); });
        auto p = std::make_shared<core>(breaker_settings{}, false);
        st.breakers.insert_or_assign(std::move(key), p);
        return p;
    }

private:
    struct state {
        std::mutex mutex;
        std::unordered_map<std::string, std::weak_ptr<core>> breakers;
    };
    static state& instance() {
        static state st;
        return st;
    }
};

}  // namespace detail

/// The circuit breaker (see the top of this file and docs/resilience.md). Copies share one
/// state; every member function is thread-safe except attach().
template <class Clock = std::chrono::steady_clock>
class basic_circuit_breaker {
    static_assert(std::chrono::is_clock_v<Clock>, "dal: circuit_breaker's Clock is no clock");
    using core = detail::breaker_core<Clock>;

public:
    using clock = Clock;
    using snapshot_type = basic_breaker_snapshot<Clock>;

    /// Default settings; attach() may replace the state with the shared one of a config.
    basic_circuit_breaker() : core_(std::make_shared<core>(breaker_settings{}, true)) {}
    /// Throws dal::error (client_errc::invalid_config) for settings out of range.
    explicit basic_circuit_breaker(breaker_settings s)
        : core_(std::make_shared<core>(std::move(s), false)) {}

    // A copy shares the state and marks it shared; a move leaves the source usable and does
    // not (the connection's constructor moves its argument in, then calls attach()).
    basic_circuit_breaker(const basic_circuit_breaker& o) noexcept : core_(o.core_) {
        core_->copied.store(true, std::memory_order_relaxed);
    }
    basic_circuit_breaker& operator=(const basic_circuit_breaker& o) noexcept {
        if (this != &o) {
            core_ = o.core_;
            core_->copied.store(true, std::memory_order_relaxed);
        }
        return *this;
    }
    // NOLINTNEXTLINE(performance-move-constructor-init): a copy, so the source stays usable
    basic_circuit_breaker(basic_circuit_breaker&& o) noexcept : core_(o.core_) {}
    basic_circuit_breaker& operator=(basic_circuit_breaker&& o) noexcept {
        core_ = o.core_;
        return *this;
    }
    ~basic_circuit_breaker() = default;

    /// nullopt: the call may start. Else the call is refused, with the time left until open
    /// ends (at least 1 ms), or 1 ms in half-open when every probe has been admitted. The
    /// first call after open_duration moves the breaker to half-open and is its first probe.
    [[nodiscard]] std::optional<std::chrono::milliseconds> rejects() const {
        return core_->rejects();
    }
    /// A call admitted by rejects() succeeded, after `took`.
    void on_success(std::chrono::nanoseconds took) const { core_->record(false, took); }
    /// A call admitted by rejects() failed with `ec`, after `took`; it counts as a failure
    /// only when breaker_counts_as_failure(ec).
    void on_failure(const std::error_code& ec, std::chrono::nanoseconds took) const {
        core_->record(breaker_counts_as_failure(ec), took);
    }

    /// Optional hook (see the top of this file).
    void attach(const config& cfg) {
        if (core_->attachable && !core_->copied.load(std::memory_order_relaxed))
            core_ = detail::breaker_registry<Clock>::get(cfg);
    }

    [[nodiscard]] breaker_state state() const noexcept { return core_->state(); }
    [[nodiscard]] snapshot_type snapshot() const { return core_->snapshot(); }
    [[nodiscard]] const breaker_settings& settings() const noexcept { return core_->settings(); }
    /// Whether both hold the same breaker (copies, or attached to one target).
    [[nodiscard]] bool shares_state_with(const basic_circuit_breaker& o) const noexcept {
        return core_ == o.core_;
    }

private:
    std::shared_ptr<core> core_;
};
using circuit_breaker = basic_circuit_breaker<>;

static_assert(breaker_policy<no_breaker>);
static_assert(breaker_policy<circuit_breaker>);

}  // namespace dal::policies
