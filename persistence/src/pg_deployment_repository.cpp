#include "orch/persistence/pg_deployment_repository.hpp"

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "orch/errc.hpp"
#include "orch/schemas/deployment_json.hpp"
#include "pg_pool.hpp"

namespace orch::persistence {

namespace {

// Timestamps come back as integer microseconds (exact) and go in as RFC 3339 text.
#define ORCH_MICROS(col) "(extract(epoch FROM " col ") * 1000000)::bigint"

#define ORCH_DEPLOYMENT_COLUMNS                                                                    \
  "id::text, name, status, template::text, COALESCE(template_id::text, ''), parameters::text, "    \
  "cloud_region, resources::text, COALESCE(operation::text, 'null'), epoch, " ORCH_MICROS(         \
    "created_at") ", " ORCH_MICROS("updated_at") ", " ORCH_MICROS("deleted_at") ", last_seq"

// $1 status or '', $2 LIKE pattern ('%' for every name), $3 include DELETED. Listings plan it
// for their actual values (`list_plan_sql`), which folds the unused conditions away so that
// the status and name indexes apply.
#define ORCH_DEPLOYMENT_FILTER                                                                     \
  "($1 = '' OR status = $1) AND ($2 = '%' OR name LIKE $2 ESCAPE '\\') "                           \
  "AND ($3 OR status <> 'DELETED')"

constexpr auto get_stmt = "deployment_get";
constexpr auto get_sql = "SELECT " ORCH_DEPLOYMENT_COLUMNS " FROM deployments WHERE id = $1::uuid";

constexpr auto key_expire_stmt = "deployment_key_expire";
constexpr auto key_expire_sql
  = "DELETE FROM idempotency_keys WHERE key_owner = $1 AND key = $2 AND expires_at <= now()";

constexpr auto key_find_stmt = "deployment_key_find";
constexpr auto key_find_sql
  = "SELECT request_hash, COALESCE(deployment_id::text, ''), response_status, "
    "response_body::text FROM idempotency_keys WHERE key_owner = $1 AND key = $2 FOR UPDATE";

constexpr auto key_insert_stmt = "deployment_key_insert";
constexpr auto key_insert_sql
  = "INSERT INTO idempotency_keys (key, key_owner, request_hash, deployment_id, "
    "response_status, response_body, expires_at) "
    "VALUES ($1, $2, $3, $4::uuid, $5, $6::jsonb, now() + interval '24 hours')";

constexpr auto insert_stmt = "deployment_insert";
// The row and its first snapshot (`$13`, sequence 0, epoch 0).
constexpr auto insert_sql
  = "WITH d AS (INSERT INTO deployments (id, name, status, template, template_id, parameters, "
    "cloud_region, resources, operation, epoch, created_at, updated_at, deleted_at) "
    "VALUES ($1::uuid, $2, $3, $4::json, NULLIF($5, '')::uuid, $6::jsonb, $7, $8::jsonb, "
    "$9::jsonb, 0, $10::timestamptz, $11::timestamptz, NULLIF($12, '')::timestamptz) "
    "RETURNING id) "
    "INSERT INTO deployment_snapshots (deployment_id, seq, state, epoch) "
    "SELECT id, 0, $13::jsonb, 0 FROM d";

// One statement appends a batch: the fenced UPDATE takes the row lock (serializing appenders)
// and reserves `$8` sequence numbers in `last_seq`, re-read under that lock, so numbers stay
// gapless; the events (`$9`, a JSON array of {at, type, data}) and, if `$10`, the snapshot
// (`$11`) go in with the numbers it returned. A stale epoch, or a log that does not end at `$12`
// (when >= 0), updates no row, and then nothing else is written either.
constexpr auto append_stmt = "deployment_append";
constexpr auto append_sql
  = "WITH upd AS (UPDATE deployments SET status = $3, resources = $4::jsonb, "
    "operation = $5::jsonb, updated_at = $6::timestamptz, "
    "deleted_at = NULLIF($7, '')::timestamptz, last_seq = last_seq + $8, "
    "template = $13::json, parameters = $14::jsonb "
    "WHERE id = $1::uuid AND epoch = $2 AND ($12 < 0 OR last_seq = $12) RETURNING last_seq), "
    "ev AS (INSERT INTO deployment_events (deployment_id, seq, at, type, data) "
    "SELECT $1::uuid, upd.last_seq - $8 + e.ord, (e.v->>'at')::timestamptz, e.v->>'type', "
    "e.v->'data' FROM upd, jsonb_array_elements($9::jsonb) WITH ORDINALITY AS e(v, ord)), "
    "snap AS (INSERT INTO deployment_snapshots (deployment_id, seq, state, epoch) "
    "SELECT $1::uuid, upd.last_seq, $11::jsonb, $2 FROM upd WHERE $10 "
    "ON CONFLICT (deployment_id) DO UPDATE SET seq = EXCLUDED.seq, state = EXCLUDED.state, "
    "epoch = EXCLUDED.epoch, taken_at = now()) "
    "SELECT last_seq FROM upd";

constexpr auto log_end_stmt = "deployment_log_end";
constexpr auto log_end_sql = "SELECT epoch, last_seq FROM deployments WHERE id = $1::uuid";

constexpr auto exists_stmt = "deployment_exists";
constexpr auto exists_sql = "SELECT EXISTS (SELECT 1 FROM deployments WHERE id = $1::uuid)";

constexpr auto events_stmt = "deployment_events";
constexpr auto events_sql = "SELECT seq, " ORCH_MICROS(
  "at") ", type, data::text FROM deployment_events "
        "WHERE deployment_id = $1::uuid AND seq > $2 ORDER BY seq LIMIT $3";

constexpr auto load_snapshot_stmt = "deployment_load_snapshot";
constexpr auto load_snapshot_sql
  = "SELECT s.seq, s.state::text, d.epoch FROM deployments d "
    "JOIN deployment_snapshots s ON s.deployment_id = d.id WHERE d.id = $1::uuid";

// A generic plan of the filter reads every row; listings are few and planning is cheap.
constexpr auto list_plan_sql = "SET LOCAL plan_cache_mode = force_custom_plan";

// The page's ids first, so the rows skipped by OFFSET are never read nor converted to text.
// Qualified names in ORDER BY: the bare `id` would be the `id::text` output column.
constexpr auto list_stmt = "deployment_list";
constexpr auto list_sql
  = "SELECT " ORCH_DEPLOYMENT_COLUMNS " FROM deployments WHERE id IN (SELECT id FROM deployments "
    "WHERE " ORCH_DEPLOYMENT_FILTER " ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5) "
    "ORDER BY deployments.created_at DESC, deployments.id DESC";

constexpr auto list_after_stmt = "deployment_list_after";
constexpr auto list_after_sql
  = "SELECT " ORCH_DEPLOYMENT_COLUMNS " FROM deployments WHERE " ORCH_DEPLOYMENT_FILTER
    " AND (created_at, id) < (SELECT created_at, id FROM deployments WHERE id = $4::uuid)"
    " ORDER BY deployments.created_at DESC, deployments.id DESC LIMIT $5";

// Without a name filter the total comes from the counters of migration 0003 instead.
constexpr auto status_total_stmt = "deployment_status_total";
constexpr auto status_total_sql = "SELECT COALESCE(sum(n), 0)::bigint FROM deployment_counts "
                                  "WHERE ($1 = '' OR status = $1) AND ($2 OR status <> 'DELETED')";

constexpr auto count_stmt = "deployment_count";
constexpr auto count_sql = "SELECT count(*) FROM deployments WHERE " ORCH_DEPLOYMENT_FILTER;

constexpr auto unfinished_stmt = "deployment_unfinished";
constexpr auto unfinished_sql
  = "SELECT id::text FROM deployments WHERE status IN ('PENDING', 'IN_PROGRESS', 'UPDATING', "
    "'CONFIGURING', 'SCALING', 'DELETING') AND (lease_owner IS NULL OR lease_owner = $1 "
    "OR lease_expires_at < now()) ORDER BY created_at, id";

// The counters of migration 0003 give the totals without a scan; busy rows are few and found
// through the (status, created_at, id) index. One repeatable-read snapshot for both.
constexpr auto summary_counts_stmt = "deployment_summary_counts";
constexpr auto summary_counts_sql
  = "SELECT status, COALESCE(sum(n), 0)::bigint FROM deployment_counts GROUP BY status";
constexpr auto summary_busy_stmt = "deployment_summary_busy";
constexpr auto summary_busy_sql = "SELECT " ORCH_MICROS(
  "min(updated_at)") " FROM deployments WHERE status IN ('PENDING', "
                     "'IN_PROGRESS', 'UPDATING', 'CONFIGURING', 'SCALING', 'DELETING')";

constexpr auto claim_stmt = "deployment_claim";
// Conditional: never from a live lease of another node. The row lock of `prev` serializes two
// claimers, so the second one reads the first one's lease and gets nothing. Expiry is judged
// by the database's clock alone, so the nodes' clocks need not agree.
constexpr auto claim_sql
  = "WITH prev AS (SELECT id, lease_owner, lease_expires_at FROM deployments "
    "WHERE id = $1::uuid FOR UPDATE) "
    "UPDATE deployments d SET epoch = d.epoch + 1, lease_owner = $2, "
    "lease_expires_at = now() + $3::double precision * interval '1 millisecond' FROM prev WHERE "
    "d.id = prev.id "
    "AND (prev.lease_owner IS NULL OR prev.lease_owner = $2 OR prev.lease_expires_at < now()) "
    "RETURNING d.epoch, COALESCE(NULLIF(prev.lease_owner, $2), '')";

constexpr auto lease_holder_stmt = "deployment_lease_holder";
constexpr auto lease_holder_sql
  = "SELECT COALESCE(lease_owner, ''), COALESCE(GREATEST(0, (extract(epoch FROM "
    "lease_expires_at - now()) * 1000)::bigint), 0) FROM deployments WHERE id = $1::uuid";

#undef ORCH_DEPLOYMENT_COLUMNS
#undef ORCH_DEPLOYMENT_FILTER
#undef ORCH_MICROS

const char* prepared(pqxx::connection& conn, const char* name, const char* sql) {
  conn.prepare(name, sql);
  return name;
}

timestamp from_micros(int64_t micros) {
  return timestamp{std::chrono::microseconds{micros}};
}

// The events of a batch as the JSON array the append statement unpacks.
std::string events_json(const std::vector<deployment_event>& events) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  w.StartArray();
  for (const auto& ev : events) {
    w.StartObject();
    w.Key("at");
    auto at = to_rfc3339(ev.at);
    w.String(at.data(), static_cast<rapidjson::SizeType>(at.size()));
    w.Key("type");
    auto type = event_type(ev.data);
    w.String(type.data(), static_cast<rapidjson::SizeType>(type.size()));
    w.Key("data");
    auto data = schemas::event_data_json(ev.data);
    w.RawValue(data.data(), data.size(), rapidjson::kObjectType);
    w.EndObject();
  }
  w.EndArray();
  return {buf.GetString(), buf.GetSize()};
}

std::string time_text(const std::optional<timestamp>& t) {
  return t ? to_rfc3339(*t) : std::string{};
}

caf::error unknown_deployment(const uuid& id) {
  return make_error(errc::not_found, "deployment " + to_string(id) + " not found");
}

template <class T>
caf::error take_error(caf::expected<T>& x) {
  return std::move(x.error());
}

caf::expected<deployment_record> read_row(const pqxx::row& row) {
  deployment_record rec;
  auto id = uuid::parse(row[0].as<std::string>());
  auto status = parse_deployment_status(row[2].as<std::string>());
  if (!id || !status) return make_error(errc::internal, "stored deployment row is corrupt");
  rec.id = *id;
  rec.name = row[1].as<std::string>();
  rec.status = *status;
  auto parsed = schemas::template_from_json(row[3].as<std::string>());
  if (!parsed) return take_error(parsed);
  rec.spec = std::move(*parsed);
  if (auto text = row[4].as<std::string>(); !text.empty()) rec.template_id = uuid::parse(text);
  auto params = schemas::parameters_from_json(row[5].as<std::string>());
  if (!params) return take_error(params);
  rec.parameters = std::move(*params);
  rec.cloud_region = row[6].as<std::string>();
  auto resources = schemas::resources_from_json(row[7].as<std::string>());
  if (!resources) return take_error(resources);
  rec.resources = std::move(*resources);
  auto op = schemas::operation_from_json(row[8].as<std::string>());
  if (!op) return take_error(op);
  rec.operation = std::move(*op);
  rec.epoch = row[9].as<int64_t>();
  rec.created_at = from_micros(row[10].as<int64_t>());
  rec.updated_at = from_micros(row[11].as<int64_t>());
  if (!row[12].is_null()) rec.deleted_at = from_micros(row[12].as<int64_t>());
  rec.last_seq = row[13].as<int64_t>();
  return rec;
}

caf::expected<deployment_event> read_event(const pqxx::row& row) {
  auto data = schemas::event_data_from_json(row[2].as<std::string>(), row[3].as<std::string>());
  if (!data) return take_error(data);
  return deployment_event{row[0].as<int64_t>(), from_micros(row[1].as<int64_t>()),
                          std::move(*data)};
}

// LIKE pattern matching names that start with `prefix` literally.
std::string prefix_pattern(const std::string& prefix) {
  std::string out;
  for (auto c : prefix) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + '%';
}

class pg_deployment_repository : public deployment_repository {
public:
  explicit pg_deployment_repository(pool& db) : db_(db) {
    // nop
  }

