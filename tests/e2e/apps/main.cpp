#define BOOST_TEST_MODULE orch_e2e_apps
#include <boost/test/unit_test.hpp>
