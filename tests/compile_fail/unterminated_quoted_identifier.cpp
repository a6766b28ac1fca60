// expect: dal: unterminated quoted identifier
// Must not compile: a "quoted identifier" that is never closed.
#include <dal/sql/query.hpp>

using namespace dal::literals;  // NOLINT(google-build-using-namespace)

int main() {
    const auto q = dal::sql::bind<dal::sql::postgresql_dialect>("SELECT \"name FROM t"_sql);
    (void)q;
    return 0;
}