  caf::expected<create_outcome> create(const deployment_record& rec,
                                       const std::optional<idempotency_claim>& claim) override {
    return with_connection(
      db_, "deployment_create", [&](pqxx::connection& conn) -> caf::expected<create_outcome> {
        try {
          if (!claim) {
            // The row and its first snapshot in one statement, atomic on its own.
            pqxx::nontransaction tx{conn};
            insert(conn, tx, rec);
            return create_outcome{rec.id, 202, {}, false};
          }
          pqxx::work tx{conn};
          auto replay = find_key(conn, tx, *claim);
          if (!replay || replay->replayed) return replay;
          insert(conn, tx, rec);
          tx.exec_prepared(prepared(conn, key_insert_stmt, key_insert_sql), claim->key,
                           claim->owner, claim->request_hash, to_string(rec.id),
                           claim->response_status, claim->response_body);
          tx.commit();
          return create_outcome{rec.id, claim->response_status, claim->response_body, false};
        } catch (const pqxx::unique_violation&) {
          return make_error(errc::conflict, "deployment name '" + rec.name
                                              + "' or idempotency key is already taken");
        }
      });
  }

  caf::expected<deployment_record> get(const uuid& id) override {
    return with_connection(
      db_, "deployment_get", [&](pqxx::connection& conn) -> caf::expected<deployment_record> {
        // One statement is atomic on its own: no BEGIN and COMMIT round trips.
        pqxx::nontransaction tx{conn};
        auto res = tx.exec_prepared(prepared(conn, get_stmt, get_sql), to_string(id));
        if (res.empty()) return unknown_deployment(id);
        return read_row(res[0]);
      });
  }

