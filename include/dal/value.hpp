// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// The two small views every backend speaks: `param_ref` (one value to bind) and
/// `field_view` (one column value of a row), and the conversions between them and C++ types.
///
/// Conversions are strict and checked: an integer that does not fit the target type, NULL read
/// into a type that cannot hold it, or a text column read as a number is a `dal::error` that
/// names the column, never a silent truncation. Both views are trivially copyable and
/// non-owning, so binding and reading allocate nothing.

#include <array>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include <dal/error.hpp>
#include <dal/types.hpp>

namespace dal {

/// One parameter value, in the handful of shapes every driver binds.
struct param_ref {
    enum class kind : std::uint8_t {
        null,
        boolean,
        int64,
        uint64,
        float64,
        text,
        binary,
        date_value,
        timestamp_value
    };
    kind type = kind::null;
    union {
        bool b;
        std::int64_t i;
        std::uint64_t u;
        double d;
    } num{};
    std::string_view bytes;  ///< text or blob bytes
    date day{};              ///< for kind::date
    timestamp ts{};          ///< for kind::timestamp (UTC, microseconds)
};

/// One column value of a row, as the backend decoded it.
struct field_view {
    /// `decimal`: an exact number (SQL NUMERIC/DECIMAL) as its decimal text in `bytes`. It
    /// reads into integers when it is a whole number in range, into std::string or
    /// dal::decimal, and never silently through a double.
    /// `array`: a one-dimensional SQL array in PostgreSQL's text form (`{1,2,NULL}`) in
    /// `bytes`, its elements' kind in `element`; it reads into std::vector<T> (or the text).
    enum class kind : std::uint8_t { null, int64, float64, text, binary, decimal, array };
    /// How array elements are decoded (for kind::array).
    enum class element_kind : std::uint8_t { text, integer, floating, boolean, decimal };
    kind type = kind::null;
    element_kind element = element_kind::text;
    std::int64_t i = 0;
    double d = 0;
    std::string_view bytes;  ///< text or blob bytes
    /// The column's name, for error messages. Backends whose name lookup costs something set
    /// `name_of` instead, and the name is looked up only when an error needs it.
    std::string_view column;
    std::string_view (*name_of)(const void* source, std::size_t index) noexcept = nullptr;
    const void* source = nullptr;
    std::size_t index = 0;

