// One problem found in a manifest, where it is and how to fix it, printed the way compilers
// print theirs so editors can jump to it.
#pragma once

#include <string>
#include <vector>

namespace bricks::manifest {

struct Diagnostic {
  std::string file;
  int line = 0, col = 0;  // 1-based; 0 when the problem has no single place (col 0: whole line)
  bool error = true;      // false: a warning, which does not make the manifest invalid
  std::string message;    // what is wrong, e.g. "unknown param 'max_num_seq' for scheduler 'fcfs'"
  std::string fix;        // how to fix it, e.g. "did you mean 'max_num_seqs'?"; may be empty

  // "file:line:col: error: message; fix" (the place and the fix are left out when unknown).
  std::string format() const;
};

// Orders diagnostics of one file by place (stable, so equal places keep their order); the
// ones without a place come last.
void sort_diagnostics(std::vector<Diagnostic>& diags);

// How many of `diags` are errors.
int count_errors(const std::vector<Diagnostic>& diags);

}  // namespace bricks::manifest
