// Glance v2: the built-in images, listed with Glance's filters and its `next` paging.

#include <algorithm>

#include "service.hpp"

namespace orch::sim {

namespace {

/// Glance's `name` filter: exact, or `in:a,"b,c"` for several names.
bool name_matches(const std::string& filter, const std::string& name) {
  if (!filter.starts_with("in:")) return filter == name;
  std::vector<std::string> names;
  std::string cur;
  bool quoted = false;
  for (size_t i = 3; i < filter.size(); ++i) {
    char ch = filter[i];
    if (ch == '"')
      quoted = !quoted;
    else if (ch == ',' && !quoted)
      names.push_back(std::exchange(cur, {}));
    else
      cur += ch;
  }
  names.push_back(cur);
  return std::find(names.begin(), names.end(), name) != names.end();
}

} // namespace

void write_image(json_writer& w, impl_state& st, const image& i) {
  w.StartObject();
  w.Key("status");
  write_str(w, i.status);
  w.Key("name");
  write_str(w, i.name);
  w.Key("tags");
  w.StartArray();
  w.EndArray();
  w.Key("container_format");
  w.String("bare");
  w.Key("created_at");
  write_str(w, i.created);
  w.Key("disk_format");
  write_str(w, i.disk_format);
  w.Key("updated_at");
  write_str(w, i.created);
  w.Key("visibility");
  w.String("public");
  w.Key("self");
  write_str(w, "/v2/images/" + i.id);
  w.Key("min_disk");
  w.Int(i.min_disk);
  w.Key("protected");
  w.Bool(false);
  w.Key("id");
  write_str(w, i.id);
  w.Key("file");
  write_str(w, "/v2/images/" + i.id + "/file");
  w.Key("checksum");
  write_str(w, i.checksum);
  w.Key("os_hash_algo");
  w.String("sha512");
  w.Key("os_hash_value");
  write_str(w, i.checksum + i.checksum + i.checksum + i.checksum);
  w.Key("os_hidden");
  w.Bool(false);
  w.Key("owner");
  write_str(w, st.projects.empty() ? "" : st.projects.begin()->first);
  w.Key("size");
  w.Int64(i.size);
  w.Key("min_ram");
  w.Int(0);
  w.Key("schema");
  w.String("/v2/schemas/image");
  w.Key("virtual_size");
  w.Null();
  w.Key("os_distro");
  write_str(w, i.os_distro);
  w.EndObject();
}

void add_glance_routes(impl_state& st) {
  auto add = [&](std::string method, std::string pattern, route_fn fn, bool auth = true) {
    add_route(st, service_family::image, "image", std::move(method), "/image" + pattern,
              std::move(fn), auth);
  };
  add(
    "GET", "",
    [](impl_state& s, call&) {
      return json_response(300, render([&](json_writer& w) {
                             w.StartObject();
                             w.Key("versions");
                             w.StartArray();
                             for (auto v : {"v2.9", "v2.8", "v2.7", "v2.6", "v2.5", "v2.4", "v2.3",
                                            "v2.2", "v2.1", "v2.0"}) {
                               w.StartObject();
                               w.Key("id");
                               w.String(v);
                               w.Key("status");
                               w.String(std::string_view{v} == "v2.9" ? "CURRENT" : "SUPPORTED");
                               w.Key("links");
                               w.StartArray();
                               w.StartObject();
                               w.Key("rel");
                               w.String("self");
                               w.Key("href");
                               write_str(w, s.cfg.base_url + "/image/v2/");
                               w.EndObject();
                               w.EndArray();
                               w.EndObject();
                             }
                             w.EndArray();
                             w.EndObject();
                           }));
    },
    false);
  add("GET", "/v2/images", [](impl_state& s, call& c) {
    auto name = c.arg("name");
    auto status = c.arg("status");
    auto visibility = c.arg("visibility");
    size_t limit = 25;
    if (auto l = c.arg("limit")) {
      char* end = nullptr;
      auto n = std::strtol(l->c_str(), &end, 10);
      if (end == l->c_str() || *end != '\0' || n < 0)
        return family_error(service_family::image, 400, "limit param must be an integer");
      limit = std::min<size_t>(static_cast<size_t>(n), 1000);
    }
    auto marker = c.arg("marker");
    if (marker && s.find_image(*marker) == nullptr)
      return family_error(service_family::image, 400, "marker " + *marker + " could not be found.");
    std::vector<const image*> page;
    bool more = false;
    bool past = !marker;
    for (auto& i : s.images) {
      if (!past) {
        past = i.id == *marker;
        continue;
      }
      if (name && !name_matches(*name, i.name)) continue;
      if (status && i.status != *status) continue;
      if (visibility && *visibility != "public" && *visibility != "all") continue;
      if (page.size() == limit) {
        more = true;
        break;
      }
      page.push_back(&i);
    }
    return json_response(200, render([&](json_writer& w) {
                           w.StartObject();
                           w.Key("images");
                           w.StartArray();
                           for (auto i : page) write_image(w, s, *i);
                           w.EndArray();
                           w.Key("schema");
                           w.String("/v2/schemas/images");
                           w.Key("first");
                           w.String("/v2/images");
                           if (more && !page.empty()) {
                             std::string query;
                             for (auto& [k, v] : c.query)
                               if (k != "marker")
                                 query += percent_encode(k) + "=" + percent_encode(v) + "&";
                             w.Key("next");
                             write_str(w, "/v2/images?" + query + "marker=" + page.back()->id);
                           }
                           w.EndObject();
                         }));
  });
  add("GET", "/v2/images/{id}", [](impl_state& s, call& c) {
    auto i = s.find_image(c.params[0]);
    if (i == nullptr)
      return family_error(service_family::image, 404, "No image found with ID " + c.params[0]);
    return json_response(200, render([&](json_writer& w) { write_image(w, s, *i); }));
  });
}

} // namespace orch::sim
