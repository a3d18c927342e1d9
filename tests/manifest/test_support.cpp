#include "test_support.h"

#include <atomic>
#include <fstream>

#include "scratch_dir.h"

namespace bricks::manifest::test_support {

std::filesystem::path write_temp_file(const std::string& name, const std::string& text) {
  static std::atomic<int> counter{0};
  const std::filesystem::path dir =
      bricks::testing::scratch_dir("bricks-manifest-test") / std::to_string(counter++);
  std::filesystem::create_directories(dir);
  const std::filesystem::path file = dir / name;
  std::ofstream(file, std::ios::binary) << text;
  return file;
}

std::vector<std::string> check_text(const std::string& text, const std::string& name) {
  std::vector<Diagnostic> diags;
  const std::filesystem::path file = write_temp_file(name, text);
  if (auto m = load_manifest(file, diags)) validate_manifest(*m, test_catalogue(), diags);
  sort_diagnostics(diags);
  std::vector<std::string> out;
  const std::string prefix = file.parent_path().string() + "/";
  for (const Diagnostic& d : diags) {
    std::string line = d.format();
    for (size_t at = line.find(prefix); at != std::string::npos; at = line.find(prefix, at)) {
      line.erase(at, prefix.size());
    }
    out.push_back(line);
  }
  return out;
}

}  // namespace bricks::manifest::test_support
