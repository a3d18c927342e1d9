// GGUF (versions 2 and 3, little-endian): reading a mapped file and writing a new one.
//
// Layout: "GGUF", u32 version, u64 tensor count, u64 metadata count; metadata as
// (string key, u32 type, value); tensor infos as (string name, u32 n_dims, u64 ne[n_dims],
// u32 ggml type, u64 offset); then, aligned to `general.alignment` (default 32), the tensor
// data, each tensor at its offset from the data start. Strings are u64 length + bytes.
//
// Thread safety: a GgufFile is immutable after open and may be read from any thread.
// A GgufWriter is not thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "bricks/model/dtype.h"
#include "bricks/model/model_error.h"

namespace bricks::model {

// GGUF metadata value types; the numbers are the file's type ids.
enum class GgufType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};
const char* gguf_type_name(GgufType);

struct GgufValue;
// An array value: every item has type `elem` (arrays of arrays are allowed).
struct GgufArray {
  GgufType elem = GgufType::U8;
  std::vector<GgufValue> items;
};

// One metadata value. The variant's index equals the GgufType id of the value it holds.
struct GgufValue {
  using Storage = std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float,
                               bool, std::string, GgufArray, uint64_t, int64_t, double>;
  Storage v;

  GgufType type() const { return static_cast<GgufType>(v.index()); }
  // Integer of any integer type (bool counts as 0/1); nullopt for others or if out of range.
  std::optional<int64_t> as_int() const;
  // Any integer or floating type as double; nullopt otherwise.
  std::optional<double> as_float() const;
  const std::string* as_string() const { return std::get_if<std::string>(&v); }
  const GgufArray* as_array() const { return std::get_if<GgufArray>(&v); }

  // Convenience makers for writers.
  static GgufValue str(std::string s) { return {Storage{std::in_place_type<std::string>, std::move(s)}}; }
  static GgufValue u32(uint32_t x) { return {Storage{std::in_place_type<uint32_t>, x}}; }
  static GgufValue i32(int32_t x) { return {Storage{std::in_place_type<int32_t>, x}}; }
  static GgufValue f32(float x) { return {Storage{std::in_place_type<float>, x}}; }
  static GgufValue boolean(bool x) { return {Storage{std::in_place_type<bool>, x}}; }
  static GgufValue array(GgufType elem, std::vector<GgufValue> items) {
    return {Storage{std::in_place_type<GgufArray>, GgufArray{elem, std::move(items)}}};
  }
  bool operator==(const GgufValue&) const;
};
bool operator==(const GgufArray& a, const GgufArray& b);

// One tensor of a GGUF file: its ggml type id and shape as stored, and where its bytes lie.
struct GgufTensorInfo {
  std::string name;
  uint32_t ggml_type = 0;
  std::vector<int64_t> ne;  // ne[0] innermost (contiguous)
  uint64_t offset = 0;      // from the data section start
  uint64_t nbytes = 0;
  DType dtype = DType::F32;
};

class MappedFile;

// A GGUF file mapped read-only. open() validates the whole header and that every tensor's
// bytes lie inside the file; it throws ModelError naming the file, the byte offset or the
// key/tensor, and what is wrong.
class GgufFile {
 public:
  static std::unique_ptr<GgufFile> open(const std::filesystem::path& path);
  ~GgufFile();

  const std::filesystem::path& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }

  // Metadata in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
  const GgufValue* find(std::string_view key) const;
  // Typed lookups: nullopt when the key is absent; ModelError when present with a type that
  // does not convert (e.g. a string where an integer is expected).
  std::optional<int64_t> get_int(std::string_view key) const;
  std::optional<double> get_float(std::string_view key) const;
  std::optional<std::string> get_string(std::string_view key) const;
  std::optional<bool> get_bool(std::string_view key) const;
  const GgufArray* get_array(std::string_view key) const;  // nullptr when absent

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;
  // The mapped bytes of a tensor (valid while this object lives).
  const void* tensor_data(const GgufTensorInfo&) const;

 private:
  GgufFile() = default;
  std::filesystem::path path_;
  std::unique_ptr<MappedFile> map_;
  uint32_t version_ = 0, alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::map<std::string, size_t, std::less<>> kv_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

// Writes a GGUF v3 file: metadata and tensor declarations first, then the data streamed
// tensor by tensor, so a file larger than memory can be written.
class GgufWriter {
 public:
  // Receives the bytes of one tensor; called one or more times per tensor.
  using Sink = std::function<void(const void* data, size_t nbytes)>;
  // Produces tensor `index` (declaration order) by calling `sink` with exactly its bytes.
  using Producer = std::function<void(size_t index, const Sink& sink)>;

  explicit GgufWriter(uint32_t alignment = 32);

  // Sets a metadata key (replacing an earlier value, keeping its position).
  void set(const std::string& key, GgufValue value);
  // Declares a tensor of `dtype` with shape `ne` (ne[0] innermost).
  void add_tensor(const std::string& name, DType dtype, std::vector<int64_t> ne);
  // Declares a tensor with any ggml type id and byte size (to craft unusual files).
  void add_tensor_raw(const std::string& name, uint32_t ggml_type, std::vector<int64_t> ne,
                      uint64_t nbytes);

  // The header, metadata and tensor infos, padded to the alignment (the data starts right after).
  std::vector<unsigned char> header() const;
  // Writes the whole file; throws ModelError if the file cannot be written or a producer
  // gives a tensor the wrong number of bytes.
  void write(const std::filesystem::path& path, const Producer& produce) const;
  // As write, under a temporary name beside `path` (path + ".partial") that is then renamed
  // over `path`, so an interrupted write never leaves a file that looks complete. The
  // temporary file is removed on any failure.
  void write_atomically(const std::filesystem::path& path, const Producer& produce) const;

 private:
  struct Decl {
    std::string name;
    uint32_t ggml_type;
    std::vector<int64_t> ne;
    uint64_t nbytes;
  };
  uint32_t alignment_;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<Decl> tensors_;
};

}  // namespace bricks::model
