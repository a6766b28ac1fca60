// Runs every statement of PostgreSQL's, MariaDB's and SQLite's own regression suites
// (../shared/corpus/sql, read at test time, never copied here) through its backend's
// translator. A statement comes back byte for byte unless corpus_changes.tsv lists it with a
// reason; the list and the translator must agree in both directions.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <dal/sql/translate.hpp>

namespace {

namespace fs = std::filesystem;
namespace utf = boost::unit_test;

fs::path corpus_dir() {
    const char* env = std::getenv("DAL_SQL_CORPUS_DIR");
    return env != nullptr ? fs::path(env) : fs::path("../shared/corpus/sql");
}

bool in_ci() {
    const char* ci = std::getenv("CI");
    return ci != nullptr && std::string_view(ci) == "true";
}

/// Outside CI a missing corpus skips the suite with a plain message; in CI it must be there.
struct corpus_available {
    boost::test_tools::assertion_result operator()(utf::test_unit_id /*unused*/) const {
        if (fs::exists(corpus_dir() / "postgres.sql.txt") || in_ci()) return true;
        boost::test_tools::assertion_result r(false);
        r.message() << "SKIPPED: SQL corpus not found at " << corpus_dir()
                    << " (set DAL_SQL_CORPUS_DIR)";
        return r;
    }
};

std::string read_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + p.string());
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// The corpus format (its README): records joined by "\n-- @@@@\n", one final newline.
std::vector<std::string> records(const fs::path& p) {
    std::string all = read_bytes(p);
    if (!all.empty() && all.back() == '\n') all.pop_back();
    std::vector<std::string> out;
    const std::string sep = "\n-- @@@@\n";
    std::size_t pos = 0;
    while (true) {
        const std::size_t next = all.find(sep, pos);
        if (next == std::string::npos) {
            out.push_back(all.substr(pos));
            break;
        }
        out.push_back(all.substr(pos, next - pos));
        pos = next + sep.size();
    }
    return out;
}

/// Index rows (header skipped), split on tabs.
std::vector<std::vector<std::string>> index_rows(const fs::path& p) {
    std::istringstream in(read_bytes(p));
    std::string line;
    std::getline(in, line);
    std::vector<std::vector<std::string>> rows;
    while (std::getline(in, line)) {
        std::vector<std::string> cols;
        std::istringstream ls(line);
        std::string col;
        while (std::getline(ls, col, '\t'))
            cols.push_back(col);
        rows.push_back(std::move(cols));
    }
    return rows;
}

/// corpus_changes.tsv: (corpus, record) -> reason.
std::map<std::pair<std::string, std::size_t>, std::string> expected_changes() {
    const fs::path here = fs::path(__FILE__).parent_path();
    std::istringstream in(read_bytes(here / "corpus_changes.tsv"));
    std::map<std::pair<std::string, std::size_t>, std::string> out;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream ls(line);
        std::string corpus, record, reason;
        std::getline(ls, corpus, '\t');
        std::getline(ls, record, '\t');
        std::getline(ls, reason, '\t');
        out[{corpus, std::stoul(record)}] = reason;
    }
    return out;
}

template <class F>
std::string sink_run(F&& f) {
    std::string out;
    dal::sql::detail::string_sink<std::string> sink{&out};
    f(sink);
    return out;
}

void check_corpus(const std::string& name) {
    using dal::sql::dialect_kind;
    const fs::path dir = corpus_dir();
    const auto recs = records(dir / (name + ".sql.txt"));
    const auto rows = index_rows(dir / (name + ".index.tsv"));
    BOOST_TEST_REQUIRE(recs.size() == rows.size());
    const auto changes = expected_changes();

    std::size_t unchanged = 0;
    std::size_t changed = 0;
    for (std::size_t k = 0; k < recs.size(); ++k) {
        const std::size_t record = k + 1;
        const std::string& in = recs[k];
        const auto& row = rows[k];
        dal::sql::dialect d{};
        if (name == "postgres") {
            d = dal::sql::postgresql_dialect;
            d.standard_conforming_strings = !(row.size() > 4 && row[4] == "off");
        } else if (name == "mysql") {
            d = dal::sql::mysql_dialect;
            d.no_backslash_escapes = row.size() > 4 && row[4] == "1";
            d.ansi_quotes = row.size() > 5 && row[5] == "1";
        } else {
            d = dal::sql::sqlite_dialect;
        }
        dal::sql::translation t;
        const std::string out = sink_run([&](auto& s) { t = dal::sql::translate(in, d, s); });
        const auto listed = changes.find({name, record});
        BOOST_TEST_CONTEXT(name << " record " << record << " (" << row[1] << ":" << row[2]
                                << "): " << in.substr(0, 300)) {
            BOOST_TEST_REQUIRE(t.ok(), "translation failed: " << dal::sql::describe(t.error)
                                                              << " at " << t.error_offset);
            // Translation never touches string literals or dollar-quoted bodies.
            const std::string lit_in =
                sink_run([&](auto& s) { (void)dal::sql::literals(in, d, s); });
            const std::string lit_out =
                sink_run([&](auto& s) { (void)dal::sql::literals(out, d, s); });
            BOOST_TEST(lit_in == lit_out);
            if (listed == changes.end()) {
                BOOST_TEST(out == in, "changed but not listed in corpus_changes.tsv");
                ++unchanged;
                continue;
            }
            ++changed;
            BOOST_TEST(out != in, "listed in corpus_changes.tsv but unchanged");
            if (listed->second == "question_operator") {
                BOOST_TEST(static_cast<int>(t.style) ==
                           static_cast<int>(dal::sql::placeholder_style::portable));
                BOOST_TEST(t.parameter_count > 0u);
            } else if (listed->second == "double_question") {
                std::string expect = in;
                for (std::size_t p = expect.find("??"); p != std::string::npos;
                     p = expect.find("??", p + 1))
                    expect.erase(p, 1);
                BOOST_TEST(out == expect);
            } else {
                BOOST_ERROR("unknown reason " << listed->second);
            }
        }
    }
    std::size_t listed_here = 0;
    for (const auto& [key, reason] : changes)
        if (key.first == name) ++listed_here;
    BOOST_TEST(changed == listed_here);
    BOOST_TEST_MESSAGE(name << ": " << recs.size() << " statements, " << unchanged
                            << " byte-for-byte unchanged, " << changed
                            << " changed as listed in corpus_changes.tsv");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(corpus, *utf::precondition(corpus_available()))

BOOST_AUTO_TEST_CASE(postgres_regression_statements) {
    check_corpus("postgres");
}
BOOST_AUTO_TEST_CASE(mariadb_regression_statements) {
    check_corpus("mysql");
}
BOOST_AUTO_TEST_CASE(sqlite_statements) {
    check_corpus("sqlite");
}

BOOST_AUTO_TEST_SUITE_END()