  caf::expected<page<deployment_record>> list(const deployment_filter& filter) override {
    if (filter.limit < 1 || filter.limit > 500)
      return make_error(errc::invalid_spec, "limit must be between 1 and 500");
    if (filter.offset < 0) return make_error(errc::invalid_spec, "offset must be >= 0");
    return with_connection(
      db_, "deployment_list",
      [&](pqxx::connection& conn) -> caf::expected<page<deployment_record>> {
        pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx{conn};
        tx.exec(list_plan_sql);
        auto status = filter.status ? to_string(*filter.status) : std::string{};
        auto pattern = prefix_pattern(filter.name_prefix);
        page<deployment_record> out;
        out.limit = filter.limit;
        out.offset = filter.after ? 0 : filter.offset;
        pqxx::result res;
        if (filter.after) {
          auto exists
            = tx.exec_prepared(prepared(conn, exists_stmt, exists_sql), to_string(*filter.after));
          if (!exists[0][0].as<bool>()) return unknown_deployment(*filter.after);
          res = tx.exec_prepared(prepared(conn, list_after_stmt, list_after_sql), status, pattern,
                                 filter.include_deleted, to_string(*filter.after), filter.limit);
        } else {
          res = tx.exec_prepared(prepared(conn, list_stmt, list_sql), status, pattern,
                                 filter.include_deleted, filter.limit, filter.offset);
        }
        for (const auto& row : res) {
          auto item = read_row(row);
          if (!item) return take_error(item);
          out.items.push_back(std::move(*item));
        }
        auto total = filter.name_prefix.empty()
                       ? tx.exec_prepared(prepared(conn, status_total_stmt, status_total_sql),
                                          status, filter.include_deleted)
                       : tx.exec_prepared(prepared(conn, count_stmt, count_sql), status, pattern,
                                          filter.include_deleted);
        out.total = total[0][0].as<int64_t>();
        return out;
      });
  }

