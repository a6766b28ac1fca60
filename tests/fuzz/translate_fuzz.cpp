// libFuzzer target for the SQL translator. The first input byte picks the dialect and its
// session options; the rest is the SQL. Invariants checked on every input:
//   - translation terminates and never crashes (sanitizers, libFuzzer's -timeout);
//   - the counting pass and the writing pass agree on size and outcome;
//   - on success, the string literals and dollar-quoted bodies of the output are exactly those
//     of the input (translation never changes quoted text), and the output lexes cleanly;
//   - redaction of a statement that lexes never fails and never shows a literal body;
//   - the run-time API throws nothing but dal::error.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <dal/error.hpp>
#include <dal/sql/query.hpp>
#include <dal/sql/translate.hpp>

namespace {

[[noreturn]] void violated(const char* what) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();  // libFuzzer records the input that got here
}

template <class F>
std::string collect(F&& f) {
    std::string out;
    dal::sql::detail::string_sink<std::string> sink{&out};
    f(sink);
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t sel = data[0];
    dal::sql::dialect d{};
    d.kind = static_cast<dal::sql::dialect_kind>(sel % 3);
    d.standard_conforming_strings = (sel & 0x04) == 0;
    d.no_backslash_escapes = (sel & 0x08) != 0;
    d.ansi_quotes = (sel & 0x10) != 0;
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): libFuzzer hands bytes
    const std::string_view sql(reinterpret_cast<const char*>(data + 1), size - 1);

    dal::sql::translation t;
    const std::string out = collect([&](auto& s) { t = dal::sql::translate(sql, d, s); });
    dal::sql::detail::counting_sink counter;
    const dal::sql::translation c = dal::sql::translate(sql, d, counter);
    if (c.error != t.error || c.size != t.size || c.parameter_count != t.parameter_count)
        violated("counting and writing passes disagree");
    if (t.ok()) {
        if (out.size() != t.size) violated("size mismatch");
        dal::sql::translation lin;
        dal::sql::translation lout;
        const std::string lits_in = collect([&](auto& s) { lin = dal::sql::literals(sql, d, s); });
        const std::string lits_out =
            collect([&](auto& s) { lout = dal::sql::literals(out, d, s); });
        if (!lin.ok() || !lout.ok()) violated("translated SQL does not lex");
        if (lits_in != lits_out) violated("translation changed a string literal");

        dal::sql::translation r;
        const std::string red = collect([&](auto& s) { r = dal::sql::redact(out, d, s); });
        if (!r.ok()) violated("redaction failed on SQL that lexes");
        const std::string lits_red = collect([&](auto& s) { (void)dal::sql::literals(red, d, s); });
        // Every literal of the redacted text has a body of exactly "***".
        std::size_t pos = 0;
        while (pos < lits_red.size()) {
            const std::size_t end = lits_red.find('\x1f', pos);
            const std::string_view lit(lits_red.data() + pos, end - pos);
            if (lit.find("***") == std::string_view::npos) violated("literal not redacted");
            pos = end + 1;
        }
    }
    try {
        const auto native = dal::sql::to_native(sql, d);
        if (!t.ok() || native.text != out) violated("run-time API disagrees");
    } catch (const dal::error& e) {
        if (t.ok()) violated("run-time API threw on valid SQL");
        if (!(e.code() == dal::errc::syntax_error)) violated("wrong error condition");
    }
    return 0;
}
