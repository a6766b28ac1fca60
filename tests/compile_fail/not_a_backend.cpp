// expect: dal: the Backend does not satisfy dal::backend
// Must not compile: a type that is not a backend.
#include <dal/connection.hpp>

struct oracle {};

int main() {
    dal::basic_connection<oracle>* db = nullptr;
    return db == nullptr ? 0 : sizeof(*db) > 0;
}
