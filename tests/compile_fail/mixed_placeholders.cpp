// expect: dal: the SQL mixes placeholder styles
// Must not compile: portable ? and native $n in one statement.
#include <dal/sql/query.hpp>

using namespace dal::literals;  // NOLINT(google-build-using-namespace)

int main() {
    const auto q = dal::sql::bind<dal::sql::postgresql_dialect>("SELECT ?, $2"_sql, 1, 2);
    (void)q;
    return 0;
}
