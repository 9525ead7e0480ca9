#include "orch/uuid.hpp"

#include <set>

#include <boost/test/unit_test.hpp>

BOOST_AUTO_TEST_SUITE(uuid)

BOOST_AUTO_TEST_CASE(random_uuids_are_version_4_and_distinct) {
  std::set<orch::uuid> seen;
  for (int i = 0; i < 100; ++i) {
    auto id = orch::uuid::random();
    BOOST_TEST((id.bytes[6] >> 4) == 4);
    BOOST_TEST((id.bytes[8] & 0xC0) == 0x80);
    BOOST_TEST(!id.is_nil());
    seen.insert(id);
  }
  BOOST_TEST(seen.size() == 100u);
}

BOOST_AUTO_TEST_CASE(to_string_is_lower_case_and_hyphenated) {
  orch::uuid id;
  for (size_t i = 0; i < id.bytes.size(); ++i) id.bytes[i] = static_cast<uint8_t>(0xA0 + i);
  BOOST_TEST(to_string(id) == "a0a1a2a3-a4a5-a6a7-a8a9-aaabacadaeaf");
  BOOST_TEST(to_string(orch::uuid{}) == "00000000-0000-0000-0000-000000000000");
}

BOOST_AUTO_TEST_CASE(parse_accepts_either_case_and_round_trips) {
  auto text = std::string{"0F6C1E2A-9B3D-4C5E-8F70-112233445566"};
  auto id = orch::uuid::parse(text);
  BOOST_REQUIRE(id.has_value());
  BOOST_TEST(to_string(*id) == "0f6c1e2a-9b3d-4c5e-8f70-112233445566");
  auto random = orch::uuid::random();
  BOOST_TEST((orch::uuid::parse(to_string(random)) == random));
}

BOOST_AUTO_TEST_CASE(parse_rejects_anything_but_the_canonical_form) {
  for (auto bad : {"", "0f6c1e2a9b3d4c5e8f70112233445566", "0f6c1e2a-9b3d-4c5e-8f70-11223344556",
                   "0f6c1e2a-9b3d-4c5e-8f70-1122334455667", "0f6c1e2a-9b3d-4c5e-8f70_112233445566",
                   "0f6c1e2g-9b3d-4c5e-8f70-112233445566", "0f6c1e2-a9b3d-4c5e-8f70-112233445566",
                   "{f6c1e2a-9b3d-4c5e-8f70-112233445566"})
    BOOST_TEST(!orch::uuid::parse(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(nil_is_detected) {
  BOOST_TEST(orch::uuid{}.is_nil());
  BOOST_TEST(orch::uuid::parse("00000000-0000-0000-0000-000000000000")->is_nil());
}

BOOST_AUTO_TEST_SUITE_END()
