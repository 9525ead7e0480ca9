#define BOOST_TEST_MODULE orch_unit_schemas
#include <boost/test/unit_test.hpp>