    [[nodiscard]] std::string_view column_name() const noexcept {
        return name_of != nullptr ? name_of(source, index) : column;
    }
};

namespace detail {

[[noreturn]] void throw_type_mismatch(client_errc code, std::string_view column,
                                      std::string_view what);
/// A whole decimal ("-42", "42.000") as an integer; errors name the column.
std::int64_t decimal_to_int64(const field_view& f);
/// The same for unsigned targets, up to 2^64-1 (MySQL's BIGINT UNSIGNED).
std::uint64_t decimal_to_uint64(const field_view& f);

/// Calls `each(context, element)` for every element of a kind::array field, in order; NULL
/// elements come as kind::null. Multi-dimensional arrays are an error naming the column.
void for_each_array_element(const field_view& f, void* context,
                            void (*each)(void* context, const field_view& element));

template <class T>
inline constexpr bool is_vector_v = false;
template <class T, class A>
inline constexpr bool is_vector_v<std::vector<T, A>> = !std::is_same_v<T, std::byte>;

/// SQL DATE and TIMESTAMP as text, the form SQLite's date functions use and PostgreSQL and
/// MySQL accept: "YYYY-MM-DD" and "YYYY-MM-DD HH:MM:SS.ffffff" (UTC). `out` needs 32 bytes.
std::size_t format_date(date d, char* out) noexcept;
std::size_t format_timestamp(timestamp t, char* out) noexcept;
/// Parses those forms (a 'T' separator, a trailing 'Z' or "+00:00" and 0-6 fraction digits are
/// accepted; timestamps also from an integer of Unix seconds). Errors name the column.
date parse_date(const field_view& f);
timestamp parse_timestamp(const field_view& f);

template <class T>
inline constexpr bool is_optional_v = false;
template <class T>
inline constexpr bool is_optional_v<std::optional<T>> = true;

template <class T>
inline constexpr bool is_sys_time_v = false;
template <class D>
inline constexpr bool is_sys_time_v<std::chrono::sys_time<D>> = true;

}  // namespace detail

/// Converts a bindable value to the view a backend binds. The view may point into `v`, which
/// must outlive the call that binds it.
template <class T>
requires bindable<T>
[[nodiscard]] constexpr param_ref to_param(const T& v) {
    using U = std::remove_cvref_t<T>;
    param_ref p;
    if constexpr (detail::is_optional_v<U>) {
        if (!v) return p;
        return to_param(*v);
    } else if constexpr (std::is_same_v<U, std::nullopt_t>) {
        return p;
    } else if constexpr (std::is_same_v<U, bool>) {
        p.type = param_ref::kind::boolean;
        p.num.b = v;
    } else if constexpr (std::is_integral_v<U> && std::is_signed_v<U>) {
        p.type = param_ref::kind::int64;
        // NOLINTNEXTLINE(bugprone-signed-char-misuse): std::int8_t is a number here
        p.num.i = static_cast<std::int64_t>(v);
    } else if constexpr (std::is_integral_v<U>) {
        p.type = param_ref::kind::uint64;
        p.num.u = static_cast<std::uint64_t>(v);
    } else if constexpr (std::is_floating_point_v<U>) {
        p.type = param_ref::kind::float64;
        p.num.d = static_cast<double>(v);
    } else if constexpr (std::is_pointer_v<U>) {  // const char*: a null pointer binds NULL
        if (v == nullptr) return p;
        p.type = param_ref::kind::text;
        p.bytes = std::string_view(v);
    } else if constexpr (std::is_convertible_v<const U&, std::string_view>) {
        p.type = param_ref::kind::text;
        p.bytes = std::string_view(v);
    } else if constexpr (std::is_same_v<U, blob> || std::is_same_v<U, blob_view> ||
                         std::is_same_v<U, std::span<std::byte>>) {
        p.type = param_ref::kind::binary;
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): bytes viewed as chars
        p.bytes = std::string_view(reinterpret_cast<const char*>(v.data()), v.size());
    } else if constexpr (std::is_same_v<U, date>) {
        p.type = param_ref::kind::date_value;
        p.day = v;
    } else if constexpr (detail::is_sys_time_v<U>) {
        p.type = param_ref::kind::timestamp_value;
        p.ts = std::chrono::floor<std::chrono::microseconds>(v);
    } else {
        // A user type: converted through its traits. The converted value is a temporary, so
        // only types whose db_type owns no memory (numbers, dates) or is a string the traits
        // return by reference can be viewed; `bind_holder` in the connection keeps owners.
        static_assert(!std::is_same_v<U, U>, "dal: internal: use bind_holder for custom types");
    }
    return p;
}

/// Keeps the converted value of a custom type alive while its view is bound; for built-in
/// types it only refers to the argument.
template <class T>
struct bind_holder {
    explicit bind_holder(const T& v) noexcept : value(&v) {}
    [[nodiscard]] param_ref ref() const { return to_param(*value); }

private:
    const T* value;
};
template <class T>
requires custom_value<T>
struct bind_holder<T> {
    typename type_traits<T>::db_type converted;
    explicit bind_holder(const T& v) : converted(type_traits<T>::to_db(v)) {}
    [[nodiscard]] param_ref ref() const { return to_param(converted); }
};
template <class T>
requires custom_value<T>
struct bind_holder<std::optional<T>> {
    std::optional<typename type_traits<T>::db_type> converted;
    explicit bind_holder(const std::optional<T>& v) {
        if (v) converted = type_traits<T>::to_db(*v);
    }
    [[nodiscard]] param_ref ref() const { return to_param(converted); }
};

/// The arguments of one call as the views a backend binds, with the converted values of custom
/// types kept alive beside them. Not copyable or movable: the views point into the holders.
template <class... Args>
class bound_params {
public:
    explicit bound_params(const Args&... args)
        : holders_(args...),
          refs_(std::apply([](const auto&... h) { return refs_type{h.ref()...}; }, holders_)) {}
    bound_params(const bound_params&) = delete;
    bound_params& operator=(const bound_params&) = delete;
    bound_params(bound_params&&) = delete;
    bound_params& operator=(bound_params&&) = delete;
    ~bound_params() = default;

    [[nodiscard]] std::span<const param_ref> refs() const noexcept { return refs_; }

private:
    using refs_type = std::array<param_ref, sizeof...(Args)>;
    std::tuple<bind_holder<Args>...> holders_;  // declared first: refs_ views into it
    refs_type refs_;
};

/// A type a column value can be read into.
template <class T>
concept readable =
    native_value<T> && !std::is_same_v<T, std::string_view> && !std::is_pointer_v<T> &&
    !std::is_array_v<T> && !std::is_same_v<T, blob_view> && !std::is_same_v<T, std::nullopt_t>;

