// Fuzzes manifests written in protobuf text format (a .textproto file): the bytes are parsed and
// validated as `bricks validate` does (manifest_check.h).
#include "manifest_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bricks::fuzz::check_manifest(data, size, bricks::fuzz::ManifestFormat::kText);
  return 0;
}
