#pragma once

// One set of checks every `template_repository` must pass. Unit tests run them on
// `memory_template_repository`, integration tests on the PostgreSQL one: a fixture derives from
// `template_repository_harness` and `ORCH_TEMPLATE_REPOSITORY_CONTRACT(fixture)` expands to one
// Boost.Test case per check.

#include <string>
#include <string_view>
#include <utility>

#include <boost/test/unit_test.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "orch/errc.hpp"
#include "orch/persistence/template_repository.hpp"
#include "orch/template_spec.hpp"
#include "orch/uuid.hpp"

namespace orch::testing {

/// What a contract run needs from the store under test.
class template_repository_harness {
public:
  virtual ~template_repository_harness() = default;

  /// The repository under test, empty at the start of each case.
  virtual persistence::template_repository& uut() = 0;

  /// Makes a deployment that is not DELETED refer to the template `id`.
  virtual void put_in_use(const uuid& id) = 0;

  /// Moves every deployment referring to `id` to DELETED.
  virtual void release(const uuid& id) = 0;
};

/// A valid template named `name` with two VM groups and two subnets.
inline template_spec sample_template(std::string name) {
  template_spec spec;
  spec.name = std::move(name);
  spec.description = "3-tier web application";
  vm_group_spec web;
  web.flavor = "m1.small";
  web.image = "ubuntu-22.04";
  web.count = 2;
  vm_group_spec app;
  app.flavor = "m1.medium";
  app.image = "ubuntu-22.04";
  app.count = 3;
  app.min_count = 1;
  app.volumes.push_back(volume_spec{20, ""});
  spec.vm_config = {{"web", web}, {"app", app}};
  spec.network_config.cidr = "10.0.0.0/16";
  spec.network_config.subnets = {{"web", "10.0.1.0/24"}, {"app", "10.0.2.0/24"}};
  spec.network_config.router = true;
  spec.network_config.external_network = "public";
  return spec;
}

/// Text of `err` for failure messages. Boost.Test builds them even when the check passes.
inline std::string describe(const caf::error& err) {
  if (!err) return "no error";
  return to_string(err) + " " + error_detail(err);
}

/// Text of the error in `res`, if any, for failure messages.
template <class T>
std::string describe(const caf::expected<T>& res) {
  if (res) return "no error";
  return describe(res.error());
}

/// Whether `err` is the "orch" error `code`. Unlike `orch::is`, safe on an empty error (CAF
/// 0.17.6's `error::category()` dereferences null there).
inline bool failed_with(const caf::error& err, errc code) {
  return err && is(err, code);
}

/// Whether `res` holds the "orch" error `code`.
template <class T>
bool failed_with(const caf::expected<T>& res, errc code) {
  return !res && failed_with(res.error(), code);
}

/// Field-by-field comparison with a message naming the first difference.
inline boost::test_tools::predicate_result same_spec(const template_spec& lhs,
                                                     const template_spec& rhs) {
  auto differs = [](std::string what) {
    boost::test_tools::predicate_result res{false};
    res.message() << what << " differs";
    return res;
  };
  if (lhs.name != rhs.name) return differs("name");
  if (lhs.description != rhs.description) return differs("description");
  if (lhs.vm_config.size() != rhs.vm_config.size()) return differs("vm_config size");
  for (size_t i = 0; i < lhs.vm_config.size(); ++i) {
    const auto& [lname, lgroup] = lhs.vm_config[i];
    const auto& [rname, rgroup] = rhs.vm_config[i];
    if (lname != rname) return differs("vm_config group name #" + std::to_string(i));
    if (lgroup.flavor != rgroup.flavor || lgroup.image != rgroup.image
        || lgroup.count != rgroup.count || lgroup.min_count != rgroup.min_count)
      return differs("vm_config." + lname);
    if (lgroup.volumes.size() != rgroup.volumes.size())
      return differs("vm_config." + lname + ".volumes");
    for (size_t j = 0; j < lgroup.volumes.size(); ++j)
      if (lgroup.volumes[j].size_gb != rgroup.volumes[j].size_gb
          || lgroup.volumes[j].type != rgroup.volumes[j].type)
        return differs("vm_config." + lname + ".volumes");
  }
  const auto& lnet = lhs.network_config;
  const auto& rnet = rhs.network_config;
  if (lnet.cidr != rnet.cidr || lnet.subnets != rnet.subnets || lnet.router != rnet.router
      || lnet.external_network != rnet.external_network)
    return differs("network_config");
  return true;
}

inline long long micros(timestamp t) {
  return t.time_since_epoch().count();
}

// -- the checks ----------------------------------------------------------------------------------

inline void check_create_assigns_id_and_timestamps(template_repository_harness& h) {
  auto spec = sample_template("web-app-stack");
  auto stored = h.uut().create(spec);
  BOOST_REQUIRE_MESSAGE(stored, describe(stored));
  BOOST_TEST(!stored->id.is_nil());
  BOOST_TEST(micros(stored->created_at) == micros(stored->updated_at));
  BOOST_TEST(micros(stored->created_at) > 0);
  BOOST_TEST(same_spec(stored->spec, spec));
}

inline void check_find_by_id_and_by_name(template_repository_harness& h) {
  auto spec = sample_template("web-app-stack");
  auto stored = h.uut().create(spec);
  BOOST_REQUIRE_MESSAGE(stored, describe(stored));
  auto by_id = h.uut().find(to_string(stored->id));
  BOOST_REQUIRE_MESSAGE(by_id, describe(by_id));
  BOOST_TEST(to_string(by_id->id) == to_string(stored->id));
  BOOST_TEST(same_spec(by_id->spec, spec));
  BOOST_TEST(micros(by_id->created_at) == micros(stored->created_at));
  BOOST_TEST(micros(by_id->updated_at) == micros(stored->updated_at));
  auto by_name = h.uut().find("web-app-stack");
  BOOST_REQUIRE_MESSAGE(by_name, describe(by_name));
  BOOST_TEST(to_string(by_name->id) == to_string(stored->id));
  BOOST_TEST(same_spec(by_name->spec, spec));
}

inline void check_find_of_an_unknown_template_is_not_found(template_repository_harness& h) {
  auto stored = h.uut().create(sample_template("web-app-stack"));
  BOOST_REQUIRE_MESSAGE(stored, describe(stored));
  auto by_name = h.uut().find("no-such-template");
  BOOST_REQUIRE(!by_name);
  BOOST_TEST(failed_with(by_name, errc::not_found), describe(by_name));
  auto by_id = h.uut().find(to_string(uuid::random()));
  BOOST_REQUIRE(!by_id);
  BOOST_TEST(failed_with(by_id, errc::not_found), describe(by_id));
}

inline void check_a_taken_name_is_a_conflict(template_repository_harness& h) {
  auto first = h.uut().create(sample_template("web-app-stack"));
  BOOST_REQUIRE_MESSAGE(first, describe(first));
  auto second = h.uut().create(sample_template("web-app-stack"));
  BOOST_REQUIRE(!second);
  BOOST_TEST(failed_with(second, errc::conflict), describe(second));
  BOOST_TEST(error_detail(second.error()).find("web-app-stack") != std::string::npos);
  auto listed = h.uut().list(10, 0);
  BOOST_REQUIRE_MESSAGE(listed, describe(listed));
  BOOST_TEST(listed->total == 1);
}

inline void check_list_orders_by_name_and_pages_with_a_total(template_repository_harness& h) {
  for (auto name : {"delta", "alpha", "echo", "charlie", "bravo"}) {
    auto stored = h.uut().create(sample_template(name));
    BOOST_REQUIRE_MESSAGE(stored, describe(stored));
  }
  auto first = h.uut().list(2, 0);
  BOOST_REQUIRE_MESSAGE(first, describe(first));
  BOOST_TEST(first->total == 5);
  BOOST_TEST(first->limit == 2);
  BOOST_TEST(first->offset == 0);
  BOOST_REQUIRE(first->items.size() == 2u);
  BOOST_TEST(first->items[0].spec.name == "alpha");
  BOOST_TEST(first->items[1].spec.name == "bravo");
  auto second = h.uut().list(2, 2);
  BOOST_REQUIRE_MESSAGE(second, describe(second));
  BOOST_TEST(second->total == 5);
  BOOST_REQUIRE(second->items.size() == 2u);
  BOOST_TEST(second->items[0].spec.name == "charlie");
  BOOST_TEST(second->items[1].spec.name == "delta");
  auto last = h.uut().list(2, 4);
  BOOST_REQUIRE_MESSAGE(last, describe(last));
  BOOST_REQUIRE(last->items.size() == 1u);
  BOOST_TEST(last->items[0].spec.name == "echo");
  auto beyond = h.uut().list(2, 10);
  BOOST_REQUIRE_MESSAGE(beyond, describe(beyond));
  BOOST_TEST(beyond->items.empty());
  BOOST_TEST(beyond->total == 5);
}

inline void check_list_rejects_bad_paging(template_repository_harness& h) {
  for (auto [limit, offset] : {std::pair{0, 0}, std::pair{501, 0}, std::pair{10, -1}}) {
    auto listed = h.uut().list(limit, offset);
    BOOST_REQUIRE(!listed);
    BOOST_TEST(failed_with(listed, errc::invalid_spec), describe(listed));
  }
  auto widest = h.uut().list(500, 0);
  BOOST_TEST(widest.engaged());
}

inline void check_replace_keeps_id_and_created_at(template_repository_harness& h) {
  auto stored = h.uut().create(sample_template("web-app-stack"));
  BOOST_REQUIRE_MESSAGE(stored, describe(stored));
  auto changed = sample_template("web-app-stack");
  changed.description = "now with a bigger web tier";
  changed.vm_config[0].second.count = 5;
  auto replaced = h.uut().replace(to_string(stored->id), changed);
  BOOST_REQUIRE_MESSAGE(replaced, describe(replaced));
  BOOST_TEST(to_string(replaced->id) == to_string(stored->id));
  BOOST_TEST(micros(replaced->created_at) == micros(stored->created_at));
  BOOST_TEST(micros(replaced->updated_at) > micros(stored->updated_at));
  BOOST_TEST(same_spec(replaced->spec, changed));
  auto found = h.uut().find("web-app-stack");
  BOOST_REQUIRE_MESSAGE(found, describe(found));
  BOOST_TEST(same_spec(found->spec, changed));
  BOOST_TEST(micros(found->updated_at) == micros(replaced->updated_at));
}

inline void check_replace_can_rename(template_repository_harness& h) {
  auto stored = h.uut().create(sample_template("old-name"));
  BOOST_REQUIRE_MESSAGE(stored, describe(stored));
  auto replaced = h.uut().replace("old-name", sample_template("new-name"));
  BOOST_REQUIRE_MESSAGE(replaced, describe(replaced));
  BOOST_TEST(to_string(replaced->id) == to_string(stored->id));
  BOOST_TEST(!h.uut().find("old-name"));
  auto found = h.uut().find("new-name");
  BOOST_REQUIRE_MESSAGE(found, describe(found));
  BOOST_TEST(to_string(found->id) == to_string(stored->id));
}

inline void check_renaming_onto_a_taken_name_is_a_conflict(template_repository_harness& h) {
  auto first = h.uut().create(sample_template("first"));
  BOOST_REQUIRE_MESSAGE(first, describe(first));
  auto second = h.uut().create(sample_template("second"));
  BOOST_REQUIRE_MESSAGE(second, describe(second));
  auto replaced = h.uut().replace("second", sample_template("first"));
  BOOST_REQUIRE(!replaced);
  BOOST_TEST(failed_with(replaced, errc::conflict), describe(replaced));
  BOOST_TEST(error_detail(replaced.error()).find("first") != std::string::npos);
  auto unchanged = h.uut().find(to_string(second->id));
  BOOST_REQUIRE_MESSAGE(unchanged, describe(unchanged));
  BOOST_TEST(unchanged->spec.name == "second");
}

inline void check_replace_of_an_unknown_template_is_not_found(template_repository_harness& h) {
  auto replaced = h.uut().replace("no-such-template", sample_template("no-such-template"));
  BOOST_REQUIRE(!replaced);
  BOOST_TEST(failed_with(replaced, errc::not_found), describe(replaced));
}

inline void check_remove_hides_the_template_and_frees_its_name(template_repository_harness& h) {
  auto stored = h.uut().create(sample_template("web-app-stack"));
  BOOST_REQUIRE_MESSAGE(stored, describe(stored));
  auto err = h.uut().remove("web-app-stack");
  BOOST_REQUIRE_MESSAGE(!err, describe(err));
  auto by_id = h.uut().find(to_string(stored->id));
  BOOST_REQUIRE(!by_id);
  BOOST_TEST(failed_with(by_id, errc::not_found), describe(by_id));
  BOOST_TEST(!h.uut().find("web-app-stack"));
  auto listed = h.uut().list(10, 0);
  BOOST_REQUIRE_MESSAGE(listed, describe(listed));
  BOOST_TEST(listed->total == 0);
  BOOST_TEST(listed->items.empty());
  auto again = h.uut().create(sample_template("web-app-stack"));
  BOOST_REQUIRE_MESSAGE(again, describe(again));
  BOOST_TEST(to_string(again->id) != to_string(stored->id));
}

inline void check_remove_of_an_unknown_template_is_not_found(template_repository_harness& h) {
  auto err = h.uut().remove("no-such-template");
  BOOST_TEST(failed_with(err, errc::not_found), describe(err));
  auto stored = h.uut().create(sample_template("web-app-stack"));
  BOOST_REQUIRE_MESSAGE(stored, describe(stored));
  BOOST_REQUIRE(!h.uut().remove(to_string(stored->id)));
  auto twice = h.uut().remove(to_string(stored->id));
  BOOST_TEST(failed_with(twice, errc::not_found), describe(twice));
}

inline void check_remove_is_a_conflict_while_a_deployment_uses_it(template_repository_harness& h) {
  auto stored = h.uut().create(sample_template("web-app-stack"));
  BOOST_REQUIRE_MESSAGE(stored, describe(stored));
  h.put_in_use(stored->id);
  auto err = h.uut().remove("web-app-stack");
  BOOST_TEST(failed_with(err, errc::conflict), describe(err));
  BOOST_TEST(h.uut().find("web-app-stack").engaged());
  h.release(stored->id);
  auto after = h.uut().remove("web-app-stack");
  BOOST_TEST(!after, describe(after));
  BOOST_TEST(!h.uut().find("web-app-stack"));
}

} // namespace orch::testing

