// Table-driven tests of the portable SQL translator: every hazard of docs/sql-dialect.md, in
// the three dialects, at run time and (for a sample) at compile time.
#include <string>
#include <string_view>

#include <boost/test/unit_test.hpp>

#include <dal/sql/translate.hpp>

namespace {

using dal::sql::dialect;
using dal::sql::placeholder_style;
using dal::sql::sql_error;

constexpr dialect pg = dal::sql::postgresql_dialect;
constexpr dialect my = dal::sql::mysql_dialect;
constexpr dialect lite = dal::sql::sqlite_dialect;
constexpr dialect pg_scs_off{dal::sql::dialect_kind::postgresql, false, false, false};
constexpr dialect my_nbe{dal::sql::dialect_kind::mysql, true, true, false};
constexpr dialect my_ansi{dal::sql::dialect_kind::mysql, true, false, true};

struct row {  // NOLINT(clang-analyzer-optin.performance.Padding): readable field order
    const char* what;
    dialect d;
    std::string_view in;
    std::string_view out;  // expected native SQL (ignored on error)
    std::size_t params;
    sql_error error = sql_error::none;
    placeholder_style style = placeholder_style::none;
};

constexpr auto P = placeholder_style::portable;
constexpr auto N = placeholder_style::positional;

// clang-format off
const row rows[] = {
    // ---- PostgreSQL -------------------------------------------------------------------------
    {"pg basic", pg, "SELECT [a] FROM [t] WHERE [id] = ?", R"(SELECT "a" FROM "t" WHERE "id" = $1)", 1, {}, P},
    {"pg many params", pg, "VALUES (?, ?, ?)", "VALUES ($1, $2, $3)", 3, {}, P},
    {"pg ten params", pg, "f(?,?,?,?,?,?,?,?,?,?)", "f($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)", 10, {}, P},
    {"pg ?? is literal ?", pg, "SELECT j ?? 'a' FROM t", "SELECT j ? 'a' FROM t", 0},
    {"pg ??| jsonb any", pg, "SELECT j ??| ARRAY['a','b'] FROM t WHERE id = ?", "SELECT j ?| ARRAY['a','b'] FROM t WHERE id = $1", 1, {}, P},
    {"pg ??& jsonb all", pg, "SELECT j ??& ARRAY['a'] WHERE x = ?", "SELECT j ?& ARRAY['a'] WHERE x = $1", 1, {}, P},
    {"pg ? in string", pg, "SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1", 1, {}, P},
    {"pg [x] in string", pg, "SELECT '[x]', [y]", R"(SELECT '[x]', "y")", 0},
    {"pg ? in quoted ident", pg, R"(SELECT "a?b" FROM t)", R"(SELECT "a?b" FROM t)", 0},
    {"pg \"\" doubled in ident", pg, R"(SELECT "a""?" , ?)", R"(SELECT "a""?" , $1)", 1, {}, P},
    {"pg line comment", pg, "SELECT 1 -- what? [x]\n, ?", "SELECT 1 -- what? [x]\n, $1", 1, {}, P},
    {"pg nested block comment", pg, "/* a /* ? */ [b] */ SELECT ?", "/* a /* ? */ [b] */ SELECT $1", 1, {}, P},
    {"pg dollar quote", pg, "SELECT $$ ? [x] ' $$, ?", "SELECT $$ ? [x] ' $$, $1", 1, {}, P},
    {"pg tagged dollar quote holds $$", pg, "SELECT $fn$ a $$ ? $$ b $fn$ || ?", "SELECT $fn$ a $$ ? $$ b $fn$ || $1", 1, {}, P},
    {"pg E string backslash quote", pg, R"(SELECT E'it\'s ?', ?)", R"(SELECT E'it\'s ?', $1)", 1, {}, P},
    {"pg standard string backslash", pg, R"(SELECT 'a\', ?)", R"(SELECT 'a\', $1)", 1, {}, P},
    {"pg scs=off backslash escapes", pg_scs_off, R"(SELECT 'a\'?', ?)", R"(SELECT 'a\'?', $1)", 1, {}, P},
    {"pg U& string", pg, R"(SELECT U&'\0041 ?', ?)", R"(SELECT U&'\0041 ?', $1)", 1, {}, P},
    {"pg subscripts", pg, "SELECT arr[1], m[i][j] FROM t", "SELECT arr[1], m[i][j] FROM t", 0},
    {"pg ARRAY constructor", pg, "SELECT ARRAY[1,2], array [3]", "SELECT ARRAY[1,2], array [3]", 0},
    {"pg ARRAY after comment", pg, "SELECT ARRAY /* c */ [1]", "SELECT ARRAY /* c */ [1]", 0},
    {"pg multidimensional ARRAY", pg, "SELECT ARRAY[[1,2],[3,4]]", "SELECT ARRAY[[1,2],[3,4]]", 0},
    {"pg array types", pg, "SELECT '{}'::int[], x::text[][]", "SELECT '{}'::int[], x::text[][]", 0},
    {"pg slices", pg, "SELECT a[1:5], b[1:1][1:2]", "SELECT a[1:5], b[1:1][1:2]", 0},
    {"pg subscript of expression", pg, "SELECT (f(x))[2]", "SELECT (f(x))[2]", 0},
    {"pg subscript of quoted ident", pg, R"(SELECT "a"[1])", R"(SELECT "a"[1])", 0},
    {"pg $n kept one token", pg, "SELECT a?b, ?1", "SELECT a $1 b, $2 1", 2, {}, P},
    {"pg number then ?", pg, "SELECT 1?, 2.?", "SELECT 1 $1, 2.$2", 2, {}, P},
    {"pg placeholder in subscript", pg, "SELECT arr[?] FROM t", "SELECT arr[$1] FROM t", 1, {}, P},
    {"pg native $n", pg, "SELECT $1, $2", "SELECT $1, $2", 2, {}, N},
    {"pg $n highest wins", pg, "SELECT $2", "SELECT $2", 2, {}, N},
    {"pg $n subscript", pg, "SELECT $1[1]", "SELECT $1[1]", 1, {}, N},
    {"pg mixed ? and $n", pg, "SELECT ?, $1", "", 0, sql_error::mixed_placeholders},
    {"pg $0", pg, "SELECT $0", "", 0, sql_error::invalid_positional_parameter},
    {"pg $65536", pg, "SELECT $65536", "", 0, sql_error::invalid_positional_parameter},
    {"pg bracket quote escaped", pg, R"(SELECT [a"b])", R"(SELECT "a""b")", 0},
    {"pg ]] in bracket", pg, "SELECT [a]]b]", R"(SELECT "a]b")", 0},
    {"pg schema.table", pg, "SELECT * FROM [s].[t]", R"(SELECT * FROM "s"."t")", 0},
    {"pg bracket in parens", pg, "SELECT ([a]), x=[b]", R"(SELECT ("a"), x="b")", 0},
    {"pg $ in identifier", pg, "SELECT a$1 FROM t", "SELECT a$1 FROM t", 0},
    {"pg psql variable", pg, "SELECT :'x', :v", "SELECT :'x', :v", 0},
    {"pg # is an operator", pg, "SELECT j #> '{a}', ?", "SELECT j #> '{a}', $1", 1, {}, P},
    {"pg backtick is not a quote", pg, "SELECT `?`", "SELECT `$1`", 1, {}, P},
    {"pg unterminated string", pg, "SELECT 'abc", "", 0, sql_error::unterminated_string},
    {"pg unterminated E string", pg, R"(SELECT E'abc\')", "", 0, sql_error::unterminated_string},
    {"pg unterminated ident", pg, R"(SELECT "abc)", "", 0, sql_error::unterminated_quoted_identifier},
    {"pg unterminated bracket", pg, "SELECT [abc", "", 0, sql_error::unterminated_bracket_identifier},
    {"pg empty bracket", pg, "SELECT [] FROM t", "", 0, sql_error::empty_bracket_identifier},
    {"pg unterminated comment", pg, "SELECT 1 /* x", "", 0, sql_error::unterminated_block_comment},
    {"pg unterminated nested comment", pg, "SELECT 1 /* /* */", "", 0, sql_error::unterminated_block_comment},
    {"pg unterminated dollar quote", pg, "SELECT $x$ abc $y$", "", 0, sql_error::unterminated_dollar_quote},
    {"pg NUL byte", pg, std::string_view("SELECT 1\0 ?", 11), "", 0, sql_error::embedded_nul},
    {"pg NUL in comment", pg, std::string_view("SELECT 1 -- \0\n", 14), "", 0, sql_error::embedded_nul},
    {"pg NUL in string", pg, std::string_view("SELECT '\0'", 10), "", 0, sql_error::embedded_nul},
    {"pg parameter subscript", pg, "SELECT ?[1]", "SELECT $1[1]", 1, {}, P},
    // ---- MySQL / MariaDB ----------------------------------------------------------------------
    {"my basic", my, "SELECT [a] FROM [t] WHERE [id] = ?", "SELECT `a` FROM `t` WHERE `id` = ?", 1, {}, P},
    {"my backtick in bracket", my, "SELECT [a`b]", "SELECT `a``b`", 0},
    {"my double-quoted string", my, R"(SELECT "it's ?", ?)", R"(SELECT "it's ?", ?)", 1, {}, P},
    {"my ANSI_QUOTES ident", my_ansi, R"(SELECT "a?b", [c] FROM t WHERE x = ?)", R"(SELECT "a?b", `c` FROM t WHERE x = ?)", 1, {}, P},
    {"my backslash escape", my, R"(SELECT 'a\'?', ?)", R"(SELECT 'a\'?', ?)", 1, {}, P},
    {"my NO_BACKSLASH_ESCAPES", my_nbe, R"(SELECT 'a\', ?)", R"(SELECT 'a\', ?)", 1, {}, P},
    {"my backslash makes string unterminated", my, R"(SELECT 'a\', ?)", "", 0, sql_error::unterminated_string},
    {"my # comment", my, "SELECT 1 # ? [x]\n, ?", "SELECT 1 # ? [x]\n, ?", 1, {}, P},
    {"my --2 is not a comment", my, "SELECT 1 --2\n+?", "SELECT 1 --2\n+?", 1, {}, P},
    {"my -- comment", my, "SELECT 1 -- ?\n", "SELECT 1 -- ?\n", 0},
    {"my executable comment is code", my, "SELECT 1 /*! + ? */, /*!50000 [x] */", "SELECT 1 /*! + ? */, /*!50000 `x` */", 1, {}, P},
    {"my MariaDB executable comment", my, "SELECT 1 /*M!100000 + ? */", "SELECT 1 /*M!100000 + ? */", 1, {}, P},
    {"my plain comment", my, "SELECT 1 /* ? [x] */", "SELECT 1 /* ? [x] */", 0},
    {"my ?? literal", my, "select ??", "select ?", 0},
    {"my backtick ident with ?", my, "SELECT `a?`, ?", "SELECT `a?`, ?", 1, {}, P},
    {"my $ identifier", my, "SELECT $x, ?", "SELECT $x, ?", 1, {}, P},
    {"my unterminated exec comment", my, "SELECT /*! 1", "", 0, sql_error::unterminated_block_comment},
    {"my unterminated backtick", my, "SELECT `a", "", 0, sql_error::unterminated_quoted_identifier},
    {"my unterminated double-quoted string", my, R"(SELECT "a)", "", 0, sql_error::unterminated_string},
    // ---- SQLite -------------------------------------------------------------------------------
    {"sqlite basic", lite, "SELECT [a] FROM [t] WHERE [id] = ?", R"(SELECT "a" FROM "t" WHERE "id" = ?)", 1, {}, P},
    {"sqlite backtick ident", lite, "SELECT `a?`, ?", "SELECT `a?`, ?", 1, {}, P},
    {"sqlite ?NNN", lite, "SELECT ?1, ?2, ?1", "SELECT ?1, ?2, ?1", 2, {}, N},
    {"sqlite mixed ? and ?NNN", lite, "SELECT ?, ?1", "", 0, sql_error::mixed_placeholders},
    {"sqlite no backslash escapes", lite, R"(SELECT 'a\', ?)", R"(SELECT 'a\', ?)", 1, {}, P},
    {"sqlite bracket with quote", lite, R"(SELECT [a"b])", R"(SELECT "a""b")", 0},
    {"sqlite native brackets survive", lite, "SELECT[id]FROM[t]", "SELECT[id]FROM[t]", 0},
    {"sqlite comments do not nest", lite, "/* /* */ ?", "/* /* */ ?", 1, {}, P},
    {"sqlite blob literal", lite, "SELECT x'00ff', ?", "SELECT x'00ff', ?", 1, {}, P},
    {"sqlite :name native", lite, "SELECT :name, :name, :other", "SELECT :name, :name, :other", 2, {}, N},
    {"sqlite @name and $name", lite, "SELECT @n, $v, @n2, $v", "SELECT @n, $v, @n2, $v", 3, {}, N},
    {"sqlite named and ? mixed", lite, "SELECT :a, ?", "", 0, sql_error::mixed_placeholders},
    {"sqlite named and ?NNN mixed", lite, "SELECT ?1, :a", "", 0, sql_error::mixed_placeholders},

    {"sqlite : and @ in strings", lite, "SELECT ':a', '@b', '$c', ?", "SELECT ':a', '@b', '$c', ?", 1, {}, P},
    {"sqlite dollar is not a quote", lite, "SELECT $$ ?", "SELECT $$ ?", 1, {}, P},
    {"sqlite unterminated comment", lite, "SELECT 1 /*", "", 0, sql_error::unterminated_block_comment},
};
// clang-format on

