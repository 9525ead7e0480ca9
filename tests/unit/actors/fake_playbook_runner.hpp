#pragma once

// A playbook runner for unit tests: `start` only records the run; the test ends it with
// `finish`, as ansible-runner would from its thread.

#include <map>
#include <mutex>
#include <set>
#include <string>

#include "orch/actors/playbook_runner.hpp"

namespace orch::actors::testing {

class fake_playbook_runner : public playbook_runner {
public:
  std::set<std::string> playbooks{"site.yml"};
  std::vector<playbook_run_request> started;
  std::set<std::string> cancelled;

  bool has_playbook(const std::string& playbook) const override {
    return playbooks.count(playbook) > 0;
  }

  void start(playbook_run_request req, std::function<void(playbook_run_result)> done) override {
    std::lock_guard guard{mtx_};
    pending_[req.run_id] = std::move(done);
    started.push_back(std::move(req));
  }

  void cancel(const std::string& run_id) override {
    std::lock_guard guard{mtx_};
    cancelled.insert(run_id);
    // As the real one: a cancelled run still reports, as cancelled.
    if (auto i = pending_.find(run_id); i != pending_.end()) {
      auto done = std::move(i->second);
      pending_.erase(i);
      playbook_run_result res;
      res.outcome = playbook_run_outcome::cancelled;
      done(std::move(res));
    }
  }

  /// Ends run `run_id` with `res`; false if it is not running.
  bool finish(const std::string& run_id, playbook_run_result res) {
    std::function<void(playbook_run_result)> done;
    {
      std::lock_guard guard{mtx_};
      auto i = pending_.find(run_id);
      if (i == pending_.end()) return false;
      done = std::move(i->second);
      pending_.erase(i);
    }
    done(std::move(res));
    return true;
  }

private:
  std::mutex mtx_;
  std::map<std::string, std::function<void(playbook_run_result)>> pending_;
};

} // namespace orch::actors::testing
