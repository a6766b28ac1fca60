// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// TimeoutPolicy: turns the configured limits and a call's options into the deadline of one
/// statement. The backend enforces it (SQLite: progress handler + interrupt; PostgreSQL and
/// MySQL: server-side limit plus client-side cancel), and the call fails with `errc::timeout`.

#include <chrono>
#include <concepts>
#include <optional>

#include <dal/config.hpp>

namespace dal::policies {

using clock = std::chrono::steady_clock;

/// The limits one call may override (see dal::call_options).
struct timeout_request {
    std::optional<std::chrono::milliseconds> statement;  ///< per-call statement limit
};

/// What a connection asks of its timeout policy.
template <class P>
concept timeout_policy = std::default_initializable<P> &&
    requires(const P& p, const time_limits& limits, const timeout_request& req,
             clock::time_point now) {
    { p.statement_deadline(limits, req, now) } -> std::same_as<clock::time_point>;
};

/// No statement limit at all: the deadline is "never".
struct no_timeout {
    [[nodiscard]] clock::time_point statement_deadline(const time_limits& /*limits*/,
                                                       const timeout_request& /*req*/,
                                                       clock::time_point /*now*/) const noexcept {
        return clock::time_point::max();
    }
};

/// The default: the call's own limit if it gave one, else `config.timeouts.statement`; zero
/// means no limit.
struct config_timeout {
    [[nodiscard]] clock::time_point statement_deadline(const time_limits& limits,
                                                       const timeout_request& req,
                                                       clock::time_point now) const noexcept {
        const std::chrono::milliseconds limit = req.statement.value_or(limits.statement);
        if (limit.count() <= 0) return clock::time_point::max();
        if (clock::time_point::max() - now < limit) return clock::time_point::max();
        return now + limit;
    }
};

}  // namespace dal::policies
