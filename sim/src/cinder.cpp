// Cinder v3: volumes with their creating -> available -> in-use -> deleting life, quota 413s
// and the delete refusal text of cinder/volume/api.py.

#include <algorithm>

#include "service.hpp"

namespace orch::sim {

namespace {

constexpr int mv(int major, int minor) {
  return major * 1000 + minor;
}

void write_links(json_writer& w, impl_state& st, const volume& v) {
  w.StartArray();
  w.StartObject();
  w.Key("href");
  write_str(w, st.cfg.base_url + "/volume/v3/" + v.project_id + "/volumes/" + v.id);
  w.Key("rel");
  w.String("self");
  w.EndObject();
  w.StartObject();
  w.Key("href");
  write_str(w, st.cfg.base_url + "/volume/" + v.project_id + "/volumes/" + v.id);
  w.Key("rel");
  w.String("bookmark");
  w.EndObject();
  w.EndArray();
}

response not_found(const std::string& id) {
  return nova_fault(404, "Volume " + id + " could not be found.");
}

volume* find_volume(impl_state& st, call& c, const std::string& id) {
  auto i = st.volumes.find(id);
  if (i == st.volumes.end() || i->second.project_id != c.auth->project_id) return nullptr;
  return &i->second;
}

response show(impl_state& st, call& c) {
  auto v = find_volume(st, c, c.params[1]);
  if (v == nullptr) return not_found(c.params[1]);
  return json_response(200, render([&](json_writer& w) {
                         w.StartObject();
                         w.Key("volume");
                         write_volume(w, st, *v, c);
                         w.EndObject();
                       }));
}

response create(impl_state& st, call& c) {
  auto doc = parse_body(c.req);
  if (!doc || !doc->HasMember("volume") || !(*doc)["volume"].IsObject())
    return nova_fault(400, "Missing required element 'volume' in request body.");
  auto& body = (*doc)["volume"];
  int size = 0;
  if (body.HasMember("size")) {
    if (body["size"].IsInt())
      size = body["size"].GetInt();
    else if (body["size"].IsString())
      size = std::atoi(body["size"].GetString());
  }
  if (size <= 0)
    return nova_fault(400, "Invalid input for field/attribute size. Value: "
                             + (body.HasMember("size") && body["size"].IsInt()
                                  ? std::to_string(body["size"].GetInt())
                                  : std::string{"None"})
                             + ". None is not of type 'integer', 'string'");
  std::string image_id;
  if (body.HasMember("imageRef") && body["imageRef"].IsString()) {
    image_id = body["imageRef"].GetString();
    if (st.find_image(image_id) == nullptr)
      return nova_fault(404, "Image " + image_id + " could not be found.");
  }
  int count = 0;
  int gigabytes = 0;
  for (auto& [id, v] : st.volumes) {
    if (v.project_id != c.auth->project_id) continue;
    ++count;
    gigabytes += v.size;
  }
  auto& q = st.cfg.quotas;
  if (count + 1 > q.volumes)
    return nova_fault(413,
                      "VolumeLimitExceeded: Maximum number of volumes allowed ("
                        + std::to_string(q.volumes) + ") exceeded for quota 'volumes'.",
                      0);
  if (gigabytes + size > q.gigabytes)
    return nova_fault(413,
                      "VolumeSizeExceedsAvailableQuota: Requested volume or snapshot "
                      "exceeds allowed gigabytes quota. Requested "
                        + std::to_string(size) + "G, quota is " + std::to_string(q.gigabytes)
                        + "G and " + std::to_string(gigabytes) + "G has been consumed.",
                      0);
  volume v;
  v.id = st.new_uuid();
  v.seq = ++st.seq;
  v.project_id = c.auth->project_id;
  v.user_id = c.auth->user_id;
  v.size = size;
  v.image_id = image_id;
  if (body.HasMember("name") && body["name"].IsString())
    v.name = std::string{body["name"].GetString()};
  if (body.HasMember("description") && body["description"].IsString())
    v.description = std::string{body["description"].GetString()};
  if (body.HasMember("metadata") && body["metadata"].IsObject())
    for (auto& m : body["metadata"].GetObject()) {
      if (!m.value.IsString())
        return nova_fault(400, "Invalid input received: Metadata property value must be a "
                               "string.");
      v.metadata[m.name.GetString()] = m.value.GetString();
    }
  v.created = iso_micros_naive(c.now);
  st.schedule(c.now, st.cfg.boot_time, event_kind::volume_created, v.id, v.generation);
  auto id = v.id;
  st.volume_order[v.seq] = id;
  auto& stored = st.volumes[id] = std::move(v);
  return json_response(202, render([&](json_writer& w) {
                         w.StartObject();
                         w.Key("volume");
                         write_volume(w, st, stored, c);
                         w.EndObject();
                       }));
}

response update(impl_state& st, call& c) {
  auto v = find_volume(st, c, c.params[1]);
  if (v == nullptr) return not_found(c.params[1]);
  auto doc = parse_body(c.req);
  if (!doc || !doc->HasMember("volume") || !(*doc)["volume"].IsObject())
    return nova_fault(400, "Missing required element 'volume' in request body.");
  auto& body = (*doc)["volume"];
  if (body.HasMember("name") && body["name"].IsString())
    v->name = std::string{body["name"].GetString()};
  if (body.HasMember("description") && body["description"].IsString())
    v->description = std::string{body["description"].GetString()};
  if (body.HasMember("metadata") && body["metadata"].IsObject()) {
    v->metadata.clear();
    for (auto& m : body["metadata"].GetObject())
      v->metadata[m.name.GetString()] = std::string{str_of(m.value)};
  }
  v->updated = iso_micros_naive(c.now);
  return show(st, c);
}

response remove(impl_state& st, call& c) {
  auto v = find_volume(st, c, c.params[1]);
  if (v == nullptr) return not_found(c.params[1]);
  static const std::vector<std::string> deletable{"available", "error", "error_restoring",
                                                  "error_extending", "error_managing"};
  if (std::find(deletable.begin(), deletable.end(), v->status) == deletable.end()
      || !v->attachments.empty())
    return nova_fault(400, "Invalid volume: Volume status must be available or error or "
                           "error_restoring or error_extending or error_managing and must not "
                           "be migrating, attached, belong to a group, have snapshots, awaiting "
                           "a transfer, or be disassociated from snapshots after volume "
                           "transfer.");
  v->status = "deleting";
  ++v->generation;
  st.schedule(c.now, st.cfg.delete_time, event_kind::volume_deleted, v->id, v->generation);
  return empty_response(202);
}

response list(impl_state& st, call& c, bool detail) {
  auto name = c.arg("name");
  auto status = c.arg("status");
  std::map<std::string, std::string> metadata;
  if (auto md = c.arg("metadata")) {
    rapidjson::Document doc;
    doc.Parse(md->c_str());
    if (doc.HasParseError() || !doc.IsObject())
      return nova_fault(400, "Invalid filter keys: metadata");
    for (auto& m : doc.GetObject()) metadata[m.name.GetString()] = std::string{str_of(m.value)};
  }
  size_t limit = 1000;
  if (auto l = c.arg("limit")) {
    char* end = nullptr;
    auto n = std::strtol(l->c_str(), &end, 10);
    if (end == l->c_str() || *end != '\0' || n < 0)
      return nova_fault(400, "limit param must be an integer");
    limit = std::min<size_t>(static_cast<size_t>(n), 1000);
  }
  auto marker = c.arg("marker");
  if (marker && !st.volumes.count(*marker))
    return nova_fault(404, "Marker " + *marker + " could not be found.");
  std::vector<const volume*> page;
  bool past = !marker;
  for (auto i = st.volume_order.rbegin(); i != st.volume_order.rend(); ++i) {
    auto& v = st.volumes.at(i->second);
    if (!past) {
      past = v.id == *marker;
      continue;
    }
    if (v.project_id != c.auth->project_id) continue;
    if (name && v.name.value_or("") != *name) continue;
    if (status && v.status != *status) continue;
    bool ok = true;
    for (auto& [k, val] : metadata) {
      auto m = v.metadata.find(k);
      ok = ok && m != v.metadata.end() && m->second == val;
    }
    if (!ok) continue;
    if (page.size() == limit) break;
    page.push_back(&v);
  }
  return json_response(200, render([&](json_writer& w) {
                         w.StartObject();
                         w.Key("volumes");
                         w.StartArray();
                         for (auto v : page) {
                           if (detail) {
                             write_volume(w, st, *v, c);
                             continue;
                           }
                           w.StartObject();
                           w.Key("id");
                           write_str(w, v->id);
                           w.Key("links");
                           write_links(w, st, *v);
                           w.Key("name");
                           write_opt(w, v->name);
                           w.EndObject();
                         }
                         w.EndArray();
                         if (limit > 0 && page.size() == limit) {
                           std::string query;
                           for (auto& [k, val] : c.query)
                             if (k != "marker")
                               query += percent_encode(k) + "=" + percent_encode(val) + "&";
                           query += "marker=" + page.back()->id;
                           w.Key("volumes_links");
                           w.StartArray();
                           w.StartObject();
                           w.Key("href");
                           write_str(w, st.cfg.base_url + c.req.path + "?" + query);
                           w.Key("rel");
                           w.String("next");
                           w.EndObject();
                           w.EndArray();
                         }
                         w.EndObject();
                       }));
}

void write_version(json_writer& w, impl_state& st) {
  w.StartObject();
  w.Key("id");
  w.String("v3.0");
  w.Key("links");
  w.StartArray();
  w.StartObject();
  w.Key("href");
  w.String("https://docs.openstack.org/");
  w.Key("rel");
  w.String("describedby");
  w.Key("type");
  w.String("text/html");
  w.EndObject();
  w.StartObject();
  w.Key("href");
  write_str(w, st.cfg.base_url + "/volume/v3/");
  w.Key("rel");
  w.String("self");
  w.EndObject();
  w.EndArray();
  w.Key("media-types");
  w.StartArray();
  w.StartObject();
  w.Key("base");
  w.String("application/json");
  w.Key("type");
  w.String("application/vnd.openstack.volume+json;version=3");
  w.EndObject();
  w.EndArray();
  w.Key("min_version");
  w.String("3.0");
  w.Key("status");
  w.String("CURRENT");
  w.Key("updated");
  w.String("2022-08-31T00:00:00Z");
  w.Key("version");
  w.String("3.71");
  w.EndObject();
}

} // namespace

void write_volume(json_writer& w, impl_state& st, const volume& v, const call& c) {
  int version = c.microversion == 0 ? mv(3, 0) : c.microversion;
  w.StartObject();
  w.Key("attachments");
  w.StartArray();
  for (auto& a : v.attachments) {
    w.StartObject();
    w.Key("server_id");
    write_str(w, a.server_id);
    w.Key("attachment_id");
    write_str(w, a.attachment_id);
    w.Key("attached_at");
    write_str(w, a.attached_at);
    w.Key("host_name");
    w.Null();
    w.Key("volume_id");
    write_str(w, v.id);
    w.Key("device");
    write_str(w, a.device);
    w.Key("id");
    write_str(w, v.id);
    w.EndObject();
  }
  w.EndArray();
  w.Key("availability_zone");
  w.String("nova");
  w.Key("bootable");
  w.String(v.image_id.empty() ? "false" : "true");
  w.Key("consistencygroup_id");
  w.Null();
  w.Key("created_at");
  write_str(w, v.created);
  w.Key("description");
  write_opt(w, v.description);
  w.Key("encrypted");
  w.Bool(false);
  w.Key("id");
  write_str(w, v.id);
  w.Key("links");
  write_links(w, st, v);
  w.Key("metadata");
  write_map(w, v.metadata);
  w.Key("migration_status");
  w.Null();
  w.Key("multiattach");
  w.Bool(false);
  w.Key("name");
  write_opt(w, v.name);
  w.Key("replication_status");
  w.Null();
  w.Key("size");
  w.Int(v.size);
  w.Key("snapshot_id");
  w.Null();
  w.Key("source_volid");
  w.Null();
  w.Key("status");
  write_str(w, v.status);
  w.Key("updated_at");
  write_opt(w, v.updated);
  w.Key("user_id");
  write_str(w, v.user_id);
  w.Key("volume_type");
  w.String("__DEFAULT__");
  // Admin-only attributes (the default user holds the admin role).
  w.Key("os-vol-tenant-attr:tenant_id");
  write_str(w, v.project_id);
  w.Key("os-vol-host-attr:host");
  w.String("sim@lvmdriver-1#lvmdriver-1");
  w.Key("os-vol-mig-status-attr:migstat");
  w.Null();
  w.Key("os-vol-mig-status-attr:name_id");
  w.Null();
  if (!v.image_id.empty()) {
    w.Key("volume_image_metadata");
    w.StartObject();
    w.Key("image_id");
    write_str(w, v.image_id);
    w.EndObject();
  }
  if (version >= mv(3, 13)) {
    w.Key("group_id");
    w.Null();
  }
  if (version >= mv(3, 21)) {
    w.Key("provider_id");
    w.Null();
  }
  if (version >= mv(3, 48)) {
    w.Key("service_uuid");
    w.Null();
    w.Key("shared_targets");
    if (version >= mv(3, 69))
      w.Null();
    else
      w.Bool(false);
  }
  if (version >= mv(3, 61)) {
    w.Key("cluster_name");
    w.Null();
  }
  if (version >= mv(3, 63)) {
    w.Key("volume_type_id");
    write_str(w, "5fed9d7c-401d-46e2-8e80-f30c70cb7e1d");
  }
  if (version >= mv(3, 64)) {
    w.Key("encryption_key_id");
    w.Null();
  }
  if (version >= mv(3, 65)) {
    w.Key("consumes_quota");
    w.Bool(true);
  }
  w.EndObject();
}

void add_cinder_routes(impl_state& st) {
  auto add = [&](std::string method, std::string pattern, route_fn fn, bool auth = true) {
    add_route(st, service_family::volume, "volume", std::move(method), "/volume" + pattern,
              std::move(fn), auth);
  };
  auto versions = [](int status) {
    return [status](impl_state& s, call&) {
      return json_response(status, render([&](json_writer& w) {
                             w.StartObject();
                             w.Key("versions");
                             w.StartArray();
                             write_version(w, s);
                             w.EndArray();
                             w.EndObject();
                           }));
    };
  };
  add("GET", "", versions(300), false);
  add("GET", "/v3", versions(200), false);
  add("GET", "/v3/{project}/volumes", [](impl_state& s, call& c) { return list(s, c, false); });
  add("GET", "/v3/{project}/volumes/detail",
      [](impl_state& s, call& c) { return list(s, c, true); });
  add("POST", "/v3/{project}/volumes", create);
  add("GET", "/v3/{project}/volumes/{id}", show);
  add("PUT", "/v3/{project}/volumes/{id}", update);
  add("DELETE", "/v3/{project}/volumes/{id}", remove);
}

} // namespace orch::sim
