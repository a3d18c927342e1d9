// `bricks version`: the runtime's version and the plugin ABI it speaks.
#include <cstdio>

#include "bricks/abi.h"
#include "command.h"

namespace bricks::cli {
namespace {

const Command kVersion{"version", 90, [](CLI::App& app, int& /*exit_code*/) {
                         auto* cmd = app.add_subcommand(
                             "version", "Print the runtime version and plugin ABI version");
                         cmd->callback([] {
                           std::printf("bricks %s\nplugin ABI %d.%d\n", BRICKS_VERSION,
                                       BRICKS_ABI_MAJOR, BRICKS_ABI_MINOR);
                         });
                       }};

}  // namespace
}  // namespace bricks::cli
