#include "orch/actors/playbook_runner.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <list>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "orch/ansible/output_buffer.hpp"

namespace orch::actors {

playbook_runner::~playbook_runner() {
  // nop
}

std::string to_string(playbook_run_outcome x) {
  switch (x) {
    case playbook_run_outcome::finished: return "finished";
    case playbook_run_outcome::timed_out: return "timed_out";
    case playbook_run_outcome::cancelled: return "cancelled";
    case playbook_run_outcome::not_started: return "not_started";
  }
  return "unknown";
}

namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

constexpr auto kill_grace = std::chrono::seconds{5};

void write_file(const fs::path& path, const std::string& text, fs::perms mode) {
  {
    std::ofstream out{path, std::ios::trunc | std::ios::binary};
    out << text;
    out.flush();
    if (!out) throw std::runtime_error("cannot write " + path.string());
  }
  fs::permissions(path, mode);
}

std::string read_file(const fs::path& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// What a run shares with `cancel`.
struct run_control {
  std::atomic<bool> cancel{false};
  std::atomic<pid_t> pid{-1};
  /// Set by the run's thread as its last step: it can be joined without blocking.
  std::atomic<bool> finished{false};
};

class ansible_runner final : public playbook_runner,
                             public std::enable_shared_from_this<ansible_runner> {
public:
  explicit ansible_runner(ansible_runner_config cfg) : cfg_(std::move(cfg)) {
    // nop
  }

  ~ansible_runner() override {
    std::list<std::pair<std::thread, std::shared_ptr<run_control>>> threads;
    {
      std::lock_guard guard{mtx_};
      for (auto& [id, ctl] : runs_) ctl->cancel = true;
      threads.swap(threads_);
    }
    for (auto& [t, ctl] : threads)
      if (t.joinable()) t.join();
  }

  bool has_playbook(const std::string& playbook) const override {
    std::error_code ec;
    return !cfg_.playbook_dir.empty()
           && fs::is_regular_file(fs::path{cfg_.playbook_dir} / playbook, ec);
  }

  void start(playbook_run_request req, std::function<void(playbook_run_result)> done) override {
    auto ctl = std::make_shared<run_control>();
    std::lock_guard guard{mtx_};
    join_finished();
    runs_[req.run_id] = ctl;
    // A thread of its own: the run blocks on a pipe and waitpid for up to the timeout, which
    // must never happen on a CAF scheduler thread.
    threads_.emplace_back(
      std::piecewise_construct,
      std::forward_as_tuple([this, req = std::move(req), done = std::move(done), ctl]() mutable {
        auto result = run(req, *ctl);
        {
          std::lock_guard lock{mtx_};
          runs_.erase(req.run_id);
        }
        done(std::move(result));
        ctl->finished = true;
      }),
      std::forward_as_tuple(ctl));
  }

  void cancel(const std::string& run_id) override {
    {
      std::lock_guard guard{mtx_};
      if (auto i = runs_.find(run_id); i != runs_.end()) {
        i->second->cancel = true;
        return;
      }
    }
    remove_leftovers(run_id);
  }

private:
  // A run of a process that died (SIGKILL, power loss) left its private data directory, and
  // with it a copy of the SSH key. Run ids are unique, so whatever carries this one's name
  // belongs to nobody alive. Its ansible-runner may still be ending (its parent's death sent
  // it SIGTERM) and writing its artifacts: it is stopped first, or it would write the
  // directory back.
  void remove_leftovers(const std::string& run_id) const {
    stop_orphaned_runner(run_id);
    auto prefix = "orch-ansible-" + run_id + "-";
    std::error_code ec;
    std::vector<fs::path> found;
    for (fs::directory_iterator i{cfg_.work_dir, ec}, end; !ec && i != end; i.increment(ec))
      if (i->path().filename().string().starts_with(prefix)) found.push_back(i->path());
    for (const auto& dir : found) fs::remove_all(dir, ec);
  }

  // Kills the process group of every process started with `--ident <run_id>` (an
  // ansible-runner and, in its group, ansible-playbook and its SSH clients), for at most 5 s.
  static void stop_orphaned_runner(const std::string& run_id) {
    std::string needle = std::string{"--ident"} + '\0' + run_id + '\0';
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{5};
    for (;;) {
      std::vector<pid_t> found;
      std::error_code ec;
      for (fs::directory_iterator i{"/proc", ec}, end; !ec && i != end; i.increment(ec)) {
        auto name = i->path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string cmdline;
        try {
          std::ifstream in{i->path() / "cmdline", std::ios::binary};
          std::getline(in, cmdline, '\x01');
        } catch (const std::exception&) {
          continue; // it ended while being read: not a runner any more
        }
        if (cmdline.find(needle) != std::string::npos) found.push_back(std::stoi(name));
      }
      if (found.empty() || std::chrono::steady_clock::now() > deadline) return;
      for (auto pid : found) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
  }

  // Threads of runs that ended; called with mtx_ held, so the list never grows with the number
  // of runs a process makes.
  void join_finished() {
    for (auto i = threads_.begin(); i != threads_.end();) {
      if (i->second->finished) {
        i->first.join();
        i = threads_.erase(i);
      } else {
        ++i;
      }
    }
  }

  // Lays out ansible-runner's private data directory; returns its path.
  fs::path prepare(const playbook_run_request& req) {
    auto pattern = (fs::path{cfg_.work_dir} / ("orch-ansible-" + req.run_id + "-XXXXXX")).string();
    std::vector<char> buf{pattern.begin(), pattern.end()};
    buf.push_back('\0');
    if (mkdtemp(buf.data()) == nullptr)
      throw std::runtime_error("cannot create a directory in " + cfg_.work_dir + ": "
                               + std::strerror(errno));
    fs::path dir{buf.data()};
    fs::create_directory(dir / "env");
    fs::create_directory(dir / "inventory");
    auto owner_only = fs::perms::owner_read | fs::perms::owner_write;
    write_file(dir / "inventory" / "hosts", ansible::to_inventory_json(req.inventory), owner_only);
    write_file(dir / "env" / "extravars", req.extra_vars, owner_only);
    if (!cfg_.ssh_key_path.empty())
      write_file(dir / "env" / "ssh_key", read_file(cfg_.ssh_key_path), owner_only);
    // New VMs have no known host keys yet; colour codes would only clutter the stored output.
    write_file(dir / "env" / "envvars",
               R"({"ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_NOCOLOR": "1",)"
               R"( "ANSIBLE_RETRY_FILES_ENABLED": "False",)"
               R"( "ANSIBLE_SSH_ARGS": "-o UserKnownHostsFile=/dev/null -o ConnectTimeout=10"})",
               owner_only);
    fs::create_directory_symlink(fs::absolute(cfg_.playbook_dir), dir / "project");
    return dir;
  }

  pid_t spawn(const playbook_run_request& req, const fs::path& dir, int out_fd) {
    std::vector<std::string> argv{cfg_.program, "run",     dir.string(), "-p",
                                  req.playbook, "--ident", req.run_id};
    for (int i = 0; i < cfg_.verbosity; ++i) argv.emplace_back("-v");
    // Only what Ansible needs: the orchestrator's own environment holds its secrets.
    std::vector<std::string> env{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + dir.string(),
                                 "LANG=C.UTF-8", "LC_ALL=C.UTF-8"};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    auto parent = getpid();
    auto pid = fork();
    if (pid < 0) throw std::runtime_error(std::string{"fork failed: "} + std::strerror(errno));
    if (pid == 0) {
      setpgid(0, 0);
      // An orchestrator that dies, even by SIGKILL, stops its runs: a restart marks them
      // interrupted rather than letting them go on unobserved.
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(1);
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      int in = open("/dev/null", O_RDONLY);
      dup2(in, 0);
      dup2(out_fd, 1);
      dup2(out_fd, 2);
      // Nothing of ours may leak into the child: a listening socket or a database connection
      // held by it would outlive a crash of this process.
      if (close_range(3, ~0U, 0) != 0)
        for (int fd = 3; fd < 4096; ++fd) close(fd);
      execve(args[0], args.data(), envp.data());
      _exit(127);
    }
    setpgid(pid, pid);
    return pid;
  }

  static bool reap(pid_t pid, int& status) { return waitpid(pid, &status, WNOHANG) == pid; }

  playbook_run_result run(const playbook_run_request& req, run_control& ctl) {
    playbook_run_result result;
    fs::path dir;
    try {
      dir = prepare(req);
    } catch (const std::exception& e) {
      result.outcome = playbook_run_outcome::not_started;
      result.error = e.what();
      if (!dir.empty()) fs::remove_all(dir);
      return result;
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      result.outcome = playbook_run_outcome::not_started;
      result.error = std::string{"pipe failed: "} + std::strerror(errno);
      fs::remove_all(dir);
      return result;
    }
    pid_t pid = -1;
    try {
      pid = spawn(req, dir, fds[1]);
    } catch (const std::exception& e) {
      close(fds[0]);
      close(fds[1]);
      result.outcome = playbook_run_outcome::not_started;
      result.error = e.what();
      fs::remove_all(dir);
      return result;
    }
    close(fds[1]);
    ctl.pid = pid;
    ansible::output_buffer output{cfg_.output_head, cfg_.output_tail};
    auto deadline = clock_type::now() + cfg_.timeout;
    std::optional<clock_type::time_point> killed_at;
    int status = 0;
    bool exited = false;
    bool open_pipe = true;
    char buf[8192];
    while (!exited) {
      if (!killed_at) {
        if (ctl.cancel)
          result.outcome = playbook_run_outcome::cancelled;
        else if (clock_type::now() >= deadline)
          result.outcome = playbook_run_outcome::timed_out;
        if (result.outcome != playbook_run_outcome::finished) {
          // SIGTERM lets ansible-runner stop ansible-playbook (which runs in a session of its
          // own) and write its artifacts; SIGKILL follows if it does not.
          kill(-pid, SIGTERM);
          killed_at = clock_type::now();
        }
      } else if (clock_type::now() - *killed_at > kill_grace) {
        kill(-pid, SIGKILL);
      }
      if (open_pipe) {
        pollfd pfd{fds[0], POLLIN, 0};
        if (poll(&pfd, 1, 200) > 0) {
          auto n = read(fds[0], buf, sizeof(buf));
          if (n > 0)
            output.append({buf, static_cast<size_t>(n)});
          else if (n == 0 || (errno != EINTR && errno != EAGAIN))
            open_pipe = false;
        }
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds{100});
      }
      exited = reap(pid, status);
    }
    // Drain what the last writes left in the pipe, without waiting for a grandchild that may
    // still hold its write end.
    fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    for (ssize_t n; open_pipe && (n = read(fds[0], buf, sizeof(buf))) > 0;)
      output.append({buf, static_cast<size_t>(n)});
    close(fds[0]);
    ctl.pid = -1;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (result.outcome == playbook_run_outcome::finished && result.exit_code == 127)
      output.append("\n" + cfg_.program + " could not be executed\n");
    result.output = output.str();
    result.summary = ansible::parse_job_events(read_events(dir, req.run_id));
    std::error_code ec;
    // The directory holds a copy of the private key: it must not outlive the run.
    fs::remove_all(dir, ec);
    return result;
  }

  static std::vector<std::string> read_events(const fs::path& dir, const std::string& ident) {
    std::vector<std::string> result;
    std::error_code ec;
    auto events_dir = dir / "artifacts" / ident / "job_events";
    for (fs::directory_iterator i{events_dir, ec}, end; !ec && i != end; i.increment(ec))
      if (i->path().extension() == ".json") try {
          result.push_back(read_file(i->path()));
        } catch (const std::exception&) {
          // nop: a file vanishing is the same as a malformed one, counted by the parser
        }
    return result;
  }

  ansible_runner_config cfg_;
  std::mutex mtx_;
  std::map<std::string, std::shared_ptr<run_control>> runs_;
  std::list<std::pair<std::thread, std::shared_ptr<run_control>>> threads_;
};

} // namespace

std::shared_ptr<playbook_runner> make_ansible_runner(ansible_runner_config cfg) {
  return std::make_shared<ansible_runner>(std::move(cfg));
}

} // namespace orch::actors
