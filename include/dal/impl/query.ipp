// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
// Compiled once into dal::dal (see CMakeLists.txt); not a public header.

#include <string>

#include <dal/error.hpp>
#include <dal/sql/query.hpp>

namespace dal::sql {
namespace {

std::string describe_failure(const translation& t, const dialect& d) {
    std::string m(describe(t.error));
    m += " at byte ";
    m += std::to_string(t.error_offset);
    m += " (";
    m += d.name();
    m += " dialect)";
    return m;
}

}  // namespace

void to_native(std::string_view portable_sql, const dialect& d, native_sql& out,
               std::error_code& ec, std::string* message) {
    out.text.clear();
    out.text.reserve(portable_sql.size() + 8);
    detail::string_sink<std::string> sink{&out.text};
    const translation t = translate(portable_sql, d, sink);
    if (!t.ok()) {
        ec = make_error_code(client_errc::sql_syntax);
        if (message != nullptr) *message = describe_failure(t, d);
        return;
    }
    out.parameter_count = t.parameter_count;
    out.style = t.style;
    out.for_dialect = d;
    ec.clear();
}

native_sql to_native(std::string_view portable_sql, const dialect& d) {
    native_sql out;
    std::error_code ec;
    std::string message;
    to_native(portable_sql, d, out, ec, &message);
    if (ec) throw error(ec, diagnostics{.message = message, .sql = redacted(portable_sql, d)});
    return out;
}

void check_argument_count(const native_sql& q, std::size_t argument_count) {
    if (argument_count == q.parameter_count) return;
    throw error(make_error_code(client_errc::wrong_argument_count),
                diagnostics{.message = "the statement has " + std::to_string(q.parameter_count) +
                                       " parameter(s) but " + std::to_string(argument_count) +
                                       " argument(s) were bound",
                            .sql = redacted(q.text, q.for_dialect)});
}

std::string redacted(std::string_view native_sql, const dialect& d) {
    std::string out;
    out.reserve(native_sql.size());
    detail::string_sink<std::string> sink{&out};
    (void)redact(native_sql, d, sink);
    return out;
}

}  // namespace dal::sql
