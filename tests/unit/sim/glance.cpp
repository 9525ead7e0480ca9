#include "orch/sim/cloud.hpp"

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

using namespace orch::sim;
using namespace orch::sim::testing;

BOOST_FIXTURE_TEST_SUITE(glance, cloud_fixture)

BOOST_AUTO_TEST_CASE(images_list_by_exact_name) {
  auto all = send("GET", "/image/v2/images");
  BOOST_TEST(all.status() == 200);
  BOOST_TEST(all.at("/images")->Size() == 2u);
  BOOST_TEST(all.str("/first") == "/v2/images");
  auto one = send("GET", "/image/v2/images?name=ubuntu-22.04");
  BOOST_TEST(one.at("/images")->Size() == 1u);
  BOOST_TEST(one.str("/images/0/status") == "active");
  BOOST_TEST(send("GET", "/image/v2/images?name=ubuntu").at("/images")->Size() == 0u);
  BOOST_TEST(send("GET", "/image/v2/images?name=in:cirros,ubuntu-22.04").at("/images")->Size()
             == 2u);
}

BOOST_AUTO_TEST_CASE(image_show_is_flat_and_missing_is_404) {
  auto id = image_id("cirros");
  auto a = send("GET", "/image/v2/images/" + id);
  BOOST_TEST(a.str("/id") == id);
  BOOST_TEST(a.str("/self") == "/v2/images/" + id);
  BOOST_TEST(send("GET", "/image/v2/images/nope").status() == 404);
}

BOOST_AUTO_TEST_CASE(paging_gives_next_until_the_last_page) {
  auto first = send("GET", "/image/v2/images?limit=1");
  BOOST_TEST(first.at("/images")->Size() == 1u);
  auto next = first.str("/next");
  BOOST_TEST(next.starts_with("/v2/images?limit=1&marker="));
  auto second = send("GET", "/image" + next);
  BOOST_TEST(second.at("/images")->Size() == 1u);
  BOOST_TEST(second.at("/next") == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
