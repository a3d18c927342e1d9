// Who may change a plugin before it is loaded: the file and every directory above it, as
// OpenSSH's StrictModes judges a key file. Whoever can write a directory on the way to a
// plugin can rename the folder below it and put other code in its place, so each of them
// must be as trusted as the file.
#pragma once

#include <filesystem>
#include <string>

namespace bricks::host {

// Why the directory `dir` and the directories above it (up to `/`) cannot be trusted to
// hold plugins, or "" when they can. Each must be owned by root or by this process's
// effective user, not world-writable unless it is sticky and root-owned (like /tmp), and
// not group-writable unless `allow_group_writable` (a sticky root-owned directory passes
// with either bit). Both the path as given and its real path (links resolved) are checked.
// One line: the directory, what is wrong (mode in octal, owner) and the command that fixes it.
std::string untrusted_dir_reason(const std::filesystem::path& dir, bool allow_group_writable);

// Why the plugin `file` cannot be trusted, or "" when it can: the file it resolves to must
// be a regular file owned by root or this process's effective user, not world-writable and
// not group-writable unless `allow_group_writable`; the directories holding it (the link's
// and, for a link, the target's) pass untrusted_dir_reason.
std::string untrusted_file_reason(const std::filesystem::path& file, bool allow_group_writable);

}  // namespace bricks::host
