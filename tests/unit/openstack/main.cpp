#define BOOST_TEST_MODULE orch_unit_openstack
#include <boost/test/unit_test.hpp>
