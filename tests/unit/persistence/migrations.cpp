#include "orch/persistence/migrate.hpp"

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <set>
#include <sstream>
#include <string>

#include <boost/test/unit_test.hpp>
#include <openssl/evp.h>

namespace fs = std::filesystem;
using namespace orch;

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr);
  std::ostringstream hex;
  for (unsigned int i = 0; i < size; ++i)
    hex << std::hex << std::setw(2) << std::setfill('0') << static_cast<int>(digest[i]);
  return hex.str();
}

} // namespace

BOOST_AUTO_TEST_SUITE(migrations)

BOOST_AUTO_TEST_CASE(versions_rise_strictly_from_one) {
  auto all = persistence::migrations();
  BOOST_REQUIRE(!all.empty());
  BOOST_TEST(all.front().version == 1);
  for (size_t i = 1; i < all.size(); ++i)
    BOOST_TEST(all[i].version > all[i - 1].version, file_name(all[i]));
}

BOOST_AUTO_TEST_CASE(every_file_in_the_folder_is_embedded_with_its_text) {
  std::set<std::string> on_disk;
  for (const auto& entry : fs::directory_iterator{ORCH_MIGRATIONS_DIR})
    if (entry.path().extension() == ".sql") on_disk.insert(entry.path().filename().string());
  std::set<std::string> embedded;
  for (const auto& m : persistence::migrations()) {
    embedded.insert(file_name(m));
    auto path = fs::path{ORCH_MIGRATIONS_DIR} / file_name(m);
    BOOST_TEST_REQUIRE(fs::exists(path), path);
    BOOST_TEST(read_file(path) == m.sql, file_name(m) << " differs from its embedded copy");
  }
  BOOST_TEST(on_disk == embedded, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(checksums_are_the_sha256_of_the_text) {
  for (const auto& m : persistence::migrations()) {
    BOOST_TEST(m.checksum.size() == 64u);
    BOOST_TEST(m.checksum == sha256_hex(m.sql), file_name(m));
  }
}

BOOST_AUTO_TEST_CASE(file_names_pad_the_version_to_four_digits) {
  persistence::migration m{7, "add_leases", "", ""};
  BOOST_TEST(file_name(m) == "0007_add_leases.sql");
}

BOOST_AUTO_TEST_SUITE_END()
