// GGUF reading: every read is bounds-checked against the mapped size, so a truncated or
// corrupt file ends in a ModelError that names the byte offset, never in a crash.
#include <cstring>
#include <limits>

#include "bricks/model/gguf.h"
#include "mapped_file.h"

namespace bricks::model {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr int kMaxArrayDepth = 8;
// Metadata array items in one file, all arrays together (tokens, scores, merges and token
// types of a 256k vocabulary are about one million).
constexpr uint64_t kMaxMetadataItems = uint64_t{8} << 20;
constexpr uint32_t kMaxDims = 4;

class Cursor {
 public:
  Cursor(const std::filesystem::path& path, const unsigned char* data, size_t size)
      : path_(path), data_(data), size_(size) {}

  size_t pos() const { return pos_; }

  [[noreturn]] void fail(size_t at, const std::string& what) const {
    throw ModelError(path_.string() + ": at byte " + std::to_string(at) + ": " + what);
  }

  void need(size_t n, const char* what) const {
    if (n > size_ - pos_) {
      fail(pos_, std::string("file truncated while reading ") + what + " (needs " +
                     std::to_string(n) + " bytes, " + std::to_string(size_ - pos_) + " left)");
    }
  }

  template <class T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::string read_string(const char* what) {
    const size_t at = pos_;
    const auto len = read<uint64_t>(what);
    if (len > size_ - pos_) {
      fail(at, std::string(what) + " claims " + std::to_string(len) +
                   " bytes, past the end of the file");
    }
    std::string s(reinterpret_cast<const char*>(data_ + pos_), static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return s;
  }

  size_t remaining() const { return size_ - pos_; }

  uint64_t items = 0;  // metadata array items read so far

 private:
  const std::filesystem::path& path_;
  const unsigned char* data_;
  size_t size_;
  size_t pos_ = 0;
};

// Smallest encoded size of one value of `t`, used to reject absurd array counts up front.
size_t min_size(GgufType t) {
  switch (t) {
    case GgufType::U8: case GgufType::I8: case GgufType::BOOL: return 1;
    case GgufType::U16: case GgufType::I16: return 2;
    case GgufType::U32: case GgufType::I32: case GgufType::F32: return 4;
    case GgufType::STRING: case GgufType::U64: case GgufType::I64: case GgufType::F64: return 8;
    case GgufType::ARRAY: return 12;
  }
  return 1;
}

GgufType read_type(Cursor& c, const std::string& key) {
  const size_t at = c.pos();
  const auto t = c.read<uint32_t>("a value type");
  if (t > static_cast<uint32_t>(GgufType::F64)) {
    c.fail(at, "key '" + key + "': unknown metadata value type " + std::to_string(t));
  }
  return static_cast<GgufType>(t);
}

GgufValue read_value(Cursor& c, GgufType t, const std::string& key, int depth) {
  using S = GgufValue::Storage;
  switch (t) {
    case GgufType::U8: return {S{std::in_place_type<uint8_t>, c.read<uint8_t>("a u8")}};
    case GgufType::I8: return {S{std::in_place_type<int8_t>, c.read<int8_t>("an i8")}};
    case GgufType::U16: return {S{std::in_place_type<uint16_t>, c.read<uint16_t>("a u16")}};
    case GgufType::I16: return {S{std::in_place_type<int16_t>, c.read<int16_t>("an i16")}};
    case GgufType::U32: return {S{std::in_place_type<uint32_t>, c.read<uint32_t>("a u32")}};
    case GgufType::I32: return {S{std::in_place_type<int32_t>, c.read<int32_t>("an i32")}};
    case GgufType::F32: return {S{std::in_place_type<float>, c.read<float>("an f32")}};
    case GgufType::U64: return {S{std::in_place_type<uint64_t>, c.read<uint64_t>("a u64")}};
    case GgufType::I64: return {S{std::in_place_type<int64_t>, c.read<int64_t>("an i64")}};
    case GgufType::F64: return {S{std::in_place_type<double>, c.read<double>("an f64")}};
    case GgufType::BOOL: {
      const size_t at = c.pos();
      const auto b = c.read<uint8_t>("a bool");
      if (b > 1) c.fail(at, "key '" + key + "': bool value " + std::to_string(b) + " is not 0 or 1");
      return {S{std::in_place_type<bool>, b == 1}};
    }
    case GgufType::STRING:
      return {S{std::in_place_type<std::string>, c.read_string("a string value")}};
    case GgufType::ARRAY: {
      const size_t at = c.pos();
      if (depth >= kMaxArrayDepth) c.fail(at, "key '" + key + "': arrays nested too deeply");
      GgufArray arr;
      arr.elem = read_type(c, key);
      const auto n = c.read<uint64_t>("an array length");
      if (n > c.remaining() / min_size(arr.elem)) {
        c.fail(at, "key '" + key + "': array of " + std::to_string(n) +
                       " items does not fit in the rest of the file");
      }
      // Each item is held as a value of its own, many times its size in the file: the
      // metadata's items are bounded so that a small file cannot claim gigabytes.
      if (n > kMaxMetadataItems - c.items) {
        c.fail(at, "key '" + key + "': array of " + std::to_string(n) + " items takes the "
                       "metadata past " + std::to_string(kMaxMetadataItems) + " items; GGUF "
                       "metadata holds vocabularies of at most a few hundred thousand tokens, "
                       "so this file is not a model this runtime can load");
      }
      c.items += n;
      arr.items.reserve(static_cast<size_t>(n));
      for (uint64_t i = 0; i < n; ++i) arr.items.push_back(read_value(c, arr.elem, key, depth + 1));
      return {S{std::in_place_type<GgufArray>, std::move(arr)}};
    }
  }
  c.fail(c.pos(), "unreachable value type");
}

}  // namespace

GgufFile::~GgufFile() = default;

std::unique_ptr<GgufFile> GgufFile::open(const std::filesystem::path& path) {
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->path_ = path;
  f->map_ = std::make_unique<MappedFile>(path);
  Cursor c(f->path_, f->map_->data(), f->map_->size());

  if (f->map_->size() < 4) c.fail(0, "file truncated: too short to be GGUF (" +
                                         std::to_string(f->map_->size()) + " bytes)");
  const auto magic = c.read<uint32_t>("the magic");
  if (magic != kMagic) c.fail(0, "bad magic: not a GGUF file (expected the bytes 'GGUF')");
  f->version_ = c.read<uint32_t>("the version");
  if (f->version_ != 2 && f->version_ != 3) {
    c.fail(4, "unsupported GGUF version " + std::to_string(f->version_) +
                  " (this reader supports versions 2 and 3; re-convert the model)");
  }
  const auto n_tensors = c.read<uint64_t>("the tensor count");
  const auto n_kv = c.read<uint64_t>("the metadata count");
  if (n_kv > c.remaining() / 12) c.fail(16, "file truncated or corrupt: metadata count " + std::to_string(n_kv) + " exceeds the file");
  if (n_tensors > c.remaining() / 24) c.fail(8, "file truncated or corrupt: tensor count " + std::to_string(n_tensors) + " exceeds the file");

  for (uint64_t i = 0; i < n_kv; ++i) {
    const size_t at = c.pos();
    std::string key = c.read_string("a metadata key");
    if (f->kv_index_.count(key) != 0) c.fail(at, "duplicate metadata key '" + key + "'");
    const GgufType t = read_type(c, key);
    GgufValue v = read_value(c, t, key, 0);
    f->kv_index_.emplace(key, f->kv_.size());
    f->kv_.emplace_back(std::move(key), std::move(v));
  }

  if (const GgufValue* a = f->find("general.alignment")) {
    const auto al = a->as_int();
    if (!al || *al <= 0 || *al > (1 << 20) || (*al & (*al - 1)) != 0) {
      c.fail(0, "key 'general.alignment' must be a power of two (got " +
                    (al ? std::to_string(*al) : std::string("a non-integer")) + ")");
    }
    f->alignment_ = static_cast<uint32_t>(*al);
  }

  for (uint64_t i = 0; i < n_tensors; ++i) {
    const size_t at = c.pos();
    GgufTensorInfo ti;
    ti.name = c.read_string("a tensor name");
    const std::string where = "tensor '" + ti.name + "': ";
    if (f->tensor_index_.count(ti.name) != 0) c.fail(at, "duplicate tensor '" + ti.name + "'");
    const auto n_dims = c.read<uint32_t>("a tensor's dimension count");
    if (n_dims == 0 || n_dims > kMaxDims) {
      c.fail(at, where + std::to_string(n_dims) + " dimensions (1 to 4 are valid)");
    }
    int64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const auto ne = c.read<uint64_t>("a tensor dimension");
      if (ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
          (ne != 0 && static_cast<uint64_t>(numel) > static_cast<uint64_t>(INT64_MAX) / ne)) {
        c.fail(at, where + "dimensions overflow");
      }
      ti.ne.push_back(static_cast<int64_t>(ne));
      numel *= static_cast<int64_t>(ne);
    }
    const size_t type_at = c.pos();
    ti.ggml_type = c.read<uint32_t>("a tensor type");
    ti.offset = c.read<uint64_t>("a tensor offset");
    const auto dt = dtype_from_ggml(ti.ggml_type);
    if (!dt) {
      const char* known = ggml_type_name(ti.ggml_type);
      c.fail(type_at, where + (known ? "unsupported tensor type " + std::string(known) +
                                           " (supported: " + supported_dtypes() + ")"
                                     : "unknown tensor type id " + std::to_string(ti.ggml_type)));
    }
    ti.dtype = *dt;
    if (!ti.ne.empty() && !row_fits(ti.dtype, ti.ne[0])) {
      c.fail(at, where + dtype_name(ti.dtype) + " needs ne[0] to be a multiple of " +
                     std::to_string(dtype_block(ti.dtype).values) + ", got " +
                     std::to_string(ti.ne[0]));
    }
    const auto nb = dtype_bytes(ti.dtype, numel);
    if (!nb) {
      c.fail(at, where + "its size in bytes overflows (" + std::to_string(numel) + " elements)");
    }
    ti.nbytes = *nb;
    if (ti.offset % f->alignment_ != 0) {
      c.fail(at, where + "data offset " + std::to_string(ti.offset) + " is not a multiple of " +
                     "the alignment " + std::to_string(f->alignment_));
    }
    f->tensor_index_.emplace(ti.name, f->tensors_.size());
    f->tensors_.push_back(std::move(ti));
  }

