// A catalogue built by hand, standing in for scanned plugins in the manifest suites and the
// manifest fuzz targets:
//   scheduler fcfs: max_num_seqs int [1, 65536] = 256, max_num_batched_tokens int
//                   [1, 1048576] = 2048, preemption enum {recompute, swap} = recompute
//   scheduler sarathi: chunk_size int [16, 8192] = 512
//   kv paged: block_size int [1, 1024] = 16, enable_prefix_cache bool = false
//   attention reference, cpu_paged: provide attention.scores; naive: provides nothing
//   pruning fastv: requires attention.scores; layer int [0, 1024] (required),
//                  keep_ratio float [0, 1] = 0.5, scoring string = "mean"
#pragma once

#include "host/catalogue.h"

namespace bricks::manifest::test_support {

host::Catalogue test_catalogue();

}  // namespace bricks::manifest::test_support
