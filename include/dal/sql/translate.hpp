// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// The portable SQL dialect and its translator.
///
/// Portable SQL is the backend's own SQL plus three tokens outside quoted text:
///   - `[name]` quotes an identifier (`]]` inside stands for `]`);
///   - `?` is a parameter;
///   - `??` is a literal `?` (PostgreSQL's jsonb `?`, `?|`, `?&` are written `??`, `??|`, `??&`).
/// Everything else passes through byte for byte. Each dialect is lexed by its own rules, so
/// string literals, quoted identifiers, comments and dollar-quoted bodies are never changed.
///
/// A `[` is native SQL (an array subscript, slice or type, passed through) rather than a quoted
/// identifier when the byte right before it is an identifier character, a digit, `]`, `)`, `"`,
/// `` ` `` or `?`, or when the previous token (ignoring whitespace and comments) is the keyword
/// `ARRAY`. So `arr[1]`, `m[i][j]`, `int[]`, `(f(x))[2]` and `ARRAY [1,2]` survive, while
/// `SELECT [id] FROM [t]`, `([a])`, `x=[b]` and `[s].[t]` are identifiers. Inside a native
/// bracket every bracket is native (`ARRAY[[1,2],[3,4]]`). See docs/sql-dialect.md.
///
/// The translator is a `constexpr` function template over an output sink: with a counting sink
/// and then an array sink it runs at compile time for string literals (see query.hpp); with a
/// `std::string` sink it serves SQL built at run time. Both share every rule.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <dal/sql/dialect.hpp>

