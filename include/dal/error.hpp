// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// Errors: portable conditions, dal's own error codes, diagnostics and the exception type.
///
/// Three layers, as in ozo and Boost.MySQL:
///   - `dal::errc` is a set of portable *conditions* (connection_error, deadlock, ...). Retry
///     and breaker policies match on these, whatever backend produced the error.
///   - Error *codes* come from a category each: `dal::client_errc` for errors dal detects
///     itself, and one category per backend (SQLSTATE for PostgreSQL, error numbers for MySQL,
///     result codes for SQLite). Each category maps its codes onto the conditions.
///   - `dal::error` is the exception sync calls throw: the code plus `diagnostics`, which keep
///     the server's message, SQLSTATE, native error number and the redacted SQL.

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace dal {

/// Portable error conditions. Compare a `std::error_code` from any backend against these:
/// `if (ec == dal::errc::deadlock) ...`.
enum class errc {
    connection_error = 1,         ///< cannot connect, or the connection broke
    timeout,                      ///< a time limit passed (statement, connect, operation)
    cancelled,                    ///< the operation was cancelled by the caller or the server
    pool_timeout,                 ///< no pooled connection became free in time
    pool_closed,                  ///< the pool is closing or closed
    circuit_open,                 ///< the circuit breaker rejects calls for now
    serialization_failure,        ///< the transaction lost a serialization race; retry it
    deadlock,                     ///< the server broke a deadlock by aborting this transaction
    lock_timeout,                 ///< waiting for a row or table lock took too long
    constraint_violation,         ///< unique, foreign key, not null or check constraint
    syntax_error,                 ///< the SQL is malformed (server side or in the translator)
    undefined_object,             ///< unknown table, column, function...
    already_exists,               ///< creating a table, database, column... that exists
    type_mismatch,                ///< a value cannot be read or bound as the requested type
    invalid_argument,             ///< the caller passed something unusable (bad URI, arg count)
    data_error,                   ///< the server rejected a value (overflow, bad format...)
    permission_denied,            ///< authentication or authorisation failed
    resource_exhausted,           ///< too many connections, out of memory or disk on the server
    read_only,                    ///< a write was sent to a read-only server or transaction
    feature_not_supported,        ///< the backend or server version lacks the feature
    transaction_state,            ///< a verb that does not fit the transaction state
    failover_retry,               ///< the work did not run or was rolled back: safe to retry it
    transaction_outcome_unknown,  ///< the connection broke while a commit was in flight
    closed,                       ///< the connection or object was already closed
    internal_error,               ///< a server or driver fault that fits nothing else
};

/// dal's own error codes: errors the library detects without a server's word.
enum class client_errc {
    invalid_uri = 1,         ///< a connection URI that cannot be parsed
    invalid_config,          ///< a configuration value out of range or inconsistent
    sql_syntax,              ///< the portable SQL could not be translated (see message)
    wrong_argument_count,    ///< argument count differs from the statement's placeholders
    unbindable_value,        ///< a value cannot be bound to a parameter of this backend
    type_mismatch,           ///< a column value cannot be read as the requested type
    value_out_of_range,      ///< a value does not fit the requested type (no truncation)
    null_value,              ///< NULL read into a type that cannot hold NULL
    connection_closed,       ///< an operation on a closed connection
    pool_timeout,            ///< acquisition from the pool timed out
    pool_closed,             ///< the pool is closed
    circuit_open,            ///< the breaker is open
    timeout,                 ///< a client-side deadline passed
    cancelled,               ///< cancelled by the caller
    backend_unavailable,     ///< the backend was not compiled in, or its driver is missing
    not_in_transaction,      ///< commit/rollback with no open transaction
    feature_not_supported,   ///< the backend cannot do this
    not_executed,            ///< skipped: an earlier statement of its batch or pipeline failed
    implicit_commit,         ///< the statement would commit the open transaction (MySQL DDL)
    connection_broken,       ///< the connection broke in an earlier call and was not reopened
    commit_outcome_unknown,  ///< the connection broke while COMMIT was in flight
    transaction_lost,        ///< the connection broke inside a transaction, before COMMIT
};

/// The category of the portable conditions ("dal").
[[nodiscard]] const std::error_category& condition_category() noexcept;
/// The category of dal's own error codes ("dal.client").
[[nodiscard]] const std::error_category& client_category() noexcept;

[[nodiscard]] inline std::error_condition make_error_condition(errc e) noexcept {
    return {static_cast<int>(e), condition_category()};
}
[[nodiscard]] inline std::error_code make_error_code(client_errc e) noexcept {
    return {static_cast<int>(e), client_category()};
}

/// Prints the condition's message ("deadlock detected"): for logs and test output.
std::ostream& operator<<(std::ostream& os, errc e);
std::ostream& operator<<(std::ostream& os, client_errc e);

/// Whether retrying could succeed. A transient error says nothing about whether the statement
/// already ran: that part of the retry rule belongs to the retry policy (issue #7).
enum class error_class : std::uint8_t { transient, permanent };

/// Transient: connection_error, timeout, pool_timeout, circuit_open, serialization_failure,
/// deadlock, lock_timeout, resource_exhausted, failover_retry. Everything else is permanent.
[[nodiscard]] error_class classify(const std::error_code& ec) noexcept;
[[nodiscard]] inline bool is_transient(const std::error_code& ec) noexcept {
    return classify(ec) == error_class::transient;
}

/// What the server (or driver) said, kept next to the error code.
struct diagnostics {
    std::string message;       ///< the server's or driver's primary message, unchanged
    std::string sqlstate;      ///< five-character SQLSTATE when known, else empty
    int native_code = 0;       ///< MySQL error number or SQLite extended result code, else 0
    std::string detail;        ///< PostgreSQL DETAIL
    std::string hint;          ///< PostgreSQL HINT
    std::size_t position = 0;  ///< 1-based character position in the SQL the server reported
    std::string sql;           ///< the statement, string literals redacted; never bound values
};

/// The exception sync operations throw. `code()` compares equal to the portable conditions.
class error : public std::system_error {
public:
    explicit error(std::error_code ec, diagnostics diag = {});
    error(std::error_code ec, std::string message);

    [[nodiscard]] const diagnostics& diag() const noexcept;
    /// "dal: <what went wrong> [category:value]: <server message> (SQLSTATE ...); in SQL: ..."
    [[nodiscard]] const char* what() const noexcept override;

private:
    struct state;
    // Shared and immutable, so copying the exception (as `throw` and `catch` may) never throws.
    std::shared_ptr<const state> state_;
};

/// Builds the text of `what()`: code message, server message, SQLSTATE/number and SQL.
[[nodiscard]] std::string format_error_message(const std::error_code& ec, const diagnostics& d);

/// Throws `dal::error` for `ec` when it holds an error: the bridge from `error_code&` forms to
/// throwing forms.
void throw_if(const std::error_code& ec, const diagnostics& d = {});

}  // namespace dal

template <>
struct std::is_error_condition_enum<dal::errc> : std::true_type {};
template <>
struct std::is_error_code_enum<dal::client_errc> : std::true_type {};
