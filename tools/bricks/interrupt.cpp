#include "interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <stdexcept>
#include <string>

namespace bricks::cli {
namespace {

// Everything the handler touches is a lock-free atomic or a fixed buffer, since a signal
// handler may only call async-signal-safe functions (write, unlink, _exit).
constexpr int kSlots = 16;
constexpr size_t kPathMax = 4096;
char g_paths[kSlots][kPathMax];
std::atomic<bool> g_used[kSlots];
std::atomic<int> g_signal{0};
std::atomic<int> g_polling{0};

void say(const char* s) {
  const ssize_t n = ::write(STDERR_FILENO, s, std::strlen(s));
  (void)n;
}

const char* name_of(int sig) { return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : ""; }

[[noreturn]] void end_now(int sig) {
  say("\nbricks: interrupted by ");
  say(name_of(sig));
  for (int i = 0; i < kSlots; ++i) {
    if (!g_used[i].load()) continue;
    if (::unlink(g_paths[i]) == 0) {
      say("; removed the partial output ");
      say(g_paths[i]);
    }
  }
  say("\n");
  ::_exit(128 + sig);
}

void on_signal(int sig) {
  int none = 0;
  const bool first = g_signal.compare_exchange_strong(none, sig);
  if (first && g_polling.load() > 0) {
    say("\nbricks: stopping after the current step (signal again to stop at once)\n");
    return;
  }
  end_now(sig);
}

}  // namespace

void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

InterruptPolling::InterruptPolling() { g_polling.fetch_add(1); }
InterruptPolling::~InterruptPolling() { g_polling.fetch_sub(1); }

int interrupted() { return g_signal.load(); }
const char* interrupt_name() { return name_of(g_signal.load()); }
int interrupt_exit_code() { return 128 + g_signal.load(); }

PartialOutput::PartialOutput(const std::filesystem::path& path) : slot_(-1) {
  const std::string p = std::filesystem::absolute(path).string();
  if (p.size() >= kPathMax) throw std::length_error("path too long to register: " + p);
  for (int i = 0; i < kSlots; ++i) {
    if (g_used[i].load()) continue;
    std::memcpy(g_paths[i], p.c_str(), p.size() + 1);
    g_used[i].store(true);
    slot_ = i;
    return;
  }
  throw std::length_error("too many partial outputs registered at once");
}

PartialOutput::~PartialOutput() {
  if (slot_ >= 0) g_used[slot_].store(false);
}

}  // namespace bricks::cli
