#define BOOST_TEST_MODULE orch_integration_http
#include <boost/test/unit_test.hpp>

#include "test_database.hpp"

using orch::testing::global_database;

BOOST_TEST_GLOBAL_FIXTURE(global_database);
