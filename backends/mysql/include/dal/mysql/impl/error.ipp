// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
// Compiled once into dal::mysql; not a public header.

#include <string>
#include <string_view>

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include <dal/error.hpp>
#include <dal/mysql/error.hpp>

namespace dal::mysql {
namespace {

struct mapping {
    std::string_view name;
    int number;
    errc cond;
};

// MySQL 8 numbers that MariaDB's headers do not define.
constexpr int mysql8_query_timeout = 3024;  // ER_QUERY_TIMEOUT (MAX_EXECUTION_TIME)
constexpr int mysql8_check_constraint_violated = 3819;

constexpr mapping table[] = {
    {"ER_LOCK_DEADLOCK", ER_LOCK_DEADLOCK, errc::deadlock},
    {"ER_LOCK_WAIT_TIMEOUT", ER_LOCK_WAIT_TIMEOUT, errc::lock_timeout},
    {"ER_DUP_ENTRY", ER_DUP_ENTRY, errc::constraint_violation},
    {"ER_DUP_KEY", ER_DUP_KEY, errc::constraint_violation},
    {"ER_DUP_UNIQUE", ER_DUP_UNIQUE, errc::constraint_violation},
    {"ER_NO_REFERENCED_ROW", ER_NO_REFERENCED_ROW, errc::constraint_violation},
    {"ER_NO_REFERENCED_ROW_2", ER_NO_REFERENCED_ROW_2, errc::constraint_violation},
    {"ER_ROW_IS_REFERENCED", ER_ROW_IS_REFERENCED, errc::constraint_violation},
    {"ER_ROW_IS_REFERENCED_2", ER_ROW_IS_REFERENCED_2, errc::constraint_violation},
    {"ER_BAD_NULL_ERROR", ER_BAD_NULL_ERROR, errc::constraint_violation},
    {"ER_CONSTRAINT_FAILED", ER_CONSTRAINT_FAILED, errc::constraint_violation},
    {"ER_CHECK_CONSTRAINT_VIOLATED", mysql8_check_constraint_violated, errc::constraint_violation},
    {"ER_QUERY_INTERRUPTED", ER_QUERY_INTERRUPTED, errc::cancelled},
    {"ER_STATEMENT_TIMEOUT", ER_STATEMENT_TIMEOUT, errc::timeout},
    {"ER_QUERY_TIMEOUT", mysql8_query_timeout, errc::timeout},
    {"ER_PARSE_ERROR", ER_PARSE_ERROR, errc::syntax_error},
    {"ER_SYNTAX_ERROR", ER_SYNTAX_ERROR, errc::syntax_error},
    {"ER_NO_SUCH_TABLE", ER_NO_SUCH_TABLE, errc::undefined_object},
    {"ER_BAD_FIELD_ERROR", ER_BAD_FIELD_ERROR, errc::undefined_object},
    {"ER_BAD_DB_ERROR", ER_BAD_DB_ERROR, errc::undefined_object},
    {"ER_BAD_TABLE_ERROR", ER_BAD_TABLE_ERROR, errc::undefined_object},
    {"ER_SP_DOES_NOT_EXIST", ER_SP_DOES_NOT_EXIST, errc::undefined_object},
    {"ER_UNKNOWN_STMT_HANDLER", ER_UNKNOWN_STMT_HANDLER, errc::undefined_object},
    {"ER_ACCESS_DENIED_ERROR", ER_ACCESS_DENIED_ERROR, errc::permission_denied},
    {"ER_DBACCESS_DENIED_ERROR", ER_DBACCESS_DENIED_ERROR, errc::permission_denied},
    {"ER_TABLEACCESS_DENIED_ERROR", ER_TABLEACCESS_DENIED_ERROR, errc::permission_denied},
    {"ER_COLUMNACCESS_DENIED_ERROR", ER_COLUMNACCESS_DENIED_ERROR, errc::permission_denied},
    {"ER_SPECIFIC_ACCESS_DENIED_ERROR", ER_SPECIFIC_ACCESS_DENIED_ERROR, errc::permission_denied},
    {"ER_OPTION_PREVENTS_STATEMENT", ER_OPTION_PREVENTS_STATEMENT, errc::read_only},
    {"ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION", ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION,
     errc::read_only},
    {"ER_DATA_TOO_LONG", ER_DATA_TOO_LONG, errc::data_error},
    {"ER_WARN_DATA_OUT_OF_RANGE", ER_WARN_DATA_OUT_OF_RANGE, errc::data_error},
    {"ER_TRUNCATED_WRONG_VALUE", ER_TRUNCATED_WRONG_VALUE, errc::data_error},
    {"ER_TRUNCATED_WRONG_VALUE_FOR_FIELD", ER_TRUNCATED_WRONG_VALUE_FOR_FIELD, errc::data_error},
    {"ER_DIVISION_BY_ZERO", ER_DIVISION_BY_ZERO, errc::data_error},
    {"ER_CON_COUNT_ERROR", ER_CON_COUNT_ERROR, errc::resource_exhausted},
    {"ER_TOO_MANY_USER_CONNECTIONS", ER_TOO_MANY_USER_CONNECTIONS, errc::resource_exhausted},
    {"ER_OUT_OF_RESOURCES", ER_OUT_OF_RESOURCES, errc::resource_exhausted},
    {"ER_OUTOFMEMORY", ER_OUTOFMEMORY, errc::resource_exhausted},
    {"ER_RECORD_FILE_FULL", ER_RECORD_FILE_FULL, errc::resource_exhausted},
    {"ER_NOT_SUPPORTED_YET", ER_NOT_SUPPORTED_YET, errc::feature_not_supported},
    {"ER_SERVER_SHUTDOWN", ER_SERVER_SHUTDOWN, errc::connection_error},
    {"ER_CONNECTION_KILLED", ER_CONNECTION_KILLED, errc::connection_error},
    {"ER_NET_READ_ERROR", ER_NET_READ_ERROR, errc::connection_error},
    {"ER_NET_READ_INTERRUPTED", ER_NET_READ_INTERRUPTED, errc::connection_error},
    {"ER_NET_ERROR_ON_WRITE", ER_NET_ERROR_ON_WRITE, errc::connection_error},
    {"ER_NET_WRITE_INTERRUPTED", ER_NET_WRITE_INTERRUPTED, errc::connection_error},
    {"ER_NET_PACKETS_OUT_OF_ORDER", ER_NET_PACKETS_OUT_OF_ORDER, errc::connection_error},
    {"ER_ABORTING_CONNECTION", ER_ABORTING_CONNECTION, errc::connection_error},
    {"ER_TABLE_EXISTS_ERROR", ER_TABLE_EXISTS_ERROR, errc::already_exists},
    {"ER_DB_CREATE_EXISTS", ER_DB_CREATE_EXISTS, errc::already_exists},
    {"ER_DUP_FIELDNAME", ER_DUP_FIELDNAME, errc::already_exists},
    {"ER_DUP_KEYNAME", ER_DUP_KEYNAME, errc::already_exists},
    {"ER_SP_ALREADY_EXISTS", ER_SP_ALREADY_EXISTS, errc::already_exists},
    // Client library errors that mean the link to the server is gone or never came up. Other
    // client errors (2000-2999) are usage errors, hence internal_error.
    {"CR_SOCKET_CREATE_ERROR", CR_SOCKET_CREATE_ERROR, errc::connection_error},
    {"CR_IPSOCK_ERROR", CR_IPSOCK_ERROR, errc::connection_error},
    {"CR_SERVER_HANDSHAKE_ERR", CR_SERVER_HANDSHAKE_ERR, errc::connection_error},
    {"CR_CONNECTION_ERROR", CR_CONNECTION_ERROR, errc::connection_error},
    {"CR_CONN_HOST_ERROR", CR_CONN_HOST_ERROR, errc::connection_error},
    {"CR_UNKNOWN_HOST", CR_UNKNOWN_HOST, errc::connection_error},
    {"CR_SERVER_GONE_ERROR", CR_SERVER_GONE_ERROR, errc::connection_error},
    {"CR_SERVER_LOST", CR_SERVER_LOST, errc::connection_error},
    {"CR_SERVER_LOST_EXTENDED", CR_SERVER_LOST_EXTENDED, errc::connection_error},
    {"CR_SSL_CONNECTION_ERROR", CR_SSL_CONNECTION_ERROR, errc::connection_error},
    {"CR_OUT_OF_MEMORY", CR_OUT_OF_MEMORY, errc::resource_exhausted},
    {"CR_COMMANDS_OUT_OF_SYNC", CR_COMMANDS_OUT_OF_SYNC, errc::internal_error},
    {"CR_AUTH_PLUGIN_CANNOT_LOAD", CR_AUTH_PLUGIN_CANNOT_LOAD, errc::permission_denied},
};

const mapping* find(int number) noexcept {
    for (const auto& m : table)
        if (m.number == number) return &m;
    return nullptr;
}

errc condition_for(int number) noexcept {
    if (const mapping* m = find(number)) return m->cond;
    return errc::internal_error;
}

class category_impl final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "dal.mysql"; }
    [[nodiscard]] std::string message(int ev) const override {
        std::string out = "MySQL error " + std::to_string(ev);
        if (const mapping* m = find(ev)) {
            out += " ";
            out += m->name;
        }
        out += " (" + make_error_condition(condition_for(ev)).message() + ")";
        return out;
    }
    [[nodiscard]] std::error_condition default_error_condition(int ev) const noexcept override {
        return make_error_condition(condition_for(ev));
    }
};

}  // namespace

const std::error_category& error_category() noexcept {
    static const category_impl instance;
    return instance;
}

std::string driver_version() {
    return mysql_get_client_info();
}

}  // namespace dal::mysql
