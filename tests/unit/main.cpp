// The unit test executable's entry point (Boost.Test). Suites live in the other files.
#define BOOST_TEST_MODULE dal_unit_tests
#include <boost/test/unit_test.hpp>
