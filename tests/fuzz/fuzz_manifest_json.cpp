// Fuzzes manifests written in proto3 JSON (a .json file): the bytes are parsed and
// validated as `bricks validate` does (manifest_check.h).
#include "manifest_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bricks::fuzz::check_manifest(data, size, bricks::fuzz::ManifestFormat::kJson);
  return 0;
}
