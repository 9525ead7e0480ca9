#define BOOST_TEST_MODULE orch_unit_persistence
#include <boost/test/unit_test.hpp>
