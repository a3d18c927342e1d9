// Loading: both formats, every field's place, unknown fields with suggestions, syntax
// errors with line and column, files that cannot be read.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "manifest/manifest.h"
#include "test_support.h"

namespace bricks::manifest {
namespace {

using test_support::write_temp_file;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::optional<LoadedManifest> load_text(const std::string& text, std::vector<Diagnostic>& diags,
                                        const std::string& name = "m.textproto") {
  return load_manifest(write_temp_file(name, text), diags);
}

TEST(LoadText, ParsesFieldsAndRecordsWhereEachWasWritten) {
  std::vector<Diagnostic> diags;
  auto m = load_text(
      "name: \"x\"\n"
      "device {\n"
      "  kind: \"cpu\"\n"
      "}\n"
      "bricks { kind: \"scheduler\" name: \"fcfs\"\n"
      "  params { key: \"max_num_seqs\" value { int: 8 } }\n"
      "  layers: 1 layers: 2 }\n",
      diags);
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(diags.empty());
  EXPECT_EQ(m->proto.device().kind(), "cpu");
  EXPECT_EQ(m->proto.bricks(0).params().at("max_num_seqs").int_(), 8);

  auto where = [&](const char* path) {
    Location l = m->locations.find(path);
    return std::to_string(l.line) + ":" + std::to_string(l.col);
  };
  EXPECT_EQ(where("name"), "1:1");
  EXPECT_EQ(where("device.kind"), "3:3");
  EXPECT_EQ(where("bricks[0].name"), "5:28");
  EXPECT_EQ(where("bricks[0].params[max_num_seqs].key"), "6:12");
  EXPECT_EQ(where("bricks[0].params[max_num_seqs].value.int"), "6:40");
  EXPECT_EQ(where("bricks[0].layers[1]"), "7:13");
  // Not written: falls back to the closest ancestor that was.
  EXPECT_EQ(where("device.threads"), "2:1");
  EXPECT_EQ(where("workload.trace"), "0:0");
  EXPECT_TRUE(m->locations.has("device.kind"));
  EXPECT_FALSE(m->locations.has("device.threads"));
}

TEST(LoadText, ReportsEveryUnknownFieldWithASuggestionAndGoesOn) {
  std::vector<Diagnostic> diags;
  auto m = load_text(
      "devise { kind: \"cpu\" }\n"
      "device { kindd: \"sim\" threads: 3 }\n"
      "bricks { kind: \"kv\" nmae: \"paged\" }\n",
      diags);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->proto.device().threads(), 3);
  ASSERT_EQ(diags.size(), 3u);
  EXPECT_EQ(
      diags[0].format(),
      diags[0].file + ":1:1: error: unknown field 'devise' in Manifest; did you mean 'device'?");
  EXPECT_EQ(diags[1].line, 2);
  EXPECT_EQ(diags[1].col, 10);
  EXPECT_THAT(diags[1].message, HasSubstr("'kindd' in Device"));
  EXPECT_EQ(diags[1].fix, "did you mean 'kind'?");
  EXPECT_EQ(diags[2].line, 3);
  EXPECT_EQ(diags[2].col, 21);
  EXPECT_EQ(diags[2].fix, "did you mean 'name'?");
}

TEST(LoadText, SyntaxErrorStopsTheParseWithLineColumnAndHint) {
  std::vector<Diagnostic> diags;
  auto m = load_text("name: \"x\"\ndevice {\n  kind \"cpu\"\n}\n", diags);
  EXPECT_FALSE(m.has_value());
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].line, 3);
  EXPECT_EQ(diags[0].col, 8);
  EXPECT_THAT(diags[0].message, HasSubstr("syntax error"));
  EXPECT_FALSE(diags[0].fix.empty());
}

TEST(LoadText, ValueOfTheWrongTypeIsASyntaxError) {
  std::vector<Diagnostic> diags;
  EXPECT_FALSE(load_text("device { threads: \"two\" }\n", diags).has_value());
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].line, 1);
  EXPECT_THAT(diags[0].fix, HasSubstr("type"));
}

TEST(LoadText, UnreadableFileIsReportedNotThrown) {
  std::vector<Diagnostic> diags;
  EXPECT_FALSE(load_manifest("/nonexistent/dir/m.textproto", diags).has_value());
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].format(),
            "/nonexistent/dir/m.textproto: error: cannot read the manifest: no such file; "
            "check the path");
  diags.clear();
  const auto dir = write_temp_file("x", "").parent_path();
  EXPECT_FALSE(load_manifest(dir, diags).has_value());
  EXPECT_THAT(diags.at(0).message, HasSubstr("directory"));
}

