#define BOOST_TEST_MODULE orch_unit_deployment
#include <boost/test/unit_test.hpp>
