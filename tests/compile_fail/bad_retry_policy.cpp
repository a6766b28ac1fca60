// expect: dal: the RetryPolicy does not satisfy dal::policies::retry_policy
// Must not compile: a retry policy without next_delay().
#include <dal/sqlite.hpp>

struct my_retry {
    bool should_retry() const { return true; }
};

int main() {
    dal::basic_connection<dal::sqlite::backend, my_retry> db("sqlite::memory:");
    return db.is_open() ? 0 : 1;
}