TEST(LoadJson, AcceptsSchemaAndCamelCaseNamesAndRecordsPlaces) {
  std::vector<Diagnostic> diags;
  auto m = load_text(
      "{\n"
      "  \"plugin_paths\": [\"a\", \"b\"],\n"
      "  \"device\": {\"kind\": \"cpu\", \"kvCacheBytes\": \"1024\"},\n"
      "  \"bricks\": [{\"kind\": \"kv\", \"name\": \"paged\",\n"
      "              \"params\": {\"block_size\": {\"int\": 32}}}]\n"
      "}\n",
      diags, "m.json");
  ASSERT_TRUE(m.has_value()) << (diags.empty() ? "" : diags[0].format());
  EXPECT_TRUE(diags.empty());
  EXPECT_EQ(m->proto.device().kv_cache_bytes(), 1024);
  EXPECT_EQ(m->proto.bricks(0).params().at("block_size").int_(), 32);
  auto where = [&](const char* path) {
    Location l = m->locations.find(path);
    return std::to_string(l.line) + ":" + std::to_string(l.col);
  };
  EXPECT_EQ(where("plugin_paths[1]"), "2:25");
  EXPECT_EQ(where("device.kv_cache_bytes"), "3:29");
  EXPECT_EQ(where("bricks[0].name"), "4:29");
  EXPECT_EQ(where("bricks[0].params[block_size].key"), "5:26");
  EXPECT_EQ(where("bricks[0].params[block_size].value.int"), "5:41");
}

TEST(LoadJson, ReportsEveryUnknownFieldAndGoesOn) {
  std::vector<Diagnostic> diags;
  auto m = load_text(
      "{\"devise\": {\"kind\": \"cpu\"},\n \"model\": {\"bulitin\": \"tiny\"},\n"
      " \"name\": \"n\"}\n",
      diags, "m.json");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->proto.name(), "n");
  ASSERT_EQ(diags.size(), 2u);
  EXPECT_EQ(diags[0].line, 1);
  EXPECT_EQ(diags[0].col, 2);
  EXPECT_EQ(diags[0].fix, "did you mean 'device'?");
  EXPECT_EQ(diags[1].line, 2);
  EXPECT_EQ(diags[1].fix, "did you mean 'builtin'?");
}

TEST(LoadJson, SyntaxErrorHasLineAndColumn) {
  std::vector<Diagnostic> diags;
  EXPECT_FALSE(load_text("{\n  \"name\": \"x\"\n  \"device\": {}\n}\n", diags, "m.json"));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].line, 3);
  EXPECT_EQ(diags[0].col, 3);
  EXPECT_THAT(diags[0].message, HasSubstr("expected '}'"));
  diags.clear();
  EXPECT_FALSE(load_text("{\"name\": \"x", diags, "m.json"));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_THAT(diags[0].message, HasSubstr("not closed"));
}

TEST(LoadJson, ValueOfTheWrongTypeFailsTheLoad) {
  std::vector<Diagnostic> diags;
  EXPECT_FALSE(load_text("{\"device\": {\"threads\": \"two\"}}", diags, "m.json"));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].line, 1);
  EXPECT_EQ(diags[0].col, 13);
  EXPECT_THAT(diags[0].message, HasSubstr("invalid value for device.threads"));
  diags.clear();
  EXPECT_FALSE(load_text("{\"bricks\": [{\"params\": {\"a\": {},\n \"b\": {\"int\": \"x\"}}}]}",
                         diags, "m.json"));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].line, 2);  // at the param's entry: the parser names it by position
  EXPECT_EQ(diags[0].col, 2);
  EXPECT_THAT(diags[0].message, HasSubstr("bricks[0].params[1].value.int"));
}

TEST(Locations, ParentPath) {
  EXPECT_EQ(parent_path("a.b[2]"), "a.b");
  EXPECT_EQ(parent_path("a.b[x].value.int"), "a.b[x].value");
  EXPECT_EQ(parent_path("a.b"), "a");
  EXPECT_EQ(parent_path("a"), "");
}

TEST(Diagnostic, FormatLeavesOutWhatIsUnknown) {
  EXPECT_EQ((Diagnostic{"f", 3, 7, true, "bad", "fix it"}).format(), "f:3:7: error: bad; fix it");
  EXPECT_EQ((Diagnostic{"f", 0, 0, false, "meh", ""}).format(), "f: warning: meh");
  std::vector<Diagnostic> d = {
      {"f", 0, 0, true, "c", ""}, {"f", 9, 1, true, "b", ""}, {"f", 2, 5, true, "a", ""}};
  sort_diagnostics(d);
  EXPECT_THAT(std::vector<std::string>({d[0].message, d[1].message, d[2].message}),
              ElementsAre("a", "b", "c"));
  EXPECT_EQ(count_errors(d), 3);
}

}  // namespace
}  // namespace bricks::manifest