/// Reads a field into `T`: strict, range-checked, NULL only into std::optional.
template <class T>
[[nodiscard]] T from_field(const field_view& f) {
    using K = field_view::kind;
    if constexpr (detail::is_optional_v<T>) {
        if (f.type == K::null) return std::nullopt;
        return T(from_field<typename T::value_type>(f));
    } else if constexpr (custom_value<T>) {
        return type_traits<T>::from_db(from_field<typename type_traits<T>::db_type>(f));
    } else if constexpr (detail::is_vector_v<T>) {
        // An SQL array, element by element with the same strict rules.
        if (f.type == K::null)
            detail::throw_type_mismatch(client_errc::null_value, f.column_name(),
                                        "is NULL: read it into a std::optional");
        if (f.type != K::array)
            detail::throw_type_mismatch(client_errc::type_mismatch, f.column_name(),
                                        "is not an array");
        T out;
        detail::for_each_array_element(f, &out, [](void* ctx, const field_view& e) {
            static_cast<T*>(ctx)->push_back(from_field<typename T::value_type>(e));
        });
        return out;
    } else {
        static_assert(readable<T>, "dal: this type cannot be read from a column");
        if (f.type == K::null)
            detail::throw_type_mismatch(client_errc::null_value, f.column_name(),
                                        "is NULL: read it into a std::optional");
        if constexpr (std::is_same_v<T, bool>) {
            if (f.type != K::int64 || (f.i != 0 && f.i != 1))
                detail::throw_type_mismatch(client_errc::type_mismatch, f.column_name(),
                                            "is not a boolean (0 or 1)");
            return f.i != 0;
        } else if constexpr (std::is_integral_v<T>) {
            std::int64_t v = f.i;
            if constexpr (std::is_unsigned_v<T>) {
                if (f.type == K::decimal) {
                    const std::uint64_t u = detail::decimal_to_uint64(f);
                    if (!std::in_range<T>(u))
                        detail::throw_type_mismatch(
                            client_errc::value_out_of_range, f.column_name(),
                            "holds an integer that does not fit the C++ type");
                    return static_cast<T>(u);
                }
            }
            if (f.type == K::decimal)
                v = detail::decimal_to_int64(f);
            else if (f.type != K::int64)
                detail::throw_type_mismatch(client_errc::type_mismatch, f.column_name(),
                                            "is not an integer");
            if (!std::in_range<T>(v))
                detail::throw_type_mismatch(client_errc::value_out_of_range, f.column_name(),
                                            "holds an integer that does not fit the C++ type");
            return static_cast<T>(v);
        } else if constexpr (std::is_floating_point_v<T>) {
            if (f.type == K::float64) {
                if constexpr (std::is_same_v<T, float>) {
                    if (f.d > static_cast<double>(std::numeric_limits<float>::max()) ||
                        f.d < -static_cast<double>(std::numeric_limits<float>::max()))
                        detail::throw_type_mismatch(client_errc::value_out_of_range,
                                                    f.column_name(),
                                                    "holds a number too large for float");
                }
                return static_cast<T>(f.d);
            }
            if (f.type == K::int64) return static_cast<T>(f.i);
            if (f.type == K::decimal)
                detail::throw_type_mismatch(
                    client_errc::type_mismatch, f.column_name(),
                    "is an exact NUMERIC/DECIMAL: read it as dal::decimal or std::string, or "
                    "cast it to a floating-point type in the SQL if rounding is acceptable");
            detail::throw_type_mismatch(client_errc::type_mismatch, f.column_name(),
                                        "is not a number");
        } else if constexpr (std::is_same_v<T, std::string>) {
            if (f.type != K::text && f.type != K::decimal && f.type != K::array)
                detail::throw_type_mismatch(client_errc::type_mismatch, f.column_name(),
                                            "is not text");
            return std::string(f.bytes);
        } else if constexpr (std::is_same_v<T, blob>) {
            if (f.type != K::binary && f.type != K::text)
                detail::throw_type_mismatch(client_errc::type_mismatch, f.column_name(),
                                            "is not a blob");
            // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): chars viewed as bytes
            const auto* p = reinterpret_cast<const std::byte*>(f.bytes.data());
            return blob(p, p + f.bytes.size());
        } else if constexpr (std::is_same_v<T, date>) {
            return detail::parse_date(f);
        } else if constexpr (detail::is_sys_time_v<T>) {
            return std::chrono::time_point_cast<typename T::duration>(detail::parse_timestamp(f));
        } else {
            static_assert(!std::is_same_v<T, T>, "dal: unsupported column type");
        }
    }
}

}  // namespace dal
