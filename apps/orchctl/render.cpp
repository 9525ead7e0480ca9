#include "render.hpp"

#include <algorithm>
#include <map>
#include <sstream>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace orch::ctl {

namespace {

const rapidjson::Value& member(const rapidjson::Value& obj, const char* key) {
  static const rapidjson::Value null_value;
  if (!obj.IsObject()) return null_value;
  auto i = obj.FindMember(key);
  return i == obj.MemberEnd() ? null_value : i->value;
}

std::string str(const rapidjson::Value& obj, const char* key) {
  const auto& x = member(obj, key);
  return x.IsNull() ? std::string{} : scalar_text(x);
}

std::string join(const rapidjson::Value& array, const char* sep = ",") {
  std::string out;
  if (!array.IsArray()) return out;
  for (const auto& x : array.GetArray()) out += (out.empty() ? "" : sep) + scalar_text(x);
  return out;
}

} // namespace

std::string scalar_text(const rapidjson::Value& x) {
  if (x.IsString()) return {x.GetString(), x.GetStringLength()};
  if (x.IsNull()) return "null";
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  x.Accept(w);
  return {buf.GetString(), buf.GetSize()};
}

std::string short_time(const std::string& rfc3339) {
  auto t = rfc3339.find('T');
  if (t == std::string::npos || rfc3339.size() < t + 9) return rfc3339;
  return rfc3339.substr(t + 1, 8);
}

std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(header.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], row[i].size());
  };
  measure(header);
  for (auto& row : rows) measure(row);
  std::ostringstream out;
  auto print = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out << line << "\n";
  };
  print(header);
  for (auto& row : rows) print(row);
  return out.str();
}

std::string format_plan(const rapidjson::Value& dry_run) {
  std::ostringstream out;
  std::map<std::string, int> counts;
  const auto& changes = member(dry_run, "changes");
  if (changes.IsArray()) {
    for (const auto& c : changes.GetArray()) {
      auto action = str(c, "action");
      auto what = str(c, "resource") + " " + str(c, "name");
      if (auto group = str(c, "group"); !group.empty()) what += " (group " + group + ")";
      char sign = '~';
      std::string verb = action;
      if (action == "create") {
        sign = '+';
      } else if (action == "delete") {
        sign = '-';
        verb = "remove";
      }
      out << sign << " " << verb << " " << what;
      const auto& from = member(c, "from");
      const auto& to = member(c, "to");
      if (!from.IsNull() || !to.IsNull())
        out << ": " << (from.IsNull() ? "-" : scalar_text(from)) << " -> "
            << (to.IsNull() ? "-" : scalar_text(to));
      out << "\n";
      ++counts[sign == '+' ? "create" : sign == '-' ? "remove" : "change"];
    }
  }
  auto version = str(dry_run, "version");
  auto at = version.empty() ? std::string{} : " at version " + version;
  if (counts.empty()) {
    out << "No changes: the deployment already matches" << at << ".\n";
  } else {
    out << "\nPlan" << at << ": " << counts["create"] << " to create, " << counts["change"]
        << " to change, " << counts["remove"] << " to remove.\n";
  }
  return out.str();
}

std::string format_deployment(const rapidjson::Value& d) {
  std::ostringstream out;
  auto line = [&](const char* key, const std::string& value) {
    if (!value.empty())
      out << key << std::string(12 - std::string{key}.size(), ' ') << value << "\n";
  };
  line("ID", str(d, "id"));
  line("Name", str(d, "name"));
  line("Status", str(d, "status"));
  line("Region", str(d, "cloud_region"));
  line("Template", str(member(d, "template"), "name"));
  std::string params;
  const auto& p = member(d, "parameters");
  if (p.IsObject())
    for (auto i = p.MemberBegin(); i != p.MemberEnd(); ++i)
      params += (params.empty() ? "" : " ") + std::string{i->name.GetString()} + "="
                + scalar_text(i->value);
  line("Parameters", params);
  const auto& op = member(d, "operation");
  if (op.IsObject()) {
    auto text = str(op, "type") + " " + str(op, "status");
    if (auto started = str(op, "started_at"); !started.empty()) text += " since " + started;
    if (auto finished = str(op, "finished_at"); !finished.empty()) text += ", until " + finished;
    line("Operation", text);
    const auto& err = member(op, "error");
    if (err.IsObject()) {
      auto e = str(err, "code") + ": " + str(err, "message");
      if (auto r = str(err, "resource"); !r.empty()) e += " (" + r + ")";
      line("Error", e);
    }
  }
  line("Created", str(d, "created_at"));
  line("Updated", str(d, "updated_at"));
  line("Deleted", str(d, "deleted_at"));
  const auto& res = member(d, "resources");
  line("Network", str(res, "network_id"));
  const auto& vms = member(res, "vms");
  if (vms.IsArray() && !vms.Empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& vm : vms.GetArray())
      rows.push_back({str(vm, "name"), str(vm, "group"), str(vm, "status"), str(vm, "flavor"),
                      join(member(vm, "addresses")), str(vm, "id")});
    out << "\n" << format_table({"VM", "GROUP", "STATUS", "FLAVOR", "ADDRESSES", "ID"}, rows);
  }
  return out.str();
}

std::string format_deployment_list(const rapidjson::Value& page) {
  std::vector<std::vector<std::string>> rows;
  const auto& items = member(page, "items");
  if (items.IsArray())
    for (const auto& d : items.GetArray()) {
      const auto& op = member(d, "operation");
      auto operation = op.IsObject() ? str(op, "type") + " " + str(op, "status") : std::string{};
      rows.push_back(
        {str(d, "id"), str(d, "name"), str(d, "status"), operation, str(d, "created_at")});
    }
  auto out = format_table({"ID", "NAME", "STATUS", "OPERATION", "CREATED"}, rows);
  auto total = str(page, "total");
  if (!total.empty() && total != std::to_string(rows.size()))
    out += std::to_string(rows.size()) + " of " + total + " shown (--limit to see more)\n";
  return out;
}

std::string format_orphans(const rapidjson::Value& orphans, bool cleanup) {
  std::vector<std::vector<std::string>> rows;
  const auto& items = member(orphans, "items");
  if (items.IsArray())
    for (const auto& x : items.GetArray())
      rows.push_back(
        {str(x, "kind"), str(x, "name"), str(x, "id"), str(x, "reason"), str(x, "deployment_id")});
  if (rows.empty()) return cleanup ? "No orphans to clean up.\n" : "No orphans.\n";
  auto out = format_table({"KIND", "NAME", "ID", "REASON", "DEPLOYMENT"}, rows);
  if (cleanup) out += std::to_string(rows.size()) + " orphans being deleted.\n";
  return out;
}

} // namespace orch::ctl
