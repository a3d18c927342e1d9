// A whole file mapped read-only into memory (POSIX mmap). An empty file maps to no bytes.
// Thread safety: immutable after construction.
#pragma once

#include <cstddef>
#include <filesystem>

namespace bricks::model {

class MappedFile {
 public:
  // Throws ModelError naming the file when it cannot be opened or mapped.
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const unsigned char* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  const unsigned char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace bricks::model
