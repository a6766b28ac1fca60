// expect: dal: empty .. identifier
// Must not compile: [] with no name.
#include <dal/sql/query.hpp>

using namespace dal::literals;  // NOLINT(google-build-using-namespace)

int main() {
    const auto q = dal::sql::bind<dal::sql::mysql_dialect>("SELECT [] FROM t"_sql);
    (void)q;
    return 0;
}
