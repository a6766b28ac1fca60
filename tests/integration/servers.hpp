// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
// How integration tests find the real servers scripts/test.sh starts: through environment
// variables (DAL_TEST_POSTGRES_URI, DAL_TEST_MYSQL_URI, DAL_TEST_PGBOUNCER_URI). Outside CI a
// missing variable skips the suite with a plain message; with CI=true it fails loudly.

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <dal/config.hpp>
#include <dal/error.hpp>

namespace dal_test {

inline bool in_ci() {
    const char* ci = std::getenv("CI");
    return ci != nullptr && std::string_view(ci) == "true";
}

/// Runs the suite when the server is configured, or in CI (where it then fails if missing).
struct server_configured {
    const char* variable;
    boost::test_tools::assertion_result operator()(
        boost::unit_test::test_unit_id /*unused*/) const {
        if (std::getenv(variable) != nullptr || in_ci()) return true;
        boost::test_tools::assertion_result r(false);
        r.message() << "SKIPPED: " << variable
                    << " is not set (scripts/test.sh starts the servers and sets it)";
        return r;
    }
};

inline dal::config config_from_env(const char* variable) {
    const char* uri = std::getenv(variable);
    BOOST_TEST_REQUIRE(uri != nullptr, variable << " is not set: CI must start the servers");
    return dal::config::from_uri(uri);
}

/// A table name unique to this process, for tests that need more than one connection.
inline std::string unique_table(std::string_view stem) {
    return std::string(stem) + "_" + std::to_string(::getpid());
}

/// Runs `f`, which must throw dal::error, and returns the error.
template <class F>
dal::error expect_error(F&& f) {
    try {
        f();
    } catch (const dal::error& e) {
        return e;
    }
    BOOST_FAIL("expected a dal::error");
    throw std::logic_error("unreachable");
}

/// Whether scripts/test-servers.sh started the servers, so fault tests may kill and restart
/// them (DAL_TEST_SERVERS_CTL, from its env.sh). Servers of your own are never touched.
struct servers_controllable {
    boost::test_tools::assertion_result operator()(
        boost::unit_test::test_unit_id /*unused*/) const {
        if (std::getenv("DAL_TEST_SERVERS_CTL") != nullptr || in_ci()) return true;
        boost::test_tools::assertion_result r(false);
        r.message() << "SKIPPED: DAL_TEST_SERVERS_CTL is not set (fault tests kill and restart "
                       "only servers that scripts/test-servers.sh started)";
        return r;
    }
};

/// `scripts/test-servers.sh VERB SERVER STATE_DIR`: VERB is kill (SIGKILL to the server and
/// its children), halt (normal shutdown) or resume (start again on the same data, wait ready).
inline void server_ctl(std::string_view verb, std::string_view server) {
    const char* ctl = std::getenv("DAL_TEST_SERVERS_CTL");
    const char* dir = std::getenv("DAL_TEST_SERVERS_STATE_DIR");
    BOOST_TEST_REQUIRE(ctl != nullptr,
                       "DAL_TEST_SERVERS_CTL is not set: CI must start the servers");
    std::string cmd = "'" + std::string(ctl) + "' " + std::string(verb) + " " + std::string(server);
    if (dir != nullptr) cmd += " '" + std::string(dir) + "'";
    // NOLINTNEXTLINE(cert-env33-c,concurrency-mt-unsafe): the test script, with fixed arguments
    const int rc = std::system(cmd.c_str());
    BOOST_TEST_REQUIRE(rc == 0, cmd << " failed (status " << rc << ")");
}

/// Sets `stop` and joins `threads` when the scope ends, also when a failed requirement throws
/// (joinable threads would otherwise terminate the test program, or run on with dangling
/// references to the test's locals).
struct stop_and_join {
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    stop_and_join(std::atomic<bool>& s, std::vector<std::thread>& t) : stop(s), threads(t) {}
    stop_and_join(const stop_and_join&) = delete;
    stop_and_join& operator=(const stop_and_join&) = delete;
    stop_and_join(stop_and_join&&) = delete;
    stop_and_join& operator=(stop_and_join&&) = delete;
    ~stop_and_join() {
        stop = true;
        for (std::thread& t : threads)
            if (t.joinable()) t.join();
    }
};

/// A TCP port on loopback that accepts connections (the kernel completes the handshake) but
/// never answers: a server that hangs during startup, for connect limits.
struct silent_listener {
    int fd = -1;
    std::uint16_t port = 0;
    silent_listener() {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
        BOOST_TEST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        BOOST_TEST_REQUIRE(::listen(fd, 16) == 0);
        socklen_t len = sizeof a;
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    silent_listener(const silent_listener&) = delete;
    silent_listener& operator=(const silent_listener&) = delete;
    silent_listener(silent_listener&&) = delete;
    silent_listener& operator=(silent_listener&&) = delete;
    ~silent_listener() { ::close(fd); }
};

}  // namespace dal_test
