#include "engine/neuron_partition_file.h"

#include <cstring>
#include <fstream>
#include <iterator>

namespace bricks::engine {

namespace {

constexpr char kMagic[8] = {'B', 'R', 'K', 'N', 'P', 'A', 'R', 'T'};

constexpr uint64_t kFnvOffset = 0xCBF29CE484222325ull;
constexpr uint64_t kFnvPrime = 0x100000001B3ull;

uint64_t fnv1a(const void* data, size_t n, uint64_t h = kFnvOffset) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * kFnvPrime;
  return h;
}

// Word-at-a-time mixing for the weight bytes (FNV over gigabytes would take seconds).
uint64_t mix_bytes(const void* data, size_t n, uint64_t h) {
  const auto* p = static_cast<const unsigned char*>(data);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h ^= w * 0x9E3779B97F4A7C15ull;
    h = (h << 29 | h >> 35) * 0xBF58476D1CE4E5B9ull;
  }
  return fnv1a(p + i, n - i, h);
}

class Writer {
 public:
  void bytes(const void* p, size_t n) {
    const auto* c = static_cast<const char*>(p);
    buf_.insert(buf_.end(), c, c + n);
  }
  template <class T>
  void put(T v) {
    bytes(&v, sizeof(v));
  }
  const std::string& data() const { return buf_; }

 private:
  std::string buf_;
};

class Reader {
 public:
  Reader(const std::string& data, std::string where) : data_(data), where_(std::move(where)) {}
  void bytes(void* p, size_t n) {
    if (at_ + n > data_.size()) {
      throw PartitionError(where_ + ": the file ends early (truncated or not a partition)");
    }
    std::memcpy(p, data_.data() + at_, n);
    at_ += n;
  }
  template <class T>
  T get() {
    T v;
    bytes(&v, sizeof(v));
    return v;
  }
  size_t at() const { return at_; }

 private:
  const std::string& data_;
  std::string where_;
  size_t at_ = 0;
};

}  // namespace

void NeuronPartition::check(const std::string& where) const {
  if (ffn <= 0 || clusters <= 0 || clusters > ffn) {
    throw PartitionError(where + ": " + std::to_string(clusters) + " clusters of " +
                         std::to_string(ffn) + " neurons is not a partition");
  }
  for (size_t l = 0; l < layers.size(); ++l) {
    const LayerPartition& L = layers[l];
    const std::string at = where + ": layer " + std::to_string(l);
    if (L.order.size() != static_cast<size_t>(ffn) ||
        L.offsets.size() != static_cast<size_t>(clusters) + 1) {
      throw PartitionError(at + " has the wrong number of neurons or clusters");
    }
    std::vector<char> seen(static_cast<size_t>(ffn), 0);
    for (int32_t n : L.order) {
      if (n < 0 || n >= ffn || seen[static_cast<size_t>(n)] != 0) {
        throw PartitionError(at + ": neuron order is not a permutation of 0.." +
                             std::to_string(ffn - 1));
      }
      seen[static_cast<size_t>(n)] = 1;
    }
    if (L.offsets.front() != 0 || L.offsets.back() != ffn) {
      throw PartitionError(at + ": cluster offsets must run from 0 to " + std::to_string(ffn));
    }
    for (int32_t c = 0; c < clusters; ++c) {
      if (L.offsets[c + 1] <= L.offsets[c]) {
        throw PartitionError(at + ": cluster " + std::to_string(c) + " is empty");
      }
    }
  }
}

std::filesystem::path partition_path_for(const std::filesystem::path& model_path) {
  std::filesystem::path p = model_path;
  p += ".partition";
  return p;
}

uint64_t model_checksum(const model::Model& m) {
  uint64_t h = kFnvOffset;
  for (const model::TensorView& t : m.tensors()) {
    h = fnv1a(t.name.data(), t.name.size(), h);
    h = fnv1a(t.ne.data(), t.ne.size() * sizeof(int64_t), h);
    h = mix_bytes(t.data, t.nbytes, h);
  }
  return h;
}

