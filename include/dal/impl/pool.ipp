// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
// Compiled once into dal; not a public header.

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <mutex>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <utility>

#include <dal/error.hpp>
#include <dal/pool.hpp>

namespace dal {

pool_options pool_options::from(const config& cfg) {
    pool_options o;
    o.min = cfg.pool.min;
    o.max = cfg.pool.max;
    o.acquire_timeout = cfg.timeouts.acquisition;
    o.creation_timeout = cfg.timeouts.pool_creation;
    return o;
}

void pool_options::validate() const {
    const auto bad = [](const std::string& what) {
        throw error(make_error_code(client_errc::invalid_config), "pool option " + what);
    };
    const auto ms = [](std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; };
    if (max != 0 && min > max)
        bad("min (" + std::to_string(min) + ") is larger than max (" + std::to_string(max) + ")");
    if (max_concurrent_creations == 0)
        bad("max_concurrent_creations is 0: the pool could never open a connection");
    // Written so that NaN fails too.
    if (!(lifetime_jitter >= 0.0 && lifetime_jitter < 1.0))
        bad("lifetime_jitter (" + std::to_string(lifetime_jitter) +
            ") is outside [0, 1): it is the fraction of max_lifetime taken off at random");
    // Limits are added to the clock or compared with its durations, so at most
    // longest_time_limit; the two waits saturate instead (milliseconds::max(): no limit).
    struct limit {
        const char* name;
        std::chrono::milliseconds value;
        const char* zero;  ///< what 0 means; nullptr: a wait, which saturates
    };
    const std::array<limit, 7> limits{{
        {"acquire_timeout", acquire_timeout, nullptr},
        {"creation_timeout", creation_timeout, nullptr},
        {"validate_after_idle", validate_after_idle, "always ping"},
        {"max_lifetime", max_lifetime, "no limit"},
        {"idle_timeout", idle_timeout, "close at once"},
        {"leak_threshold", leak_threshold, "off"},
        {"keepalive_interval", keepalive_interval, "off"},
    }};
    for (const limit& l : limits) {
        if (l.value.count() < 0) bad(std::string(l.name) + " (" + ms(l.value) + ") is negative");
        if (l.zero != nullptr && l.value > longest_time_limit)
            bad(std::string(l.name) + " (" + ms(l.value) +
                ") is longer than 35 years (0: " + l.zero + ")");
    }
    if (reclaim_leaked && leak_threshold.count() == 0)
        bad("reclaim_leaked is set but leak_threshold is 0 (off): nothing would be reclaimed");
}

std::size_t default_pool_size(std::size_t cores, std::size_t expected_concurrency,
                              std::size_t server_connection_limit, std::size_t min_size) noexcept {
    std::size_t n = 2 * std::max<std::size_t>(cores, 1) + 1;
    if (expected_concurrency > 0) n = std::min(n, expected_concurrency);
    if (server_connection_limit > 0)
        n = std::min(n, std::max<std::size_t>(server_connection_limit / 4, 1));
    return std::max({n, min_size, std::size_t{1}});
}

pool_signal scaling_signal(const pool_status& before, const pool_status& now) noexcept {
    // Counters only grow; a pool recreated between the snapshots starts again from zero.
    const auto delta = [](std::uint64_t a, std::uint64_t b) { return b >= a ? b - a : b; };
    pool_signal s;
    s.timeouts = delta(before.timeouts, now.timeouts);
    s.attempts = delta(before.acquired, now.acquired) + s.timeouts;
    if (s.attempts > 0)
        s.timeout_rate = static_cast<double>(s.timeouts) / static_cast<double>(s.attempts);
    const std::uint64_t waits = delta(before.waits, now.waits);
    if (waits > 0) {
        const auto waited =
            now.wait_time >= before.wait_time ? now.wait_time - before.wait_time : now.wait_time;
        s.mean_wait = waited / static_cast<std::int64_t>(waits);
    }
    if (now.max > 0) s.utilisation = static_cast<double>(now.in_use) / static_cast<double>(now.max);
    // The thresholds of the design's table "Timeout rates -> scaling insights".
    s.pressure = s.timeout_rate > 0.05     ? pool_pressure::critical
                 : s.timeout_rate > 0.01   ? pool_pressure::high
                 : s.timeout_rate >= 0.001 ? pool_pressure::mild
                                           : pool_pressure::normal;
    return s;
}

std::string_view describe(pool_pressure p) noexcept {
    switch (p) {
        case pool_pressure::normal: return "normal: no action needed";
        case pool_pressure::mild:
            return "mild contention: review slow queries and long transactions";
        case pool_pressure::high:
            return "high load: scale vertically (a bigger database or app servers)";
        case pool_pressure::critical:
            return "critical: the pools are the limit; scale horizontally (add app servers)";
    }
    return "unknown";
}

namespace {

/// A label value as the exposition format wants it: backslash, quote and newline escaped.
void write_label(std::ostream& out, std::string_view v) {
    for (const char c : v) {
        if (c == '\\')
            out << "\\\\";
        else if (c == '"')
            out << "\\\"";
        else if (c == '\n')
            out << "\\n";
        else
            out << c;
    }
}

}  // namespace

void write_prometheus(std::ostream& out, std::span<const pool_status> pools) {
    struct metric {
        std::string_view name;
        std::string_view type;
        std::string_view help;
        std::string_view state;  // the `state` label of dal_pool_connections, else empty
        double (*value)(const pool_status&);
    };
    static constexpr metric metrics[] = {
        {"dal_pool_connections", "gauge", "Open connections of the pool, by state.", "idle",
         [](const pool_status& s) { return static_cast<double>(s.idle); }},
        {"dal_pool_connections", "gauge", "", "in_use",
         [](const pool_status& s) { return static_cast<double>(s.in_use); }},
        {"dal_pool_min_connections", "gauge", "The pool's minimum size.", "",
         [](const pool_status& s) { return static_cast<double>(s.min); }},
        {"dal_pool_max_connections", "gauge", "The pool's maximum size.", "",
         [](const pool_status& s) { return static_cast<double>(s.max); }},
        {"dal_pool_waiters", "gauge", "Acquirers waiting for a connection now.", "",
         [](const pool_status& s) { return static_cast<double>(s.waiters); }},
        {"dal_pool_closing", "gauge", "1 while the pool is closing or closed.", "",
         [](const pool_status& s) { return s.closing ? 1.0 : 0.0; }},
        {"dal_pool_acquired_total", "counter", "Connections handed out.", "",
         [](const pool_status& s) { return static_cast<double>(s.acquired); }},
        {"dal_pool_timeouts_total", "counter",
         "Acquisitions that timed out: the scaling signal (rate over acquired + timeouts).", "",
         [](const pool_status& s) { return static_cast<double>(s.timeouts); }},
        {"dal_pool_waits_total", "counter", "Times an acquirer had to wait in line.", "",
         [](const pool_status& s) { return static_cast<double>(s.waits); }},
        {"dal_pool_wait_seconds_total", "counter", "Time acquirers spent waiting in line.", "",
         [](const pool_status& s) { return std::chrono::duration<double>(s.wait_time).count(); }},
        {"dal_pool_created_total", "counter", "Connections opened.", "",
         [](const pool_status& s) { return static_cast<double>(s.created); }},
        {"dal_pool_closed_total", "counter",
         "Connections closed (expired, idle, broken, pool closed).", "",
         [](const pool_status& s) { return static_cast<double>(s.closed); }},
        {"dal_pool_leaks_total", "counter", "Leases held longer than the leak threshold.", "",
         [](const pool_status& s) { return static_cast<double>(s.leaks); }},
        {"dal_pool_reclaimed_total", "counter", "Leaked leases reclaimed.", "",
         [](const pool_status& s) { return static_cast<double>(s.reclaimed); }},
    };
    for (const metric& m : metrics) {
        if (!m.help.empty()) {
            out << "# HELP " << m.name << ' ' << m.help << '\n';
            out << "# TYPE " << m.name << ' ' << m.type << '\n';
        }
        for (const pool_status& s : pools) {
            out << m.name << "{pool=\"";
            write_label(out, s.name);
            out << "\",config=\"";
            write_label(out, s.config_hash);
            out << '"';
            if (!m.state.empty()) out << ",state=\"" << m.state << '"';
            // Shortest exact form, whatever the stream's locale or precision: counters stay
            // whole numbers (no 1.23457e+07), seconds keep their microseconds.
            std::array<char, 32> num{};
            const auto r = std::to_chars(num.data(), num.data() + num.size(), m.value(s));
            out << "} " << std::string_view(num.data(), r.ptr) << '\n';
        }
    }
}

namespace detail {

error pool_timeout_error(std::string_view pool, const timeout_figures& f,
                         std::chrono::milliseconds waited) {
    // One allocation for the text: a burst of timeouts builds one message each.
    std::string m;
    m.reserve(224 + pool.size());
    const auto num = [&m](auto v) {
        std::array<char, 24> buf{};
        const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
        m.append(buf.data(), r.ptr);
    };
    m += "no connection of pool '";
    m += pool;
    m += "' became free within ";
    num(waited.count());
    m += " ms: the pool is saturated (size ";
    num(f.size);
    m += " of max ";
    num(f.max);
    m += ", ";
    num(f.in_use);
    m += " in use, ";
    num(f.waiters);
    m += " other waiters, ";
    num(f.timeouts);
    m += " timeouts so far); raise pool_max, shorten transactions, or add capacity";
    return {make_error_code(client_errc::pool_timeout), std::move(m)};
}

std::exception_ptr connect_abandoned() noexcept {
    try {
        return std::make_exception_ptr(
            error(make_error_code(client_errc::pool_closed),
                  "dal's threads stopped (the process is exiting) before the connection "
                  "was opened"));
    } catch (...) {
        return std::current_exception();  // std::bad_alloc, still an error to report
    }
}

void throw_pool_closed(std::string_view name) {
    throw error(make_error_code(client_errc::pool_closed),
                "the pool '" + std::string(name) + "' is closed");
}

double pool_jitter() noexcept {
    static std::mutex m;
    static std::minstd_rand gen{std::random_device{}()};
    const std::lock_guard lk(m);
    return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
}

}  // namespace detail
}  // namespace dal
