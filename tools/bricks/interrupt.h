// SIGINT and SIGTERM in the CLI. A command never dies half-way with nothing said:
//  - files a command is writing are registered as partial outputs; a signal that ends the
//    process removes them first, so no half-written model or report is left behind;
//  - a command that can stop cleanly (run, bench) polls interrupted() between engine
//    steps, stops admitting, reports what it measured so far marked as interrupted and
//    exits with interrupt_exit_code() (130 for SIGINT, 143 for SIGTERM, as shells do);
//  - any other command, or a second signal while a polling command winds down, ends the
//    process at once: partial outputs removed, one line on stderr, exit 130/143.
#pragma once

#include <filesystem>

namespace bricks::cli {

// Installs the handlers for SIGINT and SIGTERM (once, from main).
void install_interrupt_handlers();

// While one of these lives, the first signal only sets interrupted(); the command is
// expected to notice it within a step and wind down.
class InterruptPolling {
 public:
  InterruptPolling();
  ~InterruptPolling();
  InterruptPolling(const InterruptPolling&) = delete;
  InterruptPolling& operator=(const InterruptPolling&) = delete;
};

// The signal that asked this process to stop (SIGINT, SIGTERM), or 0.
int interrupted();
// "SIGINT", "SIGTERM", or "" when none arrived.
const char* interrupt_name();
// 128 + the signal, the exit status shells give a process ended by it.
int interrupt_exit_code();

// Registers `path` as a file being written: removed if a signal ends the process while
// this lives. Dismiss it once the file is complete (or renamed into place). A fixed number
// may be registered at once (16); more throws std::length_error.
class PartialOutput {
 public:
  explicit PartialOutput(const std::filesystem::path& path);
  ~PartialOutput();
  PartialOutput(const PartialOutput&) = delete;
  PartialOutput& operator=(const PartialOutput&) = delete;

 private:
  int slot_;
};

}  // namespace bricks::cli
