// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// CachePolicy: keeps prepared statements per connection, keyed by their native SQL, so a
/// statement is prepared once and reused (the Python design's StatementCache).
///
/// A cache policy is a small tag type whose `cache_for<Statement>` is the cache a connection
/// stores for its backend's statement type. `lru_cache` keeps the most recently used
/// `capacity` statements; `no_cache` keeps none (each call prepares and finalises).

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace dal::policies {

/// Hit, miss and eviction counters of a statement cache.
struct cache_stats {
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    std::uint64_t evictions = 0;
    std::size_t size = 0;
    std::size_t capacity = 0;
};

/// What a connection needs from the cache of its statements.
template <class C, class Statement>
concept statement_cache = requires(C& c, const C& cc, std::string_view sql, Statement&& s) {
    { c.find(sql) } -> std::same_as<Statement*>;                               // hit: counts it
    { c.insert(std::string(sql), std::move(s)) } -> std::same_as<Statement*>;  // nullptr: not kept
    { c.erase(sql) } -> std::same_as<void>;
    { c.clear() } -> std::same_as<void>;
    { cc.stats() } -> std::same_as<cache_stats>;
};

/// A cache policy: names the cache type for a backend's statement type.
template <class P, class Statement>
concept cache_policy = std::default_initializable<P> && requires(const P& p) {
    typename P::template cache_for<Statement>;
    {typename P::template cache_for<Statement>(p)};
} && statement_cache<typename P::template cache_for<Statement>, Statement>;

/// Keeps nothing: every call prepares and finalises its statement. Costs no memory; use it
/// behind external poolers that forbid named statements, or for one-off SQL.
struct no_cache {
    template <class Statement>
    struct cache_for {
        explicit cache_for(const no_cache& /*policy*/) noexcept {}
        Statement* find(std::string_view /*sql*/) noexcept {
            ++misses_;
            return nullptr;
        }
        Statement* insert(std::string /*sql*/, Statement&& /*s*/) noexcept { return nullptr; }
        void erase(std::string_view /*sql*/) noexcept {}
        void clear() noexcept {}
        [[nodiscard]] cache_stats stats() const noexcept { return {0, misses_, 0, 0, 0}; }

    private:
        std::uint64_t misses_ = 0;
    };
};

/// Least-recently-used cache of `capacity` prepared statements (default 256). Lookups by
/// `string_view` allocate nothing; evicting finalises the statement (its destructor).
struct lru_cache {
    std::size_t capacity = 256;

    template <class Statement>
    class cache_for {
    public:
        explicit cache_for(const lru_cache& policy) : capacity_(policy.capacity) {}

        Statement* find(std::string_view sql) {
            const auto it = index_.find(sql);
            if (it == index_.end()) {
                ++stats_.misses;
                return nullptr;
            }
            ++stats_.hits;
            entries_.splice(entries_.begin(), entries_, it->second);  // now most recent
            return &it->second->second;
        }

        Statement* insert(std::string sql, Statement&& s) {
            if (capacity_ == 0) return nullptr;
            if (const auto it = index_.find(std::string_view(sql)); it != index_.end()) {
                it->second->second = std::move(s);
                entries_.splice(entries_.begin(), entries_, it->second);
                return &it->second->second;
            }
            if (entries_.size() >= capacity_) {
                index_.erase(std::string_view(entries_.back().first));
                entries_.pop_back();
                ++stats_.evictions;
            }
            entries_.emplace_front(std::move(sql), std::move(s));
            index_.emplace(std::string_view(entries_.front().first), entries_.begin());
            return &entries_.front().second;
        }

        void erase(std::string_view sql) {
            const auto it = index_.find(sql);
            if (it == index_.end()) return;
            const auto entry = it->second;
            index_.erase(it);
            entries_.erase(entry);
        }

        void clear() noexcept {
            index_.clear();
            entries_.clear();
        }

        [[nodiscard]] cache_stats stats() const noexcept {
            cache_stats s = stats_;
            s.size = entries_.size();
            s.capacity = capacity_;
            return s;
        }

    private:
        struct hash {
            using is_transparent = void;
            std::size_t operator()(std::string_view s) const noexcept {
                return std::hash<std::string_view>{}(s);
            }
        };
        using list = std::list<std::pair<std::string, Statement>>;
        std::size_t capacity_;
        list entries_;  // most recent first; keys stay put, so the index can view them
        std::unordered_map<std::string_view, typename list::iterator, hash, std::equal_to<>> index_;
        cache_stats stats_{};
    };
};

}  // namespace dal::policies
