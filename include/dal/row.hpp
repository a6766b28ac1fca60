// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// Reading rows into C++ types: a single value, a `std::tuple` (by position) or a struct
/// described with Boost.Hana (by column name).
///
///     struct user {
///         BOOST_HANA_DEFINE_STRUCT(user, (std::int64_t, id), (std::string, name),
///                                  (std::optional<int>, age));
///     };
///     auto users = conn.query<user>("SELECT [id], [name], [age] FROM [users]"_sql);
///
/// The mapping from columns to members is worked out once per result, not once per row, and
/// a member without a column is an error that names both.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <boost/hana/accessors.hpp>
#include <boost/hana/at.hpp>
#include <boost/hana/concept/struct.hpp>
#include <boost/hana/first.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/second.hpp>
#include <boost/hana/size.hpp>
#include <boost/hana/string.hpp>

#include <dal/value.hpp>

namespace dal {

/// A struct described with BOOST_HANA_DEFINE_STRUCT or BOOST_HANA_ADAPT_STRUCT.
template <class T>
concept reflected = boost::hana::Struct<T>::value;

/// What a backend's row must offer to be read.
template <class R>
concept row_source = requires(const R& r, std::size_t i) {
    { r.size() } -> std::convertible_to<std::size_t>;
    { r.name(i) } -> std::convertible_to<std::string_view>;
    { r.field(i) } -> std::same_as<field_view>;
};

namespace detail {

[[noreturn]] void throw_shape_mismatch(std::string_view what);

template <class T>
inline constexpr bool is_tuple_v = false;
template <class... Ts>
inline constexpr bool is_tuple_v<std::tuple<Ts...>> = true;

template <reflected T>
inline constexpr std::size_t member_count =
    decltype(boost::hana::size(boost::hana::accessors<T>()))::value;

template <reflected T, std::size_t... I>
constexpr std::array<std::string_view, sizeof...(I)> member_names_impl(std::index_sequence<I...>) {
    return {std::string_view(boost::hana::to<const char*>(
        boost::hana::first(boost::hana::at_c<I>(boost::hana::accessors<T>()))))...};
}

template <reflected T>
inline constexpr auto member_names =
    member_names_impl<T>(std::make_index_sequence<member_count<T>>{});

template <class Row>
std::size_t find_column(const Row& r, std::string_view name) {
    for (std::size_t c = 0; c < r.size(); ++c)
        if (r.name(c) == name) return c;
    return r.size();
}

}  // namespace detail

/// Reads rows of one result into `T`. Built from the first row (column names and count), then
/// reused for every row of that result.
template <class T>
class row_reader {
public:
    template <row_source Row>
    explicit row_reader(const Row& first) {
        if constexpr (reflected<T>) {
            constexpr auto names = detail::member_names<T>;
            for (std::size_t m = 0; m < names.size(); ++m) {
                columns_[m] = detail::find_column(first, names[m]);
                if (columns_[m] == first.size())
                    detail::throw_shape_mismatch("the result has no column named '" +
                                                 std::string(names[m]) +
                                                 "' for the struct member of that name");
            }
        } else if constexpr (detail::is_tuple_v<T>) {
            if (first.size() != std::tuple_size_v<T>)
                detail::throw_shape_mismatch("the result has " + std::to_string(first.size()) +
                                             " columns, the tuple " +
                                             std::to_string(std::tuple_size_v<T>) + " elements");
        } else {
            if (first.size() != 1)
                detail::throw_shape_mismatch("the result has " + std::to_string(first.size()) +
                                             " columns, reading a single value needs exactly 1");
        }
    }

    template <row_source Row>
    [[nodiscard]] T read(const Row& r) const {
        if constexpr (reflected<T>) {
            T out{};
            std::size_t m = 0;
            boost::hana::for_each(boost::hana::accessors<T>(), [&](auto pair) {
                auto& member = boost::hana::second(pair)(out);
                member = from_field<std::remove_cvref_t<decltype(member)>>(r.field(columns_[m]));
                ++m;
            });
            return out;
        } else if constexpr (detail::is_tuple_v<T>) {
            return read_tuple(r, std::make_index_sequence<std::tuple_size_v<T>>{});
        } else {
            return from_field<T>(r.field(0));
        }
    }

private:
    template <class Row, std::size_t... I>
    T read_tuple(const Row& r, std::index_sequence<I...>) const {
        return T(from_field<std::tuple_element_t<I, T>>(r.field(I))...);
    }

    static constexpr std::size_t column_slots() {
        if constexpr (reflected<T>)
            return detail::member_count<T>;
        else
            return 0;
    }
    std::array<std::size_t, column_slots()> columns_{};
};

}  // namespace dal
