// Getting started with dal: the Python design's Getting Started flow in C++, on an SQLite file.
//
// What it shows, in order: a config from a URI (alias, env, time limits; the password would
// never print), a connection composed at compile time, portable SQL checked by the compiler,
// typed rows into a Hana-described struct, a transaction that commits and one that rolls back
// on an exception, per-call timeout and tags, the async form on an io_context, the run-time
// factory, and errors that name what went wrong. Entities with version history arrive with a
// later issue; until then the same steps are written as plain SQL.
//
//   scripts/demo.sh [path/to/file.db]
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/hana/define_struct.hpp>

#include <dal/sqlite.hpp>

using namespace dal::literals;  // NOLINT(google-build-using-namespace): an example program
using namespace std::chrono_literals;

struct user {
    BOOST_HANA_DEFINE_STRUCT(user, (std::int64_t, id), (std::string, name),
                             (std::optional<std::string>, surname), (std::optional<int>, age));
};

namespace {

void print(const char* what, const user& u) {
    std::printf("%-22s id=%lld name=%s surname=%s age=%s\n", what, static_cast<long long>(u.id),
                u.name.c_str(), u.surname ? u.surname->c_str() : "NULL",
                u.age ? std::to_string(*u.age).c_str() : "NULL");
}

}  // namespace

int main(int argc, char** argv) try {
    const std::string file =
        argc > 1 ? argv[1]
                 : (std::filesystem::temp_directory_path() / "dal-getting-started.db").string();
    std::filesystem::remove(file);

    // 1. Configuration: from a URI or built in code. Time limits are separate and documented.
    const auto cfg = dal::config::from_uri("sqlite://" + file +
                                           "?alias=main_db&env=dev&acquisition_timeout=10s");
    std::printf("config                 %s (pool key %s)\n", cfg.to_string().c_str(),
                cfg.hash_hex().c_str());

    // 2. A connection: basic_connection<sqlite backend, no_retry, config_timeout, no_breaker,
    //    lru_cache>, composed at compile time.
    dal::sqlite::connection db(cfg);
    std::printf("connected              %s %s\n", db.info().backend.c_str(),
                db.info().server_version.c_str());
    db.execute(
        "CREATE TABLE [users] ([id] INTEGER PRIMARY KEY, [name] TEXT NOT NULL, [surname] TEXT, "
        "[age] INTEGER, [updated_at] TEXT DEFAULT CURRENT_TIMESTAMP)"_sql);

    // 3. A transaction: both users or neither.
    std::int64_t uid = 0;
    {
        auto tx = db.begin();
        db.execute("INSERT INTO [users] ([name]) VALUES (?)"_sql, "Phil");
        uid = db.query_one<std::int64_t>("SELECT last_insert_rowid()"_sql).value();
        db.execute("INSERT INTO [users] ([name], [surname]) VALUES (?, ?)"_sql, "Karen", "Brown");
        tx.commit();
    }

    // 4. A query with its own time limit and tags (sent as an SQL comment for tracing).
    const dal::call_options opts{.timeout = 5s, .tags = {{"operation", "get_user"}}};
    const auto phil = db.query_one<user>(
        opts, "SELECT [id], [name], [surname], [age] FROM [users] WHERE [id] = ?"_sql, uid);
    print("read", phil.value());

    // 5. Update, and read back.
    db.execute("UPDATE [users] SET [name] = ?, [age] = ? WHERE [id] = ?"_sql, "Bob", 24, uid);
    print("after update",
          db.query_one<user>(
                "SELECT [id], [name], [surname], [age] FROM [users] WHERE [id] = ?"_sql, uid)
              .value());
    const auto young = db.query<user>(
        "SELECT [id], [name], [surname], [age] FROM [users] WHERE [age] <= ?"_sql, 30);
    std::printf("%-22s %zu\n", "users aged <= 30", young.size());

    // 6. An exception inside a transaction leaves the database as it was.
    try {
        db.with_transaction([&](auto& c) {
            c.execute("UPDATE [users] SET [name] = 'nobody'"_sql);
            throw std::runtime_error("something went wrong half-way");
        });
    } catch (const std::runtime_error& e) {
        std::printf("%-22s %s -> names unchanged: %s\n", "rolled back", e.what(),
                    db.query_one<std::string>("SELECT [name] FROM [users] WHERE [id] = ?"_sql, uid)
                        ->c_str());
    }

    // 7. The async form: the same calls with an Asio completion token (here, a coroutine).
    boost::asio::io_context io;
    dal::sqlite::connection adb(io.get_executor(), cfg);
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
            const auto names = co_await adb.async_query<std::string>(
                "SELECT [name] FROM [users] ORDER BY [id]"_sql, boost::asio::use_awaitable);
            std::printf("%-22s", "async names");
            for (const auto& n : names)
                std::printf(" %s", n.c_str());
            std::printf("\n");
        },
        boost::asio::detached);
    io.run();

    // 8. The run-time factory, when configuration picks the backend.
    dal::any_connection any = dal::connect("sqlite", cfg);
    std::printf("%-22s %d users\n", "via dal::connect",
                any.query("SELECT count(*) AS [n] FROM [users]")[0].get<int>("n"));

    // 9. Errors name what went wrong and keep the server's words.
    try {
        (void)db.query<int>("SELECT [name] FROM [users]"_sql);
    } catch (const dal::error& e) {
        std::printf("%-22s %s\n", "type mismatch", e.what());
    }
    try {
        db.execute("INSERT INTO [users] ([id], [name]) VALUES (?, ?)"_sql, uid, "dup");
    } catch (const dal::error& e) {
        std::printf("%-22s constraint_violation=%s: %s\n", "duplicate key",
                    e.code() == dal::errc::constraint_violation ? "yes" : "no",
                    e.diag().message.c_str());
    }
    try {
        (void)dal::config::from_uri("postgresql://app:secret@db:99999/x");
    } catch (const dal::error& e) {
        std::printf("%-22s %s\n", "bad URI", e.what());
    }
    const auto stats = db.statement_cache_stats();
    std::printf("%-22s %llu hits, %llu misses, %zu cached\n", "statement cache",
                static_cast<unsigned long long>(stats.hits),
                static_cast<unsigned long long>(stats.misses), stats.size);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "getting_started failed: %s\n", e.what());
    return 1;
}
