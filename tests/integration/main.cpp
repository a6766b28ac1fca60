// The integration test executable's entry point (Boost.Test): tests against real servers.
#define BOOST_TEST_MODULE dal_integration_tests
#include <boost/test/unit_test.hpp>
