// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
// Compiled once into dal::dal (see CMakeLists.txt); not a public header.

#include <algorithm>
#include <array>
#include <memory>
#include <ostream>
#include <string>
#include <utility>

#include <dal/error.hpp>

namespace dal {
namespace {

class condition_category_impl final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "dal"; }
    [[nodiscard]] std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::connection_error: return "connection error";
            case errc::timeout: return "timed out";
            case errc::cancelled: return "cancelled";
            case errc::pool_timeout: return "timed out waiting for a pooled connection";
            case errc::pool_closed: return "connection pool closed";
            case errc::circuit_open: return "circuit breaker open";
            case errc::serialization_failure: return "serialization failure";
            case errc::deadlock: return "deadlock detected";
            case errc::lock_timeout: return "lock wait timed out";
            case errc::constraint_violation: return "constraint violation";
            case errc::syntax_error: return "syntax error";
            case errc::undefined_object: return "undefined object";
            case errc::already_exists: return "object already exists";
            case errc::type_mismatch: return "type mismatch";
            case errc::invalid_argument: return "invalid argument";
            case errc::data_error: return "data error";
            case errc::permission_denied: return "permission denied";
            case errc::resource_exhausted: return "resource exhausted";
            case errc::read_only: return "read-only";
            case errc::feature_not_supported: return "feature not supported";
            case errc::transaction_state: return "invalid transaction state";
            case errc::failover_retry:
                return "the work did not run, or was rolled back with its connection; retry it";
            case errc::transaction_outcome_unknown:
                return "connection lost during commit; transaction outcome unknown";
            case errc::closed: return "closed";
            case errc::internal_error: return "internal error";
        }
        return "unknown dal condition " + std::to_string(ev);
    }
};

class client_category_impl final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "dal.client"; }
    [[nodiscard]] std::string message(int ev) const override {
        switch (static_cast<client_errc>(ev)) {
            case client_errc::invalid_uri: return "invalid connection URI";
            case client_errc::invalid_config: return "invalid configuration";
            case client_errc::sql_syntax: return "SQL cannot be translated";
            case client_errc::wrong_argument_count:
                return "argument count does not match the statement's placeholders";
            case client_errc::unbindable_value: return "value cannot be bound";
            case client_errc::type_mismatch: return "value cannot be read as the requested type";
            case client_errc::value_out_of_range: return "value out of range for the type";
            case client_errc::null_value: return "NULL read into a non-optional type";
            case client_errc::connection_closed: return "connection is closed";
            case client_errc::pool_timeout: return "timed out waiting for a pooled connection";
            case client_errc::pool_closed: return "connection pool closed";
            case client_errc::circuit_open: return "circuit breaker open";
            case client_errc::timeout: return "deadline passed";
            case client_errc::cancelled: return "cancelled";
            case client_errc::backend_unavailable: return "backend not available in this build";
            case client_errc::not_in_transaction: return "no transaction is open";
            case client_errc::feature_not_supported: return "feature not supported";
            case client_errc::not_executed:
                return "not executed: an earlier statement of the batch failed";
            case client_errc::implicit_commit:
                return "the statement would commit the open transaction implicitly";
            case client_errc::connection_broken: return "the connection broke in an earlier call";
            case client_errc::commit_outcome_unknown:
                return "the connection broke while COMMIT was in flight: outcome unknown";
            case client_errc::transaction_lost:
                return "the connection broke inside a transaction: it was rolled back; run it "
                       "again";
        }
        return "unknown dal client error " + std::to_string(ev);
    }
    [[nodiscard]] std::error_condition default_error_condition(int ev) const noexcept override {
        switch (static_cast<client_errc>(ev)) {
            case client_errc::invalid_uri:
            case client_errc::invalid_config:
            case client_errc::wrong_argument_count: return errc::invalid_argument;
            case client_errc::sql_syntax: return errc::syntax_error;
            case client_errc::unbindable_value:
            case client_errc::type_mismatch:
            case client_errc::value_out_of_range:
            case client_errc::null_value: return errc::type_mismatch;
            case client_errc::connection_closed: return errc::closed;
            case client_errc::pool_timeout: return errc::pool_timeout;
            case client_errc::pool_closed: return errc::pool_closed;
            case client_errc::circuit_open: return errc::circuit_open;
            case client_errc::timeout: return errc::timeout;
            case client_errc::cancelled: return errc::cancelled;
            case client_errc::backend_unavailable:
            case client_errc::feature_not_supported: return errc::feature_not_supported;
            case client_errc::not_in_transaction: return errc::transaction_state;
            case client_errc::not_executed: return errc::cancelled;
            case client_errc::implicit_commit: return errc::transaction_state;
            case client_errc::connection_broken: return errc::connection_error;
            case client_errc::commit_outcome_unknown: return errc::transaction_outcome_unknown;
            case client_errc::transaction_lost: return errc::failover_retry;
        }
        return {ev, *this};
    }
};

}  // namespace

