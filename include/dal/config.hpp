// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// What dal needs to reach one database, built in code or parsed from a URI.
///
///     auto cfg = dal::config::from_uri(
///         "postgresql://app:pw@db1:5432,db2:5432/orders?sslmode=verify-full&statement_timeout=5s");
///
/// The pool registry shares one pool per `identity()` (every field that says *which* server,
/// database and user, and how to secure the link; not the password, alias, env, time limits or
/// pool sizes). `hash()` is a stable 64-bit digest of that identity. The password is a
/// `dal::secret`: no output of the library prints it. Defaults and units: docs/configuration.md.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <dal/secret.hpp>

namespace dal {

/// The built-in backends.
enum class backend_kind : std::uint8_t { postgresql, mysql, sqlite };

[[nodiscard]] std::string_view to_string(backend_kind k) noexcept;
/// Accepts the scheme spellings too: postgres, postgresql, pg, mysql, mariadb, sqlite, sqlite3.
[[nodiscard]] std::optional<backend_kind> parse_backend_kind(std::string_view name) noexcept;
/// 5432, 3306, or 0 for SQLite (no network).
[[nodiscard]] std::uint16_t default_port(backend_kind k) noexcept;

/// libpq's sslmode levels; MySQL's ssl-mode names map onto them (see docs/configuration.md).
enum class tls_mode : std::uint8_t { disable, allow, prefer, require, verify_ca, verify_full };

[[nodiscard]] std::string_view to_string(tls_mode m) noexcept;

struct tls_options {
    tls_mode mode = tls_mode::prefer;
    std::string ca_file;    ///< trusted CA certificates (PEM)
    std::string cert_file;  ///< client certificate for mutual TLS
    std::string key_file;   ///< client private key
    std::string crl_file;   ///< certificate revocation list
    friend bool operator==(const tls_options&, const tls_options&) = default;
};

/// One server address. Port 0 means the backend's default port.
struct endpoint {
    std::string host;
    std::uint16_t port = 0;
    friend bool operator==(const endpoint&, const endpoint&) = default;
};

/// The longest time limit dal accepts, about 35 years: a longer one, added to the clock's
/// now in nanoseconds, would overflow; anything that long is a typo or means "no limit",
/// which has its own spelling (0 where allowed).
inline constexpr std::chrono::milliseconds longest_time_limit{1LL << 40};

namespace detail {
/// `from + limit` for a positive limit, saturated at time_point::max() instead of overflowing:
/// `limit` is compared in milliseconds, since in the clock's nanoseconds it may not fit
/// (milliseconds::max() as "no limit").
[[nodiscard]] constexpr std::chrono::steady_clock::time_point saturating_deadline(
    std::chrono::steady_clock::time_point from, std::chrono::milliseconds limit) noexcept {
    using time_point = std::chrono::steady_clock::time_point;
    if (limit >= std::chrono::duration_cast<std::chrono::milliseconds>(time_point::max() - from))
        return time_point::max();
    return from + limit;
}
}  // namespace detail

/// The separate time limits of the design (the Python design's TODO). Zero means "no limit"
/// where allowed (statement, operation); the others must be positive so nothing waits forever.
struct time_limits {
    /// Establishing one connection (TCP + TLS + authentication).
    std::chrono::milliseconds connect{10'000};
    /// Warming a new pool up to its minimum size.
    std::chrono::milliseconds pool_creation{30'000};
    /// Waiting for a free pooled connection.
    std::chrono::milliseconds acquisition{10'000};
    /// One statement, enforced on the server where possible and by client-side cancel.
    std::chrono::milliseconds statement{30'000};
    /// A whole operation: acquisition, every retry and backoff. Zero: no overall limit.
    std::chrono::milliseconds operation{60'000};
    friend bool operator==(const time_limits&, const time_limits&) = default;
};

struct pool_sizes {
    std::size_t min = 1;  ///< connections kept open even when idle
    /// Upper bound; 0 lets the pool derive it from cores, expected concurrency and the
    /// server's connection limit (docs/configuration.md, "Pool sizing").
    std::size_t max = 0;
    /// Concurrent users the service expects; 0 means "unknown" for the sizing rule.
    std::size_t expected_concurrency = 0;
    friend bool operator==(const pool_sizes&, const pool_sizes&) = default;
};

struct config {
    backend_kind backend = backend_kind::sqlite;
    /// Database name; for SQLite the file path or ":memory:".
    std::string database;
    /// Servers to try, in order (several for failover). Empty: localhost on the default port.
    std::vector<endpoint> hosts;
    std::string user;
    secret password;
    /// Friendly name for logs and metrics; empty means "use the database name".
    std::string alias;
    /// Deployment environment label ("prod", "dev", "test"...), for logs and metrics.
    std::string env = "prod";
    tls_options tls;
    time_limits timeouts;
    pool_sizes pool;
    /// Backend-specific settings passed through (application_name, target_session_attrs,
    /// charset, journal_mode...). Each backend validates the ones it receives.
    std::vector<std::pair<std::string, std::string>> options;

    /// Parses `postgresql://`, `postgres://`, `mysql://`, `mariadb://`, `sqlite:///path`,
    /// `sqlite:relative/path` and `sqlite::memory:` URIs. Throws `dal::error`
    /// (`errc::invalid_argument`) whose message names the part that is wrong.
    [[nodiscard]] static config from_uri(std::string_view uri);

    /// The first host, or "localhost".
    [[nodiscard]] std::string_view host() const noexcept;
    /// The first host's port, or the backend's default.
    [[nodiscard]] std::uint16_t port() const noexcept;
    /// `alias`, or the database name when no alias was given.
    [[nodiscard]] std::string_view effective_alias() const noexcept;
    /// The value of a pass-through option, if set.
    [[nodiscard]] std::optional<std::string_view> option(std::string_view key) const noexcept;

    /// Canonical description of the target (no password, alias, env, limits or sizes).
    /// Two configs share a pool exactly when their identities are equal.
    [[nodiscard]] std::string identity() const;
    /// FNV-1a 64 of `identity()`: stable across processes, platforms and runs.
    [[nodiscard]] std::uint64_t hash() const;
    /// `hash()` as 16 lowercase hex digits, for logs and metric labels.
    [[nodiscard]] std::string hash_hex() const;
    /// The URI form with the password shown as `***`.
    [[nodiscard]] std::string to_string() const;

    /// Throws `dal::error` (`errc::invalid_argument`) naming the first inconsistent field.
    void validate() const;
};

std::ostream& operator<<(std::ostream& os, const config& c);

/// True for option names that hold secrets (password, secret, passphrase in any case, as
/// libpq's sslpassword): their values are masked in output and left out of `identity()`.
[[nodiscard]] bool is_sensitive_option(std::string_view key) noexcept;

/// Parses "250ms", "5s", "2min", "1h", "1500us" or a bare number of seconds ("10", as libpq's
/// connect_timeout). Throws `dal::error` naming `what` on anything else.
[[nodiscard]] std::chrono::milliseconds parse_duration(std::string_view text,
                                                       std::string_view what);

}  // namespace dal
