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
    std::optional<std::chrono::milliseconds> operation;  ///< per-call whole-operation limit
};

/// What a connection asks of its timeout policy. Optional:
///
///   clock::time_point operation_deadline(const time_limits&, const timeout_request&,
///                                        clock::time_point start) const;
///
/// the end of a whole operation started at `start`: every attempt, the backoff between them and
/// a with_transaction's retries. Statements are cut short at it and no retry starts after it.
/// Without it, an operation has no overall limit.
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
    [[nodiscard]] clock::time_point operation_deadline(const time_limits& /*limits*/,
                                                       const timeout_request& /*req*/,
                                                       clock::time_point /*now*/) const noexcept {
        return clock::time_point::max();
    }
};

/// The default: the call's own limits if it gave them, else `config.timeouts.statement` and
/// `config.timeouts.operation`; zero means no limit.
struct config_timeout {
    [[nodiscard]] clock::time_point statement_deadline(const time_limits& limits,
                                                       const timeout_request& req,
                                                       clock::time_point now) const noexcept {
        return after(now, req.statement.value_or(limits.statement));
    }
    /// The call's own operation limit if it gave one, else `config.timeouts.operation`.
    [[nodiscard]] clock::time_point operation_deadline(const time_limits& limits,
                                                       const timeout_request& req,
                                                       clock::time_point now) const noexcept {
        return after(now, req.operation.value_or(limits.operation));
    }

private:
    static clock::time_point after(clock::time_point now, std::chrono::milliseconds limit) {
        if (limit.count() <= 0) return clock::time_point::max();
        return dal::detail::saturating_deadline(now, limit);
    }
};

}  // namespace dal::policies
