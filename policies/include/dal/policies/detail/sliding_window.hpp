// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// Counters over a sliding time window, shared by the retry budget and the circuit breaker's
/// time-based window. Not thread-safe: the owner holds its lock around every call.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace dal::policies::detail {

/// K counters summed over the last `window`, kept in at most `max_buckets` buckets of equal
/// width (one second each when the window allows). Old buckets are reused, not freed, so
/// recording never allocates. The window slides one bucket at a time: a sum covers between
/// `window - width` and `window` of history.
template <class Clock, std::size_t K>
class time_buckets {
public:
    using time_point = typename Clock::time_point;
    using duration = typename Clock::duration;
    using counts = std::array<std::uint64_t, K>;

    time_buckets() = default;
    explicit time_buckets(std::chrono::milliseconds window, std::size_t max_buckets = 60) {
        const duration span = std::max(std::chrono::duration_cast<duration>(window), duration{1});
        const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(window).count();
        const std::size_t n =
            std::clamp<std::size_t>(seconds > 0 ? static_cast<std::size_t>(seconds) : 1, 1,
                                    std::max<std::size_t>(1, max_buckets));
        width_ = std::max(span / static_cast<typename duration::rep>(n), duration{1});
        buckets_.resize(n);
    }

    /// Adds `c` to the bucket of `now`.
    void add(time_point now, const counts& c) {
        if (buckets_.empty()) return;
        bucket& b = current(now);
        for (std::size_t k = 0; k < K; ++k)
            b.c[k] += c[k];
    }

    /// The counters of every bucket still inside the window at `now`.
    [[nodiscard]] counts sum(time_point now) const {
        counts total{};
        if (buckets_.empty()) return total;
        const std::int64_t idx = index(now);
        const auto n = static_cast<std::int64_t>(buckets_.size());
        for (const bucket& b : buckets_) {
            if (b.epoch > idx - n && b.epoch <= idx)
                for (std::size_t k = 0; k < K; ++k)
                    total[k] += b.c[k];
        }
        return total;
    }

    void clear() noexcept {
        for (bucket& b : buckets_)
            b = bucket{};
    }

private:
    struct bucket {
        std::int64_t epoch = std::numeric_limits<std::int64_t>::min();  // never in a window
        counts c{};
    };

    [[nodiscard]] std::int64_t index(time_point now) const {
        return static_cast<std::int64_t>(now.time_since_epoch() / width_);
    }

    bucket& current(time_point now) {
        const std::int64_t idx = index(now);
        const auto n = static_cast<std::int64_t>(buckets_.size());
        bucket& b = buckets_[static_cast<std::size_t>(((idx % n) + n) % n)];
        if (b.epoch != idx) b = bucket{idx, {}};
        return b;
    }

    std::vector<bucket> buckets_;
    duration width_{1};
};

/// splitmix64: spreads a seed and a stream number into unrelated seeds for copies of a policy.
[[nodiscard]] constexpr std::uint64_t mix_seed(std::uint64_t x) noexcept {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30U)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27U)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31U);
}

}  // namespace dal::policies::detail
