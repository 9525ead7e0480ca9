#pragma once

#include <optional>
#include <vector>

#include <caf/error.hpp>

#include "orch/actors/orphan_finder.hpp"

namespace orch::testing {

/// Answers from a fixed list of orphans (or a fixed error), synchronously; a cleanup "deletes"
/// the listed orphans by emptying the list.
class fake_orphan_finder : public actors::orphan_finder {
public:
  void list(actors::orphans_callback cb) override {
    if (failure) return cb(*failure);
    cb(items);
  }

  void cleanup(actors::orphans_callback started,
               std::function<void(actors::orphan_cleanup_report)> finished) override {
    ++cleanups;
    if (failure) return started(*failure);
    auto taken = std::move(items);
    items.clear();
    started(taken);
    if (finished) finished(actors::orphan_cleanup_report{taken, {}});
  }

  std::vector<actors::orphan> items;
  std::optional<caf::error> failure;
  int cleanups = 0;
};

} // namespace orch::testing
