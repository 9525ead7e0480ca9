#include "orch/ansible/playbook.hpp"

#include <boost/test/unit_test.hpp>

#include "orch/errc.hpp"

using namespace orch;
using orch::ansible::validate_playbook_name;

BOOST_AUTO_TEST_SUITE(ansible_playbook)

BOOST_AUTO_TEST_CASE(bare_yaml_file_names_are_accepted) {
  for (auto name : {"configure-web.yml", "site.yaml", "db_setup.v2.yml", "_private.yml"})
    BOOST_TEST(!validate_playbook_name(name), name);
}

BOOST_AUTO_TEST_CASE(paths_dot_dot_and_absolute_names_are_invalid_specs) {
  for (auto name : {"../etc/passwd.yml", "/etc/ansible/site.yml", "sub/site.yml", "..", ".",
                    "a..b.yml", "..yml", "dir\\site.yml"}) {
    auto err = validate_playbook_name(name);
    BOOST_TEST(is(err, errc::invalid_spec), name);
    BOOST_TEST(error_detail(err).starts_with("playbook: "), name);
  }
}

BOOST_AUTO_TEST_CASE(option_looking_hidden_and_odd_names_are_refused) {
  for (auto name : {"", "-e.yml", ".hidden.yml", "site.yml;rm", "site .yml", "site.txt", "site",
                    "caf\xc3\xa9.yml", "site.yml\n"})
    BOOST_TEST(is(validate_playbook_name(name), errc::invalid_spec), name);
}

BOOST_AUTO_TEST_CASE(names_longer_than_255_characters_are_refused) {
  auto name = std::string(251, 'a') + ".yml";
  BOOST_TEST(!validate_playbook_name(name));
  BOOST_TEST(is(validate_playbook_name("a" + name), errc::invalid_spec));
}

BOOST_AUTO_TEST_SUITE_END()
