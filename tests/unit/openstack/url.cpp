#include "orch/openstack/url.hpp"

#include <boost/test/unit_test.hpp>

using namespace orch::openstack;

BOOST_AUTO_TEST_SUITE(url)

BOOST_AUTO_TEST_CASE(urls_split_into_scheme_host_port_path_and_query) {
  auto u = parse_url("HTTPS://Cloud.Example:8774/v2.1/servers?limit=1#x");
  BOOST_REQUIRE(u.has_value());
  BOOST_TEST(u->scheme == "https");
  BOOST_TEST(u->host == "cloud.example");
  BOOST_TEST(u->port == 8774);
  BOOST_TEST(u->path == "/v2.1/servers");
  BOOST_TEST(u->query == "limit=1");
  auto plain = parse_url("http://h");
  BOOST_TEST(plain->port == 80);
  BOOST_TEST(plain->path == "/");
  auto v6 = parse_url("http://[::1]:9696/");
  BOOST_TEST(v6->host == "[::1]");
  BOOST_TEST(v6->port == 9696);
}

BOOST_AUTO_TEST_CASE(user_info_other_schemes_and_bad_ports_are_rejected) {
  BOOST_TEST(!parse_url("http://good.example@evil.example/"));
  BOOST_TEST(!parse_url("ftp://h/"));
  BOOST_TEST(!parse_url("http://h:0/"));
  BOOST_TEST(!parse_url("http://h:99999/"));
  BOOST_TEST(!parse_url("http://h:80x/"));
  BOOST_TEST(!parse_url("http:///path"));
  BOOST_TEST(!parse_url("/relative"));
}

BOOST_AUTO_TEST_CASE(encoding_keeps_only_unreserved_characters) {
  BOOST_TEST(url_encode("a-b_c.d~e") == "a-b_c.d~e");
  BOOST_TEST(url_encode("^x y$/") == "%5Ex%20y%24%2F");
  BOOST_TEST(join_url("http://h/compute/v2.1//", "/servers") == "http://h/compute/v2.1/servers");
}

BOOST_AUTO_TEST_SUITE_END()
