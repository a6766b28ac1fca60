// Copyright (c) 2026 The dal authors. Distributed under the Boost Software License 1.0.
#pragma once
// How integration tests find the real servers scripts/test.sh starts: through environment
// variables (DAL_TEST_POSTGRES_URI, DAL_TEST_MYSQL_URI, DAL_TEST_PGBOUNCER_URI). Outside CI a
// missing variable skips the suite with a plain message; with CI=true it fails loudly.

#include <cstdlib>
#include <string_view>

#include <boost/test/unit_test.hpp>

#include <dal/config.hpp>

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

}  // namespace dal_test
