#define BOOST_TEST_MODULE orch_integration_actors
#include <boost/test/unit_test.hpp>
