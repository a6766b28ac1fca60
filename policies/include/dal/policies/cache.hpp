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

/// What a connection needs from the cache of its statements. `hash` is `dal::sql::hash_sql`
/// of the SQL: computed by the compiler for literal SQL, so a lookup hashes nothing at run time.
template <class C, class Statement>
concept statement_cache = requires(C& c, const C& cc, std::string_view sql, std::size_t hash,
                                   Statement& s) {
    { c.find(sql, hash) } -> std::same_as<Statement*>;  // counts a hit or a miss
    // Keeps `s` (moving from it) and returns where it now lives, or returns nullptr and leaves
    // `s` alone when it does not keep it.
    { c.insert(std::string(sql), hash, s) } -> std::same_as<Statement*>;
    { c.erase(sql, hash) } -> std::same_as<void>;
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
        Statement* find(std::string_view /*sql*/, std::size_t /*hash*/) noexcept {
            ++misses_;
            return nullptr;
        }
        Statement* insert(const std::string& /*sql*/, std::size_t /*hash*/,
                          Statement& /*s*/) noexcept {
            return nullptr;
        }
        void erase(std::string_view /*sql*/, std::size_t /*hash*/) noexcept {}
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

        Statement* find(std::string_view sql, std::size_t hash) {
            // The statement used last is first in the list: a loop running one statement
            // skips the hash table altogether.
            if (!entries_.empty() && entries_.front().hash == hash && entries_.front().sql == sql) {
                ++stats_.hits;
                return &entries_.front().statement;
            }
            const auto it = index_.find(key{sql, hash});
            if (it == index_.end()) {
                ++stats_.misses;
                return nullptr;
            }
            ++stats_.hits;
            if (it->second != entries_.begin())  // a hot statement usually is already first
                entries_.splice(entries_.begin(), entries_, it->second);
            return &it->second->statement;
        }

        Statement* insert(std::string sql, std::size_t hash, Statement& s) {
            if (capacity_ == 0) return nullptr;
            if (const auto it = index_.find(key{sql, hash}); it != index_.end()) {
                it->second->statement = std::move(s);
                entries_.splice(entries_.begin(), entries_, it->second);
                return &it->second->statement;
            }
            if (entries_.size() >= capacity_) {
                index_.erase(key{entries_.back().sql, entries_.back().hash});
                entries_.pop_back();
                ++stats_.evictions;
            }
            entries_.push_front(entry{std::move(sql), hash, std::move(s)});
            index_.emplace(key{entries_.front().sql, hash}, entries_.begin());
            return &entries_.front().statement;
        }

        void erase(std::string_view sql, std::size_t hash) {
            const auto it = index_.find(key{sql, hash});
            if (it == index_.end()) return;
            const auto where = it->second;
            index_.erase(it);
            entries_.erase(where);
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
        struct entry {
            std::string sql;
            std::size_t hash;
            Statement statement;
        };
        /// The index key views the entry's own string (list nodes never move) and carries the
        /// precomputed hash, so neither lookups nor rehashing hash any text.
        struct key {
            std::string_view sql;
            std::size_t hash;
            bool operator==(const key& o) const noexcept { return sql == o.sql; }
        };
        struct key_hash {
            std::size_t operator()(const key& k) const noexcept { return k.hash; }
        };
        using list = std::list<entry>;
        std::size_t capacity_;
        list entries_;  // most recent first
        std::unordered_map<key, typename list::iterator, key_hash> index_;
        cache_stats stats_{};
    };
};

}  // namespace dal::policies
