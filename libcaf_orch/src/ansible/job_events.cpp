#include "orch/ansible/job_events.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <utility>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace orch::ansible {

namespace {

using json_value = rapidjson::Value;

std::string string_member(const json_value& obj, const char* key) {
  if (!obj.IsObject()) return {};
  auto i = obj.FindMember(key);
  if (i == obj.MemberEnd() || !i->value.IsString()) return {};
  return {i->value.GetString(), i->value.GetStringLength()};
}

bool bool_member(const json_value& obj, const char* key) {
  if (!obj.IsObject()) return false;
  auto i = obj.FindMember(key);
  return i != obj.MemberEnd() && i->value.IsBool() && i->value.GetBool();
}

std::string cut(std::string text) {
  if (text.size() > max_failure_message) {
    text.resize(max_failure_message);
    // Do not leave half of a UTF-8 sequence at the end.
    while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80)
      text.pop_back();
    if (!text.empty() && static_cast<unsigned char>(text.back()) >= 0xC0) text.pop_back();
    text += "...";
  }
  return text;
}

class tally {
public:
  host_summary& at(const std::string& host) {
    auto& entry = hosts_[host];
    entry.host = host;
    return entry;
  }

  // The recap counts per host under these keys; `dark` is Ansible's name for unreachable.
  void read_stats(const json_value& data) {
    hosts_.clear();
    read_stat(data, "processed", nullptr);
    read_stat(data, "ok", &host_summary::ok);
    read_stat(data, "changed", &host_summary::changed);
    read_stat(data, "failures", &host_summary::failed);
    read_stat(data, "dark", &host_summary::unreachable);
    read_stat(data, "skipped", &host_summary::skipped);
  }

  std::vector<host_summary> release() {
    std::vector<host_summary> result;
    for (auto& [host, entry] : hosts_) result.push_back(std::move(entry));
    return result;
  }

private:
  void read_stat(const json_value& data, const char* key, int host_summary::*field) {
    auto i = data.FindMember(key);
    if (i == data.MemberEnd() || !i->value.IsObject()) return;
    for (const auto& member : i->value.GetObject()) {
      auto& entry = at({member.name.GetString(), member.name.GetStringLength()});
      if (field != nullptr && member.value.IsInt()) entry.*field = member.value.GetInt();
    }
  }

  std::map<std::string, host_summary> hosts_;
};

} // namespace

int run_summary::changed() const noexcept {
  int total = 0;
  for (const auto& host : hosts) total += host.changed;
  return total;
}

bool run_summary::succeeded() const noexcept {
  return complete && std::none_of(hosts.begin(), hosts.end(), [](const host_summary& x) {
           return x.failed > 0 || x.unreachable > 0;
         });
}

run_summary parse_job_events(const std::vector<std::string>& events) {
  run_summary result;
  std::vector<std::pair<int64_t, rapidjson::Document>> docs;
  for (const auto& text : events) {
    rapidjson::Document doc;
    doc.Parse(text.data(), text.size());
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("event")
        || !doc["event"].IsString() || !doc.HasMember("counter") || !doc["counter"].IsInt64()) {
      ++result.malformed;
      continue;
    }
    auto counter = doc["counter"].GetInt64();
    docs.emplace_back(counter, std::move(doc));
  }
  std::sort(docs.begin(), docs.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  tally hosts;
  static const json_value no_data{rapidjson::kObjectType};
  for (const auto& [counter, doc] : docs) {
    std::string_view event{doc["event"].GetString(), doc["event"].GetStringLength()};
    auto data_it = doc.FindMember("event_data");
    const auto& data
      = data_it != doc.MemberEnd() && data_it->value.IsObject() ? data_it->value : no_data;
    if (event == "playbook_on_stats") {
      hosts.read_stats(data);
      result.complete = true;
      continue;
    }
    auto host = string_member(data, "host");
    if (host.empty()) continue;
    auto res_it = data.FindMember("res");
    const auto& res = res_it != data.MemberEnd() ? res_it->value : no_data;
    if (event == "runner_on_ok") {
      auto& entry = hosts.at(host);
      ++entry.ok;
      if (bool_member(res, "changed")) ++entry.changed;
    } else if (event == "runner_on_skipped") {
      ++hosts.at(host).skipped;
    } else if (event == "runner_on_failed") {
      // A failure the playbook ignores counts as ok in the recap, and so here.
      if (bool_member(data, "ignore_errors")) {
        ++hosts.at(host).ok;
        continue;
      }
      ++hosts.at(host).failed;
      result.failures.push_back(
        {host, string_member(data, "task"), cut(string_member(res, "msg")), false});
    } else if (event == "runner_on_unreachable") {
      ++hosts.at(host).unreachable;
      result.failures.push_back(
        {host, string_member(data, "task"), cut(string_member(res, "msg")), true});
    }
  }
  result.hosts = hosts.release();
  return result;
}

std::string describe_failures(const run_summary& summary) {
  std::string result;
  for (const auto& failure : summary.failures) {
    if (!result.empty()) result += "; ";
    result += failure.host;
    result += failure.unreachable ? ": unreachable at task \"" : ": task \"";
    result += failure.task;
    result += failure.unreachable ? "\"" : "\" failed";
    if (!failure.message.empty()) {
      result += " (";
      result += failure.message;
      result += ")";
    }
  }
  return result;
}

std::string to_json(const std::vector<host_summary>& hosts) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> out{buf};
  out.StartArray();
  for (const auto& x : hosts) {
    out.StartObject();
    out.Key("host");
    out.String(x.host.data(), static_cast<rapidjson::SizeType>(x.host.size()));
    out.Key("ok");
    out.Int(x.ok);
    out.Key("changed");
    out.Int(x.changed);
    out.Key("failed");
    out.Int(x.failed);
    out.Key("unreachable");
    out.Int(x.unreachable);
    out.Key("skipped");
    out.Int(x.skipped);
    out.EndObject();
  }
  out.EndArray();
  return buf.GetString();
}

std::optional<std::vector<host_summary>> parse_host_summaries(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsArray()) return std::nullopt;
  std::vector<host_summary> result;
  for (const auto& item : doc.GetArray()) {
    if (!item.IsObject() || !item.HasMember("host") || !item["host"].IsString())
      return std::nullopt;
    host_summary x;
    x.host = item["host"].GetString();
    for (auto [key, field] :
         {std::pair{"ok", &host_summary::ok}, std::pair{"changed", &host_summary::changed},
          std::pair{"failed", &host_summary::failed},
          std::pair{"unreachable", &host_summary::unreachable},
          std::pair{"skipped", &host_summary::skipped}}) {
      auto i = item.FindMember(key);
      if (i == item.MemberEnd() || !i->value.IsInt()) return std::nullopt;
      x.*field = i->value.GetInt();
    }
    result.push_back(std::move(x));
  }
  return result;
}

} // namespace orch::ansible
