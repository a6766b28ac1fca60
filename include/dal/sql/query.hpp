// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// Portable SQL checked and translated at compile time, and the run-time translator.
///
///     using namespace dal::literals;
///     auto q = dal::sql::bind<dal::sql::postgresql_dialect>(
///         "SELECT [name] FROM [users] WHERE [id] = ?"_sql, user_id);
///     // q.sql == R"(SELECT "name" FROM "users" WHERE "id" = $1)", computed by the compiler
///
/// A wrong number of arguments, an argument type that cannot be bound, or malformed SQL
/// (unterminated quote, bracket or comment, empty `[]`, `?` mixed with `$n`) stops the build
/// with a message that starts with "dal:". Connections use the same checks for their
/// `execute("..."_sql, args...)` overloads.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>

#include <dal/sql/dialect.hpp>
#include <dal/sql/translate.hpp>
#include <dal/types.hpp>

namespace dal::sql {

/// A string literal usable as a template argument (C++20 class-type NTTP).
template <std::size_t N>
struct fixed_string {
    char chars[N]{};
    // NOLINTNEXTLINE(google-explicit-constructor,hicpp-explicit-conversions): literal syntax
    consteval fixed_string(const char (&s)[N]) noexcept {
        for (std::size_t k = 0; k < N; ++k)
            chars[k] = s[k];
    }
    [[nodiscard]] constexpr std::string_view view() const noexcept { return {chars, N - 1}; }
};

/// Portable SQL known at compile time. Obtain one with the `_sql` literal.
template <fixed_string S>
struct literal {
    static constexpr std::string_view text = S.view();
};

/// True for `literal<S>` types; lets overloads tell compile-time SQL from run-time strings.
template <class T>
inline constexpr bool is_literal_v = false;
template <fixed_string S>
inline constexpr bool is_literal_v<literal<S>> = true;

/// Portable SQL `S` translated for dialect `D` by the compiler. Malformed SQL is a compile
/// error here, with the reason in the message.
template <dialect D, fixed_string S>
struct compiled {
    static constexpr translation info = [] {
        detail::counting_sink sink{};
        return translate(S.view(), D, sink);
    }();

    static_assert(info.error != sql_error::unterminated_string,
                  "dal: unterminated string literal in the SQL: a quote is never closed");
    static_assert(info.error != sql_error::unterminated_quoted_identifier,
                  "dal: unterminated quoted identifier in the SQL: a \" or ` is never closed");
    static_assert(info.error != sql_error::unterminated_bracket_identifier,
                  "dal: unterminated [identifier] in the SQL: a '[' has no matching ']'");
    static_assert(info.error != sql_error::empty_bracket_identifier,
                  "dal: empty [] identifier in the SQL: write the name between the brackets");
    static_assert(info.error != sql_error::unterminated_block_comment,
                  "dal: unterminated /* block comment in the SQL");
    static_assert(info.error != sql_error::unterminated_dollar_quote,
                  "dal: unterminated dollar-quoted string in the SQL: $tag$ is never closed");
    static_assert(info.error != sql_error::mixed_placeholders,
                  "dal: the SQL mixes placeholder styles: use one of portable ?, native numbered "
                  "($n, ?NNN) or SQLite named (:name) parameters");
    static_assert(info.error != sql_error::invalid_positional_parameter,
                  "dal: invalid numbered parameter in the SQL: $n and ?NNN run from 1 to 65535");
    static_assert(info.error != sql_error::too_many_parameters,
                  "dal: the SQL has more than 65535 parameters");
    static_assert(info.error != sql_error::embedded_nul, "dal: the SQL contains a NUL byte");
    static_assert(info.error != sql_error::too_many_named_parameters,
                  "dal: more than 64 distinct SQLite named parameters: use ?");

private:
    static constexpr auto storage = [] {
        std::array<char, info.size + 1> out{};  // NUL-terminated for the C drivers
        detail::pointer_sink sink{out.data()};
        translate(S.view(), D, sink);
        return out;
    }();

public:
    /// The native SQL.
    static constexpr std::string_view sql{storage.data(), info.size};
    /// The same, NUL-terminated, for C APIs.
    static constexpr const char* c_str() noexcept { return storage.data(); }
    /// How many values a call must bind.
    static constexpr std::size_t parameter_count = info.parameter_count;
    /// hash_sql(sql), for the statement cache.
    static constexpr std::size_t hash = hash_sql(sql);
};

namespace detail {
/// Instantiated per argument so the compiler's note names the offending type.
template <class T>
constexpr bool assert_bindable() noexcept {
    static_assert(bindable<T>,
                  "dal: argument type is not bindable: use a built-in type (bool, integers, "
                  "float/double, strings, dal::blob, dal::date, time points, std::optional) or "
                  "specialise dal::type_traits<T> for it");
    return bindable<T>;
}
}  // namespace detail

/// Compile-time check of a call: SQL well formed, argument count equal to the placeholder
/// count, every argument bindable. Used by `bind` and by connections' execute overloads.
template <dialect D, fixed_string S, class... Args>
constexpr void check_arguments() noexcept {
    using q = compiled<D, S>;
    constexpr bool sql_ok = q::info.ok();
    static_assert(!sql_ok || sizeof...(Args) <= q::parameter_count,
                  "dal: too many arguments: the SQL has fewer parameters (? or $n) than arguments");
    static_assert(!sql_ok || sizeof...(Args) >= q::parameter_count,
                  "dal: too few arguments: the SQL has more parameters (? or $n) than arguments");
    (detail::assert_bindable<Args>(), ...);
}

/// Native SQL plus references to the arguments for one call. A view: use it within the full
/// expression that created it (the connection does).
template <class... Args>
struct bound {
    std::string_view sql;
    const char* c_str;
    std::tuple<const Args&...> args;
};

/// Checks and translates `lit` for `D` at compile time and ties it to `args`.
template <dialect D, fixed_string S, class... Args>
constexpr bound<Args...> bind(literal<S> /*lit*/, const Args&... args) noexcept {
    check_arguments<D, S, Args...>();
    using q = compiled<D, S>;
    return {q::sql, q::c_str(), std::tuple<const Args&...>(args...)};
}

/// Native SQL translated at run time.
struct native_sql {
    std::string text;
    std::size_t parameter_count = 0;
    placeholder_style style = placeholder_style::none;
    dialect for_dialect{};  ///< the dialect `text` is written in (for redaction in errors)
};

/// Translates portable SQL built at run time. Throws `dal::error` (`errc::syntax_error`) naming
/// the problem and its byte offset.
[[nodiscard]] native_sql to_native(std::string_view portable_sql, const dialect& d);

/// Same, reporting failure through `ec`; `out` is unspecified on error.
void to_native(std::string_view portable_sql, const dialect& d, native_sql& out,
               std::error_code& ec, std::string* message = nullptr);

/// Throws unless `argument_count` equals the statement's parameter count.
void check_argument_count(const native_sql& q, std::size_t argument_count);

/// Native SQL with string literal bodies replaced by `***`: safe for logs and exceptions.
[[nodiscard]] std::string redacted(std::string_view native_sql, const dialect& d);

}  // namespace dal::sql

namespace dal::literals {
/// `"SELECT ..."_sql`: portable SQL checked at compile time.
template <dal::sql::fixed_string S>
// constexpr, not consteval: clang 14 drops consteval calls made inside generic lambdas.
constexpr dal::sql::literal<S> operator""_sql() noexcept {
    return {};
}
}  // namespace dal::literals
