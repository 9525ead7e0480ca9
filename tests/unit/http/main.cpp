#define BOOST_TEST_MODULE orch_unit_http
#include <boost/test/unit_test.hpp>
