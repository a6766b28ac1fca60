// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// A string that refuses to be printed: passwords live in one, so no log line, exception
/// message, metric label or hash built with ordinary formatting can carry them.

#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>

namespace dal {

class secret {
public:
    secret() = default;
    explicit secret(std::string value) noexcept : value_(std::move(value)) {}
    // Accepting literals keeps `config{.password = secret{"pw"}}` terse without implicit copies
    // from other strings slipping in.
    explicit secret(const char* value) : value_(value) {}

    secret(const secret&) = default;
    secret(secret&&) noexcept = default;
    secret& operator=(const secret&) = default;
    secret& operator=(secret&&) noexcept = default;
    ~secret() { wipe(); }

    /// The only way to the value: named so that every use is easy to find in review.
    [[nodiscard]] const std::string& reveal() const noexcept { return value_; }
    [[nodiscard]] bool empty() const noexcept { return value_.empty(); }

    friend bool operator==(const secret&, const secret&) = default;

    /// What every formatting path prints instead of the value.
    static constexpr std::string_view mask = "***";

private:
    void wipe() noexcept {
        // Overwrite through a volatile pointer so the stores are not optimised away.
        volatile char* p = value_.data();
        for (std::size_t k = 0; k < value_.size(); ++k)
            p[k] = '\0';
    }
    std::string value_;
};

/// Prints the mask, never the value.
std::ostream& operator<<(std::ostream& os, const secret& s);

}  // namespace dal
