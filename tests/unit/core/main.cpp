#define BOOST_TEST_MODULE orch_unit_core
#include <boost/test/unit_test.hpp>