void save_partition(const NeuronPartition& p, const std::filesystem::path& file) {
  p.check(file.string());
  Writer w;
  w.bytes(kMagic, sizeof(kMagic));
  w.put<uint32_t>(kPartitionVersion);
  w.put<uint64_t>(p.model_checksum);
  w.put<uint32_t>(static_cast<uint32_t>(p.layers.size()));
  w.put<uint32_t>(static_cast<uint32_t>(p.ffn));
  w.put<uint32_t>(static_cast<uint32_t>(p.clusters));
  w.put<uint32_t>(static_cast<uint32_t>(p.calibration_tokens));
  w.put<float>(p.calibration_share);
  for (const LayerPartition& L : p.layers) {
    w.bytes(L.order.data(), L.order.size() * sizeof(int32_t));
    w.bytes(L.offsets.data(), L.offsets.size() * sizeof(int32_t));
  }
  w.put<uint64_t>(fnv1a(w.data().data(), w.data().size()));

  // Written under a temporary name and renamed, so a reader never sees half a file.
  std::filesystem::path tmp = file;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(w.data().data(), static_cast<std::streamsize>(w.data().size()));
    if (!out) throw PartitionError(tmp.string() + ": cannot write the partition file");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw PartitionError(file.string() + ": cannot write the partition file");
  }
}

NeuronPartition load_partition(const std::filesystem::path& file, const model::Model& m,
                               uint64_t checksum) {
  const std::string where = file.string();
  const std::string remake = "; remake it with `bricks partition --model " +
                             m.path().string() + "` (or delete it to recalibrate at load)";
  std::ifstream in(file, std::ios::binary);
  if (!in) throw PartitionError(where + ": cannot read the partition file" + remake);
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Reader r(data, where);
  char magic[8];
  r.bytes(magic, sizeof(magic));
  if (std::memcmp(magic, kMagic, sizeof(magic)) != 0) {
    throw PartitionError(where + ": not a neuron partition file" + remake);
  }
  const uint32_t version = r.get<uint32_t>();
  if (version != kPartitionVersion) {
    throw PartitionError(where + ": partition format version " + std::to_string(version) +
                         ", this build reads version " + std::to_string(kPartitionVersion) +
                         remake);
  }
  if (data.size() < sizeof(uint64_t) ||
      fnv1a(data.data(), data.size() - sizeof(uint64_t)) !=
          [&] {
            uint64_t v;
            std::memcpy(&v, data.data() + data.size() - sizeof(v), sizeof(v));
            return v;
          }()) {
    throw PartitionError(where + ": the file is damaged (checksum mismatch)" + remake);
  }
  NeuronPartition p;
  p.model_checksum = r.get<uint64_t>();
  if (p.model_checksum != checksum) {
    throw PartitionError(where + ": the partition was made for other weights than " +
                         m.path().string() + " (model checksum differs), so it is stale" +
                         remake);
  }
  const uint32_t layers = r.get<uint32_t>();
  p.ffn = static_cast<int32_t>(r.get<uint32_t>());
  p.clusters = static_cast<int32_t>(r.get<uint32_t>());
  p.calibration_tokens = static_cast<int32_t>(r.get<uint32_t>());
  p.calibration_share = r.get<float>();
  const model::LlamaConfig& c = m.config();
  if (static_cast<int32_t>(layers) != c.n_layers || p.ffn != c.ffn || p.clusters <= 0 ||
      p.clusters > p.ffn) {
    throw PartitionError(where + ": " + std::to_string(layers) + " layers of " +
                         std::to_string(p.ffn) + " neurons do not fit the model (" +
                         std::to_string(c.n_layers) + " layers of " + std::to_string(c.ffn) +
                         ")" + remake);
  }
  p.layers.resize(layers);
  for (LayerPartition& L : p.layers) {
    L.order.resize(static_cast<size_t>(p.ffn));
    L.offsets.resize(static_cast<size_t>(p.clusters) + 1);
    r.bytes(L.order.data(), L.order.size() * sizeof(int32_t));
    r.bytes(L.offsets.data(), L.offsets.size() * sizeof(int32_t));
  }
  if (r.at() + sizeof(uint64_t) != data.size()) {
    throw PartitionError(where + ": unexpected bytes after the last layer" + remake);
  }
  p.check(where);
  return p;
}

}  // namespace bricks::engine
