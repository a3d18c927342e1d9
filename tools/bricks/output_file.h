// Writing the CLI's output files (reports, plots) so that a reader, or a later run, never
// finds half a file: written beside the target under a temporary name, flushed to disk,
// then renamed over it. A signal during the write removes the temporary file.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace bricks::cli {

// Writes `text` to `path` atomically, creating its parent directories. Throws
// std::runtime_error naming the path and the system's reason when it cannot.
void write_file_atomically(const std::filesystem::path& path, std::string_view text);

// `j` indented, with any invalid UTF-8 in its strings replaced by U+FFFD (a report must be
// written whatever a name held), and a final newline.
std::string json_file_text(const nlohmann::json& j);

}  // namespace bricks::cli