namespace dal::sql {

/// Why a statement could not be translated. Each is a compile error for literal SQL and a
/// `dal::error` with the offset for SQL built at run time.
enum class sql_error : std::uint8_t {
    none = 0,
    unterminated_string,              ///< a '...' (or MySQL "...") literal is never closed
    unterminated_quoted_identifier,   ///< a "..." or `...` identifier is never closed
    unterminated_bracket_identifier,  ///< a portable [name] is never closed
    empty_bracket_identifier,         ///< [] where a portable identifier was expected
    unterminated_block_comment,       ///< a /* comment is never closed
    unterminated_dollar_quote,        ///< a PostgreSQL $tag$ body is never closed
    mixed_placeholders,               ///< ? mixed with native $n (or SQLite ?NNN)
    invalid_positional_parameter,     ///< $0 or a number beyond the protocol's limit
    too_many_parameters,              ///< more than 65535 parameters
    embedded_nul,                     ///< a NUL byte: C drivers would silently cut the SQL there
    too_many_named_parameters,        ///< more distinct SQLite :name/@name/$name than dal tracks
};

/// A sentence that names what is wrong; used in exceptions and by the error category.
[[nodiscard]] constexpr std::string_view describe(sql_error e) noexcept {
    switch (e) {
        case sql_error::none: return "no error";
        case sql_error::unterminated_string: return "unterminated string literal";
        case sql_error::unterminated_quoted_identifier: return "unterminated quoted identifier";
        case sql_error::unterminated_bracket_identifier:
            return "unterminated [identifier] (missing ']')";
        case sql_error::empty_bracket_identifier: return "empty [] identifier";
        case sql_error::unterminated_block_comment: return "unterminated /* block comment";
        case sql_error::unterminated_dollar_quote: return "unterminated dollar-quoted string";
        case sql_error::mixed_placeholders:
            return "placeholder styles mixed: use one of portable ?, native numbered ($n, ?NNN) "
                   "or SQLite named (:name) parameters";
        case sql_error::invalid_positional_parameter:
            return "invalid numbered parameter ($n or ?NNN run from 1 to 65535)";
        case sql_error::too_many_parameters: return "more than 65535 parameters";
        case sql_error::embedded_nul: return "NUL byte inside the SQL text";
        case sql_error::too_many_named_parameters:
            return "more than 64 distinct SQLite named parameters (:name, @name, $name): use ?";
    }
    return "unknown SQL error";
}

/// Which kind of placeholder a statement used.
enum class placeholder_style : std::uint8_t {
    none,        ///< no parameters
    portable,    ///< `?`
    positional,  ///< native numbered parameters: `$n` (PostgreSQL), `?NNN` (SQLite)
};

/// The outcome of translating one statement.
struct translation {
    sql_error error = sql_error::none;
    std::size_t error_offset = 0;     ///< byte offset of the offending token in the input
    std::size_t parameter_count = 0;  ///< values the statement binds (highest $n for positional)
    placeholder_style style = placeholder_style::none;
    std::size_t size = 0;  ///< bytes written to the sink
    [[nodiscard]] constexpr bool ok() const noexcept { return error == sql_error::none; }
};

/// The most parameters any of the protocols can carry (a 16-bit count on the wire).
inline constexpr std::size_t max_parameters = 65535;

namespace detail {

/// Sink that only measures: the first pass of compile-time translation.
struct counting_sink {
    std::size_t size = 0;
    constexpr void append(std::string_view s) noexcept { size += s.size(); }
};

/// Sink that writes into storage the first pass has sized.
struct pointer_sink {
    char* out;
    constexpr void append(std::string_view s) noexcept {
        for (char c : s)
            *out++ = c;
    }
};

/// Sink over any string-like container with `append(const char*, size_t)`.
template <class String>
struct string_sink {
    String* out;
    constexpr void append(std::string_view s) { out->append(s.data(), s.size()); }
};

/// translate: portable -> native. redact: string bodies -> `***`. literals: emit only the string
/// literals and dollar-quoted strings, each followed by '\x1f' (the fuzzer's invariant check).
enum class lex_mode : std::uint8_t { translate, redact, literals };

constexpr bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}
constexpr bool is_high(char c) noexcept {
    return static_cast<unsigned char>(c) >= 0x80;
}
constexpr bool is_alpha(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
/// First character of an unquoted identifier or keyword.
constexpr bool is_word_start(char c) noexcept {
    return is_alpha(c) || c == '_' || is_high(c);
}
/// Later characters of an identifier: every backend accepts `$` there.
constexpr bool is_word_char(char c) noexcept {
    return is_word_start(c) || is_digit(c) || c == '$';
}
constexpr bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
constexpr bool iequals_ascii(std::string_view a, std::string_view lower) noexcept {
    if (a.size() != lower.size()) return false;
    for (std::size_t k = 0; k < a.size(); ++k) {
        char c = a[k];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != lower[k]) return false;
    }
    return true;
}

/// Writes a decimal number (1..65535) without the standard library, usable at compile time.
template <class Sink>
constexpr void append_number(Sink& out, std::size_t n) {
    char buf[20]{};
    std::size_t len = 0;
    do {
        buf[len++] = static_cast<char>('0' + n % 10);
        n /= 10;
    } while (n != 0);
    char rev[20]{};
    for (std::size_t k = 0; k < len; ++k)
        rev[k] = buf[len - 1 - k];
    out.append(std::string_view(rev, len));
}

/// One pass over a statement. The output is the input with a few edits; unchanged runs are
/// copied in one piece, so translating SQL without portable tokens costs one scan and one copy.
template <class Sink, lex_mode Mode>
class lexer {
public:
    constexpr lexer(std::string_view in, dialect d, Sink& out) noexcept
        : in_(in), d_(d), out_(out) {}

    constexpr translation run() {
        while (i_ < in_.size() && step()) {
        }
        if (r_.ok() && in_exec_comment_) fail(sql_error::unterminated_block_comment, exec_start_);
        if (!r_.ok() && Mode == lex_mode::redact) {  // (literals mode writes nothing here)
            // Never echo what could not be lexed: it may be the rest of a secret literal.
            flush(i_ < r_.error_offset ? i_ : r_.error_offset);
            put("...<unlexable remainder redacted>");
            run_ = in_.size();
        }
        flush(in_.size());
        // One style per statement: a second style is reported where it first appears.
        const std::size_t firsts[] = {first_portable_, first_positional_, first_named_};
        std::size_t styles = 0;
        std::size_t second = 0;
        for (const std::size_t f : firsts) {
            if (f == npos) continue;
            ++styles;
            if (f > second) second = f;
        }
        if (r_.ok() && styles > 1) fail(sql_error::mixed_placeholders, second);
        if (first_named_ != npos) {
            // SQLite numbers named parameters in order of first appearance: bound by position.
            r_.style = placeholder_style::positional;
            r_.parameter_count = named_count_;
        } else if (first_positional_ != npos) {
            r_.style = placeholder_style::positional;
            r_.parameter_count = max_positional_;
        } else if (first_portable_ != npos) {
            r_.style = placeholder_style::portable;
            r_.parameter_count = portable_count_;
        }
        return r_;
    }

private:
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    [[nodiscard]] constexpr char at(std::size_t k) const noexcept {
        return k < in_.size() ? in_[k] : '\0';
    }
    [[nodiscard]] constexpr bool is_pg() const noexcept {
        return d_.kind == dialect_kind::postgresql;
    }
    [[nodiscard]] constexpr bool is_mysql() const noexcept {
        return d_.kind == dialect_kind::mysql;
    }
    [[nodiscard]] constexpr bool is_sqlite() const noexcept {
        return d_.kind == dialect_kind::sqlite;
    }

