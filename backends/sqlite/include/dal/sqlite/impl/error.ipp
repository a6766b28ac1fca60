// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
// Compiled once into dal::sqlite; not a public header.

#include <string>

#include <sqlite3.h>

#include <dal/error.hpp>
#include <dal/sqlite/error.hpp>

namespace dal::sqlite {
namespace {

struct mapping {
    int code;
    errc cond;
};

// Extended codes whose meaning differs from their primary code; looked up first.
constexpr mapping extended_codes[] = {
    {SQLITE_BUSY_SNAPSHOT, errc::serialization_failure},  // WAL snapshot is stale: retry the txn
    {SQLITE_IOERR_NOMEM, errc::resource_exhausted},
    {SQLITE_CANTOPEN_NOTEMPDIR, errc::connection_error},
    {SQLITE_CANTOPEN_ISDIR, errc::connection_error},
    {SQLITE_CANTOPEN_FULLPATH, errc::connection_error},
};

// Primary result codes (the low byte of an extended code).
constexpr mapping primary_codes[] = {
    {SQLITE_ERROR, errc::syntax_error},  // mostly from prepare: bad SQL, no such table
    {SQLITE_INTERNAL, errc::internal_error},
    {SQLITE_PERM, errc::permission_denied},
    {SQLITE_ABORT, errc::transaction_state},
    {SQLITE_BUSY, errc::lock_timeout},  // busy_timeout ran out
    {SQLITE_LOCKED, errc::lock_timeout},
    {SQLITE_NOMEM, errc::resource_exhausted},
    {SQLITE_READONLY, errc::read_only},
    {SQLITE_INTERRUPT, errc::cancelled},
    {SQLITE_IOERR, errc::internal_error},
    {SQLITE_CORRUPT, errc::internal_error},
    {SQLITE_NOTFOUND, errc::internal_error},
    {SQLITE_FULL, errc::resource_exhausted},
    {SQLITE_CANTOPEN, errc::connection_error},
    {SQLITE_PROTOCOL, errc::lock_timeout},
    {SQLITE_SCHEMA, errc::transaction_state},  // schema changed: the statement is re-prepared
    {SQLITE_TOOBIG, errc::data_error},
    {SQLITE_CONSTRAINT, errc::constraint_violation},
    {SQLITE_MISMATCH, errc::type_mismatch},
    {SQLITE_MISUSE, errc::internal_error},
    {SQLITE_NOLFS, errc::feature_not_supported},
    {SQLITE_AUTH, errc::permission_denied},
    {SQLITE_RANGE, errc::invalid_argument},   // parameter index out of range
    {SQLITE_NOTADB, errc::connection_error},  // the file is not a database
};

errc condition_for(int extended) noexcept {
    for (const auto& m : extended_codes)
        if (m.code == extended) return m.cond;
    const int primary = extended & 0xFF;
    for (const auto& m : primary_codes)
        if (m.code == primary) return m.cond;
    return errc::internal_error;
}

class category_impl final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "dal.sqlite"; }
    [[nodiscard]] std::string message(int ev) const override {
        // sqlite3_errstr knows every primary and extended code and needs no connection.
        return std::string("SQLite ") + sqlite3_errstr(ev) + " (code " + std::to_string(ev) + ")";
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
    return sqlite3_libversion();
}

}  // namespace dal::sqlite
