// expect: dal: unterminated dollar-quoted string
// Must not compile: a PostgreSQL dollar quote without its closing tag.
#include <dal/sql/query.hpp>

using namespace dal::literals;  // NOLINT(google-build-using-namespace)

int main() {
    const auto q = dal::sql::bind<dal::sql::postgresql_dialect>("SELECT $body$ never closed"_sql);
    (void)q;
    return 0;
}
