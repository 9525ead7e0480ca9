#pragma once

#include <ostream>
#include <string>

#include <boost/beast/http/status.hpp>
#include <caf/error.hpp>

#include "orch/errc.hpp"

// Boost.Test finds these through ADL on the printed type, so each lives in its type's namespace.

namespace caf {

/// Prints an "orch" error as `orch::<code>: <detail>`, any other as CAF renders it.
inline std::ostream& boost_test_print_type(std::ostream& out, const error& err) {
  if (err.category() == atom("orch")) {
    out << "orch::" << orch::to_string(static_cast<orch::errc>(err.code()));
    if (auto detail = orch::error_detail(err); !detail.empty()) out << ": " << detail;
    return out;
  }
  return out << to_string(err);
}

} // namespace caf

namespace orch {

inline std::ostream& boost_test_print_type(std::ostream& out, errc x) {
  return out << to_string(x);
}

} // namespace orch

namespace boost::beast::http {

/// Prints a status as `404 Not Found`.
inline std::ostream& boost_test_print_type(std::ostream& out, status s) {
  return out << static_cast<unsigned>(s) << ' ' << obsolete_reason(s);
}

} // namespace boost::beast::http
