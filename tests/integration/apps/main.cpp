#define BOOST_TEST_MODULE orch_integration_apps
#include <boost/test/unit_test.hpp>
