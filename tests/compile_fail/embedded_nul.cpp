// expect: dal: the SQL contains a NUL byte
// Must not compile: a NUL byte, at which a C driver would silently cut the statement.
#include <dal/sql/query.hpp>

using namespace dal::literals;  // NOLINT(google-build-using-namespace)

int main() {
    const auto q = dal::sql::bind<dal::sql::sqlite_dialect>("SELECT 1 -- \0 cut here"_sql);
    (void)q;
    return 0;
}
