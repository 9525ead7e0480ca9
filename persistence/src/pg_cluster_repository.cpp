#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

#include "orch/persistence/cluster_repository.hpp"
#include "pg_pool.hpp"

namespace orch::persistence {

namespace {

#define ORCH_MICROS(col) "(extract(epoch FROM " col ") * 1000000)::bigint"
#define ORCH_BUSY                                                                                  \
  "status IN ('PENDING', 'IN_PROGRESS', 'UPDATING', 'CONFIGURING', 'SCALING', 'DELETING')"
// libpqxx 6.4 binds no arrays: the running ids travel as one comma-separated text.
#define ORCH_RUNNING "id = ANY(string_to_array($2, ',')::uuid[])"

#define ORCH_LEASE_MS "$3::double precision * interval '1 millisecond'"

// The whole heartbeat is one statement, run on its own: a node frozen or killed between two
// statements of a transaction would hold the row locks of its leases, and every write to those
// deployments would wait for it. Effects of the WITH parts are not visible to the final SELECT,
// which reads the rows as they were before this heartbeat.
//  - `j` upserts the node's row (`$6`: its first heartbeat since it started).
//  - `r` renews the node's leases of busy deployments and of those whose actor runs here, and
//    frees the rest: a finished deployment whose actor passivated needs no owner.
//  - lost: leases of running actors that another node holds now.
//  - claimable: expired leases of others, free ones nobody claimed for a lease period (the node
//    that created one claims it within milliseconds), and the node's own without an actor.
//  - live: the other nodes that heartbeat within a lease period, plus this one.
constexpr auto heartbeat_sql
  = "WITH j AS (INSERT INTO cluster_nodes (node_id, api_address, active_deployments) "
    "VALUES ($1, $4, $5) ON CONFLICT (node_id) DO UPDATE SET api_address = EXCLUDED.api_address, "
    "active_deployments = EXCLUDED.active_deployments, heartbeat_at = now(), left_at = NULL, "
    "started_at = CASE WHEN $6 THEN now() ELSE cluster_nodes.started_at END RETURNING 1), "
    "r AS (UPDATE deployments SET "
    "lease_owner = CASE WHEN " ORCH_BUSY " OR " ORCH_RUNNING " THEN lease_owner END, "
    "lease_expires_at = CASE WHEN " ORCH_BUSY " OR " ORCH_RUNNING " THEN now() + " ORCH_LEASE_MS
    " END WHERE lease_owner = $1 RETURNING lease_owner) "
    "SELECT (SELECT count(*) FILTER (WHERE lease_owner IS NOT NULL) FROM r), "
    "(SELECT COALESCE(string_agg(id::text, ','), '') FROM deployments WHERE " ORCH_RUNNING
    " AND lease_owner IS NOT NULL AND lease_owner <> $1), "
    "(SELECT COALESCE(string_agg(id::text, ',' ORDER BY created_at, id), '') FROM (SELECT id, "
    "created_at FROM deployments WHERE " ORCH_BUSY " AND NOT " ORCH_RUNNING " AND ("
    "(lease_owner <> $1 AND lease_expires_at < now()) "
    "OR (lease_owner IS NULL AND updated_at < now() - " ORCH_LEASE_MS ") "
    "OR lease_owner = $1) ORDER BY created_at, id LIMIT 500) c), "
    "(SELECT count(*) + 1 FROM cluster_nodes WHERE node_id <> $1 AND left_at IS NULL "
    "AND heartbeat_at > now() - " ORCH_LEASE_MS ")";

// One statement too. Busy deployments keep the leaving node as owner with a lease that has
// just run out, so a survivor's claim counts as a takeover; the others' leases are freed.
constexpr auto leave_sql
  = "WITH r AS (UPDATE deployments SET "
    "lease_owner = CASE WHEN " ORCH_BUSY " THEN lease_owner END, "
    "lease_expires_at = CASE WHEN " ORCH_BUSY " THEN now() - interval '1 millisecond' END "
    "WHERE lease_owner = $1 RETURNING 1), "
    "n AS (UPDATE cluster_nodes SET left_at = now() WHERE node_id = $1 RETURNING 1) "
    "SELECT count(*) FROM r";

#undef ORCH_LEASE_MS

constexpr auto nodes_sql
  = "SELECT n.node_id, n.api_address, " ORCH_MICROS("n.started_at") ", " ORCH_MICROS(
    "n.heartbeat_at") ", GREATEST(0, (extract(epoch FROM now() - n.heartbeat_at) * 1000)::bigint), "
                      "n.active_deployments, COALESCE(l.n, 0), COALESCE(" ORCH_MICROS(
                        "n.left_at") ", -1) FROM cluster_nodes n LEFT JOIN (SELECT lease_owner, "
                                     "count(*) AS n FROM deployments WHERE lease_owner IS NOT NULL "
                                     "AND lease_expires_at > now() GROUP BY lease_owner) l "
                                     "ON l.lease_owner = n.node_id ORDER BY n.node_id";

#undef ORCH_RUNNING
#undef ORCH_BUSY
#undef ORCH_MICROS

timestamp from_micros(int64_t micros) {
  return timestamp{std::chrono::microseconds{micros}};
}

std::string joined(const std::vector<uuid>& ids) {
  std::string out;
  for (const auto& id : ids) {
    if (!out.empty()) out += ',';
    out += to_string(id);
  }
  return out;
}

std::vector<uuid> split(const std::string& joined_ids) {
  std::vector<uuid> out;
  std::size_t from = 0;
  while (from < joined_ids.size()) {
    auto comma = joined_ids.find(',', from);
    if (comma == std::string::npos) comma = joined_ids.size();
    if (auto id = uuid::parse(std::string_view{joined_ids}.substr(from, comma - from)))
      out.push_back(*id);
    from = comma + 1;
  }
  return out;
}

class pg_cluster_repository : public cluster_repository {
public:
  explicit pg_cluster_repository(pool& db) : db_(db) {
    // nop
  }

