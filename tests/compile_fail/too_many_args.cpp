// expect: dal: too many arguments
// Must not compile: two arguments for one placeholder.
#include <dal/sql/query.hpp>

using namespace dal::literals;  // NOLINT(google-build-using-namespace)

int main() {
    const auto q = dal::sql::bind<dal::sql::postgresql_dialect>(
        "SELECT [a] FROM [t] WHERE [id] = ?"_sql, 1, 2);
    (void)q;
    return 0;
}
