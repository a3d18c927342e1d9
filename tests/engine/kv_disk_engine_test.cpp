// Swap preemption through a host tier of two blocks over the disk tier: the KV that comes
// back from disk is the KV that left (greedy outputs as with no preemption at all), with
// the copies before and beside the forward pass; and when the disk loses blocks, exactly the
// requests whose KV they held fail, with the reason, while the others finish unchanged.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "engine_fixture.h"

namespace bricks::testing {
namespace {

std::vector<engine::RequestSpec> prompts(const engine::Runtime& rt) {
  std::vector<engine::RequestSpec> out;
  for (const char* text : {"Once upon a time", "The little dog ran to the", "In a big forest",
                           "She said hello to the cat and", "Tom had a red ball"}) {
    engine::RequestSpec s;
    s.prompt = rt.model()->tokenizer().encode(text, true);
    s.max_new_tokens = 12;
    s.ignore_eos = true;
    out.push_back(s);
  }
  return out;
}

// Generated tokens by submission index; failed requests leave their reason instead.
struct RunResult {
  std::vector<std::vector<int32_t>> tokens;
  std::vector<std::string> failure;
};

RunResult run_requests(engine::Runtime& rt, const std::vector<engine::RequestSpec>& specs) {
  RunResult run;
  for (const engine::Request* r : run_in_order(rt, specs)) {
    run.tokens.emplace_back(r->tokens.begin() + r->prompt_len(), r->tokens.end());
    run.failure.push_back(r->failure);
  }
  return run;
}

// Ten device blocks of four tokens (each request fits alone, all five do not), swap
// preemption, two host blocks in memory and 62 on the disk tier.
manifest::LoadedManifest tiered_manifest(const engine::Runtime& probe, bool overlap) {
  const auto& c = probe.model()->config();
  const int64_t block_bytes = 2ll * c.n_kv_heads * c.head_dim * 4 * 4 * c.n_layers;
  auto bricks = default_bricks();
  bricks[0].params.push_back({"preemption", string_value("swap")});
  bricks[1].params.push_back({"block_size", int_value(4)});
  bricks[1].params.push_back({"enable_prefix_cache", bool_value(false)});
  manifest::LoadedManifest m = make_manifest(bricks, 10 * block_bytes);
  auto& d = *m.proto.mutable_device();
  d.set_host_kv_bytes(2 * block_bytes);
  d.set_disk_kv_bytes(62 * block_bytes);
  d.set_disk_dir(scratch_dir("bricks-kv-disk-engine").string());
  d.set_overlap_swaps(overlap);
  return m;
}

class KvDiskEngine : public ::testing::TestWithParam<bool> {};

TEST_P(KvDiskEngine, SwapsThroughDiskDoNotChangeOutputs) {
  auto probe = engine::Runtime::create(make_manifest(default_bricks()), {});
  const auto specs = prompts(*probe);
  auto tiered = engine::Runtime::create(tiered_manifest(*probe, GetParam()), {});
  EXPECT_EQ(tiered->engine().pool().num_disk_blocks(), 62);
  EXPECT_EQ(tiered->engine().pool().num_host_blocks(), 64);
  const RunResult got = run_requests(*tiered, specs);
  for (const std::string& f : got.failure) EXPECT_EQ(f, "");
  EXPECT_GT(tiered->engine().stats().preemptions, 0) << "the pool was not tight enough";
  const engine::KvDiskCounters disk = tiered->engine().pool().disk_counters();
  EXPECT_GT(disk.blocks_written, 0) << "nothing went to disk";
  EXPECT_GT(disk.blocks_read, 0) << "nothing came back from disk";
  EXPECT_EQ(disk.failed_reads + disk.failed_writes, 0);
  EXPECT_EQ(got.tokens, run_requests(*probe, specs).tokens);
}

// Junk over the whole disk file once blocks are on it: the requests whose KV was there fail
// with the checksum reason when they come back; the others finish as without preemption.
TEST_P(KvDiskEngine, BlocksLostOnDiskFailOnlyTheRequestsThatHeldThem) {
  auto probe = engine::Runtime::create(make_manifest(default_bricks()), {});
  const auto specs = prompts(*probe);
  const RunResult want = run_requests(*probe, specs);
  auto tiered = engine::Runtime::create(tiered_manifest(*probe, GetParam()), {});
  engine::Engine& eng = tiered->engine();
  bool spoiled = false;
  eng.set_step_callback([&](const engine::StepEvent&) {
    if (spoiled || eng.pool().disk_counters().blocks_written == 0) return;
    const tier::DiskBlockFile& file = *eng.pool().disk_file();
    const int fd = ::open(("/proc/self/fd/" + std::to_string(file.fd())).c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    const std::vector<char> junk(static_cast<size_t>(file.slot_bytes() * file.num_blocks()), 'z');
    ASSERT_EQ(::pwrite(fd, junk.data(), junk.size(), 0), static_cast<ssize_t>(junk.size()));
    ::close(fd);
    spoiled = true;
  });
  const RunResult got = run_requests(*tiered, specs);
  ASSERT_TRUE(spoiled);
  int failed = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (got.failure[i].empty()) {
      EXPECT_EQ(got.tokens[i], want.tokens[i]) << "request " << i;
      continue;
    }
    ++failed;
    EXPECT_NE(got.failure[i].find("its KV cache was lost"), std::string::npos) << got.failure[i];
    EXPECT_NE(got.failure[i].find("checksum mismatch"), std::string::npos) << got.failure[i];
  }
  EXPECT_GT(failed, 0);
  EXPECT_LT(failed, static_cast<int>(specs.size()));
  EXPECT_GT(eng.pool().disk_counters().checksum_failures, 0);
}

INSTANTIATE_TEST_SUITE_P(CopiesBeforeAndBesideCompute, KvDiskEngine, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "overlapped" : "before_compute";
                         });

}  // namespace
}  // namespace bricks::testing