    constexpr bool fail(sql_error e, std::size_t at) noexcept {
        if (r_.ok()) {
            r_.error = e;
            r_.error_offset = at;
        }
        return false;
    }
    constexpr void flush(std::size_t upto) {
        if constexpr (Mode == lex_mode::literals) return;
        if (upto > run_) {
            out_.append(in_.substr(run_, upto - run_));
            r_.size += upto - run_;
            run_ = upto;
        }
    }
    constexpr void put(std::string_view s) {
        if constexpr (Mode == lex_mode::literals) return;
        out_.append(s);
        r_.size += s.size();
    }
    /// Replaces input bytes [from, to) by `with`.
    constexpr void replace(std::size_t from, std::size_t to, std::string_view with) {
        flush(from);
        put(with);
        run_ = to;
    }

    /// Lexes one token starting at i_. Returns false to stop (on error).
    constexpr bool step() {
        const char c = in_[i_];
        switch (c) {
            case '\0': return fail(sql_error::embedded_nul, i_);
            case '\'': return after_token(string_literal(i_, quote_backslashes()));
            case '"':
                if (is_mysql() && !d_.ansi_quotes)
                    return after_token(string_literal(i_, quote_backslashes()));
                return after_token(quoted_identifier(i_, '"'));
            case '`':
                if (!is_pg()) return after_token(quoted_identifier(i_, '`'));
                return other(1);
            case '-':
                if (at(i_ + 1) == '-' &&
                    (!is_mysql() || static_cast<unsigned char>(at(i_ + 2)) <= ' '))
                    return line_comment();
                return other(1);
            case '#':
                if (is_mysql()) return line_comment();
                return other(1);
            case '/':
                if (at(i_ + 1) == '*') return block_comment();
                return other(1);
            case '*':
                if (in_exec_comment_ && at(i_ + 1) == '/') {
                    in_exec_comment_ = false;
                    return other(2);
                }
                return other(1);
            case '$':
                if (is_pg()) return dollar();
                if (is_sqlite() && named_parameter_follows()) return named_parameter();
                return word();
            case ':':
            case '@':
                if (is_sqlite() && named_parameter_follows()) return named_parameter();
                return other(1);
            case '?': return question_mark();
            case '[': return bracket();
            case ']':
                if (native_brackets_ > 0) --native_brackets_;
                return other(1);
            default: break;
        }
        if (is_space(c)) {
            ++i_;  // whitespace keeps "the previous token was ARRAY" alive
            return true;
        }
        if (is_word_start(c)) return word();
        if (is_digit(c)) return number();
        return other(1);
    }

    /// SQLite's `:name`, `@name`, `$name`: the sigil followed by a name character.
    [[nodiscard]] constexpr bool named_parameter_follows() const noexcept {
        const char n = at(i_ + 1);
        return is_word_start(n) || is_digit(n);
    }

    /// SQLite `:name`, `@name`, `$name`: native, passed through, counted once per distinct name.
    constexpr bool named_parameter() noexcept {
        const std::size_t start = i_;
        std::size_t j = i_ + 1;
        while (j < in_.size() && (is_word_start(in_[j]) || is_digit(in_[j])))
            ++j;
        i_ = j;
        previous_was_array_ = false;
        if constexpr (Mode != lex_mode::translate) return true;
        const std::string_view name = in_.substr(start, j - start);
        if (first_named_ == npos) first_named_ = start;
        for (std::size_t k = 0; k < named_count_; ++k)
            if (in_.substr(named_at_[k], name.size()) == name &&
                (named_at_[k] + name.size() == in_.size() ||
                 !(is_word_start(in_[named_at_[k] + name.size()]) ||
                   is_digit(in_[named_at_[k] + name.size()]))))
                return true;
        if (named_count_ == max_named) return fail(sql_error::too_many_named_parameters, start);
        named_at_[named_count_++] = start;
        return true;
    }

