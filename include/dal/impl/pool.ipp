// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
// Compiled once into dal; not a public header.

#include <algorithm>
#include <mutex>
#include <random>
#include <string>

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

std::size_t default_pool_size(std::size_t cores, std::size_t expected_concurrency,
                              std::size_t server_connection_limit, std::size_t min_size) noexcept {
    std::size_t n = 2 * std::max<std::size_t>(cores, 1) + 1;
    if (expected_concurrency > 0) n = std::min(n, expected_concurrency);
    if (server_connection_limit > 0)
        n = std::min(n, std::max<std::size_t>(server_connection_limit / 4, 1));
    return std::max({n, min_size, std::size_t{1}});
}

namespace detail {

void throw_pool_timeout(const pool_status& s, std::chrono::milliseconds waited) {
    throw pool_timeout_error(s, waited);
}

error pool_timeout_error(const pool_status& s, std::chrono::milliseconds waited) {
    return {make_error_code(client_errc::pool_timeout),
            "no connection of pool '" + s.name + "' became free within " +
                std::to_string(waited.count()) + " ms: the pool is saturated (size " +
                std::to_string(s.size) + " of max " + std::to_string(s.max) + ", " +
                std::to_string(s.in_use) + " in use, " + std::to_string(s.waiters) +
                " other waiters, " + std::to_string(s.timeouts) +
                " timeouts so far); raise pool_max, shorten transactions, or add capacity"};
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
