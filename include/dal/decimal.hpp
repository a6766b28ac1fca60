// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// `dal::decimal`: an exact SQL NUMERIC/DECIMAL value, kept as its decimal text.
///
/// Money and quantities must never pass through a double on their way in or out of the
/// database. dal does not do decimal arithmetic (use a decimal library for that); it carries
/// the exact digits, validated, between the server and your code:
///
///     auto total = db.query_one<dal::decimal>("SELECT sum([amount]) FROM [orders]"_sql);
///     db.execute("INSERT INTO [prices] ([p]) VALUES (?)"_sql, dal::decimal("19.99"));

#include <string>
#include <string_view>
#include <utility>

#include <dal/error.hpp>
#include <dal/types.hpp>

namespace dal {

class decimal {
public:
    decimal() : text_("0") {}
    /// Throws dal::error (invalid_argument) unless `text` is [+-]digits[.digits], NaN or
    /// [+-]Infinity.
    explicit decimal(std::string_view text) : text_(text) {
        if (!valid(text))
            throw error(make_error_code(client_errc::type_mismatch),
                        "'" + std::string(text.substr(0, 64)) + "' is not a decimal number");
    }

    /// The exact text, as the server sent it or as it was constructed (not normalised:
    /// "1.50" stays "1.50", which is how NUMERIC keeps its scale).
    [[nodiscard]] const std::string& str() const noexcept { return text_; }

    friend bool operator==(const decimal&, const decimal&) = default;

    [[nodiscard]] static constexpr bool valid(std::string_view s) noexcept {
        if (s == "NaN" || s == "Infinity" || s == "+Infinity" || s == "-Infinity") return true;
        std::size_t p = 0;
        if (p < s.size() && (s[p] == '+' || s[p] == '-')) ++p;
        std::size_t digits = 0;
        while (p < s.size() && s[p] >= '0' && s[p] <= '9')
            ++p, ++digits;
        if (p < s.size() && s[p] == '.') {
            ++p;
            while (p < s.size() && s[p] >= '0' && s[p] <= '9')
                ++p, ++digits;
        }
        return digits > 0 && p == s.size();
    }

private:
    std::string text_;
};

/// Bound as its text (the server converts exactly); read from NUMERIC/DECIMAL columns and from
/// text columns holding a decimal number.
template <>
struct type_traits<decimal> {
    using db_type = std::string;
    static const std::string& to_db(const decimal& d) noexcept { return d.str(); }
    static decimal from_db(const std::string& s) { return decimal(s); }
};

}  // namespace dal
