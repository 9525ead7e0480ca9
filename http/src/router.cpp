#include "orch/http/router.hpp"

#include <algorithm>
#include <stdexcept>

namespace orch::http {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Splits a path into its segments, dropping the leading slash and one trailing slash.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  path.remove_prefix(1);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.empty()) return parts;
  for (;;) {
    auto slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) return parts;
    path.remove_prefix(slash + 1);
  }
}

bool is_param_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

} // namespace

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string result;
  result.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      auto hi = hex_value(text[i + 1]);
      auto lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      result.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      result.push_back(' ');
    } else {
      result.push_back(c);
    }
  }
  return result;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> result;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(
      eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
    if (key && value && !key->empty()) result.emplace_back(std::move(*key), std::move(*value));
  }
  return result;
}

std::string_view route_match::param(std::string_view name) const noexcept {
  for (auto& [key, value] : params)
    if (key == name) return value;
  return {};
}

std::optional<std::string_view> route_match::query_param(std::string_view name) const noexcept {
  for (auto& [key, value] : query)
    if (key == name) return std::string_view{value};
  return std::nullopt;
}

void router::add(boost::beast::http::verb method, const std::string& pattern, route_handler fn) {
  if (pattern.empty() || pattern.front() != '/')
    throw std::invalid_argument{"route pattern must start with '/': " + pattern};
  std::vector<segment> segments;
  auto parts = split_path(pattern);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    auto part = parts[i];
    if (part.empty()) throw std::invalid_argument{"empty segment in route pattern: " + pattern};
    if (part.front() != '{') {
      if (part.find_first_of("{}") != std::string_view::npos)
        throw std::invalid_argument{"a parameter must be a whole segment: " + pattern};
      segments.push_back({segment::literal, std::string{part}});
      continue;
    }
    if (part.back() != '}')
      throw std::invalid_argument{"unterminated parameter in route pattern: " + pattern};
    auto name = part.substr(1, part.size() - 2);
    auto kind = segment::param;
    if (!name.empty() && name.back() == '*') {
      if (i + 1 != parts.size())
        throw std::invalid_argument{"a rest capture must be the last segment: " + pattern};
      name.remove_suffix(1);
      kind = segment::rest;
    }
    if (!is_param_name(name))
      throw std::invalid_argument{"bad parameter name in route pattern: " + pattern};
    segments.push_back({kind, std::string{name}});
  }
  auto same = std::find_if(entries_.begin(), entries_.end(),
                           [&](const entry& e) { return e.pattern == pattern; });
  if (same == entries_.end()) {
    entries_.push_back(entry{pattern, std::move(segments), {}});
    same = std::prev(entries_.end());
  }
  for (auto& [known, ignored] : same->methods)
    if (known == method)
      throw std::invalid_argument{"method registered twice on route: " + pattern};
  same->methods.emplace_back(method, std::move(fn));
  order_.emplace_back(method, pattern);
}

bool router::matches(const entry& e, const std::vector<std::string_view>& parts) {
  const auto& segs = e.segments;
  auto has_rest = !segs.empty() && segs.back().kind == segment::rest;
  if (has_rest ? parts.size() < segs.size() : parts.size() != segs.size()) return false;
  for (std::size_t i = 0; i < segs.size(); ++i)
    if (segs[i].kind == segment::literal ? segs[i].text != parts[i] : parts[i].empty())
      return false;
  return true;
}

route_match router::match(boost::beast::http::verb method, std::string_view target) const {
  route_match result;
  auto qmark = target.find('?');
  auto path = target.substr(0, qmark);
  if (qmark != std::string_view::npos) result.query = parse_query(target.substr(qmark + 1));
  result.path = std::string{path};
  if (path.empty() || path.front() != '/') return result;
  std::vector<std::string> decoded;
  for (auto part : split_path(path)) {
    auto text = percent_decode(part);
    if (!text) return result;
    decoded.push_back(std::move(*text));
  }
  std::vector<std::string_view> parts{decoded.begin(), decoded.end()};
  const entry* best = nullptr;
  for (auto& e : entries_) {
    if (!matches(e, parts)) continue;
    auto more_specific = [&] {
      for (std::size_t i = 0; i < std::min(e.segments.size(), best->segments.size()); ++i)
        if (e.segments[i].kind != best->segments[i].kind)
          return e.segments[i].kind > best->segments[i].kind;
      return e.segments.size() > best->segments.size();
    };
    if (best == nullptr || more_specific()) best = &e;
  }
  if (best == nullptr) return result;
  result.pattern = best->pattern;
  for (std::size_t i = 0; i < best->segments.size(); ++i) {
    const auto& seg = best->segments[i];
    if (seg.kind == segment::param) {
      result.params.emplace_back(seg.text, decoded[i]);
    } else if (seg.kind == segment::rest) {
      std::string rest;
      for (std::size_t j = i; j < decoded.size(); ++j) {
        if (j > i) rest += '/';
        rest += decoded[j];
      }
      result.params.emplace_back(seg.text, std::move(rest));
    }
  }
  using boost::beast::http::verb;
  const route_handler* get_handler = nullptr;
  for (auto& [known, fn] : best->methods) {
    if (known == method) {
      result.status = match_status::found;
      result.handler = &fn;
      return result;
    }
    if (known == verb::get) get_handler = &fn;
  }
  if (method == verb::head && get_handler != nullptr) {
    result.status = match_status::found;
    result.handler = get_handler;
    return result;
  }
  result.status = match_status::method_not_allowed;
  auto allow = [&](verb v) {
    if (!result.allow.empty()) result.allow += ", ";
    auto name = to_string(v);
    result.allow.append(name.data(), name.size());
  };
  auto has_head = std::any_of(best->methods.begin(), best->methods.end(),
                              [](const auto& m) { return m.first == verb::head; });
  for (auto& m : best->methods) {
    allow(m.first);
    if (m.first == verb::get && !has_head) allow(verb::head);
  }
  return result;
}

std::vector<std::pair<boost::beast::http::verb, std::string>> router::routes() const {
  return order_;
}

} // namespace orch::http