    [[nodiscard]] constexpr bool quote_backslashes() const noexcept {
        if (is_mysql()) return !d_.no_backslash_escapes;
        if (is_pg()) return !d_.standard_conforming_strings;
        return false;
    }

    constexpr bool after_token(bool ok) noexcept {
        previous_was_array_ = false;
        return ok;
    }
    constexpr bool other(std::size_t len) noexcept {
        i_ += len;
        previous_was_array_ = false;
        return true;
    }

    /// '...' with doubled quotes, and backslash escapes when `backslashes`.
    constexpr bool string_literal(std::size_t start, bool backslashes) {
        const char q = in_[start];
        std::size_t j = start + 1;
        while (j < in_.size()) {
            const char c = in_[j];
            if (c == q) {
                if (at(j + 1) == q) {
                    j += 2;
                    continue;
                }
                if constexpr (Mode == lex_mode::redact) {
                    flush(start + 1);
                    put("***");
                    run_ = j;
                } else if constexpr (Mode == lex_mode::literals) {
                    out_.append(in_.substr(start, j + 1 - start));
                    out_.append("\x1f");
                }
                i_ = j + 1;
                return true;
            }
            if (c == '\0') return fail(sql_error::embedded_nul, j);
            if (backslashes && c == '\\') {
                if (j + 1 >= in_.size()) break;
                if (in_[j + 1] == '\0') return fail(sql_error::embedded_nul, j + 1);
                j += 2;
                continue;
            }
            ++j;
        }
        return fail(sql_error::unterminated_string, start);
    }

    /// "..." or `...` with the quote doubled inside.
    constexpr bool quoted_identifier(std::size_t start, char q) {
        std::size_t j = start + 1;
        while (j < in_.size()) {
            const char c = in_[j];
            if (c == q) {
                if (at(j + 1) == q) {
                    j += 2;
                    continue;
                }
                i_ = j + 1;
                return true;
            }
            if (c == '\0') return fail(sql_error::embedded_nul, j);
            ++j;
        }
        return fail(sql_error::unterminated_quoted_identifier, start);
    }

    constexpr bool line_comment() noexcept {
        std::size_t j = i_;
        while (j < in_.size() && in_[j] != '\n') {
            if (in_[j] == '\0') return fail(sql_error::embedded_nul, j);
            ++j;
        }
        i_ = j;  // the newline itself is whitespace
        return true;
    }

    constexpr bool block_comment() {
        const std::size_t start = i_;
        if (is_mysql() && !in_exec_comment_ &&
            (at(i_ + 2) == '!' || (at(i_ + 2) == 'M' && at(i_ + 3) == '!'))) {
            // MySQL executable comment: its body is SQL the server runs, so lex it as code.
            in_exec_comment_ = true;
            exec_start_ = start;
            i_ += at(i_ + 2) == '!' ? 3U : 4U;
            previous_was_array_ = false;
            return true;
        }
        std::size_t depth = 1;
        std::size_t j = i_ + 2;
        while (j < in_.size()) {
            if (in_[j] == '*' && at(j + 1) == '/') {
                j += 2;
                if (--depth == 0 || !is_pg()) {
                    i_ = j;
                    return true;
                }
                continue;
            }
            if (is_pg() && in_[j] == '/' && at(j + 1) == '*') {
                ++depth;
                j += 2;
                continue;
            }
            if (in_[j] == '\0') return fail(sql_error::embedded_nul, j);
            ++j;
        }
        return fail(sql_error::unterminated_block_comment, start);
    }

    /// Identifiers and keywords; also the string prefixes that change escaping.
    constexpr bool word() {
        const std::size_t start = i_;
        std::size_t j = i_ + 1;
        while (j < in_.size() && is_word_char(in_[j]))
            ++j;
        const std::string_view w = in_.substr(start, j - start);
        i_ = j;
        if (is_pg()) {
            if (at(j) == '\'' && (w == "E" || w == "e"))  // E'..': backslash escapes always
                return after_token(string_literal(j, true));
            if (at(j) == '&' && (w == "U" || w == "u")) {  // U&'..' and U&"..": no escapes
                if (at(j + 1) == '\'') return after_token(string_literal(j + 1, false));
                if (at(j + 1) == '"') return after_token(quoted_identifier(j + 1, '"'));
            }
        }
        previous_was_array_ = iequals_ascii(w, "array");
        return true;
    }

