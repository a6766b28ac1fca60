// expect: dal: the CachePolicy does not satisfy dal::policies::cache_policy
// Must not compile: a cache policy without cache_for<Statement>.
#include <dal/sqlite.hpp>

struct my_cache {
    int capacity = 3;
};

int main() {
    dal::basic_connection<dal::sqlite::backend, dal::policies::no_retry,
                          dal::policies::config_timeout, dal::policies::no_breaker, my_cache>
        db("sqlite::memory:");
    return db.is_open() ? 0 : 1;
}
