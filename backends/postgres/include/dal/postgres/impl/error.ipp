// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
// Compiled once into dal::postgres; not a public header.

#include <string>

#include <libpq-fe.h>

#include <dal/error.hpp>
#include <dal/postgres/error.hpp>

namespace dal::postgres {

std::string unpack_sqlstate(int code) {
    std::string s(5, '0');
    for (std::size_t k = 0; k < 5; ++k) {
        s[k] = static_cast<char>((code & 0x3F) + '0');
        code >>= 6;
    }
    return s;
}

namespace {

/// SQLSTATE -> portable condition. Specific codes first, then whole classes (the first two
/// characters), following PostgreSQL's errcodes.txt.
errc condition_for(std::string_view s) noexcept {
    struct exact {
        std::string_view code;
        errc cond;
    };
    static constexpr exact exact_codes[] = {
        {"40001", errc::serialization_failure},
        {"40P01", errc::deadlock},
        {"40002", errc::constraint_violation},         // transaction_integrity_constraint_violation
        {"40003", errc::transaction_outcome_unknown},  // statement_completion_unknown
        {"55P03", errc::lock_timeout},                 // lock_not_available (lock_timeout, NOWAIT)
        {"57014", errc::cancelled},          // query_canceled (cancel or statement_timeout)
        {"57P01", errc::connection_error},   // admin_shutdown
        {"57P02", errc::connection_error},   // crash_shutdown
        {"57P03", errc::connection_error},   // cannot_connect_now
        {"57P04", errc::connection_error},   // database_dropped
        {"57P05", errc::connection_error},   // idle_session_timeout: the server hung up
        {"25P03", errc::connection_error},   // idle_in_transaction_session_timeout
        {"42P07", errc::already_exists},     // duplicate_table
        {"42P06", errc::already_exists},     // duplicate_schema
        {"42P04", errc::already_exists},     // duplicate_database
        {"42710", errc::already_exists},     // duplicate_object
        {"42723", errc::already_exists},     // duplicate_function
        {"42701", errc::already_exists},     // duplicate_column
        {"42P05", errc::already_exists},     // duplicate_prepared_statement
        {"25006", errc::read_only},          // read_only_sql_transaction
        {"42501", errc::permission_denied},  // insufficient_privilege
        {"42601", errc::syntax_error},
        {"42P01", errc::undefined_object},  // undefined_table
        {"42703", errc::undefined_object},  // undefined_column
        {"42883", errc::undefined_object},  // undefined_function
        {"42704", errc::undefined_object},  // undefined_object
        {"42P02", errc::undefined_object},  // undefined_parameter
        {"3D000", errc::undefined_object},  // invalid_catalog_name (no such database)
        {"3F000", errc::undefined_object},  // invalid_schema_name
        {"42804", errc::type_mismatch},     // datatype_mismatch
        {"42P08", errc::type_mismatch},     // ambiguous_parameter
        {"0A000", errc::feature_not_supported},
        {"26000", errc::undefined_object},   // invalid_sql_statement_name (prepared stmt)
        {"0B000", errc::transaction_state},  // invalid_transaction_initiation
        {"2D000", errc::transaction_state},  // invalid_transaction_termination
        {"3B000", errc::transaction_state},  // savepoint_exception
        {"3B001", errc::transaction_state},  // invalid_savepoint_specification
    };
    for (const auto& e : exact_codes)
        if (e.code == s) return e.cond;
    const std::string_view cls = s.substr(0, 2);
    if (cls == "08") return errc::connection_error;
    if (cls == "23") return errc::constraint_violation;
    if (cls == "22") return errc::data_error;
    if (cls == "28") return errc::permission_denied;      // invalid_authorization_specification
    if (cls == "53") return errc::resource_exhausted;     // too_many_connections, disk_full...
    if (cls == "54") return errc::feature_not_supported;  // program_limit_exceeded: permanent
    if (cls == "25") return errc::transaction_state;
    if (cls == "40") return errc::serialization_failure;  // transaction_rollback family
    if (cls == "42") return errc::syntax_error;
    if (cls == "0A") return errc::feature_not_supported;
    if (cls == "57") return errc::cancelled;  // operator_intervention
    return errc::internal_error;              // 58 system_error, XX internal, P0 plpgsql...
}

class sqlstate_category_impl final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "dal.postgres"; }
    [[nodiscard]] std::string message(int ev) const override {
        const std::string s = unpack_sqlstate(ev);
        return "PostgreSQL SQLSTATE " + s + " (" +
               make_error_condition(condition_for(s)).message() + ")";
    }
    [[nodiscard]] std::error_condition default_error_condition(int ev) const noexcept override {
        char buf[5];
        for (char& c : buf) {
            c = static_cast<char>((ev & 0x3F) + '0');
            ev >>= 6;
        }
        return make_error_condition(condition_for(std::string_view(buf, 5)));
    }
};

}  // namespace

const std::error_category& sqlstate_category() noexcept {
    static const sqlstate_category_impl instance;
    return instance;
}

std::string driver_version() {
    const int v = PQlibVersion();  // e.g. 150018 for 15.18
    return std::to_string(v / 10000) + "." + std::to_string(v % 10000);
}

}  // namespace dal::postgres
