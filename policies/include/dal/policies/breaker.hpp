// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// BreakerPolicy: stops sending work to a database that is failing, so callers fail fast with
/// `errc::circuit_open` instead of piling up behind timeouts. The closed/open/half-open breaker
/// with sliding windows arrives with issue #7; here is the slot and its zero-cost default.

#include <chrono>
#include <concepts>
#include <optional>
#include <system_error>

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

}  // namespace dal::policies
