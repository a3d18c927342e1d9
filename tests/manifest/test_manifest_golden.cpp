// Golden tests: every manifest in tests/manifest/golden/ (.textproto, .json) is loaded and
// validated against the hand-built test catalogue, and its diagnostics, one formatted line
// each, must equal the .expected file next to it (an empty file for a valid manifest).
// Paths are printed relative to the golden directory so the files do not depend on where
// the source tree lives.
//
// To regenerate the .expected files after an intended change of messages, run the suite
// with BRICKS_UPDATE_GOLDEN=1 and review the diff:
//   BRICKS_UPDATE_GOLDEN=1 ./build/bin/test_manifest --gtest_filter='Manifests/Golden.*'
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "manifest/manifest.h"
#include "test_support.h"

namespace bricks::manifest {
namespace {

namespace fs = std::filesystem;

const fs::path kGoldenDir = fs::path(BRICKS_SOURCE_DIR) / "tests" / "manifest" / "golden";

std::vector<std::string> golden_manifests() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(kGoldenDir)) {
    const std::string ext = entry.path().extension().string();
    if (ext == ".textproto" || ext == ".json") names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The diagnostics for one manifest as `bricks validate` prints them, one per line.
std::string diagnose(const fs::path& file) {
  std::vector<Diagnostic> diags;
  if (auto m = load_manifest(file, diags)) {
    validate_manifest(*m, test_support::test_catalogue(), diags);
  }
  sort_diagnostics(diags);
  std::string out;
  for (const Diagnostic& d : diags) out += d.format() + "\n";
  const std::string prefix = kGoldenDir.string() + "/";
  for (size_t at = out.find(prefix); at != std::string::npos; at = out.find(prefix, at)) {
    out.erase(at, prefix.size());
  }
  return out;
}

class Golden : public ::testing::TestWithParam<std::string> {};

TEST_P(Golden, DiagnosticsMatchExpected) {
  const fs::path manifest = kGoldenDir / GetParam();
  fs::path expected_file = manifest;
  expected_file.replace_extension(".expected");
  const std::string actual = diagnose(manifest);
  const char* update = std::getenv("BRICKS_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(expected_file, std::ios::binary) << actual;
    GTEST_SKIP() << "wrote " << expected_file;
  }
  ASSERT_TRUE(fs::exists(expected_file))
      << expected_file << " is missing; run with BRICKS_UPDATE_GOLDEN=1 to write it";
  EXPECT_EQ(read_file(expected_file), actual) << "for " << manifest;
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Manifests, Golden, ::testing::ValuesIn(golden_manifests()), test_name);

// The cases the golden set must keep covering, by the number of errors each one has.
TEST(GoldenSet, CoversTheAgreedCases) {
  const std::vector<std::pair<std::string, int>> cases = {
      {"five_mistakes.textproto", 5},      {"syntax_error.textproto", 1},
      {"unknown_field.textproto", 3},      {"json_manifest.json", 3},
      {"capability_missing.textproto", 1}, {"valid.textproto", 0}};
  for (const auto& [name, errors] : cases) {
    std::vector<Diagnostic> diags;
    if (auto m = load_manifest(kGoldenDir / name, diags)) {
      validate_manifest(*m, test_support::test_catalogue(), diags);
    }
    EXPECT_EQ(count_errors(diags), errors) << name;
    for (const Diagnostic& d : diags) {
      EXPECT_GT(d.line, 0) << name << ": " << d.format();
      EXPECT_FALSE(d.fix.empty()) << name << ": " << d.format();
    }
  }
}

}  // namespace
}  // namespace bricks::manifest