/// Defines one Boost.Test case per contract check, each on a fresh `fixture`, which must derive
/// from `orch::testing::template_repository_harness`.
#define ORCH_TEMPLATE_REPOSITORY_CHECK(fixture, check)                                             \
  BOOST_FIXTURE_TEST_CASE(check, fixture) {                                                        \
    orch::testing::check_##check(*this);                                                           \
  }

#define ORCH_TEMPLATE_REPOSITORY_CONTRACT(fixture)                                                 \
  ORCH_TEMPLATE_REPOSITORY_CHECK(fixture, create_assigns_id_and_timestamps)                        \
  ORCH_TEMPLATE_REPOSITORY_CHECK(fixture, find_by_id_and_by_name)                                  \
  ORCH_TEMPLATE_REPOSITORY_CHECK(fixture, find_of_an_unknown_template_is_not_found)                \
  ORCH_TEMPLATE_REPOSITORY_CHECK(fixture, a_taken_name_is_a_conflict)                              \
  ORCH_TEMPLATE_REPOSITORY_CHECK(fixture, list_orders_by_name_and_pages_with_a_total)              \
  ORCH_TEMPLATE_REPOSITORY_CHECK(fixture, list_rejects_bad_paging)                                 \
  ORCH_TEMPLATE_REPOSITORY_CHECK(fixture, replace_keeps_id_and_created_at)                         \
  ORCH_TEMPLATE_REPOSITORY_CHECK(fixture, replace_can_rename)                                      \
  ORCH_TEMPLATE_REPOSITORY_CHECK(fixture, renaming_onto_a_taken_name_is_a_conflict)                \
  ORCH_TEMPLATE_REPOSITORY_CHECK(fixture, replace_of_an_unknown_template_is_not_found)             \
  ORCH_TEMPLATE_REPOSITORY_CHECK(fixture, remove_hides_the_template_and_frees_its_name)            \
  ORCH_TEMPLATE_REPOSITORY_CHECK(fixture, remove_of_an_unknown_template_is_not_found)              \
  ORCH_TEMPLATE_REPOSITORY_CHECK(fixture, remove_is_a_conflict_while_a_deployment_uses_it)
