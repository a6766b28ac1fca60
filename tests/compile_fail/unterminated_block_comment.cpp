// expect: dal: unterminated /. block comment
// Must not compile: a nested PostgreSQL comment that is closed only once.
#include <dal/sql/query.hpp>

using namespace dal::literals;  // NOLINT(google-build-using-namespace)

int main() {
    const auto q =
        dal::sql::bind<dal::sql::postgresql_dialect>("SELECT 1 /* outer /* inner */"_sql);
    (void)q;
    return 0;
}
