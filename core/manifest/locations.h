// Where each field of a parsed manifest was written, so semantic checks can point at it.
//
// A field is named by its path from the root message: `device.kind`, `bricks[1].name`
// (repeated fields by index), `bricks[0].params[max_num_seqs]` (map entries by key),
// `bricks[0].params[max_num_seqs].value.int`.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace google::protobuf {
class Message;
}

namespace bricks::manifest {

struct Location {
  int line = 0, col = 0;  // 1-based; 0 = unknown
};

class ManifestLocations {
 public:
  // Records where `path` was written; a later record of the same path wins (as a later
  // value of a map key wins).
  void add(std::string path, Location where);
  // The place of `path`, or of its closest recorded ancestor (`bricks[0].params[x]` falls
  // back to `bricks[0]`), or {0, 0} when none is known.
  Location find(std::string_view path) const;
  // Whether `path` itself was written in the file.
  bool has(std::string_view path) const;
  size_t size() const { return places_.size(); }

 private:
  std::map<std::string, Location, std::less<>> places_;
};

// The parent of a path: `a.b[2]` -> `a.b`, `a.b` -> `a`, `a` -> ``.
std::string_view parent_path(std::string_view path);

}  // namespace bricks::manifest
