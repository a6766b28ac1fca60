// expect: dal: unterminated .identifier. in the SQL
// Must not compile: a portable [identifier] without its closing bracket.
#include <dal/sql/query.hpp>

using namespace dal::literals;  // NOLINT(google-build-using-namespace)

int main() {
    const auto q = dal::sql::bind<dal::sql::sqlite_dialect>("SELECT [name FROM t"_sql);
    (void)q;
    return 0;
}