    constexpr bool number() noexcept {
        // Digits, letters (1e5, 0x1F), '_' and '.', but never '$': a `$n` the translator writes
        // after a number (`1.?` -> `1.$1`) must stay a token of its own when lexed again.
        std::size_t j = i_ + 1;
        while (j < in_.size() && (is_word_start(in_[j]) || is_digit(in_[j]) || in_[j] == '.'))
            ++j;
        i_ = j;
        previous_was_array_ = false;
        return true;
    }

    /// PostgreSQL `$`: a positional parameter `$n`, a dollar quote `$tag$...$tag$`, or a
    /// plain character.
    constexpr bool dollar() {
        const std::size_t start = i_;
        if (is_digit(at(i_ + 1))) return positional(start, start + 1);
        std::size_t j = i_ + 1;
        if (is_word_start(at(j))) {
            ++j;
            while (j < in_.size() && (is_word_start(in_[j]) || is_digit(in_[j])))
                ++j;
        }
        if (at(j) != '$') return other(1);
        const std::string_view tag = in_.substr(start, j + 1 - start);
        const std::size_t body = j + 1;
        const std::size_t close = in_.find(tag, body);
        if (close == std::string_view::npos)
            return fail(sql_error::unterminated_dollar_quote, start);
        for (std::size_t k = body; k < close; ++k)
            if (in_[k] == '\0') return fail(sql_error::embedded_nul, k);
        if constexpr (Mode == lex_mode::redact) {
            flush(body);
            put("***");
            run_ = close;
        } else if constexpr (Mode == lex_mode::literals) {
            out_.append(in_.substr(start, close + tag.size() - start));
            out_.append("\x1f");
        }
        i_ = close + tag.size();
        previous_was_array_ = false;
        return true;
    }

    /// Native numbered parameter: digits start at `digits`.
    constexpr bool positional(std::size_t start, std::size_t digits) noexcept {
        std::size_t j = digits;
        std::size_t n = 0;
        while (j < in_.size() && is_digit(in_[j])) {
            if (n <= max_parameters) n = n * 10 + static_cast<std::size_t>(in_[j] - '0');
            ++j;
        }
        i_ = j;
        previous_was_array_ = false;
        if constexpr (Mode != lex_mode::translate) return true;
        if (n == 0 || n > max_parameters)
            return fail(sql_error::invalid_positional_parameter, start);
        if (first_positional_ == npos) first_positional_ = start;
        if (n > max_positional_) max_positional_ = n;
        return true;
    }

    constexpr bool question_mark() {
        const std::size_t start = i_;
        previous_was_array_ = false;
        if constexpr (Mode != lex_mode::translate) {
            ++i_;
            return true;
        }
        if (at(i_ + 1) == '?') {  // `??` is a literal `?`
            replace(start, start + 2, "?");
            i_ += 2;
            return true;
        }
        if (is_sqlite() && is_digit(at(i_ + 1))) return positional(start, start + 1);
        ++i_;
        if (first_portable_ == npos) first_portable_ = start;
        if (++portable_count_ > max_parameters) return fail(sql_error::too_many_parameters, start);
        if (is_pg()) {
            // `$n` must stay one token: a space separates it from an identifier character
            // before (`a?` would become the identifier `a$1`) or a digit or identifier after
            // (`?1` would become `$11`).
            char text[10]{};
            std::size_t len = 0;
            if (start > 0 && is_word_char(in_[start - 1])) text[len++] = ' ';
            text[len++] = '$';
            pointer_sink w{text + len};
            counting_sink measure{};
            append_number(measure, portable_count_);
            append_number(w, portable_count_);
            len += measure.size;
            if (is_word_char(at(start + 1))) text[len++] = ' ';
            replace(start, start + 1, std::string_view(text, len));
        }
        return true;
    }

    [[nodiscard]] constexpr bool bracket_is_native() const noexcept {
        if (previous_was_array_ || native_brackets_ > 0) return true;
        if (i_ == 0) return false;
        const char p = in_[i_ - 1];
        // `?` too: `?[1]` subscripts a parameter, as `$1[1]` does.
        return is_word_char(p) || p == ']' || p == ')' || p == '"' || p == '`' || p == '?';
    }

