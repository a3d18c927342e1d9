// SHA-256 of plugin files, for the manifest's pins.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace bricks::host {

// Lowercase hex digest of the file's bytes. Throws BrickError naming the file if it cannot
// be read.
std::string sha256_file(const std::filesystem::path& file);
// Lowercase hex digest of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace bricks::host
