// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// RetryPolicy: decides whether a failed attempt is tried again and after how long.
///
/// The connection tells the policy what kind of unit failed, because the rule for what is safe
/// depends on it: an error before the statement could reach the server (connect failure, dead
/// connection detected on send) may always be retried; a serialization failure or deadlock
/// only when the unit is a whole transaction the library owns; a statement that may have run
/// is never silently re-run. Backoff with jitter and retry budgets arrive with issue #7.

#include <chrono>
#include <concepts>
#include <cstdint>
#include <optional>
#include <system_error>

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

}  // namespace dal::policies
