// expect: dal: too few arguments
// Must not compile: one argument for two placeholders.
#include <dal/sql/query.hpp>

using namespace dal::literals;  // NOLINT(google-build-using-namespace)

int main() {
    const auto q = dal::sql::bind<dal::sql::mysql_dialect>("SELECT ? + ?"_sql, 1);
    (void)q;
    return 0;
}
