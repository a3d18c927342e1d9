#include "progress.h"

#include <unistd.h>

#include <cstdio>

namespace bricks::cli {

ProgressBar::ProgressBar(std::string label, bool enabled)
    : label_(std::move(label)), enabled_(enabled), tty_(isatty(STDERR_FILENO) != 0) {}

void ProgressBar::update(size_t done, size_t total, const std::string& suffix) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_).count();
  const bool last = done >= total;
  if (!last && since < (tty_ ? 0.1 : 5.0)) return;
  last_ = now;
  const int width = 30;
  const int filled = total > 0 ? static_cast<int>(width * done / total) : width;
  std::string bar(static_cast<size_t>(filled), '=');
  bar.resize(width, ' ');
  std::fprintf(stderr, "%s%s [%s] %zu/%zu %s%s", tty_ ? "\r" : "", label_.c_str(), bar.c_str(),
               done, total, suffix.c_str(), tty_ ? "\x1b[K" : "\n");
  drawn_ = true;
}

void ProgressBar::finish() {
  if (enabled_ && drawn_ && tty_) std::fprintf(stderr, "\n");
  drawn_ = false;
}

}  // namespace bricks::cli
