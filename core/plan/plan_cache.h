// The profile cache of `bricks plan`: one small JSON file per GPU preset and profile key,
// holding the capacity found for each bucket size. The key names everything a capacity
// depends on (model preset, device settings, bricks, SLO, bucket edges, run lengths), so a
// changed manifest or SLO profiles again instead of reusing a stale number.
//
// Thread safety: one thread uses a cache. Files are replaced atomically (write, rename), so
// a reader in another process sees the old file or the new one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace bricks::plan {

// What one profile of one (GPU type, bucket) found.
struct BucketCapacity {
  double rate = 0;      // highest sustainable requests per second; 0 = cannot serve it
  int32_t runs = 0;     // simulations it took
  std::string note;     // why it is 0 ("a request alone misses the SLO"), else ""
  bool cached = false;  // read from the cache rather than simulated now
};

class ProfileCache {
 public:
  // `dir` empty: no cache (find finds nothing, put keeps nothing on disk).
  ProfileCache(std::filesystem::path dir, std::string key);
  // The file of `gpu`: DIR/GPU-HASH.json, HASH the FNV-1a of the key.
  std::filesystem::path file(const std::string& gpu) const;
  std::optional<BucketCapacity> find(const std::string& gpu, int32_t input_len, int32_t output_len);
  // Records a capacity and rewrites the GPU's file. Throws PlanError when it cannot write.
  void put(const std::string& gpu, int32_t input_len, int32_t output_len, const BucketCapacity& c);
  bool enabled() const { return !dir_.empty(); }

 private:
  using Entries = std::map<std::string, BucketCapacity>;  // "INxOUT" -> capacity
  Entries& entries(const std::string& gpu);               // loaded on first use
  std::filesystem::path dir_;
  std::string key_;
  std::map<std::string, Entries> loaded_;
};

// The default cache directory: $XDG_CACHE_HOME/bricks/plan, else $HOME/.cache/bricks/plan,
// else .bricks-plan-cache next to the manifest.
std::filesystem::path default_cache_dir(const std::filesystem::path& manifest_dir);

}  // namespace bricks::plan
