// Disk tier benchmark: the disk's sequential O_DIRECT read bandwidth (the roofline of KV
// and weights read back from disk), and the disk tier's block store writing and reading
// KV blocks at several queue depths. Prints bytes per second; asserts nothing.
//
//   bench_disk                                  (files in the temp directory)
//   BRICKS_BENCH_DISK_DIR=/mnt/nvme bench_disk  (the disk to measure)
//   bench_disk --benchmark_filter=Sequential
//
// The sequential file is 1 GiB (BRICKS_BENCH_DISK_MIB to change it), written once per run
// and dropped from the page cache by O_DIRECT reads.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "tier/disk_block_file.h"
#include "tier/io_queue.h"

namespace {

using bricks::tier::BlockRead;
using bricks::tier::BlockWrite;
using bricks::tier::DiskBlockFile;
using bricks::tier::DiskTierOptions;

std::filesystem::path bench_dir() {
  const char* d = std::getenv("BRICKS_BENCH_DISK_DIR");
  return d != nullptr && *d != '\0' ? std::filesystem::path(d)
                                    : std::filesystem::temp_directory_path();
}

int64_t sequential_bytes() {
  const char* m = std::getenv("BRICKS_BENCH_DISK_MIB");
  return (m != nullptr ? std::atoll(m) : 1024) << 20;
}

constexpr size_t kChunk = 1 << 20;

// A file of sequential_bytes() written once, opened with O_DIRECT for reading.
struct SequentialFile {
  std::filesystem::path path = bench_dir() / ("bricks-bench-disk-" + std::to_string(::getpid()));
  int fd = -1;
  SequentialFile() {
    const int w = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
    std::vector<char> chunk(kChunk);
    std::mt19937 rng(1);
    for (auto& c : chunk) c = static_cast<char>(rng());
    for (int64_t done = 0; w >= 0 && done < sequential_bytes(); done += kChunk) {
      if (::write(w, chunk.data(), kChunk) != static_cast<ssize_t>(kChunk)) break;
    }
    if (w >= 0) {
      ::fsync(w);
      ::close(w);
    }
    fd = ::open(path.c_str(), O_RDONLY | O_DIRECT);
    if (fd < 0) fd = ::open(path.c_str(), O_RDONLY);  // a filesystem without direct I/O
  }
  ~SequentialFile() {
    if (fd >= 0) ::close(fd);
    std::filesystem::remove(path);
  }
};

SequentialFile& sequential_file() {
  static SequentialFile f;
  return f;
}

// The whole file in 1 MiB reads, `depth` in flight (io_uring; depth 1 is one stream).
void BM_SequentialRead(benchmark::State& state) {
  SequentialFile& f = sequential_file();
  if (f.fd < 0) {
    state.SkipWithError("cannot create the benchmark file");
    return;
  }
  const int depth = static_cast<int>(state.range(0));
  bricks::tier::IoQueue queue(f.fd, depth);
  std::vector<char*> buffers;
  for (int i = 0; i < depth; ++i)
    buffers.push_back(static_cast<char*>(std::aligned_alloc(4096, kChunk)));
  const size_t chunks = static_cast<size_t>(sequential_bytes()) / kChunk;
  int64_t bytes = 0;
  for (auto _ : state) {
    queue.run(
        chunks,
        [&](size_t i, int slot) {
          return bricks::tier::IoOp{false, buffers[static_cast<size_t>(slot)], kChunk,
                                    static_cast<int64_t>(i * kChunk)};
        },
        [&](size_t, int, int64_t result) { bytes += result > 0 ? result : 0; });
  }
  for (char* b : buffers) std::free(b);
  state.SetBytesProcessed(bytes);
  state.SetLabel(queue.backend() == bricks::tier::IoBackend::kUring ? "io_uring" : "pread");
}
BENCHMARK(BM_SequentialRead)->Arg(1)->Arg(4)->Arg(16)->Unit(benchmark::kMillisecond)->UseRealTime();

// 1,024 blocks of `block_bytes` (a 16-token block of a 1B model in f16 is 704 KiB over all
// layers; one layer's share is 32 KiB), written then read back in random order.
void tier_round(benchmark::State& state, bool reads) {
  const int64_t block_bytes = state.range(0);
  const auto depth = static_cast<int32_t>(state.range(1));
  constexpr int32_t kBlocks = 1024;
  DiskTierOptions o;
  o.dir = bench_dir();
  o.block_bytes = block_bytes;
  o.num_blocks = kBlocks;
  o.queue_depth = depth;
  DiskBlockFile file(o);
  std::vector<char> data(static_cast<size_t>(block_bytes) * kBlocks);
  std::mt19937 rng(2);
  for (auto& c : data) c = static_cast<char>(rng());
  std::vector<BlockWrite> writes;
  std::vector<BlockRead> read_list;
  for (int32_t b = 0; b < kBlocks; ++b) {
    writes.push_back({b, data.data() + b * block_bytes});
    read_list.push_back({b, data.data() + b * block_bytes});
  }
  std::shuffle(read_list.begin(), read_list.end(), rng);
  file.write(writes);
  for (auto _ : state) {
    if (reads) {
      file.read(read_list);
    } else {
      file.write(writes);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kBlocks * block_bytes);
  state.SetLabel(file.describe());
}
void BM_TierWrite(benchmark::State& state) { tier_round(state, false); }
void BM_TierRead(benchmark::State& state) { tier_round(state, true); }
BENCHMARK(BM_TierWrite)
    ->ArgsProduct({{32 << 10, 704 << 10}, {1, 8, 32}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_TierRead)
    ->ArgsProduct({{32 << 10, 704 << 10}, {1, 8, 32}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
