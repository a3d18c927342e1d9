// A test process's scratch directories: <temp>/<name>-<pid>, made on first use and removed,
// with everything in them, when the process exits. Parallel test processes never share one,
// and a suite that writes models leaves nothing behind in the temp directory.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <system_error>

namespace bricks::testing {

namespace detail {
class ScratchDirs {
 public:
  const std::filesystem::path& get(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = dirs_.find(name);
    if (it == dirs_.end()) {
      auto dir = std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
      std::filesystem::create_directories(dir);
      it = dirs_.emplace(name, dir).first;
    }
    return it->second;
  }
  ~ScratchDirs() {
    if (::getpid() != owner_) return;  // a forked child that exits leaves the parent's dirs
    for (const auto& [name, dir] : dirs_) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  }

 private:
  const pid_t owner_ = ::getpid();
  std::mutex mu_;
  std::map<std::string, std::filesystem::path> dirs_;
};
}  // namespace detail

// This process's scratch directory `name` ("bricks-lora-test", ...).
inline const std::filesystem::path& scratch_dir(const std::string& name) {
  static detail::ScratchDirs dirs;
  return dirs.get(name);
}

}  // namespace bricks::testing
