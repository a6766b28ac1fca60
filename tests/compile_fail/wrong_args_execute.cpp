// expect: dal: too few arguments
// Must not compile: a connection call checks its literal SQL against its arguments.
#include <dal/sqlite.hpp>

using namespace dal::literals;  // NOLINT(google-build-using-namespace)

int main() {
    dal::sqlite::connection db("sqlite::memory:");
    db.execute("INSERT INTO [t] ([a], [b]) VALUES (?, ?)"_sql, 1);
    return 0;
}
