#include "drill/launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace failover::drill {
namespace fs = std::filesystem;

namespace {

core::Result<void> write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return core::Error::internal("cannot write " + path);
  return core::ok();
}

// Between fork and exec only async-signal-safe calls: everything the child
// needs is prepared before the fork.
[[noreturn]] void exec_child(pid_t parent, const char* binary, char* const argv[], int log_fd) {
  // Die with the launcher, whatever kills it; if it died before this line,
  // the parent is already someone else.
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) ::_exit(127);
  ::setpgid(0, 0);  // a Ctrl-C in the terminal reaches up alone
  const int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
  ::dup2(log_fd, STDOUT_FILENO);
  ::dup2(log_fd, STDERR_FILENO);
  // Nothing else of the launcher's may live on in a role: Asio opens its
  // accepted sockets without O_CLOEXEC, and a proxy's connection that a
  // child still holds is never closed, so its client is never told that
  // the far end died.
  if (::close_range(3, ~0U, 0) != 0)
    for (int fd = 3; fd < 65536; ++fd) ::close(fd);  // a kernel before 5.9
  // The launcher's signal mask and dispositions must not leak into a role.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  ::execv(binary, argv);
  ::_exit(127);
}

}  // namespace

Launcher::Launcher(std::string binary, std::vector<ComponentPlan> plan)
    : binary_(std::move(binary)), plan_(std::move(plan)), states_(plan_.size()) {}

Launcher::~Launcher() {
  for (ChildState& s : states_)
    if (s.running) {
      ::kill(s.pid, SIGKILL);
      ::waitpid(s.pid, nullptr, 0);
    }
}

std::size_t Launcher::index(const std::string& name) const {
  for (std::size_t i = 0; i < plan_.size(); ++i)
    if (plan_[i].name == name) return i;
  throw std::invalid_argument("no component named " + name);
}

const ComponentPlan* Launcher::find(const std::string& name) const {
  for (const ComponentPlan& p : plan_)
    if (p.name == name) return &p;
  return nullptr;
}

const ChildState& Launcher::state(const std::string& name) const { return states_[index(name)]; }

core::Result<void> Launcher::write_configs() const {
  for (const ComponentPlan& p : plan_) {
    std::error_code ec;
    fs::create_directories(fs::path(p.log_path).parent_path(), ec);
    if (!p.data_dir.empty()) fs::create_directories(p.data_dir, ec);
    if (!p.config_path.empty()) {
      fs::create_directories(fs::path(p.config_path).parent_path(), ec);
      if (auto w = write_file(p.config_path, p.config_text); !w) return w;
    }
    if (ec) return core::Error::internal("cannot create the directories of " + p.name + ": " + ec.message());
  }
  return core::ok();
}

core::Result<pid_t> Launcher::start(const std::string& name) {
  const std::size_t i = index(name);
  const ComponentPlan& p = plan_[i];
  ChildState& s = states_[i];
  if (s.running) return core::Error::conflict(name + " already runs (pid " + std::to_string(s.pid) + ")");
  const int log_fd = ::open(p.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return core::Error::internal("cannot open " + p.log_path + ": " + std::strerror(errno));
  std::vector<std::string> words{binary_};
  words.insert(words.end(), p.args.begin(), p.args.end());
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    exec_child(parent, binary_.c_str(), argv.data(), log_fd);
  }
  const int fork_errno = errno;
  ::close(log_fd);
  if (pid < 0) return core::Error::internal(std::string("fork: ") + std::strerror(fork_errno));
  s.pid = pid;
  s.running = true;
  s.stopped = false;
  ++s.starts;
  return pid;
}

bool Launcher::signal(const std::string& name, int sig) {
  ChildState& s = states_[index(name)];
  if (!s.running) return false;
  if (::kill(s.pid, sig) != 0) return false;
  if (sig == SIGSTOP) s.stopped = true;
  if (sig == SIGCONT) s.stopped = false;
  return true;
}

std::vector<std::string> Launcher::reap() {
  std::vector<std::string> exited;
  for (std::size_t i = 0; i < plan_.size(); ++i) {
    ChildState& s = states_[i];
    if (!s.running) continue;
    int status = 0;
    if (::waitpid(s.pid, &status, WNOHANG) != s.pid) continue;
    s.running = false;
    s.stopped = false;
    s.pid = 0;
    s.last_exit = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    exited.push_back(plan_[i].name);
  }
  return exited;
}

std::string Launcher::log_tail(const std::string& name, std::size_t max_bytes) const {
  std::ifstream in(plan_[index(name)].log_path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::size_t>(in.tellg());
  const std::size_t from = size > max_bytes ? size - max_bytes : 0;
  in.seekg(static_cast<std::streamoff>(from));
  std::string text(size - from, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  return text;
}

}  // namespace failover::drill
