// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// MySQL / MariaDB errors: server error numbers (1000-1999, 3000+, 4000+) and client library
/// error numbers (2000-2999) as `std::error_code`s of the "dal.mysql" category, mapped onto
/// dal's portable conditions (1213 -> deadlock, 1205 -> lock_timeout, 1062 ->
/// constraint_violation, 2006/2013 -> connection_error, 1969/3024 -> timeout, ...).

#include <string>
#include <system_error>

namespace dal::mysql {

/// The "dal.mysql" category: values are the error numbers of mysql_errno()/mysql_stmt_errno().
[[nodiscard]] const std::error_category& error_category() noexcept;

[[nodiscard]] inline std::error_code make_mysql_error(unsigned int number) noexcept {
    return {static_cast<int>(number), error_category()};
}

/// Version of the client library dal was linked with (MariaDB Connector/C), e.g. "3.3.8".
[[nodiscard]] std::string driver_version();

}  // namespace dal::mysql
