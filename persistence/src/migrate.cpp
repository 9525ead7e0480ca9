#include "orch/persistence/migrate.hpp"

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>

#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

#include "log.hpp"
#include "orch/errc.hpp"
#include "pg_pool.hpp"

namespace orch::persistence {

namespace {

// Any fixed number works as long as nothing else in the database locks it: "orch" + 1.
constexpr int64_t migration_lock_key = 0x6f72636800000001;

constexpr auto create_history_sql = R"sql(
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  ))sql";

constexpr auto select_history_sql = "SELECT version, name, checksum FROM schema_migrations";

constexpr auto record_sql
  = "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)";

struct applied_migration {
  std::string name;
  std::string checksum;
};

// Session-level, so it spans the per-migration transactions. Released on every way out; a
// broken connection releases it on the server side anyway.
class advisory_lock {
public:
  explicit advisory_lock(pqxx::connection& conn) : conn_(conn) {
    pqxx::nontransaction tx{conn_};
    tx.exec_params("SELECT pg_advisory_lock($1)", migration_lock_key);
  }

  advisory_lock(const advisory_lock&) = delete;
  advisory_lock& operator=(const advisory_lock&) = delete;

  ~advisory_lock() {
    try {
      pqxx::nontransaction tx{conn_};
      tx.exec_params("SELECT pg_advisory_unlock($1)", migration_lock_key);
    } catch (...) {
      // The connection is gone, and with it the lock.
    }
  }

private:
  pqxx::connection& conn_;
};

std::map<int, applied_migration> read_history(pqxx::connection& conn) {
  pqxx::work tx{conn};
  tx.exec(create_history_sql);
  std::map<int, applied_migration> history;
  for (const auto& row : tx.exec(select_history_sql))
    history.emplace(row[0].as<int>(),
                    applied_migration{row[1].as<std::string>(), row[2].as<std::string>()});
  tx.commit();
  return history;
}

} // namespace

std::string file_name(const migration& m) {
  char digits[16];
  std::snprintf(digits, sizeof(digits), "%04d", m.version);
  return std::string{digits} + "_" + std::string{m.name} + ".sql";
}

caf::expected<migration_report> migrate(pool& db) {
  auto embedded = migrations();
  return with_connection(
    db, "migrate", [&](pqxx::connection& conn) -> caf::expected<migration_report> {
      advisory_lock lock{conn};
      auto history = read_history(conn);
      // Refuse before applying anything: a changed file means this build and the database
      // disagree about what the schema is.
      for (const auto& m : embedded) {
        auto i = history.find(m.version);
        if (i != history.end() && i->second.checksum != m.checksum)
          return make_error(errc::conflict,
                            "migration " + file_name(m) + " changed after it was applied (checksum "
                              + i->second.checksum + ", now " + std::string{m.checksum} + ")");
      }
      migration_report report;
      for (const auto& m : embedded) {
        if (history.count(m.version) > 0) continue;
        pqxx::work tx{conn};
        tx.exec(std::string{m.sql});
        tx.exec_params(record_sql, m.version, std::string{m.name}, std::string{m.checksum});
        tx.commit();
        log()->info("applied migration {}", file_name(m));
        report.applied.push_back(m.version);
        history.emplace(m.version, applied_migration{std::string{m.name}, std::string{m.checksum}});
      }
      report.schema_version = history.empty() ? 0 : history.rbegin()->first;
      return report;
    });
}

caf::expected<std::string> installation_id(pool& db) {
  return with_connection(db, "installation_id",
                         [](pqxx::connection& conn) -> caf::expected<std::string> {
                           pqxx::nontransaction tx{conn};
                           auto rows = tx.exec("SELECT id FROM installation");
                           if (rows.empty())
                             return make_error(errc::internal, "the installation row is missing");
                           return rows[0][0].as<std::string>();
                         });
}

} // namespace orch::persistence
