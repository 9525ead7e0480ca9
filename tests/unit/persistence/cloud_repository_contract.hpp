#pragma once

// One set of checks every `cloud_repository` must pass: the in-memory one in unit tests, the
// PostgreSQL one in integration tests. A fixture derives from `cloud_repository_harness` and
// `ORCH_CLOUD_REPOSITORY_CONTRACT(fixture)` expands to one Boost.Test case per check.

#include <string>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "orch/errc.hpp"
#include "orch/persistence/cloud_repository.hpp"

namespace orch::testing {

class cloud_repository_harness {
public:
  virtual ~cloud_repository_harness() = default;

  /// The repository under test, empty at the start of each case.
  virtual persistence::cloud_repository& clouds() = 0;

  /// Records a deployment in `region` with `status` (`COMPLETED`, `DELETED`, …).
  virtual void add_deployment(const std::string& region, const std::string& status) = 0;
};

/// A well-formed region with password authentication; the "sealed" bytes are a stand-in
/// (the repository never opens them).
inline persistence::stored_cloud sample_cloud(const std::string& region) {
  persistence::stored_cloud c;
  c.region = region;
  c.auth_url = "https://keystone." + region + ".example:5000/v3";
  c.username = "orch";
  c.project_name = "infra";
  c.user_domain_name = "Users";
  c.project_domain_name = "Projects";
  c.secret.key_version = "0a1b2c3d";
  c.secret.bytes = std::string(12, '\x01') + std::string("\x00\xff\x7f", 3) + std::string(16, 'T');
  c.ca_certificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  c.endpoint_allowlist = {"https://compute." + region + ".example:8774", "10.0.0.5:9696"};
  return c;
}

inline bool cloud_failed_with(const caf::error& err, errc code) {
  return err && is(err, code);
}

inline void check_same_cloud(const persistence::stored_cloud& x,
                             const persistence::stored_cloud& y) {
  BOOST_TEST(x.region == y.region);
  BOOST_TEST(x.auth_url == y.auth_url);
  BOOST_TEST(x.username == y.username);
  BOOST_TEST(x.application_credential_id == y.application_credential_id);
  BOOST_TEST(x.project_name == y.project_name);
  BOOST_TEST(x.user_domain_name == y.user_domain_name);
  BOOST_TEST(x.project_domain_name == y.project_domain_name);
  BOOST_TEST(x.secret.key_version == y.secret.key_version);
  BOOST_TEST(x.secret.bytes == y.secret.bytes);
  BOOST_TEST(x.ca_certificate == y.ca_certificate);
  BOOST_TEST(x.endpoint_allowlist == y.endpoint_allowlist, boost::test_tools::per_element());
}

inline void check_put_stores_every_field_and_get_answers_it(cloud_repository_harness& h) {
  auto in = sample_cloud("RegionTwo");
  auto stored = h.clouds().put(in);
  BOOST_REQUIRE(stored);
  check_same_cloud(*stored, in);
  BOOST_TEST((stored->created_at == stored->updated_at));
  auto got = h.clouds().get("RegionTwo");
  BOOST_REQUIRE(got);
  check_same_cloud(*got, in);
  auto missing = h.clouds().get("Nowhere");
  BOOST_REQUIRE(!missing);
  BOOST_TEST(cloud_failed_with(missing.error(), errc::not_found));
}

inline void check_list_is_ordered_by_region(cloud_repository_harness& h) {
  for (auto r : {"b-region", "a-region", "c-region"})
    BOOST_REQUIRE(h.clouds().put(sample_cloud(r)));
  auto listed = h.clouds().list();
  BOOST_REQUIRE(listed);
  BOOST_REQUIRE(listed->size() == 3u);
  BOOST_TEST((*listed)[0].region == "a-region");
  BOOST_TEST((*listed)[1].region == "b-region");
  BOOST_TEST((*listed)[2].region == "c-region");
}

inline void check_put_replaces_and_keeps_created_at(cloud_repository_harness& h) {
  auto first = h.clouds().put(sample_cloud("r1"));
  BOOST_REQUIRE(first);
  std::this_thread::sleep_for(std::chrono::milliseconds{5});
  auto changed = sample_cloud("r1");
  changed.username.clear();
  changed.application_credential_id = "app-cred-id";
  changed.endpoint_allowlist.clear();
  changed.ca_certificate.clear();
  changed.secret.key_version = "ffffffff";
  auto second = h.clouds().put(changed);
  BOOST_REQUIRE(second);
  check_same_cloud(*second, changed);
  BOOST_TEST((second->created_at == first->created_at));
  BOOST_TEST((second->updated_at > first->updated_at));
  BOOST_TEST(h.clouds().list()->size() == 1u);
}

inline void check_bad_clouds_are_refused(cloud_repository_harness& h) {
  std::vector<persistence::stored_cloud> bad(7, sample_cloud("r"));
  bad[0].region.clear();
  bad[1].auth_url = "keystone:5000";
  bad[2].username.clear(); // neither user nor application credential
  bad[3].application_credential_id = "both";
  bad[4].secret.key_version = "not-hex!";
  bad[5].secret.bytes = "plaintext-password";
  bad[6].endpoint_allowlist = {"a b"};
  for (size_t i = 0; i < bad.size(); ++i) {
    auto stored = h.clouds().put(bad[i]);
    BOOST_TEST(!stored, "case " << i);
    if (!stored) BOOST_TEST(cloud_failed_with(stored.error(), errc::invalid_spec));
  }
  BOOST_TEST(h.clouds().list()->empty());
}

inline void
check_remove_refuses_while_a_live_deployment_uses_the_region(cloud_repository_harness& h) {
  BOOST_REQUIRE(h.clouds().put(sample_cloud("busy")));
  BOOST_REQUIRE(h.clouds().put(sample_cloud("idle")));
  h.add_deployment("busy", "COMPLETED");
  h.add_deployment("idle", "DELETED");
  auto refused = h.clouds().remove("busy");
  BOOST_REQUIRE(!refused);
  BOOST_TEST(cloud_failed_with(refused.error(), errc::conflict));
  BOOST_TEST(error_detail(refused.error()).find("busy") != std::string::npos);
  BOOST_TEST(static_cast<bool>(h.clouds().get("busy")));
  auto removed = h.clouds().remove("idle");
  BOOST_REQUIRE(removed);
  BOOST_TEST(removed->region == "idle");
  BOOST_TEST(!h.clouds().get("idle"));
  auto again = h.clouds().remove("idle");
  BOOST_REQUIRE(!again);
  BOOST_TEST(cloud_failed_with(again.error(), errc::not_found));
}

inline void check_replace_secret_only_replaces_what_was_read(cloud_repository_harness& h) {
  auto stored = h.clouds().put(sample_cloud("r"));
  BOOST_REQUIRE(stored);
  sealed_secret next{"12345678", std::string(40, 'n')};
  auto replaced = h.clouds().replace_secret("r", stored->secret, next);
  BOOST_REQUIRE(replaced);
  BOOST_TEST(replaced->secret.key_version == "12345678");
  BOOST_TEST(replaced->secret.bytes == next.bytes);
  BOOST_TEST(h.clouds().get("r")->secret.bytes == next.bytes);
  // The old value is gone: a second rotation that read it loses.
  auto stale = h.clouds().replace_secret("r", stored->secret, next);
  BOOST_REQUIRE(!stale);
  BOOST_TEST(cloud_failed_with(stale.error(), errc::conflict));
  auto missing = h.clouds().replace_secret("nowhere", stored->secret, next);
  BOOST_REQUIRE(!missing);
  BOOST_TEST(cloud_failed_with(missing.error(), errc::not_found));
  auto malformed = h.clouds().replace_secret("r", next, sealed_secret{"12345678", "short"});
  BOOST_REQUIRE(!malformed);
  BOOST_TEST(cloud_failed_with(malformed.error(), errc::invalid_spec));
}

} // namespace orch::testing

#define ORCH_CLOUD_REPOSITORY_CHECK(fixture, check)                                                \
  BOOST_FIXTURE_TEST_CASE(check, fixture) {                                                        \
    orch::testing::check_##check(*this);                                                           \
  }

#define ORCH_CLOUD_REPOSITORY_CONTRACT(fixture)                                                    \
  ORCH_CLOUD_REPOSITORY_CHECK(fixture, put_stores_every_field_and_get_answers_it)                  \
  ORCH_CLOUD_REPOSITORY_CHECK(fixture, list_is_ordered_by_region)                                  \
  ORCH_CLOUD_REPOSITORY_CHECK(fixture, put_replaces_and_keeps_created_at)                          \
  ORCH_CLOUD_REPOSITORY_CHECK(fixture, bad_clouds_are_refused)                                     \
  ORCH_CLOUD_REPOSITORY_CHECK(fixture, remove_refuses_while_a_live_deployment_uses_the_region)     \
  ORCH_CLOUD_REPOSITORY_CHECK(fixture, replace_secret_only_replaces_what_was_read)