    /// Every mode applies the same bracket rule, so that the redaction and literal passes see
    /// a `'` or backtick inside `[name]` as part of the name, as translation does.
    constexpr bool bracket() {
        if (bracket_is_native()) {
            ++native_brackets_;
            return other(1);
        }
        const std::size_t start = i_;
        std::size_t j = start + 1;
        std::size_t close = npos;
        while (j < in_.size()) {
            if (in_[j] == ']') {
                if (at(j + 1) == ']') {
                    j += 2;
                    continue;
                }
                close = j;
                break;
            }
            if (in_[j] == '\0') return fail(sql_error::embedded_nul, j);
            ++j;
        }
        // Redaction shows as much of a broken statement as is safe: a bad bracket is no reason
        // to hide the rest, so it is read as a plain character there.
        if (Mode == lex_mode::redact && (close == npos || close == start + 1)) return other(1);
        if (close == npos) return fail(sql_error::unterminated_bracket_identifier, start);
        if (close == start + 1) return fail(sql_error::empty_bracket_identifier, start);
        if constexpr (Mode != lex_mode::translate) {
            i_ = close + 1;
            previous_was_array_ = false;
            return true;
        }
        const char q = d_.identifier_quote();
        const char quote[1] = {q};
        const std::string_view qs(quote, 1);
        flush(start);
        put(qs);
        // Copy the name, turning `]]` into `]` and doubling the native quote character.
        std::size_t seg = start + 1;
        for (std::size_t k = start + 1; k < close; ++k) {
            if (in_[k] == ']') {  // first of a `]]` pair
                put(in_.substr(seg, k + 1 - seg));
                ++k;
                seg = k + 1;
            } else if (in_[k] == q) {
                put(in_.substr(seg, k + 1 - seg));
                put(qs);
                seg = k + 1;
            }
        }
        put(in_.substr(seg, close - seg));
        put(qs);
        run_ = close + 1;
        i_ = close + 1;
        previous_was_array_ = false;
        return true;
    }

    std::string_view in_;
    dialect d_;
    Sink& out_;
    std::size_t i_ = 0;
    std::size_t run_ = 0;
    translation r_{};
    std::size_t portable_count_ = 0;
    std::size_t first_portable_ = npos;
    std::size_t first_positional_ = npos;
    std::size_t first_named_ = npos;
    static constexpr std::size_t max_named = 64;
    std::size_t named_at_[max_named]{};  ///< where each distinct SQLite named parameter starts
    std::size_t named_count_ = 0;
    std::size_t max_positional_ = 0;
    std::size_t exec_start_ = 0;
    std::size_t native_brackets_ = 0;  ///< open native `[`: brackets inside them are native too
    bool in_exec_comment_ = false;
    bool previous_was_array_ = false;
};

}  // namespace detail

/// FNV-1a of a statement's text: the statement cache's key hash, computed by the compiler for
/// literal SQL and once per call for SQL built at run time.
[[nodiscard]] constexpr std::size_t hash_sql(std::string_view sql) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const char c : sql) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    return static_cast<std::size_t>(h);
}

/// Translates portable SQL into `d`'s native SQL, writing it to `out` (any type with
/// `append(std::string_view)`). On error, the output is incomplete and must be discarded.
template <class Sink>
constexpr translation translate(std::string_view sql, dialect d, Sink& out) {
    return detail::lexer<Sink, detail::lex_mode::translate>(sql, d, out).run();
}

/// Writes each string literal and dollar-quoted string of `sql` (quotes included) to `out`,
/// each followed by '\x1f'. Translation must never change this sequence: the fuzz target
/// checks that `literals(translate(x)) == literals(x)`.
template <class Sink>
constexpr translation literals(std::string_view sql, dialect d, Sink& out) {
    return detail::lexer<Sink, detail::lex_mode::literals>(sql, d, out).run();
}

/// Copies native SQL to `out` with the bodies of string literals and dollar-quoted strings
/// replaced by `***`, so that a statement can be logged or put in an exception without the
/// values written inline in it (passwords in `ALTER ROLE ... PASSWORD '...'`, for one).
template <class Sink>
constexpr translation redact(std::string_view native_sql, dialect d, Sink& out) {
    return detail::lexer<Sink, detail::lex_mode::redact>(native_sql, d, out).run();
}

}  // namespace dal::sql
