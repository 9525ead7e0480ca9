#include <string>

#include <boost/test/unit_test.hpp>
#include <pqxx/except>

#include "test_database.hpp"

// The constraints the repositories rely on, checked on the migrated schema directly.

using orch::testing::global_database;

namespace {

bool rejected(const std::string& sql) {
  try {
    global_database::get().exec(sql);
    return false;
  } catch (const pqxx::sql_error&) {
    return true;
  }
}

void clear() {
  global_database::get().exec(
    "TRUNCATE deployment_templates, deployments, deployment_events, deployment_snapshots, "
    "idempotency_keys, api_keys CASCADE");
}

const std::string insert_deployment
  = "INSERT INTO deployments (name, status, template, cloud_region) VALUES ";

} // namespace

BOOST_AUTO_TEST_SUITE(schema)

BOOST_AUTO_TEST_CASE(deployment_status_must_be_one_of_the_api_statuses) {
  clear();
  for (auto status : {"PENDING", "IN_PROGRESS", "COMPLETED", "FAILED", "UPDATING", "CONFIGURING",
                      "SCALING", "DELETING", "DELETED"})
    BOOST_TEST(!rejected(insert_deployment + "('d-" + std::string{status} + "', '" + status
                         + "', '{}', 'RegionOne')"),
               status);
  BOOST_TEST(rejected(insert_deployment + "('bogus', 'RUNNING', '{}', 'RegionOne')"));
}

BOOST_AUTO_TEST_CASE(deployment_names_are_unique_until_deleted) {
  clear();
  BOOST_TEST(!rejected(insert_deployment + "('my-app', 'DELETED', '{}', 'RegionOne')"));
  BOOST_TEST(!rejected(insert_deployment + "('my-app', 'COMPLETED', '{}', 'RegionOne')"));
  BOOST_TEST(rejected(insert_deployment + "('my-app', 'PENDING', '{}', 'RegionOne')"));
}

BOOST_AUTO_TEST_CASE(template_names_are_unique_among_live_templates) {
  clear();
  const std::string insert = "INSERT INTO deployment_templates (name, vm_config, network_config, "
                             "deleted_at) VALUES ";
  BOOST_TEST(!rejected(insert + "('web', '{}', '{}', now())"));
  BOOST_TEST(!rejected(insert + "('web', '{}', '{}', NULL)"));
  BOOST_TEST(rejected(insert + "('web', '{}', '{}', NULL)"));
}

BOOST_AUTO_TEST_CASE(events_are_keyed_by_deployment_and_sequence) {
  clear();
  auto id = global_database::get().exec(
    insert_deployment + "('my-app', 'PENDING', '{}', 'RegionOne') RETURNING id::text");
  const std::string insert
    = "INSERT INTO deployment_events (deployment_id, seq, type) VALUES ('" + id + "', ";
  BOOST_TEST(!rejected(insert + "1, 'status_changed')"));
  BOOST_TEST(!rejected(insert + "2, 'resource_created')"));
  BOOST_TEST(rejected(insert + "2, 'resource_created')"));
  BOOST_TEST(rejected("INSERT INTO deployment_events (deployment_id, seq, type) VALUES "
                      "(gen_random_uuid(), 1, 'status_changed')"));
}

BOOST_AUTO_TEST_CASE(api_key_scope_is_read_or_write_and_hashes_are_unique) {
  clear();
  const std::string insert = "INSERT INTO api_keys (name, key_hash, scope) VALUES ";
  BOOST_TEST(!rejected(insert + "('ci', 'h1', 'read')"));
  BOOST_TEST(!rejected(insert + "('ops', 'h2', 'write')"));
  BOOST_TEST(rejected(insert + "('admin', 'h3', 'admin')"));
  BOOST_TEST(rejected(insert + "('dup', 'h1', 'read')"));
}

BOOST_AUTO_TEST_CASE(idempotency_keys_are_per_owner) {
  clear();
  const std::string insert = "INSERT INTO idempotency_keys (key, key_owner, request_hash, "
                             "response_status, response_body, expires_at) VALUES ";
  BOOST_TEST(!rejected(insert + "('k1', 'owner-a', 'r', 202, '{}', now() + interval '1 day')"));
  BOOST_TEST(!rejected(insert + "('k1', 'owner-b', 'r', 202, '{}', now() + interval '1 day')"));
  BOOST_TEST(rejected(insert + "('k1', 'owner-a', 'r', 202, '{}', now() + interval '1 day')"));
}

BOOST_AUTO_TEST_SUITE_END()
