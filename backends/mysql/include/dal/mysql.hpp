// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// Everything for MySQL and MariaDB: the backend, `dal::mysql::connection` and its
/// registration with the run-time factory (`dal::connect("mysql://...")`).

#include <dal/connection.hpp>
#include <dal/factory.hpp>
#include <dal/mysql/backend.hpp>

namespace dal::mysql {

/// The common setup: no retry, the configured statement limit, no breaker, an LRU cache of
/// 256 prepared statements.
using connection = basic_connection<backend>;

/// Any other composition: `dal::mysql::basic_connection<my_retry, ...>`.
template <class Retry = policies::no_retry, class Timeout = policies::config_timeout,
          class Breaker = policies::no_breaker, class Cache = policies::lru_cache>
using basic_connection = dal::basic_connection<backend, Retry, Timeout, Breaker, Cache>;

namespace detail {
// Including this header makes "mysql" (and "mariadb") available to dal::connect().
inline const bool registered = dal::register_backend<connection>(backend_kind::mysql);
}  // namespace detail

}  // namespace dal::mysql
