#include "host/scanner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <utility>

#include "host/host_error.h"
#include "host/loader.h"

namespace fs = std::filesystem;

namespace bricks::host {
namespace {

using Clock = std::chrono::steady_clock;

// The loader prefixes its messages with the file; BrokenPlugin keeps the file apart.
std::string strip_file(const std::string& message, const fs::path& file) {
  std::string prefix = file.string() + ": ";
  return message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message;
}

Catalogue broken(const fs::path& file, std::string reason) {
  Catalogue c;
  c.broken.push_back({file.string(), std::move(reason)});
  return c;
}

std::string signal_name(int sig) {
  if (const char* abbrev = sigabbrev_np(sig)) return std::string("SIG") + abbrev;
  return "signal " + std::to_string(sig);
}

std::string seconds_text(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", s);
  return text;
}

void write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// Runs in the child: load, describe, write, exit. Never returns.
[[noreturn]] void child_main(const fs::path& file, int out_fd) {
  // A crash must reach the parent as the signal, not as a sanitizer's or runtime's exit.
  for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT}) ::signal(sig, SIG_DFL);
  // Whatever the plugin prints must not end up in the parent's output (e.g. JSON).
  int null_fd = ::open("/dev/null", O_RDWR);
  if (null_fd >= 0) {
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(null_fd, STDOUT_FILENO);
    ::close(null_fd);
  }
  std::string payload;
  try {
    payload = to_json(scan_file_in_process(file));
  } catch (const std::exception& e) {
    payload = to_json(broken(file, e.what()));
  }
  write_all(out_fd, payload);
  ::close(out_fd);
  ::_exit(0);
}

// Reads until EOF or the deadline; false on timeout.
bool read_until(int fd, Clock::time_point deadline, std::string& out) {
  char buffer[1 << 14];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return true;  // poll itself failed: treat as end of data
    if (ready == 0) continue;
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
    out.append(buffer, static_cast<size_t>(n));
  }
}

// Waits for the child until the deadline; kills it after. Returns the wait status, and
// whether it had to be killed.
std::pair<int, bool> reap(pid_t pid, Clock::time_point deadline) {
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return {status, false};
    if (r < 0 && errno != EINTR) return {0, false};
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return {status, true};
}

void drop_duplicates(Catalogue& catalogue) {
  std::map<std::pair<int, std::string>, std::string> first_file;
  std::vector<BrickInfo> kept;
  for (BrickInfo& b : catalogue.bricks) {
    auto [it, fresh] = first_file.emplace(std::make_pair(static_cast<int>(b.kind), b.name), b.file);
    if (fresh) {
      kept.push_back(std::move(b));
      continue;
    }
    catalogue.broken.push_back({b.file, std::string("declares ") + kind_name(b.kind) + " '" +
                                            b.name + "', which " + it->second +
                                            " declares too; the one in " + it->second +
                                            " is used: remove or rename one of them"});
  }
  catalogue.bricks = std::move(kept);
}

}  // namespace

Catalogue scan_file_in_process(const fs::path& file) {
  try {
    LoadedPlugin plugin = load_plugin(file);
    Catalogue c;
    c.bricks = copy_bricks(*plugin.desc, file.string());
    return c;
  } catch (const BrickError& e) {
    return broken(file, strip_file(e.what(), file));
  }
}

Catalogue scan_file_in_child(const fs::path& file, double timeout_s) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return broken(file, std::string("cannot scan: pipe failed: ") + std::strerror(errno));
  }
  std::fflush(nullptr);  // so buffered output is not written twice
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return broken(file, std::string("cannot scan: fork failed: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::close(fds[0]);
    child_main(file, fds[1]);
  }
  ::close(fds[1]);
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(timeout_s));
  std::string payload;
  bool finished = read_until(fds[0], deadline, payload);
  ::close(fds[0]);
  auto [status, killed] = reap(pid, finished ? deadline : Clock::now());
  if (!finished || killed) {
    return broken(file, "timed out after " + seconds_text(timeout_s) +
                            " s while loading (the scanning process was killed); a static "
                            "initializer or the entry function does not return");
  }
  if (WIFSIGNALED(status)) {
    return broken(file, "crashed with " + signal_name(WTERMSIG(status)) + " while loading");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    return broken(file, "the scanning process exited with status " +
                            std::to_string(WEXITSTATUS(status)) + " while loading");
  }
  try {
    return catalogue_from_json(payload);
  } catch (const BrickError& e) {
    return broken(file, std::string("the scanning process sent no usable description (") +
                            e.what() + "); the plugin may exit from a static initializer");
  }
}

Catalogue scan_plugins(const LoadOptions& options) {
  PluginFiles files = find_plugin_files(options);
  Catalogue out;
  out.broken = std::move(files.refused);
  out.pin_problems = std::move(files.pin_problems);
  for (const fs::path& file : files.files) {
    Catalogue one = options.scan_in_child ? scan_file_in_child(file, options.scan_timeout_s)
                                          : scan_file_in_process(file);
    for (BrickInfo& b : one.bricks) out.bricks.push_back(std::move(b));
    for (BrokenPlugin& p : one.broken) out.broken.push_back(std::move(p));
  }
  drop_duplicates(out);
  return out;
}

}  // namespace bricks::host