  caf::expected<int64_t> append_events(const uuid& id, int64_t epoch,
                                       const event_batch& batch) override {
    const auto& st = batch.state;
    std::string snapshot;
    if (batch.snapshot) {
      auto snap = st;
      snap.epoch = epoch;
      snapshot = schemas::snapshot_json(snap);
    }
    auto events = events_json(batch.events);
    return with_connection(
      db_, "deployment_append", [&](pqxx::connection& conn) -> caf::expected<int64_t> {
        // A single statement is atomic on its own.
        pqxx::nontransaction tx{conn};
        auto res = tx.exec_prepared(
          prepared(conn, append_stmt, append_sql), to_string(id), epoch, to_string(st.status),
          schemas::resources_json(st.resources), schemas::operation_json(st.operation),
          to_rfc3339(st.updated_at), time_text(st.deleted_at),
          static_cast<int64_t>(batch.events.size()), events, batch.snapshot,
          batch.snapshot ? snapshot : std::string{"null"}, batch.after_seq.value_or(-1),
          schemas::template_json(st.spec), schemas::parameters_json(st.parameters));
        if (!res.empty()) return res[0][0].as<int64_t>();
        auto row = tx.exec_prepared(prepared(conn, log_end_stmt, log_end_sql), to_string(id));
        if (row.empty()) return unknown_deployment(id);
        if (row[0][0].as<int64_t>() != epoch)
          return make_error(errc::conflict, "stale epoch " + std::to_string(epoch)
                                              + " for deployment " + to_string(id));
        auto end = row[0][1].as<int64_t>();
        auto size = static_cast<int64_t>(batch.events.size());
        // Our own earlier attempt went through: only the owner of this epoch writes the log.
        if (batch.after_seq && size > 0 && end == *batch.after_seq + size) return end;
        return make_error(errc::conflict, "the log of deployment " + to_string(id) + " ends at seq "
                                            + std::to_string(end) + ", not "
                                            + std::to_string(batch.after_seq.value_or(-1)));
      });
  }