std::string run(std::string_view in, dialect d, dal::sql::translation& t) {
    std::string out;
    dal::sql::detail::string_sink<std::string> sink{&out};
    t = dal::sql::translate(in, d, sink);
    return out;
}

// The same translator runs in constant evaluation: a few rows checked by the compiler.
template <std::size_t N>
struct fixed_out {
    char data[N]{};
    std::size_t size = 0;
};
template <std::size_t N>
constexpr fixed_out<N> ct(std::string_view in, dialect d) {
    fixed_out<N> o;
    dal::sql::detail::pointer_sink sink{o.data};
    o.size = dal::sql::translate(in, d, sink).size;
    return o;
}
constexpr bool same(std::string_view a, std::string_view b) {
    return a == b;
}
static_assert([] {
    constexpr auto o = ct<64>("SELECT [a] FROM [t] WHERE [id] = ? AND j ??| x", pg);
    return same({o.data, o.size}, R"(SELECT "a" FROM "t" WHERE "id" = $1 AND j ?| x)");
}());
static_assert([] {
    constexpr auto o = ct<64>("SELECT [a`b] FROM t /*! WHERE [x] = ? */", my);
    return same({o.data, o.size}, "SELECT `a``b` FROM t /*! WHERE `x` = ? */");
}());
static_assert([] {
    dal::sql::detail::counting_sink c;
    return dal::sql::translate("SELECT ARRAY[[1,2],[3,4]]::int[] WHERE x = ?", pg, c)
               .parameter_count == 1;
}());

}  // namespace

