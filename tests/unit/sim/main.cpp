#define BOOST_TEST_MODULE orch_unit_sim
#include <boost/test/unit_test.hpp>
