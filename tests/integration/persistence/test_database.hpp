#pragma once

// Throwaway PostgreSQL databases for the integration tests. The server comes from
// `DATABASE_URL`; every database made here is named `orch_test_<random>` and dropped again.

#include <algorithm>
#include <stdexcept>
#include <string>

#include <boost/test/unit_test.hpp>
#include <pqxx/connection>
#include <pqxx/nontransaction>

#include "orch/errc.hpp"
#include "orch/persistence/migrate.hpp"
#include "orch/persistence/pool.hpp"
#include "orch/uuid.hpp"

namespace orch::testing {

/// `DATABASE_URL`, or an exception saying how to provide it: these tests never skip silently.
inline std::string database_url_from_env() {
  auto url = std::getenv("DATABASE_URL");
  if (url == nullptr || *url == '\0')
    throw std::runtime_error{
      "DATABASE_URL is not set: integration tests need a PostgreSQL server, e.g. "
      "DATABASE_URL=postgresql://postgres@127.0.0.1:55432/postgres"};
  return url;
}

/// `url` with its database replaced by `dbname`; takes URIs and key=value strings.
inline std::string with_database(const std::string& url, const std::string& dbname) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos)
    return url + " dbname=" + dbname; // libpq lets a later keyword override an earlier one
  auto query = url.find('?', scheme + 3);
  auto path = url.find('/', scheme + 3);
  auto authority_end = std::min(path, query);
  auto result = url.substr(0, authority_end) + "/" + dbname;
  if (query != std::string::npos) result += url.substr(query);
  return result;
}

/// A database of its own, created empty and dropped (with its sessions) on destruction.
class test_database {
public:
  test_database() : server_url_(database_url_from_env()) {
    auto id = to_string(uuid::random());
    id.erase(std::remove(id.begin(), id.end(), '-'), id.end());
    name_ = "orch_test_" + id;
    pqxx::connection admin{server_url_};
    pqxx::nontransaction tx{admin};
    tx.exec("CREATE DATABASE " + tx.quote_name(name_));
    url_ = with_database(server_url_, name_);
  }

  test_database(const test_database&) = delete;
  test_database& operator=(const test_database&) = delete;

  ~test_database() {
    try {
      pqxx::connection admin{server_url_};
      pqxx::nontransaction tx{admin};
      tx.exec("DROP DATABASE IF EXISTS " + tx.quote_name(name_) + " WITH (FORCE)");
    } catch (const std::exception& ex) {
      BOOST_TEST_MESSAGE("could not drop " << name_ << ": " << ex.what());
    }
  }

  const std::string& url() const noexcept { return url_; }

  const std::string& name() const noexcept { return name_; }

  /// Runs `sql` on a connection of its own, outside any pool; returns the first column of the
  /// first row as text, or "" when there is none.
  std::string exec(const std::string& sql) const {
    pqxx::connection conn{url_};
    pqxx::nontransaction tx{conn};
    auto res = tx.exec(sql);
    if (res.empty() || res[0].empty() || res[0][0].is_null()) return {};
    return res[0][0].as<std::string>();
  }

private:
  std::string server_url_;
  std::string name_;
  std::string url_;
};

/// One migrated database for the whole test process (each ctest suite is a process).
struct global_database {
  global_database() {
    instance = new test_database;
    persistence::pool db{persistence::pool_config{instance->url(), 1}};
    auto report = persistence::migrate(db);
    if (!report)
      throw std::runtime_error{"cannot migrate " + instance->name() + ": "
                               + error_detail(report.error())};
  }

  ~global_database() {
    delete instance;
    instance = nullptr;
  }

  static test_database& get() {
    if (instance == nullptr) throw std::runtime_error{"global_database is not set up"};
    return *instance;
  }

  static inline test_database* instance = nullptr;
};

} // namespace orch::testing
