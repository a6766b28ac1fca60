// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// SQLite errors: (extended) result codes as `std::error_code`s of the "dal.sqlite" category,
/// mapped onto dal's portable conditions (SQLITE_CONSTRAINT_* -> constraint_violation,
/// SQLITE_BUSY -> lock_timeout, SQLITE_BUSY_SNAPSHOT -> serialization_failure,
/// SQLITE_INTERRUPT -> cancelled, ...).

#include <string>
#include <system_error>

namespace dal::sqlite {

/// The "dal.sqlite" category: values are extended result codes (sqlite3_extended_errcode).
[[nodiscard]] const std::error_category& error_category() noexcept;

[[nodiscard]] inline std::error_code make_sqlite_error(int extended_code) noexcept {
    return {extended_code, error_category()};
}

/// Version of the SQLite library in use, e.g. "3.40.1".
[[nodiscard]] std::string driver_version();

}  // namespace dal::sqlite
