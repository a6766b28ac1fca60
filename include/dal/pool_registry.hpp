// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// `dal::pool_registry`: the Python design's PoolManager. Pools are created lazily and shared
/// by configuration: two parts of a program that ask for the same server, database, user and
/// TLS settings (`config::identity()`, hashed by `config::hash()`) with the same connection
/// type get the same pool.
///
///     auto pool = dal::pool_registry::global().get<dal::postgres::connection>(cfg);
///     dal::pool_registry::global().close_all(5s);   // at shutdown

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <typeindex>
#include <utility>
#include <vector>

#include <dal/config.hpp>
#include <dal/pool.hpp>

namespace dal {

class pool_registry {
public:
    pool_registry() = default;
    pool_registry(const pool_registry&) = delete;
    pool_registry& operator=(const pool_registry&) = delete;
    pool_registry(pool_registry&&) = delete;
    pool_registry& operator=(pool_registry&&) = delete;
    ~pool_registry() { close_all(std::chrono::milliseconds{0}); }

    /// The process-wide registry.
    static pool_registry& global() {
        static pool_registry r;
        return r;
    }

    /// The pool for `cfg` and this connection type, created (and warmed up) on first use.
    /// Creation happens under the registry's lock: concurrent first users of one config wait
    /// for the same pool instead of creating two.
    template <class Connection>
    std::shared_ptr<basic_pool<Connection>> get(const config& cfg,
                                                std::optional<pool_options> opts = std::nullopt) {
        const key k{std::type_index(typeid(Connection)), cfg.hash()};
        const std::lock_guard lk(mutex_);
        if (auto it = pools_.find(k); it != pools_.end())
            return std::static_pointer_cast<basic_pool<Connection>>(it->second);
        auto p =
            opts ? basic_pool<Connection>::create(cfg, *opts) : basic_pool<Connection>::create(cfg);
        pools_.emplace(k, p);
        return p;
    }

    /// Closes the pools of `cfg` (every connection type) and forgets them.
    void close(const config& cfg, std::chrono::milliseconds graceful) {
        close_where([h = cfg.hash()](const key& k) { return k.second == h; }, graceful);
    }
    /// Closes every pool (graceful, then forced: see basic_pool::close) and forgets them.
    void close_all(std::chrono::milliseconds graceful) noexcept {
        try {
            close_where([](const key&) { return true; }, graceful);
        } catch (...) {  // NOLINT(bugprone-empty-catch): out of memory while collecting
        }
    }

    /// Status of every pool, for dashboards.
    [[nodiscard]] std::vector<pool_status> status_all() const {
        std::vector<std::shared_ptr<pool_base>> pools = snapshot();
        std::vector<pool_status> out;
        out.reserve(pools.size());
        for (const auto& p : pools)
            out.push_back(p->status());
        return out;
    }
    /// Health of every pool (name, healthy); never waits behind a saturated pool.
    [[nodiscard]] std::vector<std::pair<std::string, bool>> health_all() const {
        std::vector<std::pair<std::string, bool>> out;
        for (const auto& p : snapshot())
            out.emplace_back(p->status().name, p->healthy());
        return out;
    }
    [[nodiscard]] std::size_t size() const {
        const std::lock_guard lk(mutex_);
        return pools_.size();
    }

private:
    using key = std::pair<std::type_index, std::uint64_t>;

    [[nodiscard]] std::vector<std::shared_ptr<pool_base>> snapshot() const {
        const std::lock_guard lk(mutex_);
        std::vector<std::shared_ptr<pool_base>> out;
        out.reserve(pools_.size());
        for (const auto& [k, p] : pools_)
            out.push_back(p);
        return out;
    }
    template <class Pred>
    void close_where(Pred pred, std::chrono::milliseconds graceful) {
        std::vector<std::shared_ptr<pool_base>> closing;
        {
            const std::lock_guard lk(mutex_);
            for (auto it = pools_.begin(); it != pools_.end();) {
                if (pred(it->first)) {
                    closing.push_back(it->second);
                    it = pools_.erase(it);
                } else {
                    ++it;
                }
            }
        }
        for (const auto& p : closing)
            p->close(graceful);  // outside the lock: may wait
    }

    mutable std::mutex mutex_;
    std::map<key, std::shared_ptr<pool_base>> pools_;
};

}  // namespace dal
