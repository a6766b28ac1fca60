// expect: dal: argument type is not bindable
// Must not compile: an optional of an unbindable type.
#include <optional>

#include <dal/sql/query.hpp>

using namespace dal::literals;  // NOLINT(google-build-using-namespace)

int main() {
    struct opaque {};
    const std::optional<opaque> v;
    const auto q = dal::sql::bind<dal::sql::sqlite_dialect>("SELECT ?"_sql, v);
    (void)q;
    return 0;
}
