#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

#include "orch/persistence/pool.hpp"

namespace orch::persistence {

/// One schema change, embedded from `persistence/migrations/NNNN_name.sql` at build time.
struct migration {
  /// `NNNN` of the file name; applied in rising order.
  int version = 0;
  /// `name` of the file name, e.g. `initial`.
  std::string_view name;
  /// The file's text, run as one transaction.
  std::string_view sql;
  /// Lower-case hex SHA-256 of the file, recorded when applied.
  std::string_view checksum;
};

/// What one `migrate` run did.
struct migration_report {
  /// Versions this run applied, in order; empty when the schema was already current.
  std::vector<int> applied;
  /// Highest version applied to the database after the run.
  int schema_version = 0;
};

/// The embedded migrations in rising version order.
std::vector<migration> migrations();

/// `NNNN_name.sql` for `m`.
std::string file_name(const migration& m);

/// Brings the database schema up to date: applies each pending migration in its own
/// transaction and records it in `schema_migrations`. Holds a PostgreSQL advisory lock for the
/// whole run, so nodes starting together apply each migration exactly once. Running it on a
/// current schema changes nothing. Errors: `errc::conflict` if an applied migration's
/// checksum no longer matches the embedded file (nothing is applied then);
/// `errc::store_unavailable`; `errc::internal` if a migration's SQL fails (that migration is
/// rolled back, earlier ones stay).
caf::expected<migration_report> migrate(pool& db);

/// The id this installation drew once in its database (migration 0006), for the
/// `orch-installation` mark. Errors: `errc::store_unavailable`, `errc::internal` before
/// `migrate`.
caf::expected<std::string> installation_id(pool& db);

} // namespace orch::persistence
