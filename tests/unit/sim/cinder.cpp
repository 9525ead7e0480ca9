#include "orch/sim/cloud.hpp"

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

using namespace orch::sim;
using namespace orch::sim::testing;
using namespace std::chrono_literals;

BOOST_FIXTURE_TEST_SUITE(cinder, cloud_fixture)

BOOST_AUTO_TEST_CASE(volume_is_creating_then_available) {
  auto a = send("POST", "/volume/v3/" + project_id + "/volumes",
                R"({"volume":{"size":10,"name":"data","metadata":{"orch-owner":"c1"}}})",
                {{"OpenStack-API-Version", "volume 3.60"}});
  BOOST_TEST(a.status() == 202);
  BOOST_TEST(a.str("/volume/status") == "creating");
  BOOST_TEST(a.res.header("OpenStack-API-Version") == "volume 3.60");
  auto id = a.str("/volume/id");
  advance(2s);
  auto b = send("GET", "/volume/v3/" + project_id + "/volumes/" + id);
  BOOST_TEST(b.str("/volume/status") == "available");
  BOOST_TEST(b.str("/volume/metadata/orch-owner") == "c1");
}

BOOST_AUTO_TEST_CASE(list_filters_by_exact_name_and_metadata) {
  send("POST", "/volume/v3/" + project_id + "/volumes",
       R"({"volume":{"size":1,"name":"data","metadata":{"orch-owner":"c1"}}})");
  send("POST", "/volume/v3/" + project_id + "/volumes",
       R"({"volume":{"size":1,"name":"data-2","metadata":{"orch-owner":"c2"}}})");
  auto by_name = send("GET", "/volume/v3/" + project_id + "/volumes/detail?name=data");
  BOOST_TEST(by_name.at("/volumes")->Size() == 1u);
  auto by_meta = send("GET", "/volume/v3/" + project_id
                               + "/volumes/detail?metadata=%7B%22orch-owner%22%3A%22c2%22%7D");
  BOOST_TEST(by_meta.at("/volumes")->Size() == 1u);
  BOOST_TEST(by_meta.str("/volumes/0/name") == "data-2");
}

BOOST_AUTO_TEST_CASE(missing_volume_is_item_not_found) {
  auto a
    = send("GET", "/volume/v3/" + project_id + "/volumes/6edbc2f4-1507-44f8-ac0d-eed1d2608d38");
  BOOST_TEST(a.status() == 404);
  BOOST_TEST(a.str("/itemNotFound/message")
             == "Volume 6edbc2f4-1507-44f8-ac0d-eed1d2608d38 could not be found.");
}

BOOST_AUTO_TEST_CASE(deleting_a_creating_volume_is_400_then_delete_takes_time) {
  auto id = send("POST", "/volume/v3/" + project_id + "/volumes", R"({"volume":{"size":1}})")
              .str("/volume/id");
  auto early = send("DELETE", "/volume/v3/" + project_id + "/volumes/" + id);
  BOOST_TEST(early.status() == 400);
  BOOST_TEST(early.str("/badRequest/message").starts_with("Invalid volume: Volume status must"));
  advance(2s);
  BOOST_TEST(send("DELETE", "/volume/v3/" + project_id + "/volumes/" + id).status() == 202);
  BOOST_TEST(send("GET", "/volume/v3/" + project_id + "/volumes/" + id).str("/volume/status")
             == "deleting");
  advance(1s);
  BOOST_TEST(send("GET", "/volume/v3/" + project_id + "/volumes/" + id).status() == 404);
}

BOOST_AUTO_TEST_CASE(gigabytes_quota_is_413_with_retry_after_zero) {
  auto a = send("POST", "/volume/v3/" + project_id + "/volumes", R"({"volume":{"size":1001}})");
  BOOST_TEST(a.status() == 413);
  BOOST_TEST(a.str("/overLimit/retryAfter") == "0");
  BOOST_TEST(a.res.header("Retry-After") == "0");
  BOOST_TEST(a.str("/overLimit/message")
             == "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed "
                "gigabytes quota. Requested 1001G, quota is 1000G and 0G has been consumed.");
}

BOOST_AUTO_TEST_CASE(size_is_required) {
  BOOST_TEST(
    send("POST", "/volume/v3/" + project_id + "/volumes", R"({"volume":{"name":"x"}})").status()
    == 400);
}

BOOST_AUTO_TEST_SUITE_END()
