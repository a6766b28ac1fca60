// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// The `dal::backend` concept: everything `basic_connection` needs from a database driver.
/// A backend is one type with three things (docs/adding-a-backend.md walks through one):
///   - a `session`: one open connection; connects, prepares, executes, cancels, runs the
///     transaction verbs, pings and closes;
///   - a `dialect`: how the portable SQL is written natively (dal/sql/dialect.hpp);
///   - an `error_category`: its native error codes, mapped onto dal's portable conditions.
/// Everything above it (policies, pool, entities, metrics) is written once against this.

#include <chrono>
#include <concepts>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include <dal/config.hpp>
#include <dal/row.hpp>
#include <dal/sql/dialect.hpp>
#include <dal/value.hpp>

namespace dal {

/// What a connection reports about itself (the Python design's get_version_details).
struct server_info {
    std::string backend;         ///< "sqlite", "postgresql", "mysql"
    std::string server_version;  ///< as the server reports it
    std::string driver_version;  ///< the C library dal is linked with
};

/// When the running statement must stop. `time_point::max()` means never.
using deadline = std::chrono::steady_clock::time_point;

/// Whether a row handler needs the count of changed rows (`execute` does; `query` does not, and
/// a backend may then skip the work of counting). Handlers say so with `counts_changes`.
template <class Handler>
consteval bool wants_change_count() {
    if constexpr (requires { Handler::counts_changes; })
        return Handler::counts_changes;
    else
        return true;
}

namespace detail {
/// A row handler of the shape connections pass to `session::execute` (checks the concept).
struct any_row_handler {
    template <class Row>
    void operator()(const Row& /*row*/) const noexcept {}
};
/// A handler that returns false to stop reading (query_one): backends must honour it.
struct stopping_row_handler {
    template <class Row>
    bool operator()(const Row& /*row*/) const noexcept {
        return false;
    }
};
}  // namespace detail

// clang-format off
template <class B>
concept backend =
    requires {
        typename B::session;
        typename B::statement;
        { B::name } -> std::convertible_to<std::string_view>;
        { B::dialect } -> std::convertible_to<sql::dialect>;
        /// True when the driver blocks the calling thread: async operations then run on a
        /// worker so the caller's io_context never blocks (SQLite). False for drivers that are
        /// driven by Asio on their socket (PostgreSQL, MySQL).
        { B::blocking } -> std::convertible_to<bool>;
        { B::error_category() } -> std::same_as<const std::error_category&>;
    } &&
    std::movable<typename B::statement> &&
    std::default_initializable<typename B::session> &&
    requires(typename B::session& s, const typename B::session& cs, const config& cfg,
             std::string_view sql, typename B::statement& st, std::span<const param_ref> params,
             deadline d, detail::any_row_handler& on_row, detail::stopping_row_handler& stop,
             const std::error_code& ec) {
        { s.open(cfg) } -> std::same_as<void>;          // throws dal::error
        { s.close() } noexcept -> std::same_as<void>;
        { cs.is_open() } noexcept -> std::same_as<bool>;
        { s.prepare(sql) } -> std::same_as<typename B::statement>;
        /// Binds `params`, runs the statement, calls `on_row(row)` for each row (a row_source),
        /// returns the rows changed. Stops at `d` with errc::timeout.
        { s.execute(st, params, d, on_row) } -> std::same_as<std::uint64_t>;
        { s.execute(st, params, d, stop) } -> std::same_as<std::uint64_t>;
        /// Thread-safe: stops the statement running on this session, if any.
        { s.cancel() } noexcept -> std::same_as<void>;
        { s.ping() } -> std::same_as<void>;
        { s.begin() } -> std::same_as<void>;
        { s.commit() } -> std::same_as<void>;
        { s.rollback() } -> std::same_as<void>;
        { s.savepoint(sql) } -> std::same_as<void>;
        { s.release_savepoint(sql) } -> std::same_as<void>;
        { s.rollback_to_savepoint(sql) } -> std::same_as<void>;
        /// As the server sees it (a COMMIT/ROLLBACK in user SQL changes it too).
        { cs.in_transaction() } noexcept -> std::same_as<bool>;
        { cs.info() } -> std::same_as<server_info>;
        /// True when a cached statement must be prepared again (schema changed under it).
        { B::statement_is_stale(ec) } noexcept -> std::same_as<bool>;
    };
// clang-format on

}  // namespace dal
