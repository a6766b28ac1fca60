// expect: dal: invalid numbered parameter
// Must not compile: PostgreSQL parameters are numbered from $1.
#include <dal/sql/query.hpp>

using namespace dal::literals;  // NOLINT(google-build-using-namespace)

int main() {
    const auto q = dal::sql::bind<dal::sql::postgresql_dialect>("SELECT $0"_sql);
    (void)q;
    return 0;
}
