#include "orch/secret_keyring.hpp"

#include <boost/test/unit_test.hpp>

#include "orch/errc.hpp"

namespace {

const std::string current_key = "current-secret-key-0123456789";
const std::string old_key = "previous-secret-key-987654321";

orch::secret_keyring ring(const std::string& current, std::vector<std::string> previous = {}) {
  auto result = orch::secret_keyring::make(current, previous);
  BOOST_REQUIRE(result);
  return std::move(*result);
}

} // namespace

BOOST_AUTO_TEST_SUITE(secret_keyring)

BOOST_AUTO_TEST_CASE(a_sealed_secret_opens_to_the_same_plaintext) {
  auto uut = ring(current_key);
  for (const auto& plaintext : std::vector<std::string>{"", "s3cr3t", std::string(1000, 'x')}) {
    auto sealed = uut.seal(plaintext, "RegionOne");
    BOOST_REQUIRE(sealed);
    BOOST_TEST(sealed->key_version == uut.current_version());
    BOOST_TEST(sealed->bytes.size() == 12 + plaintext.size() + 16);
    if (!plaintext.empty()) BOOST_TEST(sealed->bytes.find(plaintext) == std::string::npos);
    auto opened = uut.open(*sealed, "RegionOne");
    BOOST_REQUIRE(opened);
    BOOST_TEST(*opened == plaintext);
  }
}

BOOST_AUTO_TEST_CASE(every_seal_uses_a_fresh_nonce) {
  auto uut = ring(current_key);
  auto a = uut.seal("same", "r");
  auto b = uut.seal("same", "r");
  BOOST_REQUIRE(a && b);
  BOOST_TEST(a->bytes != b->bytes);
  BOOST_TEST(a->bytes.substr(0, 12) != b->bytes.substr(0, 12));
}

BOOST_AUTO_TEST_CASE(key_version_is_eight_hex_digits_of_the_key_and_stable) {
  auto v = orch::secret_keyring::version_of(current_key);
  BOOST_TEST(v.size() == 8u);
  BOOST_TEST(v.find_first_not_of("0123456789abcdef") == std::string::npos);
  BOOST_TEST(v == orch::secret_keyring::version_of(current_key));
  BOOST_TEST(v != orch::secret_keyring::version_of(old_key));
  BOOST_TEST(ring(current_key).current_version() == v);
  BOOST_TEST(current_key.find(v) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_value_sealed_by_an_unknown_key_names_its_version_only) {
  auto sealed = ring(old_key).seal("s3cr3t-pw", "RegionOne");
  BOOST_REQUIRE(sealed);
  auto opened = ring(current_key).open(*sealed, "RegionOne");
  BOOST_REQUIRE(!opened);
  BOOST_TEST(orch::is(opened.error(), orch::errc::invalid_config));
  auto detail = orch::error_detail(opened.error());
  BOOST_TEST(detail.find(orch::secret_keyring::version_of(old_key)) != std::string::npos);
  BOOST_TEST(detail.find("s3cr3t-pw") == std::string::npos);
  BOOST_TEST(detail.find(old_key) == std::string::npos);
  BOOST_TEST(detail.find(current_key) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_wrong_key_under_a_forged_version_does_not_open) {
  auto sealed = ring(old_key).seal("s3cr3t-pw", "RegionOne");
  BOOST_REQUIRE(sealed);
  auto uut = ring(current_key);
  sealed->key_version = uut.current_version();
  auto opened = uut.open(*sealed, "RegionOne");
  BOOST_REQUIRE(!opened);
  BOOST_TEST(orch::is(opened.error(), orch::errc::invalid_spec));
}

BOOST_AUTO_TEST_CASE(tampering_with_nonce_ciphertext_or_tag_is_detected) {
  auto uut = ring(current_key);
  auto sealed = uut.seal("s3cr3t-pw", "RegionOne");
  BOOST_REQUIRE(sealed);
  // Byte 0 is in the nonce, 12 in the ciphertext, the last one in the tag.
  for (size_t i : {size_t{0}, size_t{11}, size_t{12}, size_t{20}, sealed->bytes.size() - 1}) {
    auto bad = *sealed;
    bad.bytes[i] = static_cast<char>(bad.bytes[i] ^ 0x01);
    auto opened = uut.open(bad, "RegionOne");
    BOOST_TEST_CONTEXT("byte " << i) {
      BOOST_REQUIRE(!opened);
      BOOST_TEST(orch::is(opened.error(), orch::errc::invalid_spec));
    }
  }
  auto truncated = *sealed;
  truncated.bytes.resize(27);
  BOOST_TEST(!uut.open(truncated, "RegionOne"));
  truncated.bytes.clear();
  BOOST_TEST(!uut.open(truncated, "RegionOne"));
}

BOOST_AUTO_TEST_CASE(a_ciphertext_moved_to_another_region_does_not_open) {
  auto uut = ring(current_key);
  auto sealed = uut.seal("s3cr3t-pw", "RegionOne");
  BOOST_REQUIRE(sealed);
  auto opened = uut.open(*sealed, "RegionTwo");
  BOOST_REQUIRE(!opened);
  BOOST_TEST(orch::is(opened.error(), orch::errc::invalid_spec));
  BOOST_TEST(orch::error_detail(opened.error()).find("s3cr3t") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(rotation_opens_old_values_and_reseals_with_the_new_key) {
  auto before = ring(old_key);
  auto sealed = before.seal("s3cr3t-pw", "RegionOne");
  BOOST_REQUIRE(sealed);
  auto after = ring(current_key, {old_key});
  BOOST_TEST(after.current_version() == orch::secret_keyring::version_of(current_key));
  BOOST_TEST(after.has_version(sealed->key_version));
  auto opened = after.open(*sealed, "RegionOne");
  BOOST_REQUIRE(opened);
  BOOST_TEST(*opened == "s3cr3t-pw");
  auto resealed = after.seal(*opened, "RegionOne");
  BOOST_REQUIRE(resealed);
  BOOST_TEST(resealed->key_version == after.current_version());
  // Once the old key is dropped, only the resealed value still opens.
  auto only_new = ring(current_key);
  BOOST_TEST(!only_new.open(*sealed, "RegionOne"));
  auto reopened = only_new.open(*resealed, "RegionOne");
  BOOST_REQUIRE(reopened);
  BOOST_TEST(*reopened == "s3cr3t-pw");
}

BOOST_AUTO_TEST_CASE(short_keys_are_refused_without_echoing_them) {
  auto r = orch::secret_keyring::make("too-short");
  BOOST_REQUIRE(!r);
  BOOST_TEST(orch::is(r.error(), orch::errc::invalid_config));
  BOOST_TEST(orch::error_detail(r.error()).find("too-short") == std::string::npos);
  auto p = orch::secret_keyring::make(current_key, {"short-old"});
  BOOST_REQUIRE(!p);
  BOOST_TEST(orch::error_detail(p.error()).find("short-old") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
