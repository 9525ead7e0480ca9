#define BOOST_TEST_MODULE orch_unit_cluster
#include <boost/test/unit_test.hpp>