  caf::expected<stored_history> load(const uuid& id) override {
    return with_connection(
      db_, "deployment_load", [&](pqxx::connection& conn) -> caf::expected<stored_history> {
        pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx{conn};
        auto snap
          = tx.exec_prepared(prepared(conn, load_snapshot_stmt, load_snapshot_sql), to_string(id));
        if (snap.empty()) return unknown_deployment(id);
        auto rec = schemas::record_from_snapshot(snap[0][1].as<std::string>());
        if (!rec) return take_error(rec);
        stored_history out{std::move(*rec), snap[0][0].as<int64_t>(), {}, snap[0][2].as<int64_t>()};
        auto tail = tx.exec_prepared(prepared(conn, events_stmt, events_sql), to_string(id),
                                     out.snapshot_seq, std::numeric_limits<int64_t>::max());
        for (const auto& row : tail) {
          auto ev = read_event(row);
          if (!ev) return take_error(ev);
          out.tail.push_back(std::move(*ev));
        }
        return out;
      });
  }

  caf::expected<std::vector<deployment_event>> events(const uuid& id, int64_t after_seq,
                                                      int limit) override {
    return with_connection(
      db_, "deployment_events",
      [&](pqxx::connection& conn) -> caf::expected<std::vector<deployment_event>> {
        pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx{conn};
        if (!tx.exec_prepared(prepared(conn, exists_stmt, exists_sql), to_string(id))[0][0]
               .as<bool>())
          return unknown_deployment(id);
        std::vector<deployment_event> out;
        for (const auto& row : tx.exec_prepared(prepared(conn, events_stmt, events_sql),
                                                to_string(id), after_seq, limit)) {
          auto ev = read_event(row);
          if (!ev) return take_error(ev);
          out.push_back(std::move(*ev));
        }
        return out;
      });
  }

