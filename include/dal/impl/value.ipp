// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
// Compiled once into dal::dal (see CMakeLists.txt); not a public header.

#include <charconv>
#include <chrono>
#include <optional>
#include <string>

#include <dal/error.hpp>
#include <dal/row.hpp>
#include <dal/value.hpp>

namespace dal::detail {

void throw_type_mismatch(client_errc code, std::string_view column, std::string_view what) {
    std::string msg = "column '";
    msg += column;
    msg += "' ";
    msg += what;
    throw error(make_error_code(code), std::move(msg));
}

void throw_shape_mismatch(std::string_view what) {
    throw error(make_error_code(client_errc::type_mismatch), std::string(what));
}

namespace {

void put_digits(char*& out, long long v, int width) noexcept {
    char buf[24];
    int n = 0;
    const bool neg = v < 0;
    unsigned long long u =
        neg ? 0ULL - static_cast<unsigned long long>(v) : static_cast<unsigned long long>(v);
    do {
        buf[n++] = static_cast<char>('0' + u % 10);
        u /= 10;
    } while (u != 0);
    while (n < width)
        buf[n++] = '0';
    if (neg) *out++ = '-';
    while (n > 0)
        *out++ = buf[--n];
}

/// Reads exactly `n` digits at `p`.
bool digits(std::string_view s, std::size_t& p, std::size_t n, int& out) noexcept {
    if (p + n > s.size()) return false;
    int v = 0;
    for (std::size_t k = 0; k < n; ++k) {
        const char c = s[p + k];
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    out = v;
    p += n;
    return true;
}

bool parse_ymd(std::string_view s, std::size_t& p, date& out) noexcept {
    int y = 0;
    int m = 0;
    int d = 0;
    bool neg = false;
    if (p < s.size() && s[p] == '-') {
        neg = true;
        ++p;
    }
    if (!digits(s, p, 4, y) || p >= s.size() || s[p++] != '-' || !digits(s, p, 2, m) ||
        p >= s.size() || s[p++] != '-' || !digits(s, p, 2, d))
        return false;
    out = date{std::chrono::year{neg ? -y : y}, std::chrono::month{static_cast<unsigned>(m)},
               std::chrono::day{static_cast<unsigned>(d)}};
    return out.ok();
}

/// "", "Z", or a UTC offset as servers print it: +HH, +HH:MM, +HH:MM:SS (PostgreSQL prints
/// the session's TimeZone offset; historical zones have seconds). nullopt when malformed.
std::optional<std::chrono::seconds> parse_utc_offset(std::string_view rest) noexcept {
    if (rest.empty() || rest == "Z") return std::chrono::seconds{0};
    if (rest[0] != '+' && rest[0] != '-') return std::nullopt;
    const bool negative = rest[0] == '-';
    std::size_t p = 1;
    int hh = 0;
    int mm = 0;
    int ss = 0;
    if (!digits(rest, p, 2, hh) || hh > 15) return std::nullopt;
    if (p < rest.size() && (rest[p++] != ':' || !digits(rest, p, 2, mm) || mm > 59))
        return std::nullopt;
    if (p < rest.size() && (rest[p++] != ':' || !digits(rest, p, 2, ss) || ss > 59))
        return std::nullopt;
    if (p != rest.size()) return std::nullopt;
    const std::chrono::seconds off{hh * 3600 + mm * 60 + ss};
    return negative ? -off : off;
}

}  // namespace

std::size_t format_date(date d, char* out) noexcept {
    char* p = out;
    put_digits(p, static_cast<int>(d.year()), 4);
    *p++ = '-';
    put_digits(p, static_cast<unsigned>(d.month()), 2);
    *p++ = '-';
    put_digits(p, static_cast<unsigned>(d.day()), 2);
    return static_cast<std::size_t>(p - out);
}

std::size_t format_timestamp(timestamp t, char* out) noexcept {
    const auto days = std::chrono::floor<std::chrono::days>(t);
    std::size_t n = format_date(date{days}, out);
    char* p = out + n;
    const std::chrono::hh_mm_ss<std::chrono::microseconds> tod{t - days};
    *p++ = ' ';
    put_digits(p, tod.hours().count(), 2);
    *p++ = ':';
    put_digits(p, tod.minutes().count(), 2);
    *p++ = ':';
    put_digits(p, tod.seconds().count(), 2);
    *p++ = '.';
    put_digits(p, tod.subseconds().count(), 6);
    return static_cast<std::size_t>(p - out);
}

namespace {
/// The digits of a whole decimal: "42.000" -> "42"; a fraction is an error naming the column.
std::string_view whole_part(const field_view& f) {
    std::string_view s = f.bytes;
    if (const auto dot = s.find('.'); dot != std::string_view::npos) {
        if (s.find_first_not_of('0', dot + 1) != std::string_view::npos)
            throw_type_mismatch(client_errc::value_out_of_range, f.column_name(),
                                "holds a decimal with a fraction, which an integer cannot hold");
        s = s.substr(0, dot);
    }
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    return s;
}
}  // namespace

std::uint64_t decimal_to_uint64(const field_view& f) {
    const std::string_view s = whole_part(f);
    if (!s.empty() && s.front() == '-')
        throw_type_mismatch(client_errc::value_out_of_range, f.column_name(),
                            "holds a negative number, which an unsigned type cannot hold");
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc::result_out_of_range)
        throw_type_mismatch(client_errc::value_out_of_range, f.column_name(),
                            "holds an integer that does not fit the C++ type");
    if (ec != std::errc{} || end != s.data() + s.size() || s.empty())
        throw_type_mismatch(client_errc::type_mismatch, f.column_name(),
                            "is not a whole number (NaN or infinite decimal)");
    return v;
}

std::int64_t decimal_to_int64(const field_view& f) {
    std::string_view s = f.bytes;
    // "42.000" is whole; "42.5" is not and must not be rounded away.
    if (const auto dot = s.find('.'); dot != std::string_view::npos) {
        if (s.find_first_not_of('0', dot + 1) != std::string_view::npos)
            throw_type_mismatch(client_errc::value_out_of_range, f.column_name(),
                                "holds a decimal with a fraction, which an integer cannot hold");
        s = s.substr(0, dot);
    }
    std::int64_t v = 0;
    const char* first = s.data();
    if (!s.empty() && s.front() == '+') ++first;
    const auto [end, ec] = std::from_chars(first, s.data() + s.size(), v);
    if (ec == std::errc::result_out_of_range)
        throw_type_mismatch(client_errc::value_out_of_range, f.column_name(),
                            "holds an integer that does not fit the C++ type");
    if (ec != std::errc{} || end != s.data() + s.size() || s.empty())
        throw_type_mismatch(client_errc::type_mismatch, f.column_name(),
                            "is not a whole number (NaN or infinite decimal)");
    return v;
}

void for_each_array_element(const field_view& f, void* context,
                            void (*each)(void* context, const field_view& element)) {
    std::string_view s = f.bytes;
    // "[1:3]={...}": explicit bounds are dropped; the elements come in order.
    if (!s.empty() && s.front() == '[') {
        const auto eq = s.find('=');
        s = eq == std::string_view::npos ? std::string_view() : s.substr(eq + 1);
    }
    const auto malformed = [&](std::string_view what) {
        throw_type_mismatch(client_errc::type_mismatch, f.column_name(), what);
    };
    if (s.size() < 2 || s.front() != '{' || s.back() != '}')
        malformed("is not an array in the form {a,b,...}");
    s = s.substr(1, s.size() - 2);
    std::string unescaped;
    field_view e;
    e.name_of = f.name_of;
    e.source = f.source;
    e.index = f.index;
    e.column = f.column;
    std::size_t p = 0;
    while (p < s.size()) {
        if (s[p] == '{')
            malformed("is a multi-dimensional array: read it as std::string, or unnest it in SQL");
        std::string_view text;
        bool quoted = false;
        if (s[p] == '"') {
            quoted = true;
            unescaped.clear();
            ++p;
            while (p < s.size() && s[p] != '"') {
                if (s[p] == '\\' && p + 1 < s.size()) ++p;
                unescaped.push_back(s[p++]);
            }
            if (p >= s.size()) malformed("is an array with an unterminated quoted element");
            ++p;  // closing quote
            text = unescaped;
        } else {
            const auto end = s.find(',', p);
            text = s.substr(p, end == std::string_view::npos ? std::string_view::npos : end - p);
            p += text.size();
        }
        if (p < s.size()) {
            if (s[p] != ',') malformed("is an array with text after a quoted element");
            ++p;
            if (p == s.size()) malformed("is an array with an empty last element");
        }
        e.bytes = text;
        e.type = field_view::kind::text;
        if (!quoted && text == "NULL") {
            e.type = field_view::kind::null;
        } else {
            switch (f.element) {
                case field_view::element_kind::integer:
                    if (std::from_chars(text.data(), text.data() + text.size(), e.i).ec ==
                        std::errc{})
                        e.type = field_view::kind::int64;
                    break;
                case field_view::element_kind::floating:
                    if (std::from_chars(text.data(), text.data() + text.size(), e.d).ec ==
                        std::errc{})
                        e.type = field_view::kind::float64;
                    break;
                case field_view::element_kind::boolean:
                    e.type = field_view::kind::int64;
                    e.i = text == "t" || text == "true" ? 1 : 0;
                    break;
                case field_view::element_kind::decimal: e.type = field_view::kind::decimal; break;
                case field_view::element_kind::text: break;
            }
        }
        each(context, e);
    }
}

date parse_date(const field_view& f) {
    if (f.type == field_view::kind::text) {
        std::size_t p = 0;
        date d{};
        if (parse_ymd(f.bytes, p, d) && p == f.bytes.size()) return d;
    }
    throw_type_mismatch(client_errc::type_mismatch, f.column_name(),
                        "is not a date of the form YYYY-MM-DD");
}

timestamp parse_timestamp(const field_view& f) {
    if (f.type == field_view::kind::int64) return timestamp{std::chrono::seconds{f.i}};
    if (f.type == field_view::kind::text) {
        const std::string_view s = f.bytes;
        std::size_t p = 0;
        date d{};
        int hh = 0;
        int mm = 0;
        int ss = 0;
        if (parse_ymd(s, p, d) && p < s.size() && (s[p] == ' ' || s[p] == 'T') &&
            digits(s, ++p, 2, hh) && p < s.size() && s[p++] == ':' && digits(s, p, 2, mm) &&
            p < s.size() && s[p++] == ':' && digits(s, p, 2, ss) && hh < 24 && mm < 60 && ss < 61) {
            long long micros = 0;
            if (p < s.size() && s[p] == '.') {
                ++p;
                int scale = 100000;
                std::size_t count = 0;
                while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
                    if (count < 6) micros += static_cast<long long>(s[p] - '0') * scale;
                    scale /= 10;
                    ++count;
                    ++p;
                }
                if (count == 0) p = s.size() + 1;  // "12:00:00." is malformed
            }
            const std::string_view rest = p <= s.size() ? s.substr(p) : std::string_view("?");
            const auto offset = parse_utc_offset(rest);
            if (offset)
                return timestamp{std::chrono::sys_days{d}} + std::chrono::hours{hh} +
                       std::chrono::minutes{mm} + std::chrono::seconds{ss} +
                       std::chrono::microseconds{micros} - *offset;
        }
    }
    throw_type_mismatch(client_errc::type_mismatch, f.column_name(),
                        "is not a timestamp of the form YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM]]");
}

}  // namespace dal::detail
