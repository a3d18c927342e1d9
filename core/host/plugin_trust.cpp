#include "host/plugin_trust.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <vector>

namespace fs = std::filesystem;

namespace bricks::host {
namespace {

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

std::string user_text(uid_t uid) {
  std::string out = "uid " + std::to_string(uid);
  passwd entry{};
  passwd* found = nullptr;
  char buffer[4096];
  if (::getpwuid_r(uid, &entry, buffer, sizeof buffer, &found) == 0 && found != nullptr) {
    out += std::string(" (") + found->pw_name + ")";
  }
  return out;
}

std::string group_text(gid_t gid) {
  std::string out = "gid " + std::to_string(gid);
  group entry{};
  group* found = nullptr;
  char buffer[4096];
  if (::getgrgid_r(gid, &entry, buffer, sizeof buffer, &found) == 0 && found != nullptr) {
    out += std::string(" (") + found->gr_name + ")";
  }
  return out;
}

// The name `chown` takes for this process's effective user.
std::string chown_target() {
  const uid_t me = ::geteuid();
  passwd entry{};
  passwd* found = nullptr;
  char buffer[4096];
  if (::getpwuid_r(me, &entry, buffer, sizeof buffer, &found) == 0 && found != nullptr) {
    return found->pw_name;
  }
  return std::to_string(me);
}

bool trusted_owner(uid_t uid) { return uid == 0 || uid == ::geteuid(); }

const char* const kGroupFlagHint = ", or allow it with --allow-group-writable-plugins";

// The problem with one directory's own owner and mode, or "".
std::string dir_problem(const fs::path& dir, const struct stat& st, bool allow_group_writable) {
  const std::string where = "directory " + dir.string();
  if (!trusted_owner(st.st_uid)) {
    return where + " is owned by " + user_text(st.st_uid) +
           ", not by root or the user running this (" + user_text(::geteuid()) +
           "), and its owner could plant a plugin there; refused: run `chown " + chown_target() +
           " " + dir.string() + "` or move the plugins";
  }
  // Like /tmp: anyone may add entries, but only their owner (or root) may rename them.
  const bool sticky_root = (st.st_mode & S_ISVTX) != 0 && st.st_uid == 0;
  if (sticky_root) return "";
  if ((st.st_mode & S_IWOTH) != 0) {
    return where + " is world-writable (mode " + octal_mode(st.st_mode) +
           ") and not a sticky root-owned directory like /tmp, so anyone could plant a plugin "
           "there or swap the folders below it; refused: run `chmod o-w " +
           dir.string() + "`";
  }
  if ((st.st_mode & S_IWGRP) != 0 && !allow_group_writable) {
    return where + " is group-writable (mode " + octal_mode(st.st_mode) + ", group " +
           group_text(st.st_gid) +
           "), so any member could plant a plugin there or swap the folders below it; refused: "
           "run `chmod g-w " +
           dir.string() + "`" + kGroupFlagHint;
  }
  return "";
}

// Checks `dir` and each directory above it. A directory that cannot be examined is a
// problem only when `must_exist` (the real path); the path as given may name `..` parts
// that normalise to nothing on disk, and its real path is checked anyway.
std::string chain_problem(const fs::path& dir, bool allow_group_writable, bool must_exist) {
  for (fs::path d = dir;; d = d.parent_path()) {
    struct stat st {};
    if (::stat(d.c_str(), &st) != 0) {
      if (must_exist) {
        return "cannot check directory " + d.string() + ": " + std::strerror(errno) + "; refused";
      }
    } else if (std::string problem = dir_problem(d, st, allow_group_writable); !problem.empty()) {
      return problem;
    }
    if (d == d.parent_path() || d.empty()) break;
  }
  return "";
}

fs::path absolute_normal(const fs::path& p) {
  std::error_code ec;
  fs::path out = fs::absolute(p, ec);
  return (ec ? p : out).lexically_normal();
}

fs::path without_trailing_slash(fs::path p) {
  if (!p.has_filename() && p.has_relative_path()) p = p.parent_path();
  return p;
}

}  // namespace

std::string untrusted_dir_reason(const fs::path& dir, bool allow_group_writable) {
  const fs::path given = without_trailing_slash(absolute_normal(dir));
  if (std::string problem = chain_problem(given, allow_group_writable, false); !problem.empty()) {
    return problem;
  }
  std::error_code ec;
  const fs::path real = fs::canonical(given, ec);
  if (ec) return "cannot resolve directory " + given.string() + ": " + ec.message() + "; refused";
  if (real == given) return "";
  return chain_problem(real, allow_group_writable, true);
}

std::string untrusted_file_reason(const fs::path& file, bool allow_group_writable) {
  const fs::path given = absolute_normal(file);
  // The directory holding the name: whoever can write it can replace the file or the link.
  if (std::string problem = untrusted_dir_reason(given.parent_path(), allow_group_writable);
      !problem.empty()) {
    return problem;
  }
  std::error_code ec;
  const fs::path real = fs::canonical(given, ec);
  if (ec) return "cannot resolve the file: " + ec.message() + "; refused";
  // For a link, the message names the target: that is the file to fix.
  const std::string what = real == given ? "file" : "the link's target " + real.string();
  if (real.parent_path() != given.parent_path()) {
    if (std::string problem = untrusted_dir_reason(real.parent_path(), allow_group_writable);
        !problem.empty()) {
      return problem;
    }
  }
  struct stat st {};
  if (::stat(real.c_str(), &st) != 0) {
    return "cannot check " + what + ": " + std::strerror(errno) + "; refused";
  }
  if (!S_ISREG(st.st_mode)) return what + " is not a regular file; refused";
  if (!trusted_owner(st.st_uid)) {
    return what + " is owned by " + user_text(st.st_uid) +
           ", not by root or the user running this (" + user_text(::geteuid()) +
           "), and its owner could replace it; refused: run `chown " + chown_target() + " " +
           real.string() + "` if you trust its contents";
  }
  if ((st.st_mode & S_IWOTH) != 0) {
    return what + " is world-writable (mode " + octal_mode(st.st_mode) +
           "), anyone could replace it; refused: run `chmod o-w " + real.string() + "`";
  }
  if ((st.st_mode & S_IWGRP) != 0 && !allow_group_writable) {
    return what + " is group-writable (mode " + octal_mode(st.st_mode) + ", group " +
           group_text(st.st_gid) + "), any member could replace it; refused: run `chmod g-w " +
           real.string() + "`" + kGroupFlagHint;
  }
  return "";
}

}  // namespace bricks::host
