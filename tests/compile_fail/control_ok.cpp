// expect: (this file must compile: it is the control case of the compile-fail suite)
#include <dal/sql/query.hpp>

#include <optional>
#include <string>

using namespace dal::literals;  // NOLINT(google-build-using-namespace)

int main() {
    const std::string name = "x";
    const std::optional<double> score;
    const auto a = dal::sql::bind<dal::sql::postgresql_dialect>(
        "SELECT [a] FROM [t] WHERE [id] = ? AND [name] = ? AND [score] = ? AND j ??| x"_sql, 1,
        name, score);
    const auto b = dal::sql::bind<dal::sql::mysql_dialect>("SELECT ? + ?"_sql, 1, 2u);
    const auto c = dal::sql::bind<dal::sql::sqlite_dialect>("SELECT [name] FROM t"_sql);
    const auto d = dal::sql::bind<dal::sql::postgresql_dialect>("SELECT $1, $2"_sql, 1, "s");
    return static_cast<int>(a.sql.size() + b.sql.size() + c.sql.size() + d.sql.size()) == 0;
}
