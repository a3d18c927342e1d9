#include <cstring>
#include <fstream>

#include "bricks/model/gguf.h"

namespace bricks::model {
namespace {

class Bytes {
 public:
  template <class T>
  void put(T v) {
    append(&v, sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    append(s.data(), s.size());
  }
  // resize + memcpy rather than insert: GCC 12 at -O3 misreports insert as an overflow.
  void append(const void* p, size_t n) {
    if (n == 0) return;
    const size_t at = out.size();
    out.resize(at + n);
    std::memcpy(out.data() + at, p, n);
  }
  void put_value(const GgufValue& v) {
    std::visit(
        [this](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::string>) {
            put_string(x);
          } else if constexpr (std::is_same_v<T, GgufArray>) {
            put<uint32_t>(static_cast<uint32_t>(x.elem));
            put<uint64_t>(x.items.size());
            for (const GgufValue& item : x.items) put_value(item);
          } else if constexpr (std::is_same_v<T, bool>) {
            put<uint8_t>(x ? 1 : 0);
          } else {
            put<T>(x);
          }
        },
        v.v);
  }
  std::vector<unsigned char> out;
};

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

}  // namespace

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment) {
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    throw ModelError("GgufWriter: alignment " + std::to_string(alignment) +
                     " is not a power of two");
  }
  if (alignment != 32) set("general.alignment", GgufValue::u32(alignment));
}

void GgufWriter::set(const std::string& key, GgufValue value) {
  for (auto& [k, v] : kv_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  kv_.emplace_back(key, std::move(value));
}

void GgufWriter::add_tensor(const std::string& name, DType dtype, std::vector<int64_t> ne) {
  int64_t numel = 1;
  for (int64_t n : ne) numel *= n;
  const auto nb = dtype_bytes(dtype, numel);
  if (!nb || (dtype_is_quantized(dtype) && (ne.empty() || !row_fits(dtype, ne[0])))) {
    throw ModelError("GgufWriter: tensor '" + name + "': " + dtype_name(dtype) +
                     " needs ne[0] to be a multiple of " +
                     std::to_string(dtype_block(dtype).values));
  }
  add_tensor_raw(name, ggml_type_id(dtype), std::move(ne), *nb);
}

void GgufWriter::add_tensor_raw(const std::string& name, uint32_t ggml_type,
                                std::vector<int64_t> ne, uint64_t nbytes) {
  tensors_.push_back({name, ggml_type, std::move(ne), nbytes});
}

std::vector<unsigned char> GgufWriter::header() const {
  Bytes b;
  b.put<uint32_t>(0x46554747);
  b.put<uint32_t>(3);
  b.put<uint64_t>(tensors_.size());
  b.put<uint64_t>(kv_.size());
  for (const auto& [k, v] : kv_) {
    b.put_string(k);
    b.put<uint32_t>(static_cast<uint32_t>(v.type()));
    b.put_value(v);
  }
  uint64_t offset = 0;
  for (const Decl& t : tensors_) {
    b.put_string(t.name);
    b.put<uint32_t>(static_cast<uint32_t>(t.ne.size()));
    for (int64_t n : t.ne) b.put<uint64_t>(static_cast<uint64_t>(n));
    b.put<uint32_t>(t.ggml_type);
    b.put<uint64_t>(offset);
    offset = align_up(offset + t.nbytes, alignment_);
  }
  b.out.resize(align_up(b.out.size(), alignment_), 0);
  return std::move(b.out);
}

void GgufWriter::write(const std::filesystem::path& path, const Producer& produce) const {
  std::ofstream os(path, std::ios::binary | std::ios::trunc);
  if (!os) throw ModelError(path.string() + ": cannot create the file");
  const std::vector<unsigned char> head = header();
  os.write(reinterpret_cast<const char*>(head.data()), static_cast<std::streamsize>(head.size()));
  static const char kZeros[64] = {};
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const Decl& t = tensors_[i];
    uint64_t written = 0;
    const Sink sink = [&](const void* data, size_t n) {
      written += n;
      if (written > t.nbytes) return;
      os.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
    };
    if (produce) produce(i, sink);
    if (written != t.nbytes) {
      throw ModelError(path.string() + ": tensor '" + t.name + "' was given " +
                       std::to_string(written) + " bytes, expected " + std::to_string(t.nbytes));
    }
    uint64_t pad = align_up(t.nbytes, alignment_) - t.nbytes;
    while (pad > 0) {
      const auto n = std::min<uint64_t>(pad, sizeof(kZeros));
      os.write(kZeros, static_cast<std::streamsize>(n));
      pad -= n;
    }
  }
  os.flush();
  if (!os) throw ModelError(path.string() + ": write failed (disk full?)");
}

void GgufWriter::write_atomically(const std::filesystem::path& path,
                                  const Producer& produce) const {
  std::filesystem::path tmp = path;
  tmp += ".partial";
  try {
    write(tmp, produce);
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
      throw ModelError(path.string() +
                       ": cannot move the finished file into place: " + ec.message());
    }
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw;
  }
}

}  // namespace bricks::model
