// GGUF LoRA files: metadata general.type = "adapter", adapter.type = "lora",
// adapter.lora.alpha; tensors blk.N.<proj>.weight.lora_a (ne = [in, rank]) and
// .lora_b (ne = [rank, out]) in f32, f16, bf16 or q8_0. q/k rows are already in the
// adjacent-pair RoPE layout (GGUF's own).
#include <cstring>
#include <fstream>
#include <iterator>

#include "bricks/error.hpp"
#include "bricks/half.hpp"
#include "lora_files.h"

namespace bricks_lora {
namespace {

using bricks::Error;

constexpr uint32_t kGgmlF32 = 0, kGgmlF16 = 1, kGgmlQ8_0 = 8, kGgmlBF16 = 30;

enum GgufType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12
};

// Bounds-checked little-endian reads over the whole file.
class Cursor {
 public:
  Cursor(const std::vector<char>& bytes, const std::string& path) : b_(bytes), path_(path) {}

  template <class T>
  T read() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, b_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return v;
  }
  std::string string() {
    const auto n = read<uint64_t>();
    need(n);
    std::string s(b_.data() + at_, static_cast<size_t>(n));
    at_ += static_cast<size_t>(n);
    return s;
  }
  void skip(uint64_t n) {
    need(n);
    at_ += static_cast<size_t>(n);
  }
  size_t at() const { return at_; }
  [[noreturn]] void fail(const std::string& what) const {
    throw Error::invalid(path_ + ": " + what + " (at byte " + std::to_string(at_) + ")");
  }

 private:
  void need(uint64_t n) const {
    if (n > b_.size() - at_) fail("the file ends early; it is truncated or not a GGUF file");
  }
  const std::vector<char>& b_;
  const std::string& path_;
  size_t at_ = 0;
};

size_t scalar_size(uint32_t type) {
  switch (type) {
    case kU8:
    case kI8:
    case kBool:
      return 1;
    case kU16:
    case kI16:
      return 2;
    case kU32:
    case kI32:
    case kF32:
      return 4;
    case kU64:
    case kI64:
    case kF64:
      return 8;
    default:
      return 0;
  }
}

void skip_value(Cursor& c, uint32_t type, int depth) {
  if (depth > 4) c.fail("metadata arrays are nested too deep");
  if (type == kString) {
    c.string();
  } else if (type == kArray) {
    const auto elem = c.read<uint32_t>();
    const auto count = c.read<uint64_t>();
    if (const size_t size = scalar_size(elem); size > 0) {
      if (count > (uint64_t{1} << 40)) c.fail("metadata array is too long");
      c.skip(count * size);
    } else {
      for (uint64_t i = 0; i < count; ++i) skip_value(c, elem, depth + 1);
    }
  } else if (const size_t size = scalar_size(type); size > 0) {
    c.skip(size);
  } else {
    c.fail("unknown metadata type " + std::to_string(type));
  }
}

// A numeric metadata value as double.
double number(Cursor& c, uint32_t type, const std::string& key) {
  switch (type) {
    case kU8:
      return c.read<uint8_t>();
    case kI8:
      return c.read<int8_t>();
    case kU16:
      return c.read<uint16_t>();
    case kI16:
      return c.read<int16_t>();
    case kU32:
      return c.read<uint32_t>();
    case kI32:
      return c.read<int32_t>();
    case kF32:
      return c.read<float>();
    case kU64:
      return static_cast<double>(c.read<uint64_t>());
    case kI64:
      return static_cast<double>(c.read<int64_t>());
    case kF64:
      return c.read<double>();
    default:
      c.fail("key '" + key + "' is not a number");
  }
}

struct TensorInfo {
  std::string name;
  std::vector<int64_t> ne;
  uint32_t type = 0;
  uint64_t offset = 0;
};

// Parses "blk.<layer>.<proj>.weight.lora_<a|b>"; false for any other name.
bool parse_gguf_name(const std::string& name, int32_t* layer, int32_t* proj, bool* is_a) {
  static const char* const kNames[] = {"attn_q",   "attn_k", "attn_v",  "attn_output",
                                       "ffn_gate", "ffn_up", "ffn_down"};
  if (name.rfind("blk.", 0) != 0) return false;
  size_t at = 4, digits = 0;
  int64_t value = 0;
  while (at < name.size() && name[at] >= '0' && name[at] <= '9' && digits < 7) {
    value = value * 10 + (name[at++] - '0');
    ++digits;
  }
  if (digits == 0 || digits > 6 || at >= name.size() || name[at] != '.') return false;
  for (int32_t p = 0; p < BRICKS_PROJ_COUNT_; ++p) {
    for (const char* suffix : {".weight.lora_a", ".weight.lora_b"}) {
      if (name.compare(at + 1, std::string::npos, std::string(kNames[p]) + suffix) == 0) {
        *layer = static_cast<int32_t>(value);
        *proj = p;
        *is_a = suffix[13] == 'a';
        return true;
      }
    }
  }
  return false;
}

