#include "orch/cidr.hpp"

#include <boost/test/unit_test.hpp>

#include "orch/errc.hpp"

namespace {

orch::cidr block(std::string_view text) {
  auto result = orch::parse_cidr(text);
  if (!result) BOOST_FAIL(std::string{text} + ": " + orch::error_detail(result.error()));
  return *result;
}

std::string why(std::string_view text) {
  auto result = orch::parse_cidr(text);
  BOOST_REQUIRE_MESSAGE(!result, std::string{text} + " parsed but should not");
  BOOST_TEST(orch::is(result.error(), orch::errc::invalid_spec));
  return orch::error_detail(result.error());
}

} // namespace

BOOST_AUTO_TEST_SUITE(cidr)

BOOST_AUTO_TEST_CASE(ipv4_blocks_parse_and_print_canonically) {
  auto net = block("10.0.0.0/16");
  BOOST_TEST((net.family == orch::ip_family::v4));
  BOOST_TEST(net.prefix == 16);
  BOOST_TEST(net.address[0] == 10);
  BOOST_TEST(to_string(net) == "10.0.0.0/16");
  BOOST_TEST(to_string(block("0.0.0.0/0")) == "0.0.0.0/0");
  BOOST_TEST(to_string(block("192.168.1.7/32")) == "192.168.1.7/32");
  BOOST_TEST(to_string(block("255.255.255.255/32")) == "255.255.255.255/32");
}

BOOST_AUTO_TEST_CASE(ipv6_blocks_parse_and_print_canonically) {
  auto net = block("fd00::/64");
  BOOST_TEST((net.family == orch::ip_family::v6));
  BOOST_TEST(net.prefix == 64);
  BOOST_TEST(to_string(net) == "fd00::/64");
  BOOST_TEST(to_string(block("FD00:0:0:0::/48")) == "fd00::/48");
  BOOST_TEST(to_string(block("::1/128")) == "::1/128");
  BOOST_TEST(to_string(block("::/0")) == "::/0");
}

BOOST_AUTO_TEST_CASE(host_bits_are_rejected_with_a_suggestion) {
  BOOST_TEST(why("10.0.1.5/24") == "host bits set, did you mean 10.0.1.0/24");
  BOOST_TEST(why("10.0.1.0/15") == "host bits set, did you mean 10.0.0.0/15");
  BOOST_TEST(why("fd00::1/64") == "host bits set, did you mean fd00::/64");
  BOOST_TEST(why("10.0.0.1/0") == "host bits set, did you mean 0.0.0.0/0");
}

BOOST_AUTO_TEST_CASE(prefix_bounds_depend_on_the_family) {
  BOOST_TEST(why("10.0.0.0/33") == "IPv4 prefix must be an integer 0..32");
  BOOST_TEST(why("::1/129") == "IPv6 prefix must be an integer 0..128");
  BOOST_TEST(why("10.0.0.0/") == "IPv4 prefix must be an integer 0..32");
  BOOST_TEST(why("10.0.0.0/-1") == "IPv4 prefix must be an integer 0..32");
  BOOST_TEST(why("10.0.0.0/08") == "IPv4 prefix must be an integer 0..32");
  BOOST_TEST(why("10.0.0.0/1000") == "IPv4 prefix must be an integer 0..32");
  BOOST_TEST(why("10.0.0.0/2 ") == "IPv4 prefix must be an integer 0..32");
  // Found by tests/fuzz/json_bodies: a long prefix used to overflow `int` while being read.
  BOOST_TEST(why("10.0.0.0/12111111111") == "IPv4 prefix must be an integer 0..32");
  BOOST_TEST(block("fd00::/128").prefix == 128);
}

BOOST_AUTO_TEST_CASE(a_nul_ends_no_address) {
  // Found with tests/fuzz/json_bodies: inet_pton stopped at the NUL and the rest was accepted.
  using namespace std::string_view_literals;
  BOOST_TEST(!orch::parse_cidr("fd00::\0 and more/48"sv));
  BOOST_TEST(!orch::parse_cidr("fd00::\0/48"sv));
}

BOOST_AUTO_TEST_CASE(malformed_addresses_are_rejected) {
  BOOST_TEST(why("10.0.0.0") == "must be a CIDR block like 10.0.0.0/16 (address/prefix)");
  BOOST_TEST(why("") == "must be a CIDR block like 10.0.0.0/16 (address/prefix)");
  for (auto bad :
       {"10.0.0.256/24", "1.2.3/8", "1.2.3.4.5/32", "010.0.0.0/8", "10.00.0.0/16", " 10.0.0.0/16",
        "10.0.0. 0/16", "10..0.0/16", "a.b.c.d/8", "1000.0.0.0/8", "10.0.0.0./8", "/8"})
    BOOST_TEST(why(bad).find("not a valid IPv4 address") != std::string::npos, bad);
  for (auto bad : {"fd00:::/64", "fd00::g/64", "1:2:3:4:5:6:7:8:9/64", ":/1"})
    BOOST_TEST(why(bad).find("not a valid IPv6 address") != std::string::npos, bad);
}

BOOST_AUTO_TEST_CASE(contains_checks_nesting) {
  auto net = block("10.0.0.0/16");
  BOOST_TEST(contains(net, block("10.0.1.0/24")));
  BOOST_TEST(contains(net, net));
  BOOST_TEST(contains(net, block("10.0.255.255/32")));
  BOOST_TEST(!contains(net, block("10.1.0.0/24")));
  BOOST_TEST(!contains(net, block("10.0.0.0/8")));
  BOOST_TEST(contains(block("0.0.0.0/0"), block("192.168.0.0/16")));
  BOOST_TEST(contains(block("fd00::/48"), block("fd00:0:0:1::/64")));
  BOOST_TEST(!contains(block("fd00::/48"), block("fd01::/64")));
}

BOOST_AUTO_TEST_CASE(overlaps_is_symmetric) {
  auto a = block("10.0.0.0/23");
  auto b = block("10.0.1.0/24");
  auto c = block("10.0.2.0/24");
  BOOST_TEST(overlaps(a, b));
  BOOST_TEST(overlaps(b, a));
  BOOST_TEST(!overlaps(a, c));
  BOOST_TEST(!overlaps(b, c));
  BOOST_TEST(overlaps(c, c));
}

BOOST_AUTO_TEST_CASE(families_never_contain_or_overlap_each_other) {
  auto v4 = block("0.0.0.0/0");
  auto v6 = block("::/0");
  BOOST_TEST(!contains(v4, v6));
  BOOST_TEST(!contains(v6, v4));
  BOOST_TEST(!overlaps(v4, v6));
  BOOST_TEST(to_string(orch::ip_family::v4) == "IPv4");
  BOOST_TEST(to_string(orch::ip_family::v6) == "IPv6");
}

BOOST_AUTO_TEST_SUITE_END()
