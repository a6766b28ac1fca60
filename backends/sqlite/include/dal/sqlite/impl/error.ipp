// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
// Compiled once into dal::sqlite; not a public header.

#include <string>

#include <sqlite3.h>

#include <dal/error.hpp>
#include <dal/sqlite/error.hpp>

namespace dal::sqlite {
namespace {

errc condition_for(int extended) noexcept {
    // Extended codes that mean something different from their primary code.
    switch (extended) {
        case SQLITE_BUSY_SNAPSHOT: return errc::serialization_failure;  // WAL snapshot is stale
        case SQLITE_IOERR_NOMEM: return errc::resource_exhausted;
        case SQLITE_CANTOPEN_NOTEMPDIR:
        case SQLITE_CANTOPEN_ISDIR:
        case SQLITE_CANTOPEN_FULLPATH: return errc::connection_error;
        default: break;
    }
    switch (extended & 0xFF) {
        case SQLITE_ERROR: return errc::syntax_error;  // mostly prepare: bad SQL, no such table
        case SQLITE_INTERNAL: return errc::internal_error;
        case SQLITE_PERM: return errc::permission_denied;
        case SQLITE_ABORT: return errc::transaction_state;
        case SQLITE_BUSY: return errc::lock_timeout;  // busy_timeout ran out
        case SQLITE_LOCKED: return errc::lock_timeout;
        case SQLITE_NOMEM: return errc::resource_exhausted;
        case SQLITE_READONLY: return errc::read_only;
        case SQLITE_INTERRUPT: return errc::cancelled;
        case SQLITE_IOERR: return errc::internal_error;
        case SQLITE_CORRUPT: return errc::internal_error;
        case SQLITE_NOTFOUND: return errc::internal_error;
        case SQLITE_FULL: return errc::resource_exhausted;
        case SQLITE_CANTOPEN: return errc::connection_error;
        case SQLITE_PROTOCOL: return errc::lock_timeout;
        case SQLITE_SCHEMA: return errc::transaction_state;  // schema changed: re-prepare
        case SQLITE_TOOBIG: return errc::data_error;
        case SQLITE_CONSTRAINT: return errc::constraint_violation;
        case SQLITE_MISMATCH: return errc::type_mismatch;
        case SQLITE_MISUSE: return errc::internal_error;
        case SQLITE_NOLFS: return errc::feature_not_supported;
        case SQLITE_AUTH: return errc::permission_denied;
        case SQLITE_RANGE: return errc::invalid_argument;  // parameter index out of range
        case SQLITE_NOTADB: return errc::connection_error;  // the file is not a database
        default: return errc::internal_error;
    }
}

class category_impl final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "dal.sqlite"; }
    [[nodiscard]] std::string message(int ev) const override {
        // sqlite3_errstr knows every primary and extended code and needs no connection.
        return std::string("SQLite ") + sqlite3_errstr(ev) + " (code " + std::to_string(ev) +
               ")";
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

std::string driver_version() { return sqlite3_libversion(); }

}  // namespace dal::sqlite
