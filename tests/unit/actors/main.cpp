#define BOOST_TEST_MODULE orch_unit_actors
#include <boost/test/unit_test.hpp>
