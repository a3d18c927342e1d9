#include "conform_args.h"

#include "host/catalogue.h"
#include "host/did_you_mean.h"
#include "host/kinds.h"

namespace bricks::conform {
namespace {

// The value of option `name` at argv[i]: after '=' in the same word, or the next word.
std::string option_value(const std::string& name, int argc, char** argv, int& i) {
  const std::string arg = argv[i];
  if (arg.size() > name.size() && arg[name.size()] == '=') return arg.substr(name.size() + 1);
  if (i + 1 >= argc) throw UsageError{name + " needs a value"};
  return argv[++i];
}

bool is_option(const std::string& arg, const std::string& name) {
  return arg == name || arg.rfind(name + "=", 0) == 0;
}

bricks_kind kind_of(const std::string& word) {
  bricks_kind kind{};
  if (host::parse_kind(word, &kind)) return kind;
  std::string known;
  for (const std::string& k : host::kind_names()) known += (known.empty() ? "" : ", ") + k;
  throw UsageError{"unknown kind '" + word + "'" +
                   host::did_you_mean_suffix(word, host::kind_names()) + "; the kinds are " +
                   known};
}

}  // namespace

ConformArgs parse_args(int argc, char** argv) {
  ConformArgs a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      a.help = true;
    } else if (is_option(arg, "--kind")) {
      a.kind = kind_of(option_value("--kind", argc, argv, i));
    } else if (is_option(arg, "--brick")) {
      a.brick = option_value("--brick", argc, argv, i);
    } else if (is_option(arg, "--param")) {
      const std::string setting = option_value("--param", argc, argv, i);
      const size_t eq = setting.find('=');
      if (eq == std::string::npos || eq == 0) {
        throw UsageError{"--param takes NAME=VALUE, not '" + setting + "'"};
      }
      a.params.emplace_back(setting.substr(0, eq), setting.substr(eq + 1));
    } else if (arg == "--allow-group-writable-plugins") {
      a.allow_group_writable = true;
    } else if (arg.rfind("--gtest_", 0) == 0) {
      a.gtest_flags.push_back(arg);
    } else if (!arg.empty() && arg[0] == '-') {
      throw UsageError{"unknown option '" + arg +
                       host::did_you_mean_suffix(arg, {"--kind", "--brick", "--param", "--help",
                                                       "--allow-group-writable-plugins"}) +
                       "'; run 'bricks-conform --help'"};
    } else if (a.plugin.empty()) {
      a.plugin = arg;
    } else {
      throw UsageError{"one plugin file at a time: got '" + a.plugin + "' and '" + arg + "'"};
    }
  }
  if (a.plugin.empty() && !a.help) {
    throw UsageError{
        "no plugin file given; usage: bricks-conform PLUGIN.so [--kind K] "
        "[--brick NAME] [--param NAME=VALUE]... [gtest flags]"};
  }
  return a;
}

std::string help_text() {
  return R"(bricks-conform: runs the conformance suite of a brick's kind on the bricks of a plugin.

Usage: bricks-conform PLUGIN.so [--kind K] [--brick NAME] [--param NAME=VALUE]... [gtest flags]
       bricks conform ...          (the same, through the bricks CLI)

Loads PLUGIN.so (any path: the plugin need not be on a plugin path), picks its bricks (all of
them, or those of --kind K and/or --brick NAME) and runs the suite of each brick's kind on
each, one brick per child process, so a brick that crashes is reported and the others go on.
These are the suites the project's own bricks pass.

Options:
  --kind K             only bricks of kind K: scheduler, kv, attention, pruning, router,
                       merger, adapter
  --brick NAME         only the brick named NAME
  --param NAME=VALUE   a value for param NAME of every chosen brick that declares it (checked
                       against its spec as a manifest's would be); other params keep their
                       declared defaults. Repeatable.
  --allow-group-writable-plugins
                       accept plugin files and directories that their group may write, as
                       `bricks` does with the same flag
  --gtest_*            passed to GoogleTest, e.g. --gtest_filter=*Pressure* or
                       --gtest_list_tests
  -h, --help           this text

What each suite checks:
  scheduler   Driven by a simulated engine over seeded workloads that fill a pool of 192
              KV tokens, wired to the shipped kv brick `paged` (block_size 4, 24 host blocks
              for swap), or the first shipped kv brick providing the capabilities the
              scheduler requires. Every plan is checked against the scheduler and kv
              contracts: items name live requests, never computing past a sequence's end,
              at most max_num_seqs running and max_num_batched_tokens computed per step;
              KV is allocated before it is used and read back intact (a wrong prefix hit or
              lost swap shows as a foreign token). Preemption contract: memory pressure
              preempts (recompute or swap) and every preempted request resumes and finishes;
              only a request that can never fit the pool fails, alone and with a reason; no
              KV or host block is left held at the end; the same seed gives the same plans.
              Limits: plans are checked against the scheduler's own params named
              max_num_seqs and max_num_batched_tokens (their defaults, or --param values)
              when it declares them (a max_num_batched_tokens of 0, "auto", counts as
              absent); otherwise against 256 and 2048. The simulated engine passes
              max_model_len 0 (unknown).
  kv          Allocation, page tables and slot mapping, all-or-nothing failure, release of
              every block, KV groups, misuse as errors; the prefix cache where it provides
              kv.prefix_cache, swap to the host tier where it provides kv.swap.
  attention   The same output (and scores) as the shipped `reference` brick on seeded random
              paged batches of every GQA ratio, head dim 64/80/128 and page size 1-64, within
              1e-4; repeatable bit for bit; bad batches refused. f16 KV is checked where it
              provides kv.f16, scores where it provides attention.scores.
  pruning     Valid keep sets (ascending, unique, in range, every non-prunable token kept),
              repeatable; no prunable tokens keeps all; prunes_after answers 0 or 1, and 1
              only at its int param `layer` where it declares one.
  router      Ids in range and distinct per token, weights non-negative, descending, summing
              to 1; top_k above the number of experts refused.
  merger      merged is 0 or 1, and 0 leaves the output alone; copies of one checkpoint merge
              to it; repeatable; the same answers from several threads at once.
  adapter     Loads GGUF and PEFT LoRA adapters, reports rank and targets, applies
              scale * B(A x) to exactly each segment's rows; bad files and calls are errors.

Partner bricks (kv/paged, attention/reference) are found as `bricks` finds plugins:
BRICKS_PLUGIN_PATH, the install dir beside this program, then the build tree's plugin dir
when run from a build tree.

Output: GoogleTest's, then one line per brick:
  conform: scheduler/simple_fcfs from /path/libsimple_fcfs.so: 4 passed, 0 failed
Exit status: 0 when every test of every brick passed, 1 when some failed or a brick crashed,
2 for a bad command line or a plugin that cannot be loaded.
)";
}

}  // namespace bricks::conform
