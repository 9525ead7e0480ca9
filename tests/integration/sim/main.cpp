#define BOOST_TEST_MODULE orch_integration_sim
#include <boost/test/unit_test.hpp>
