#define BOOST_TEST_MODULE orch_integration_openstack
#include <boost/test/unit_test.hpp>
