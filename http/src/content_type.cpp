#include "orch/http/content_type.hpp"

#include <boost/beast/core/string.hpp>

namespace orch::http {

bool is_json_content_type(std::string_view content_type) noexcept {
  auto media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
  return boost::beast::iequals(boost::beast::string_view{media.data(), media.size()},
                               "application/json");
}

} // namespace orch::http
