#pragma once

// One set of checks every `api_key_repository` must pass: the in-memory one in unit tests,
// the PostgreSQL one in integration tests. A fixture derives from `api_key_repository_harness`
// and `ORCH_API_KEY_REPOSITORY_CONTRACT(fixture)` expands to one Boost.Test case per check.

#include <string>

#include <boost/test/unit_test.hpp>

#include "orch/errc.hpp"
#include "orch/persistence/api_key_repository.hpp"

namespace orch::testing {

class api_key_repository_harness {
public:
  virtual ~api_key_repository_harness() = default;

  /// The repository under test, empty at the start of each case.
  virtual persistence::api_key_repository& keys() = 0;
};

/// A well-formed digest made of `c`.
inline std::string digest_of(char c) {
  return std::string(64, c);
}

inline bool key_failed_with(const caf::error& err, errc code) {
  return err && is(err, code);
}

inline void check_add_stores_the_digest_and_lists_it(api_key_repository_harness& h) {
  auto added = h.keys().add("ci", api_scope::write, digest_of('a'));
  BOOST_REQUIRE(added);
  BOOST_TEST(added->name == "ci");
  BOOST_TEST((added->scope == api_scope::write));
  BOOST_TEST(added->key_hash == digest_of('a'));
  BOOST_TEST(!added->revoked_at.has_value());
  auto listed = h.keys().list();
  BOOST_REQUIRE(listed);
  BOOST_REQUIRE(listed->size() == 1u);
  BOOST_TEST((listed->front().id == added->id));
  BOOST_TEST(listed->front().key_hash == digest_of('a'));
  auto active = h.keys().active();
  BOOST_REQUIRE(active);
  BOOST_TEST(active->size() == 1u);
}

inline void check_bad_names_and_digests_are_refused(api_key_repository_harness& h) {
  auto no_name = h.keys().add("", api_scope::read, digest_of('a'));
  BOOST_TEST(!no_name);
  if (!no_name) BOOST_TEST(key_failed_with(no_name.error(), errc::invalid_spec));
  for (auto bad : {std::string{"abc"}, std::string(64, 'g'), std::string(64, 'A'),
                   std::string{"sk-live-plaintext-key"}}) {
    auto added = h.keys().add("x", api_scope::read, bad);
    BOOST_TEST(!added, bad);
    if (!added) BOOST_TEST(key_failed_with(added.error(), errc::invalid_spec));
  }
  BOOST_TEST(h.keys().list()->empty());
}

inline void check_names_are_unique_among_active_keys(api_key_repository_harness& h) {
  BOOST_REQUIRE(h.keys().add("ci", api_scope::write, digest_of('a')));
  auto again = h.keys().add("ci", api_scope::read, digest_of('b'));
  BOOST_TEST(!again);
  if (!again) BOOST_TEST(key_failed_with(again.error(), errc::conflict));
  auto same_key = h.keys().add("other", api_scope::read, digest_of('a'));
  BOOST_TEST(!same_key);
  if (!same_key) BOOST_TEST(key_failed_with(same_key.error(), errc::conflict));
  // Revoking frees the name for a new key.
  BOOST_REQUIRE(h.keys().revoke("ci"));
  BOOST_TEST(h.keys().add("ci", api_scope::read, digest_of('c')).engaged());
}

inline void check_revoke_by_id_or_name_hides_the_key_from_active(api_key_repository_harness& h) {
  auto first = h.keys().add("first", api_scope::write, digest_of('1'));
  auto second = h.keys().add("second", api_scope::read, digest_of('2'));
  BOOST_REQUIRE(first);
  BOOST_REQUIRE(second);
  auto by_id = h.keys().revoke(to_string(first->id));
  BOOST_REQUIRE(by_id);
  BOOST_TEST((by_id->id == first->id));
  BOOST_TEST(by_id->revoked_at.has_value());
  auto by_name = h.keys().revoke("second");
  BOOST_REQUIRE(by_name);
  BOOST_TEST((by_name->id == second->id));
  BOOST_TEST(h.keys().active()->empty());
  // Revoked keys stay listed, for the record.
  auto listed = h.keys().list();
  BOOST_REQUIRE(listed);
  BOOST_TEST(listed->size() == 2u);
  for (const auto& k : *listed) BOOST_TEST(k.revoked_at.has_value());
}

inline void check_revoking_an_unknown_or_revoked_key_is_not_found(api_key_repository_harness& h) {
  auto unknown = h.keys().revoke("nobody");
  BOOST_TEST(!unknown);
  if (!unknown) BOOST_TEST(key_failed_with(unknown.error(), errc::not_found));
  BOOST_REQUIRE(h.keys().add("once", api_scope::read, digest_of('d')));
  BOOST_REQUIRE(h.keys().revoke("once"));
  auto twice = h.keys().revoke("once");
  BOOST_TEST(!twice);
  if (!twice) BOOST_TEST(key_failed_with(twice.error(), errc::not_found));
}

} // namespace orch::testing

#define ORCH_API_KEY_REPOSITORY_CHECK(fixture, check)                                              \
  BOOST_FIXTURE_TEST_CASE(check, fixture) {                                                        \
    orch::testing::check_##check(*this);                                                           \
  }

#define ORCH_API_KEY_REPOSITORY_CONTRACT(fixture)                                                  \
  ORCH_API_KEY_REPOSITORY_CHECK(fixture, add_stores_the_digest_and_lists_it)                       \
  ORCH_API_KEY_REPOSITORY_CHECK(fixture, bad_names_and_digests_are_refused)                        \
  ORCH_API_KEY_REPOSITORY_CHECK(fixture, names_are_unique_among_active_keys)                       \
  ORCH_API_KEY_REPOSITORY_CHECK(fixture, revoke_by_id_or_name_hides_the_key_from_active)           \
  ORCH_API_KEY_REPOSITORY_CHECK(fixture, revoking_an_unknown_or_revoked_key_is_not_found)
