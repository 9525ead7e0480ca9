#include <chrono>
#include <cstdint>
#include <string>

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

constexpr auto join_sql
  = "INSERT INTO cluster_nodes (node_id, api_address, active_deployments) VALUES ($1, $2, $3) "
    "ON CONFLICT (node_id) DO UPDATE SET api_address = EXCLUDED.api_address, "
    "active_deployments = EXCLUDED.active_deployments, heartbeat_at = now(), left_at = NULL, "
    "started_at = CASE WHEN $4 THEN now() ELSE cluster_nodes.started_at END";

// Keeps (renews) the leases of busy deployments and of those whose actor runs here, frees the
// rest: a finished deployment whose actor passivated needs no owner.
constexpr auto renew_sql
  = "WITH r AS (UPDATE deployments SET "
    "lease_owner = CASE WHEN " ORCH_BUSY " OR " ORCH_RUNNING " THEN lease_owner END, "
    "lease_expires_at = CASE WHEN " ORCH_BUSY " OR " ORCH_RUNNING
    " THEN now() + $3::double precision * interval '1 millisecond' END "
    "WHERE lease_owner = $1 RETURNING lease_owner) "
    "SELECT count(*) FILTER (WHERE lease_owner IS NOT NULL) FROM r";

constexpr auto lost_sql = "SELECT id::text FROM deployments WHERE " ORCH_RUNNING
                          " AND lease_owner IS NOT NULL AND lease_owner <> $1";

// A free busy deployment is left to the node that created it (it claims within milliseconds)
// for a lease period before the others take it.
constexpr auto claimable_sql
  = "SELECT id::text FROM deployments WHERE " ORCH_BUSY " AND NOT " ORCH_RUNNING " AND ("
    "(lease_owner <> $1 AND lease_expires_at < now()) "
    "OR (lease_owner IS NULL AND updated_at < now() - $3::double precision * interval '1 "
    "millisecond') "
    "OR lease_owner = $1) ORDER BY created_at, id LIMIT 500";

constexpr auto live_nodes_sql
  = "SELECT count(*) FROM cluster_nodes WHERE left_at IS NULL "
    "AND heartbeat_at > now() - $1::double precision * interval '1 millisecond'";

// Busy deployments keep the leaving node as owner with a lease that has just run out, so a
// survivor's claim counts as a takeover; the others' leases are freed.
constexpr auto leave_leases_sql
  = "WITH r AS (UPDATE deployments SET "
    "lease_owner = CASE WHEN " ORCH_BUSY " THEN lease_owner END, "
    "lease_expires_at = CASE WHEN " ORCH_BUSY " THEN now() - interval '1 millisecond' END "
    "WHERE lease_owner = $1 RETURNING 1) SELECT count(*) FROM r";

constexpr auto leave_node_sql = "UPDATE cluster_nodes SET left_at = now() WHERE node_id = $1";

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

std::vector<uuid> ids_of(const pqxx::result& res) {
  std::vector<uuid> out;
  for (const auto& row : res)
    if (auto id = uuid::parse(row[0].as<std::string>())) out.push_back(*id);
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
        pqxx::work tx{conn};
        auto running = joined(hb.running);
        auto lease_ms = static_cast<int64_t>(hb.lease.count());
        tx.exec_params(join_sql, hb.node_id, hb.api_address, hb.active_deployments, hb.joining);
        heartbeat_result out;
        out.leases = tx.exec_params(renew_sql, hb.node_id, running, lease_ms)[0][0].as<int64_t>();
        out.lost = ids_of(tx.exec_params(lost_sql, hb.node_id, running));
        out.claimable = ids_of(tx.exec_params(claimable_sql, hb.node_id, running, lease_ms));
        out.live_nodes = tx.exec_params(live_nodes_sql, lease_ms)[0][0].as<int64_t>();
        tx.commit();
        return out;
      });
  }

  caf::expected<int64_t> leave(const std::string& node_id) override {
    return with_connection(db_, "cluster_leave",
                           [&](pqxx::connection& conn) -> caf::expected<int64_t> {
                             pqxx::work tx{conn};
                             auto n = tx.exec_params(leave_leases_sql, node_id)[0][0].as<int64_t>();
                             tx.exec_params(leave_node_sql, node_id);
                             tx.commit();
                             return n;
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