  caf::expected<heartbeat_result> heartbeat(const node_heartbeat& hb) override {
    return with_connection(
      db_, "cluster_heartbeat", [&](pqxx::connection& conn) -> caf::expected<heartbeat_result> {
        pqxx::nontransaction tx{conn};
        auto row = tx.exec_params(heartbeat_sql, hb.node_id, joined(hb.running),
                                  static_cast<int64_t>(hb.lease.count()), hb.api_address,
                                  hb.active_deployments, hb.joining)[0];
        heartbeat_result out;
        out.leases = row[0].as<int64_t>();
        out.lost = split(row[1].as<std::string>());
        out.claimable = split(row[2].as<std::string>());
        out.live_nodes = row[3].as<int64_t>();
        return out;
      });
  }

  caf::expected<int64_t> leave(const std::string& node_id) override {
    return with_connection(db_, "cluster_leave",
                           [&](pqxx::connection& conn) -> caf::expected<int64_t> {
                             pqxx::nontransaction tx{conn};
                             return tx.exec_params(leave_sql, node_id)[0][0].as<int64_t>();
                           });
  }

  caf::expected<std::vector<node_entry>> nodes() override {
    return with_connection(db_, "cluster_nodes",
                           [&](pqxx::connection& conn) -> caf::expected<std::vector<node_entry>> {
                             pqxx::read_transaction tx{conn};
                             std::vector<node_entry> out;
                             for (const auto& row : tx.exec(nodes_sql)) {
                               node_entry e;
                               e.node_id = row[0].as<std::string>();
                               e.api_address = row[1].as<std::string>();
                               e.started_at = from_micros(row[2].as<int64_t>());
                               e.heartbeat_at = from_micros(row[3].as<int64_t>());
                               e.heartbeat_age = std::chrono::milliseconds{row[4].as<int64_t>()};
                               e.active_deployments = row[5].as<int64_t>();
                               e.leases = row[6].as<int64_t>();
                               if (auto left = row[7].as<int64_t>(); left >= 0)
                                 e.left_at = from_micros(left);
                               out.push_back(std::move(e));
                             }
                             return out;
                           });
  }

private:
  pool& db_;
};

} // namespace

std::unique_ptr<cluster_repository> make_pg_cluster_repository(pool& db) {
  return std::make_unique<pg_cluster_repository>(db);
}

} // namespace orch::persistence