  caf::expected<std::vector<uuid>> list_unfinished(const std::string& node_id) override {
    return with_connection(db_, "deployment_unfinished",
                           [&](pqxx::connection& conn) -> caf::expected<std::vector<uuid>> {
                             pqxx::read_transaction tx{conn};
                             std::vector<uuid> out;
                             for (const auto& row : tx.exec_prepared(
                                    prepared(conn, unfinished_stmt, unfinished_sql), node_id))
                               if (auto id = uuid::parse(row[0].as<std::string>()))
                                 out.push_back(*id);
                             return out;
                           });
  }

  caf::expected<lease_grant> claim(const uuid& id, const lease_terms& lease) override {
    return with_connection(
      db_, "deployment_claim", [&](pqxx::connection& conn) -> caf::expected<lease_grant> {
        // A single statement is atomic on its own.
        pqxx::nontransaction tx{conn};
        auto res = tx.exec_prepared(prepared(conn, claim_stmt, claim_sql), to_string(id),
                                    lease.node_id, static_cast<int64_t>(lease.duration.count()));
        if (!res.empty()) return lease_grant{res[0][0].as<int64_t>(), res[0][1].as<std::string>()};
        auto holder
          = tx.exec_prepared(prepared(conn, lease_holder_stmt, lease_holder_sql), to_string(id));
        if (holder.empty()) return unknown_deployment(id);
        return make_error(errc::conflict, "deployment " + to_string(id) + " is leased by node "
                                            + holder[0][0].as<std::string>() + " for "
                                            + holder[0][1].as<std::string>() + " ms more");
      });
  }

  caf::expected<fleet_summary> summary() override {
    return with_connection(
      db_, "deployment_summary", [&](pqxx::connection& conn) -> caf::expected<fleet_summary> {
        pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx{conn};
        fleet_summary out;
        for (auto s : all_deployment_statuses) out.by_status[s] = 0;
        for (const auto& row :
             tx.exec_prepared(prepared(conn, summary_counts_stmt, summary_counts_sql)))
          if (auto s = parse_deployment_status(row[0].as<std::string>()))
            out.by_status[*s] = row[1].as<int64_t>();
        auto busy = tx.exec_prepared(prepared(conn, summary_busy_stmt, summary_busy_sql));
        if (!busy.empty() && !busy[0][0].is_null())
          out.stillest_busy_update = from_micros(busy[0][0].as<int64_t>());
        return out;
      });
  }

private:
  // The stored answer for a live key: a replay, a conflict, or "not seen" (replayed false).
  caf::expected<create_outcome> find_key(pqxx::connection& conn, pqxx::work& tx,
                                         const idempotency_claim& claim) {
    tx.exec_prepared(prepared(conn, key_expire_stmt, key_expire_sql), claim.owner, claim.key);
    auto res
      = tx.exec_prepared(prepared(conn, key_find_stmt, key_find_sql), claim.owner, claim.key);
    if (res.empty()) return create_outcome{};
    if (res[0][0].as<std::string>() != claim.request_hash)
      return make_error(errc::conflict, "idempotency key was used with a different request body");
    auto id = uuid::parse(res[0][1].as<std::string>());
    return create_outcome{id.value_or(uuid{}), res[0][2].as<int>(), res[0][3].as<std::string>(),
                          true};
  }

  void insert(pqxx::connection& conn, pqxx::transaction_base& tx, const deployment_record& rec) {
    auto snap = rec;
    snap.epoch = 0;
    tx.exec_prepared(prepared(conn, insert_stmt, insert_sql), to_string(rec.id), rec.name,
                     to_string(rec.status), schemas::template_json(rec.spec),
                     rec.template_id ? to_string(*rec.template_id) : std::string{},
                     schemas::parameters_json(rec.parameters), rec.cloud_region,
                     schemas::resources_json(rec.resources), schemas::operation_json(rec.operation),
                     to_rfc3339(rec.created_at), to_rfc3339(rec.updated_at),
                     time_text(rec.deleted_at), schemas::snapshot_json(snap));
  }

  pool& db_;
};

} // namespace

std::unique_ptr<deployment_repository> make_pg_deployment_repository(pool& db) {
  return std::make_unique<pg_deployment_repository>(db);
}

} // namespace orch::persistence
