#define BOOST_TEST_MODULE orch_unit_apps
#include <boost/test/unit_test.hpp>
