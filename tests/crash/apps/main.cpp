#define BOOST_TEST_MODULE orch_crash_apps
#include <boost/test/unit_test.hpp>
