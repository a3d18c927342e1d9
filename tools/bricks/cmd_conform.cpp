// `bricks conform PLUGIN.so ...`: runs bricks-conform, the conformance runner installed next
// to this program, with the same arguments (it is built with the test suites, so it has its
// own executable; see tools/conform).
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "command.h"

namespace bricks::cli {
namespace {

// bricks-conform beside this program, or "" with `why` set.
std::filesystem::path conform_program(std::string& why) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) {
    why = "cannot tell where this program is (/proc/self/exe: " + ec.message() + ")";
    return {};
  }
  const std::filesystem::path program = self.parent_path() / "bricks-conform";
  if (!std::filesystem::is_regular_file(program, ec)) {
    why = "bricks-conform is not installed next to bricks (looked for " + program.string() +
          "); it is built with the tests (BRICKS_BUILD_TESTS=ON) and installed with bricks";
    return {};
  }
  return program;
}

const Command kConform{
    "conform", 35, [](CLI::App& app, int& exit_code) {
      auto* cmd = app.add_subcommand(
          "conform", "Run the conformance suites on a plugin's bricks ('bricks conform --help')");
      // Every argument, --help included, is bricks-conform's.
      cmd->set_help_flag();
      cmd->prefix_command();
      cmd->callback([cmd, &exit_code] {
        std::string why;
        const std::filesystem::path program = conform_program(why);
        if (program.empty()) {
          std::fprintf(stderr, "bricks conform: %s\n", why.c_str());
          exit_code = kExitFailure;
          return;
        }
        std::vector<std::string> words = {program.string()};
        for (const std::string& a : cmd->remaining()) words.push_back(a);
        std::vector<char*> argv;
        for (std::string& w : words) argv.push_back(w.data());
        argv.push_back(nullptr);
        std::fflush(nullptr);
        ::execv(program.c_str(), argv.data());
        std::fprintf(stderr, "bricks conform: cannot run %s: %s\n", program.c_str(),
                     std::strerror(errno));
        exit_code = kExitFailure;
      });
    }};

}  // namespace
}  // namespace bricks::cli
