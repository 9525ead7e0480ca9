#define BOOST_TEST_MODULE orch_cluster_apps
#include <boost/test/unit_test.hpp>
