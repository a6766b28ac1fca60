// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// Which C++ types can be bound as statement parameters, and how users add their own.
///
/// Built-in types map directly onto every backend's wire types. A user type becomes bindable by
/// specialising `dal::type_traits<T>` to say which built-in type stands for it on the database
/// side and how to convert (the C++ form of the Python design's `register_serializer`):
///
///     template <> struct dal::type_traits<money> {
///         using db_type = std::int64_t;                        // cents
///         static db_type to_db(const money& m) noexcept { return m.cents; }
///         static money from_db(db_type v) { return money{v}; }
///     };
///
/// The primary template is left undefined on purpose (as {fmt}'s `formatter<T>`), so an
/// unsupported type is a compile error at the call that binds it, never a run-time surprise.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace dal {

/// Binary data owned, and viewed.
using blob = std::vector<std::byte>;
using blob_view = std::span<const std::byte>;
/// A calendar date without time zone (SQL DATE).
using date = std::chrono::year_month_day;
/// A point in time, microsecond precision as every supported server stores it (SQL TIMESTAMP).
using timestamp = std::chrono::sys_time<std::chrono::microseconds>;

/// Customisation point for user types; see the file comment. Deliberately undefined.
template <class T>
struct type_traits;

namespace detail {

template <class T>
struct is_native_value : std::false_type {};

template <class T>
requires(std::is_integral_v<T> && !std::is_same_v<T, char> && !std::is_same_v<T, wchar_t> &&
         !std::is_same_v<T, char8_t> && !std::is_same_v<T, char16_t> &&
         !std::is_same_v<T, char32_t>) struct is_native_value<T> : std::true_type {
};  // bool and every integer width
template <>
struct is_native_value<float> : std::true_type {};
template <>
struct is_native_value<double> : std::true_type {};
template <>
struct is_native_value<std::string> : std::true_type {};
template <>
struct is_native_value<std::string_view> : std::true_type {};
template <>
struct is_native_value<const char*> : std::true_type {};
template <>
struct is_native_value<char*> : std::true_type {};
template <std::size_t N>
struct is_native_value<char[N]> : std::true_type {};
template <>
struct is_native_value<blob> : std::true_type {};
template <>
struct is_native_value<blob_view> : std::true_type {};
template <>
struct is_native_value<std::span<std::byte>> : std::true_type {};
template <>
struct is_native_value<date> : std::true_type {};
template <class Duration>
struct is_native_value<std::chrono::sys_time<Duration>> : std::true_type {};
template <>
struct is_native_value<std::nullopt_t> : std::true_type {};

template <class T>
struct optional_value {
    static constexpr bool is_optional = false;
};
template <class T>
struct optional_value<std::optional<T>> {
    static constexpr bool is_optional = true;
    using type = T;
};

}  // namespace detail

/// A type every backend binds directly.
template <class T>
concept native_value = detail::is_native_value<std::remove_cvref_t<T>>::value;

/// A user type with a complete `dal::type_traits<T>` mapping onto a native type.
template <class T>
concept custom_value = requires(const std::remove_cvref_t<T>& v) {
    typename type_traits<std::remove_cvref_t<T>>::db_type;
    {type_traits<std::remove_cvref_t<T>>::to_db(v)};
}
&&native_value<typename type_traits<std::remove_cvref_t<T>>::db_type>;

/// What can be passed as a statement parameter: native, custom, or an optional of either
/// (an empty optional binds NULL).
template <class T>
concept bindable = native_value<T> || custom_value<T> ||
    (detail::optional_value<std::remove_cvref_t<T>>::is_optional &&
     (native_value<typename detail::optional_value<std::remove_cvref_t<T>>::type> ||
      custom_value<typename detail::optional_value<std::remove_cvref_t<T>>::type>));

}  // namespace dal
