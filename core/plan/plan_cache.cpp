#include "plan/plan_cache.h"

#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "plan/plan_error.h"

namespace bricks::plan {

namespace fs = std::filesystem;

namespace {

std::string fnv1a_hex(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string entry_name(int32_t in, int32_t out) {
  return std::to_string(in) + "x" + std::to_string(out);
}

}  // namespace

ProfileCache::ProfileCache(fs::path dir, std::string key)
    : dir_(std::move(dir)), key_(std::move(key)) {}

fs::path ProfileCache::file(const std::string& gpu) const {
  return dir_ / (gpu + "-" + fnv1a_hex(key_) + ".json");
}

ProfileCache::Entries& ProfileCache::entries(const std::string& gpu) {
  auto it = loaded_.find(gpu);
  if (it != loaded_.end()) return it->second;
  Entries e;
  if (enabled()) {
    std::ifstream in(file(gpu));
    if (in) {
      // A file that does not parse, or was written for another key (a hash collision),
      // is ignored and rewritten by the next put.
      const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
      if (j.is_object() && j.value("key", std::string()) == key_ && j.contains("buckets") &&
          j["buckets"].is_object()) {
        for (const auto& [name, v] : j["buckets"].items()) {
          if (!v.is_object()) continue;
          BucketCapacity c;
          c.rate = v.value("rate", 0.0);
          c.runs = v.value("runs", 0);
          c.note = v.value("note", std::string());
          c.cached = true;
          e[name] = c;
        }
      }
    }
  }
  return loaded_.emplace(gpu, std::move(e)).first->second;
}

std::optional<BucketCapacity> ProfileCache::find(const std::string& gpu, int32_t input_len,
                                                 int32_t output_len) {
  if (!enabled()) return std::nullopt;
  const Entries& e = entries(gpu);
  auto it = e.find(entry_name(input_len, output_len));
  if (it == e.end()) return std::nullopt;
  return it->second;
}

void ProfileCache::put(const std::string& gpu, int32_t input_len, int32_t output_len,
                       const BucketCapacity& c) {
  Entries& e = entries(gpu);
  BucketCapacity kept = c;
  kept.cached = true;  // what a later find returns
  e[entry_name(input_len, output_len)] = kept;
  if (!enabled()) return;
  nlohmann::json j;
  j["key"] = key_;
  j["gpu"] = gpu;
  j["buckets"] = nlohmann::json::object();
  for (const auto& [name, v] : e) {
    j["buckets"][name] = {{"rate", v.rate}, {"runs", v.runs}, {"note", v.note}};
  }
  const fs::path target = file(gpu);
  std::error_code ec;
  fs::create_directories(dir_, ec);
  const fs::path tmp = target.string() + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp);
    out << j.dump(2) << "\n";
    if (!out) {
      throw PlanError("cannot write the profile cache " + tmp.string() +
                      "; give a writable --cache DIR or --no-cache");
    }
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw PlanError("cannot write the profile cache " + target.string() +
                    "; give a writable --cache DIR or --no-cache");
  }
}

fs::path default_cache_dir(const fs::path& manifest_dir) {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x != nullptr && *x != '\0') {
    return fs::path(x) / "bricks" / "plan";
  }
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') {
    return fs::path(h) / ".cache" / "bricks" / "plan";
  }
  return manifest_dir / ".bricks-plan-cache";
}

}  // namespace bricks::plan