const std::error_category& condition_category() noexcept {
    static const condition_category_impl instance;
    return instance;
}

const std::error_category& client_category() noexcept {
    static const client_category_impl instance;
    return instance;
}

std::ostream& operator<<(std::ostream& os, errc e) {
    return os << condition_category().message(static_cast<int>(e));
}

std::ostream& operator<<(std::ostream& os, client_errc e) {
    return os << client_category().message(static_cast<int>(e));
}

error_class classify(const std::error_code& ec) noexcept {
    static constexpr std::array transient{
        errc::connection_error,      errc::timeout,  errc::pool_timeout, errc::circuit_open,
        errc::serialization_failure, errc::deadlock, errc::lock_timeout, errc::resource_exhausted,
        errc::failover_retry,
    };
    if (!ec) return error_class::permanent;
    for (const errc c : transient)
        if (ec == c) return error_class::transient;
    return error_class::permanent;
}

std::string format_error_message(const std::error_code& ec, const diagnostics& d) {
    constexpr std::size_t sql_limit = 1024;  // a message is for humans: short, even for huge SQL
    const std::string code_text = ec.message();
    std::string out;
    out.reserve(96 + code_text.size() + d.message.size() + d.sqlstate.size() + d.detail.size() +
                d.hint.size() + std::min(d.sql.size(), sql_limit));
    out += "dal: ";
    out += code_text;
    out += " [";
    out += ec.category().name();
    out += ':';
    out += std::to_string(ec.value());
    out += ']';
    if (!d.message.empty()) {
        out += ": ";
        out += d.message;
    }
    if (!d.sqlstate.empty()) {
        out += " (SQLSTATE ";
        out += d.sqlstate;
        out += ')';
    }
    if (d.native_code != 0) {
        out += " (error ";
        out += std::to_string(d.native_code);
        out += ')';
    }
    if (!d.detail.empty()) {
        out += "; detail: ";
        out += d.detail;
    }
    if (!d.hint.empty()) {
        out += "; hint: ";
        out += d.hint;
    }
    if (!d.sql.empty()) {
        out += "; in SQL: ";
        if (d.sql.size() > sql_limit) {
            out.append(d.sql, 0, sql_limit);
            out += "...(" + std::to_string(d.sql.size() - sql_limit) + " more bytes)";
        } else {
            out += d.sql;
        }
    }
    return out;
}

struct error::state {
    diagnostics diag;
    std::string what;
};

error::error(std::error_code ec, diagnostics diag) : std::system_error(ec) {
    std::string text = format_error_message(ec, diag);
    state_ = std::make_shared<const state>(state{.diag = std::move(diag), .what = std::move(text)});
}

const diagnostics& error::diag() const noexcept {
    return state_->diag;
}

const char* error::what() const noexcept {
    return state_->what.c_str();
}

error::error(std::error_code ec, std::string message)
    : error(ec, diagnostics{.message = std::move(message)}) {}

void throw_if(const std::error_code& ec, const diagnostics& d) {
    if (ec) throw error(ec, d);
}

}  // namespace dal