  const uint64_t a = f->alignment_;
  f->data_offset_ = (c.pos() + a - 1) / a * a;
  const uint64_t size = f->map_->size();
  for (const GgufTensorInfo& ti : f->tensors_) {
    if (ti.offset > size || ti.nbytes > size - ti.offset ||
        f->data_offset_ > size - ti.offset - ti.nbytes) {
      throw ModelError(f->path_.string() + ": tensor '" + ti.name + "': data at bytes " +
                       std::to_string(f->data_offset_ + ti.offset) + ".." +
                       std::to_string(f->data_offset_ + ti.offset + ti.nbytes) +
                       " runs past the end of the file (" + std::to_string(size) +
                       " bytes); the file is truncated");
    }
  }
  return f;
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

namespace {
[[noreturn]] void wrong_type(const std::filesystem::path& p, std::string_view key,
                             const GgufValue& v, const char* want) {
  throw ModelError(p.string() + ": key '" + std::string(key) + "' is " + gguf_type_name(v.type()) +
                   ", expected " + want);
}
}  // namespace

std::optional<int64_t> GgufFile::get_int(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return std::nullopt;
  auto i = v->as_int();
  if (!i) wrong_type(path_, key, *v, "an integer");
  return i;
}

std::optional<double> GgufFile::get_float(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return std::nullopt;
  auto x = v->as_float();
  if (!x) wrong_type(path_, key, *v, "a number");
  return x;
}

std::optional<std::string> GgufFile::get_string(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (v->as_string() == nullptr) wrong_type(path_, key, *v, "a string");
  return *v->as_string();
}

std::optional<bool> GgufFile::get_bool(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (const bool* b = std::get_if<bool>(&v->v)) return *b;
  auto i = v->as_int();
  if (!i) wrong_type(path_, key, *v, "a bool");
  return *i != 0;
}

const GgufArray* GgufFile::get_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (v == nullptr) return nullptr;
  if (v->as_array() == nullptr) wrong_type(path_, key, *v, "an array");
  return v->as_array();
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const void* GgufFile::tensor_data(const GgufTensorInfo& ti) const {
  return map_->data() + data_offset_ + ti.offset;
}

}  // namespace bricks::model
