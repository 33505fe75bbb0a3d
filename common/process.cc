#include "common/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <thread>

extern char** environ;

namespace mr {

std::string ExitInfo::ToString() const {
  if (exited) return fmt::format("exit code {}", code);
  return fmt::format("killed by signal {} ({})", signal, strsignal(signal));
}

Result<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& log_path,
                    const std::vector<std::string>& extra_env) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_store;
  for (char** e = environ; *e; e++) env_store.emplace_back(*e);
  for (auto& e : extra_env) env_store.push_back(e);
  std::vector<char*> env;
  for (auto& e : env_store) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);

  int log_fd = -1;
  if (!log_path.empty()) {
    log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) return Status::FromErrno(errno, fmt::format("cannot open {}", log_path));
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    if (log_fd >= 0) ::close(log_fd);
    return Status::FromErrno(errno, "fork failed");
  }
  if (pid == 0) {
    if (log_fd >= 0) {
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
    }
    ::execve(args[0], args.data(), env.data());
    ::_exit(127);
  }
  if (log_fd >= 0) ::close(log_fd);
  return pid;
}

namespace {

ExitInfo ToExitInfo(int status, const struct rusage& ru) {
  ExitInfo info;
  info.exited = WIFEXITED(status);
  info.code = info.exited ? WEXITSTATUS(status) : 0;
  info.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  info.max_rss_kb = ru.ru_maxrss;
  return info;
}

}  // namespace

Result<ExitInfo> WaitFor(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    struct rusage ru{};
    pid_t r = ::wait4(pid, &status, WNOHANG, &ru);
    if (r == pid) return ToExitInfo(status, ru);
    if (r < 0 && errno != EINTR) return Status::NotFound(fmt::format("no child {}: {}", pid, strerror(errno)));
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::Unavailable(fmt::format("process {} still running", pid));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

ExitInfo Terminate(pid_t pid, std::chrono::milliseconds grace) {
  ::kill(pid, SIGTERM);
  auto r = WaitFor(pid, grace);
  if (r.ok()) return *r;
  ::kill(pid, SIGKILL);
  r = WaitFor(pid, std::chrono::seconds(30));
  return r.ok() ? *r : ExitInfo{};
}

std::string SelfExe() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "mr";
  return std::string(buf, n);
}

}  // namespace mr
