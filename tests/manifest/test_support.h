// Helpers of the manifest suites. A catalogue built by hand, standing in for scanned plugins in the
// manifest suites:
//   scheduler fcfs: max_num_seqs int [1, 65536] = 256, max_num_batched_tokens int
//                   [1, 1048576] = 2048, preemption enum {recompute, swap} = recompute
//   scheduler sarathi: chunk_size int [16, 8192] = 512
//   kv paged: block_size int [1, 1024] = 16, enable_prefix_cache bool = false
//   attention reference, cpu_paged: provide attention.scores; naive: provides nothing
//   pruning fastv: requires attention.scores; layer int [0, 1024] (required),
//                  keep_ratio float [0, 1] = 0.5, scoring string = "mean"
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "host/catalogue.h"
#include "manifest/manifest.h"

namespace bricks::manifest::test_support {

host::Catalogue test_catalogue();

// Writes `text` to a fresh file `name` in a directory of its own under the test temp dir
// and returns its path.
std::filesystem::path write_temp_file(const std::string& name, const std::string& text);

// Loads and validates `text` written as `name` against test_catalogue(); returns every
// diagnostic, formatted, in order.
std::vector<std::string> check_text(const std::string& text,
                                    const std::string& name = "m.textproto");

}  // namespace bricks::manifest::test_support