BOOST_AUTO_TEST_SUITE(translate)

BOOST_AUTO_TEST_CASE(table_of_translations) {
    BOOST_TEST(std::size(rows) >= 60u);
    for (const row& r : rows) {
        BOOST_TEST_CONTEXT(r.what << " [" << r.d.name() << "]: " << r.in) {
            dal::sql::translation t;
            const std::string out = run(r.in, r.d, t);
            BOOST_TEST(static_cast<int>(t.error) == static_cast<int>(r.error),
                       "error: " << dal::sql::describe(t.error));
            if (r.error == sql_error::none) {
                BOOST_TEST(out == r.out);
                BOOST_TEST(t.parameter_count == r.params);
                BOOST_TEST(static_cast<int>(t.style) == static_cast<int>(r.style));
                BOOST_TEST(t.size == out.size());
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(error_offsets_point_at_the_token) {
    dal::sql::translation t;
    (void)run("SELECT 'abc", pg, t);
    BOOST_TEST(t.error_offset == 7u);
    (void)run("SELECT 1, [abc", my, t);
    BOOST_TEST(t.error_offset == 10u);
    (void)run("SELECT $1, ?", pg, t);
    BOOST_TEST(t.error_offset == 11u);  // the later style is the offending one
}

BOOST_AUTO_TEST_CASE(redaction_hides_literals) {
    const auto red = [](std::string_view in, dialect d) {
        std::string out;
        dal::sql::detail::string_sink<std::string> sink{&out};
        (void)dal::sql::redact(in, d, sink);
        return out;
    };
    BOOST_TEST(red("ALTER ROLE app PASSWORD 'hunter2'", pg) == "ALTER ROLE app PASSWORD '***'");
    BOOST_TEST(red("SELECT $$hunter2$$, $t$x$t$, $1", pg) == "SELECT $$***$$, $t$***$t$, $1");
    BOOST_TEST(red(R"(SET PASSWORD = "hunter2" -- 'c')", my) == R"(SET PASSWORD = "***" -- 'c')");
    BOOST_TEST(red(R"(SELECT E'a\'hunter2')", pg) == "SELECT E'***'");
    // Unlexable input: what follows the bad token is never echoed.
    const std::string bad = red("SELECT 1, 'hunter2", pg);
    BOOST_TEST(bad.find("hunter2") == std::string::npos);
    BOOST_TEST(bad.starts_with("SELECT 1, "));
}

BOOST_AUTO_TEST_CASE(literals_are_extracted_in_order) {
    std::string out;
    dal::sql::detail::string_sink<std::string> sink{&out};
    (void)dal::sql::literals("SELECT 'a', [b], $$c$$, E'd\\'' -- 'no'", pg, sink);
    BOOST_TEST(out == "'a'\x1f$$c$$\x1f'd\\''\x1f");
}

BOOST_AUTO_TEST_SUITE_END()
