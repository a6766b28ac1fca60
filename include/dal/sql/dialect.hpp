// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
/// \file
/// Which SQL dialect a statement is lexed and translated for.
///
/// A dialect is a small literal type so that it can be a template argument: the compile-time
/// translator (`dal::sql::compiled`) is instantiated per dialect, and a backend names its own
/// dialect as a `static constexpr` member.

#include <cstdint>
#include <string_view>

namespace dal::sql {

/// The lexing families dal knows. A new backend picks the family whose quoting rules it shares.
enum class dialect_kind : std::uint8_t {
    postgresql,  ///< `"ident"`, `$n` parameters, dollar quotes, `E'..'`, nested block comments
    mysql,       ///< `` `ident` ``, `?` parameters, `"` strings, backslash escapes, `#` comments
    sqlite,      ///< `"ident"`, `` `ident` ``, `[ident]`, `?` parameters, no backslash escapes
};

/// How identifiers are quoted and parameters written in the native SQL of a backend, plus the
/// session settings that change how that backend lexes. Structural, so usable as an NTTP.
struct dialect {
    dialect_kind kind = dialect_kind::sqlite;
    /// PostgreSQL `standard_conforming_strings`: when false, `'..'` strings take backslash escapes.
    bool standard_conforming_strings = true;
    /// MySQL `sql_mode=NO_BACKSLASH_ESCAPES`: backslashes inside strings are plain characters.
    bool no_backslash_escapes = false;
    /// MySQL `sql_mode=ANSI_QUOTES`: `"..."` is a quoted identifier instead of a string.
    bool ansi_quotes = false;

    friend constexpr bool operator==(const dialect&, const dialect&) = default;

    /// The character that quotes identifiers natively. MySQL accepts backticks in every
    /// sql_mode, so they are used even under ANSI_QUOTES.
    [[nodiscard]] constexpr char identifier_quote() const noexcept {
        return kind == dialect_kind::mysql ? '`' : '"';
    }
    /// True when `?` is the native placeholder, false when parameters are `$1..$n`.
    [[nodiscard]] constexpr bool question_mark_placeholders() const noexcept {
        return kind != dialect_kind::postgresql;
    }
    [[nodiscard]] constexpr std::string_view name() const noexcept {
        switch (kind) {
            case dialect_kind::postgresql: return "postgresql";
            case dialect_kind::mysql: return "mysql";
            case dialect_kind::sqlite: return "sqlite";
        }
        return "unknown";
    }
};

/// The dialects of the built-in backends with their servers' default session settings.
inline constexpr dialect postgresql_dialect{dialect_kind::postgresql};
inline constexpr dialect mysql_dialect{dialect_kind::mysql};
inline constexpr dialect sqlite_dialect{dialect_kind::sqlite};

}  // namespace dal::sql
