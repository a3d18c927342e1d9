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

// The name of user `uid` or group `gid`, or "" when it has none.
std::string user_name(uid_t uid) {
  passwd entry{};
  passwd* found = nullptr;
  char buffer[4096];
  const bool named = ::getpwuid_r(uid, &entry, buffer, sizeof buffer, &found) == 0;
  return named && found != nullptr ? found->pw_name : "";
}
std::string group_name(gid_t gid) {
  group entry{};
  group* found = nullptr;
  char buffer[4096];
  const bool named = ::getgrgid_r(gid, &entry, buffer, sizeof buffer, &found) == 0;
  return named && found != nullptr ? found->gr_name : "";
}

// "uid 1000 (alice)", "gid 27 (sudo)"; without the name when there is none.
std::string id_text(const char* kind, unsigned id, const std::string& name) {
  return kind + (" " + std::to_string(id)) + (name.empty() ? "" : " (" + name + ")");
}
std::string user_text(uid_t uid) { return id_text("uid", uid, user_name(uid)); }

// The name `chown` takes for this process's effective user.
std::string chown_target() {
  const uid_t me = ::geteuid();
  const std::string name = user_name(me);
  return name.empty() ? std::to_string(me) : name;
}

bool trusted_owner(uid_t uid) { return uid == 0 || uid == ::geteuid(); }

// Why `what` (a directory or a plugin file) owned by `owner` is refused: its owner `could`
// change what is loaded.
std::string owner_refusal(const std::string& what, uid_t owner, const std::string& could,
                          const fs::path& path, const std::string& advice) {
  return what + " is owned by " + user_text(owner) + ", not by root or the user running this (" +
         user_text(::geteuid()) + "), and its owner could " + could + "; refused: run `chown " +
         chown_target() + " " + path.string() + "`" + advice;
}

// Why `what`, writable by its group, is refused: `members` says what any member could do.
std::string group_refusal(const std::string& what, const struct stat& st,
                          const std::string& members, const fs::path& path) {
  return what + " is group-writable (mode " + octal_mode(st.st_mode) + ", group " +
         id_text("gid", st.st_gid, group_name(st.st_gid)) + "), " + members +
         "; refused: run `chmod g-w " + path.string() +
         "`, or allow it with --allow-group-writable-plugins";
}

// The problem with one directory's own owner and mode, or "".
std::string dir_problem(const fs::path& dir, const struct stat& st, bool allow_group_writable) {
  const std::string where = "directory " + dir.string();
  if (!trusted_owner(st.st_uid)) {
    return owner_refusal(where, st.st_uid, "plant a plugin there", dir, " or move the plugins");
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
    return group_refusal(
        where, st, "so any member could plant a plugin there or swap the folders below it", dir);
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
    return owner_refusal(what, st.st_uid, "replace it", real, " if you trust its contents");
  }
  if ((st.st_mode & S_IWOTH) != 0) {
    return what + " is world-writable (mode " + octal_mode(st.st_mode) +
           "), anyone could replace it; refused: run `chmod o-w " + real.string() + "`";
  }
  if ((st.st_mode & S_IWGRP) != 0 && !allow_group_writable) {
    return group_refusal(what, st, "any member could replace it", real);
  }
  return "";
}

}  // namespace bricks::host
