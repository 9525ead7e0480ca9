#include "progress.hpp"

#include <algorithm>
#include <cstdio>

namespace orch::ctl {

namespace {

std::string str(const rapidjson::Value& obj, const char* key) {
  if (!obj.IsObject()) return {};
  auto i = obj.FindMember(key);
  return i != obj.MemberEnd() && i->value.IsString()
           ? std::string{i->value.GetString(), i->value.GetStringLength()}
           : std::string{};
}

// Kinds the cloud has ready as soon as it answers the create: no `resource_ready` follows.
bool is_ready_when_created(const std::string& kind) {
  return kind != "server" && kind != "volume";
}

std::string spaced(std::string kind) {
  std::replace(kind.begin(), kind.end(), '_', ' ');
  return kind;
}

} // namespace

progress_tracker::progress_tracker(std::string operation, int expected_total)
  : operation_(std::move(operation)), expected_total_(expected_total) {
  // nop
}

int progress_tracker::total() const noexcept {
  return std::max(
    {expected_total_, static_cast<int>(touched_.size()), static_cast<int>(done_.size())});
}

std::string progress_tracker::display_name(const std::string& logical) const {
  auto i = cloud_names_.find(logical);
  if (i != cloud_names_.end() && !i->second.empty()) return i->second;
  // Links have no cloud name: `router-interface:web` reads as `router interface web`.
  auto colon = logical.find(':');
  return colon == std::string::npos ? std::string{} : logical.substr(colon + 1);
}

std::string progress_tracker::apply(const rapidjson::Value& item) {
  if (!item.IsObject()) return {};
  auto type = str(item, "type");
  if (auto seq = item.FindMember("seq"); seq != item.MemberEnd() && seq->value.IsInt64())
    last_seq_ = seq->value.GetInt64();
  static const rapidjson::Value empty{rapidjson::kObjectType};
  auto data_it = item.FindMember("data");
  const auto& data
    = data_it != item.MemberEnd() && data_it->value.IsObject() ? data_it->value : empty;
  return describe(type, data);
}

std::string progress_tracker::describe(const std::string& type, const rapidjson::Value& data) {
  // Counted only between the awaited operation's start and its end.
  bool counting = started_ && !finished_;
  if (type == "status_changed") {
    status_ = str(data, "to");
    if (finished_) settled_ = true;
    return "status " + str(data, "from") + " -> " + status_;
  }
  if (type == "operation_started") {
    auto op = str(data, "type");
    if (!started_ && (operation_.empty() || op == operation_)) {
      started_ = true;
      step_ = op + " started";
    }
    return "operation " + op + " started";
  }
  if (type == "operation_finished") {
    auto status = str(data, "status");
    std::string text = "operation finished: " + status;
    auto err = data.FindMember("error");
    std::string error;
    if (err != data.MemberEnd() && err->value.IsObject()) {
      error = str(err->value, "code") + ": " + str(err->value, "message");
      if (auto res = str(err->value, "resource"); !res.empty()) error += " (" + res + ")";
      text += " (" + error + ")";
    }
    if (counting) {
      finished_ = true;
      outcome_ = status;
      error_ = error;
      step_ = status;
    }
    return text;
  }
  auto kind = str(data, "kind");
  auto logical = str(data, "logical_name");
  // Links carry their logical name as cloud name: it names nothing in the cloud.
  if (auto cloud = str(data, "cloud_name"); !cloud.empty() && !logical.empty() && cloud != logical)
    cloud_names_[logical] = cloud;
  auto shown = display_name(logical);
  auto what = shown.empty() ? spaced(kind) : spaced(kind) + " " + shown;
  if (type == "intent") {
    bool create = str(data, "action") == "create";
    if (counting) touched_.insert(logical);
    step_ = (create ? "creating " : "removing ") + what;
    return (create ? "intent: create " : "intent: remove ") + what;
  }
  if (type == "resource_created") {
    if (counting) {
      touched_.insert(logical);
      if (is_ready_when_created(kind)) done_.insert(logical);
    }
    auto status = str(data, "status");
    step_ = is_ready_when_created(kind) ? "created " + what : "waiting for " + what;
    return "created " + what + (status.empty() ? "" : " (" + status + ")");
  }
  if (type == "resource_ready") {
    if (counting) {
      touched_.insert(logical);
      done_.insert(logical);
    }
    std::string addresses;
    if (auto a = data.FindMember("addresses"); a != data.MemberEnd() && a->value.IsArray())
      for (const auto& x : a->value.GetArray())
        if (x.IsString()) addresses += std::string{addresses.empty() ? " " : ","} + x.GetString();
    step_ = what + " " + str(data, "status");
    return "ready " + what + " " + str(data, "status") + addresses;
  }
  if (type == "resource_deleted") {
    if (counting) {
      touched_.insert(logical);
      done_.insert(logical);
    }
    step_ = "deleted " + what;
    return "deleted " + what;
  }
  if (type == "retry") {
    auto attempt = data.FindMember("attempt");
    auto n = attempt != data.MemberEnd() && attempt->value.IsInt64()
               ? std::to_string(attempt->value.GetInt64())
               : std::string{"?"};
    step_ = "retrying " + str(data, "resource") + " (attempt " + n + ")";
    return "retry " + str(data, "resource") + " attempt " + n + ": " + str(data, "reason");
  }
  if (type == "error") {
    auto text = str(data, "code") + ": " + str(data, "message");
    if (auto res = str(data, "resource"); !res.empty()) text += " (" + res + ")";
    return "error " + text;
  }
  if (type == "desired_changed") {
    std::string params;
    if (auto p = data.FindMember("parameters"); p != data.MemberEnd() && p->value.IsObject())
      for (auto i = p->value.MemberBegin(); i != p->value.MemberEnd(); ++i) {
        params += params.empty() ? " " : ", ";
        params += i->name.GetString();
        params += "=";
        params += i->value.IsString()  ? std::string{i->value.GetString()}
                  : i->value.IsInt64() ? std::to_string(i->value.GetInt64())
                                       : std::string{"?"};
      }
    return "desired state changed" + params;
  }
  return type;
}

std::string progress_tracker::render(const std::string& name, std::chrono::seconds elapsed,
                                     std::size_t width) const {
  constexpr int bar_width = 10;
  auto all = total();
  int filled = all > 0 ? done() * bar_width / all : 0;
  std::string bar = "[" + std::string(filled, '#') + std::string(bar_width - filled, '-') + "]";
  std::string line = name + "  " + (status_.empty() ? "PENDING" : status_) + "  " + bar + " "
                     + std::to_string(done()) + "/" + std::to_string(all) + " resources";
  auto tail = "  " + format_elapsed(elapsed);
  auto room = width > line.size() + tail.size() ? width - line.size() - tail.size() : 0;
  if (!step_.empty() && room > 8) {
    auto step = step_;
    if (step.size() + 2 > room) step = step.substr(0, room - 5) + "...";
    line += "  " + step;
  }
  line += tail;
  return line.size() > width ? line.substr(0, width) : line;
}

std::string format_elapsed(std::chrono::seconds elapsed) {
  auto s = std::max<long long>(0, elapsed.count());
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  return buf;
}

} // namespace orch::ctl
