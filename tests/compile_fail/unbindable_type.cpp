// expect: dal: argument type is not bindable
// Must not compile: a struct with no dal::type_traits specialisation is not a parameter type.
#include <dal/sql/query.hpp>

using namespace dal::literals;  // NOLINT(google-build-using-namespace)

int main() {
    struct point {
        int x, y;
    };
    const auto q = dal::sql::bind<dal::sql::sqlite_dialect>("SELECT ?"_sql, point{1, 2});
    (void)q;
    return 0;
}