void decode(const TensorInfo& t, const char* src, uint64_t available, const std::string& path,
            std::vector<float>& out) {
  const int64_t n = static_cast<int64_t>(out.size());
  auto need = [&](uint64_t bytes) {
    if (bytes > available) {
      throw Error::invalid(path + ": tensor '" + t.name + "' lies past the end of the file");
    }
  };
  switch (t.type) {
    case kGgmlF32:
      need(uint64_t(n) * 4);
      std::memcpy(out.data(), src, static_cast<size_t>(n) * 4);
      return;
    case kGgmlF16:
    case kGgmlBF16:
      need(uint64_t(n) * 2);
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        out[i] = t.type == kGgmlF16 ? bricks::f16_to_f32(h) : bricks::bf16_to_f32(h);
      }
      return;
    case kGgmlQ8_0: {
      if (n % 32 != 0) {
        throw Error::invalid(path + ": q8_0 tensor '" + t.name + "' has " + std::to_string(n) +
                             " values, not a multiple of 32");
      }
      need(uint64_t(n / 32) * 34);
      for (int64_t blk = 0; blk < n / 32; ++blk) {
        const char* b = src + blk * 34;
        uint16_t d;
        std::memcpy(&d, b, 2);
        const float scale = bricks::f16_to_f32(d);
        for (int i = 0; i < 32; ++i) out[blk * 32 + i] = scale * static_cast<int8_t>(b[2 + i]);
      }
      return;
    }
    default:
      throw Error::unsupported(path + ": tensor '" + t.name + "' has ggml type " +
                               std::to_string(t.type) +
                               "; LoRA tensors must be f32, f16, bf16 or q8_0 (re-export the "
                               "adapter with --outtype f16)");
  }
}

}  // namespace

AdapterFile read_gguf_adapter(const std::string& path) {
  std::ifstream is(path, std::ios::binary);
  if (!is) throw Error::invalid(path + ": cannot open the adapter file");
  const std::vector<char> bytes((std::istreambuf_iterator<char>(is)),
                                std::istreambuf_iterator<char>());
  Cursor c(bytes, path);
  if (bytes.size() < 4 || std::memcmp(bytes.data(), "GGUF", 4) != 0) {
    throw Error::invalid(path +
                         ": not a GGUF file (no 'GGUF' magic); give a GGUF LoRA file or "
                         "a PEFT directory");
  }
  c.skip(4);
  const auto version = c.read<uint32_t>();
  if (version != 2 && version != 3)
    c.fail("GGUF version " + std::to_string(version) + " is not 2 or 3");
  const auto n_tensors = c.read<uint64_t>();
  const auto n_kv = c.read<uint64_t>();
  if (n_tensors > (1u << 24) || n_kv > (1u << 24)) c.fail("tensor or key count is implausible");

  AdapterFile out;
  out.path = path;
  out.format = "gguf";
  std::string general_type, adapter_type, arch;
  uint64_t alignment = 32;
  for (uint64_t i = 0; i < n_kv; ++i) {
    const std::string key = c.string();
    const auto type = c.read<uint32_t>();
    if ((key == "general.type" || key == "adapter.type" || key == "general.architecture") &&
        type == kString) {
      std::string v = c.string();
      (key == "general.type" ? general_type : key == "adapter.type" ? adapter_type : arch) = v;
    } else if (key == "adapter.lora.alpha") {
      out.alpha = number(c, type, key);
    } else if (key == "general.alignment") {
      alignment = static_cast<uint64_t>(number(c, type, key));
    } else {
      skip_value(c, type, 0);
    }
  }
  if (general_type != "adapter" || adapter_type != "lora") {
    throw Error::invalid(path + ": not a LoRA adapter (general.type '" + general_type +
                         "', adapter.type '" + adapter_type +
                         "'; expected 'adapter' and 'lora'); a model file cannot be used as an "
                         "adapter");
  }
  if (!arch.empty() && arch != "llama") {
    throw Error::unsupported(path + ": adapter for architecture '" + arch +
                             "'; only llama adapters are supported");
  }
  if (alignment == 0 || (alignment & (alignment - 1)) != 0)
    c.fail("general.alignment is not a power of two");

  std::vector<TensorInfo> infos(static_cast<size_t>(n_tensors));
  for (TensorInfo& t : infos) {
    t.name = c.string();
    const auto dims = c.read<uint32_t>();
    if (dims == 0 || dims > 4)
      c.fail("tensor '" + t.name + "' has " + std::to_string(dims) + " dims");
    for (uint32_t d = 0; d < dims; ++d) {
      const auto ne = c.read<uint64_t>();
      if (ne == 0 || ne > (uint64_t{1} << 31))
        c.fail("tensor '" + t.name + "' has a bad dimension");
      t.ne.push_back(static_cast<int64_t>(ne));
    }
    t.type = c.read<uint32_t>();
    t.offset = c.read<uint64_t>();
  }
  const uint64_t data_start = (c.at() + alignment - 1) / alignment * alignment;

  for (const TensorInfo& t : infos) {
    int32_t layer = 0, proj = 0;
    bool is_a = false;
    if (!parse_gguf_name(t.name, &layer, &proj, &is_a)) {
      throw Error::unsupported(path + ": tensor '" + t.name +
                               "' is not a LoRA matrix of a layer projection this brick adapts "
                               "(blk.N.{attn_q,attn_k,attn_v,attn_output,ffn_gate,ffn_up,"
                               "ffn_down}.weight.lora_a/lora_b)");
    }
    if (t.ne.size() != 2) {
      throw Error::invalid(path + ": tensor '" + t.name + "' is not a matrix");
    }
    Matrix mat;
    mat.name = t.name;
    mat.rows = t.ne[1];
    mat.cols = t.ne[0];
    mat.values.resize(static_cast<size_t>(mat.rows * mat.cols));
    if (data_start > bytes.size() || t.offset > bytes.size() - data_start) {
      throw Error::invalid(path + ": tensor '" + t.name + "' lies past the end of the file");
    }
    const uint64_t at = data_start + t.offset;
    decode(t, bytes.data() + at, bytes.size() - at, path, mat.values);
    MatrixPair& pair = out.pairs[{layer, proj}];
    (is_a ? pair.a : pair.b) = std::move(mat);
    (is_a ? pair.has_a : pair.has_b) = true;
  }
  return out;
}

}  // namespace bricks_lora
