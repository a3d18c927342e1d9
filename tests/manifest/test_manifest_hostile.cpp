// Hostile and careless manifests (tests/manifest/data/hostile/, and nesting generated here):
// each is one error at its place with a fix, never a crash, an exception or a hang.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "manifest/manifest.h"
#include "test_support.h"

namespace bricks::manifest {
namespace {

using test_support::check_text;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::filesystem::path kHostileDir =
    std::filesystem::path(BRICKS_SOURCE_DIR) / "tests" / "manifest" / "data" / "hostile";

// The diagnostics of the hostile manifest `name`, loaded and validated under its own name.
std::vector<std::string> check_file(const std::string& name) {
  std::ifstream in(kHostileDir / name, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return check_text(text.str(), name);
}

// `levels` nested objects of an unknown field: text format when `json` is false.
std::string deep_manifest(int levels, bool json) {
  std::string open, close;
  for (int i = 0; i < levels; ++i) {
    open += json ? "{\"a\": " : "a { ";
    close += json ? "}" : " }";
  }
  if (json) return "{\"name\": \"deep\",\n \"extra\": " + open + "1" + close + "}\n";
  return "name: \"deep\"\nextra { " + open + close + " }\n";
}

TEST(HostileNesting, DeepTextIsOneErrorAtTheFirstLevelPastTheLimit) {
  // Level 101 opens at column 7 + 4 * 100 of line 2 ("extra { " then "a { " per level).
  EXPECT_THAT(check_text(deep_manifest(15000, false), "deep.textproto"),
              ElementsAre("deep.textproto:2:407: error: syntax error: nesting deeper than 100 "
                          "levels; a manifest nests a few levels; look for a repeated or "
                          "unclosed bracket"));
}

TEST(HostileNesting, DeepJsonIsOneErrorAtTheFirstLevelPastTheLimit) {
  // The root is level 1; level 101 opens at column 11 + 6 * 99 of line 2.
  EXPECT_THAT(check_text(deep_manifest(50000, true), "deep.json"),
              ElementsAre(HasSubstr("deep.json:2:2: error: unknown field 'extra'"),
                          "deep.json:2:605: error: syntax error: nesting deeper than 100 "
                          "levels; a manifest nests a few levels; look for a repeated or "
                          "unclosed bracket"));
}

TEST(HostileNesting, BracketsInStringsAndCommentsDoNotCount) {
  const std::string brackets(300, '{');
  EXPECT_THAT(check_text("name: \"" + brackets + "\"  # " + brackets + "\n"),
              ElementsAre(HasSubstr("no scheduler brick"), HasSubstr("no kv brick"),
                          HasSubstr("no attention brick")));
}

TEST(HostileNumbers, NanAndInfinityAreErrorsAtTheirField) {
  EXPECT_THAT(check_file("nan_rate.textproto"),
              ElementsAre("nan_rate.textproto:6:40: error: workload.generator.rate is NaN, not "
                          "a finite number; give a finite number"));
  EXPECT_THAT(check_file("inf_duration.textproto"),
              ElementsAre("inf_duration.textproto:6:48: error: workload.generator.duration_s is "
                          "infinity, not a finite number; give a finite number"));
  EXPECT_THAT(check_file("nan_temperature.textproto"),
              ElementsAre("nan_temperature.textproto:7:14: error: workload.sampling.temperature "
                          "is NaN, not a finite number; give a finite number"));
  // One error, not also "negative" from the section's own range check.
  EXPECT_THAT(check_file("neg_inf_slo.textproto"),
              ElementsAre("neg_inf_slo.textproto:6:16: error: output.slo.ttft_s is -infinity, "
                          "not a finite number; give a finite number"));
  EXPECT_THAT(check_file("nan_string.json"),
              ElementsAre("nan_string.json:9:48: error: workload.generator.rate is NaN, not a "
                          "finite number; give a finite number"));
}

TEST(HostileNumbers, NanBrickParamIsAnErrorAtItsValue) {
  EXPECT_THAT(check_file("nan_param.textproto"),
              ElementsAre("nan_param.textproto:8:38: error: bricks[3].params[keep_ratio].value."
                          "float is NaN, not a finite number; give a finite number"));
}

TEST(HostileJsonValues, NumbersJsonDoesNotHaveAreSyntaxErrorsWithAPlace) {
  const std::string fix =
      "; numbers are decimal, as 12, 0.5 or 1e3 (no hex, NaN or Infinity); true, false and "
      "null are lower case";
  EXPECT_THAT(
      check_file("bare_nan.json"),
      ElementsAre("bare_nan.json:9:56: error: syntax error: 'nan' is not a JSON value" + fix));
  EXPECT_THAT(check_file("hex.json"),
              ElementsAre("hex.json:9:56: error: syntax error: '0x10' is not a JSON value" + fix));
  EXPECT_THAT(check_file("huge_number.json"),
              ElementsAre("huge_number.json:9:56: error: syntax error: 1e400 is out of range for "
                          "a number; give a value a double can hold (below 1.8e308)"));
  EXPECT_THAT(check_file("bad_escape.json"),
              ElementsAre(HasSubstr("bad_escape.json:9:93: error: syntax error: unknown escape "
                                    "'\\x' in a string")));
}

TEST(HostileJsonValues, EscapesDecodeToTheirCodePoints) {
  std::vector<Diagnostic> diags;
  auto m = load_manifest(test_support::write_temp_file(
                             "m.json", "{\"name\": \"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\/\"}"),
                         diags);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->proto.name(), "caf\xc3\xa9 \xf0\x9f\x98\x80 \"q\" /");
  EXPECT_THAT(check_text("{\"name\": \"\\ud83d x\"}", "m.json"),
              ElementsAre(HasSubstr("m.json:1:11: error: syntax error: a high surrogate \\u "
                                    "escape without its low half")));
}

TEST(HostileUtf8, InvalidUtf8IsAnErrorAtTheString) {
  const std::string fix = "; save the manifest as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)";
  EXPECT_THAT(check_file("bad_utf8.textproto"),
              ElementsAre("bad_utf8.textproto:6:1: error: name is not valid UTF-8 (byte 0xe9 at "
                          "offset 3)" +
                          fix));
  EXPECT_THAT(check_file("bad_utf8_key.textproto"),
              ElementsAre("bad_utf8_key.textproto:5:12: error: a key of bricks[1].params is not "
                          "valid UTF-8 (byte 0x80 at offset 3)" +
                          fix));
  EXPECT_THAT(
      check_file("bad_utf8.json"),
      ElementsAre("bad_utf8.json:9:84: error: syntax error: invalid UTF-8 in a string" + fix));
}

TEST(HostileDuplicates, SecondKeyIsAnErrorAtItsPlace) {
  EXPECT_THAT(check_file("duplicate_map_key.textproto"),
              ElementsAre("duplicate_map_key.textproto:6:3: error: duplicate key 'block_size' "
                          "(first given at 5:3); give each key once"));
  EXPECT_THAT(check_file("duplicate_map_key.json"),
              ElementsAre("duplicate_map_key.json:7:44: error: duplicate key 'block_size' (first "
                          "given at 7:17); give each key once"));
  EXPECT_THAT(check_file("duplicate_key.json"),
              ElementsAre("duplicate_key.json:9:59: error: duplicate key 'rate' (first given at "
                          "9:48); give each key once"));
  // The schema's name and its lowerCamelCase form are one field.
  EXPECT_THAT(check_file("duplicate_alias.json"),
              ElementsAre("duplicate_alias.json:9:99: error: duplicate key 'promptLenMax' "
                          "(field 'prompt_len_max', first given at 9:59); give each key once"));
}

TEST(HostileDuplicates, EveryRepeatedKeyIsReportedAndTheLoadFails) {
  std::vector<Diagnostic> diags;
  auto m = load_manifest(
      test_support::write_temp_file("m.json",
                                    "{\"name\": \"a\", \"name\": \"b\", \"x\": {\"k\": 1, "
                                    "\"k\": 2}}"),
      diags);
  EXPECT_FALSE(m.has_value());
  ASSERT_EQ(diags.size(), 3u);
  EXPECT_THAT(diags[0].message, HasSubstr("duplicate key 'name'"));
  EXPECT_THAT(diags[1].message, HasSubstr("unknown field 'x'"));
  EXPECT_THAT(diags[2].message, HasSubstr("duplicate key 'k'"));
}

using test_support::kCore;

std::string with_generator(const std::string& fields) {
  return kCore + "workload { generator { num_requests: 2 " + fields + " } }\n";
}

TEST(HostileRunOnly, AbsurdValuesThatOnlyFailedAtRunTimeFailValidation) {
  const std::string after_device = kCore.substr(kCore.find('\n') + 1);
  EXPECT_THAT(check_text("device { kind: \"cpu\" threads: 2147483647 }\n" + after_device),
              ElementsAre("m.textproto:1:22: error: device.threads is 2147483647, above 1024; "
                          "give at most the machine's cores, or 0 for all of them"));
  EXPECT_THAT(check_text(kCore + "workload { generator { num_requests: 2 prompt_len_min: 1 "
                                 "prompt_len_max: 4 output_len_min: 1 output_len_max: 2 }\n"
                                 "  sampling { temperature: 1e308 } }\n"),
              ElementsAre("m.textproto:7:14: error: workload.sampling.temperature is 1e+308, "
                          "above 100; give 0 for greedy, or a temperature such as 0.7"));
  EXPECT_THAT(check_text(kCore + "workload { sampling { temperature: 0.5 } }\n"),
              ElementsAre("m.textproto:6:1: error: the workload has neither a trace nor a "
                          "generator; give trace: \"requests.jsonl\" or generator { "
                          "num_requests: ... }"));
}

TEST(HostileRunOnly, LengthsPastABuiltinModelsContextFailValidation) {
  EXPECT_THAT(check_text(with_generator("prompt_len_min: 1 prompt_len_max: 2147483647 "
                                        "output_len_min: 1 output_len_max: 2")),
              ElementsAre("m.textproto:6:58: error: workload.generator.prompt_len_max "
                          "2147483647 is beyond the model's context of 512 tokens "
                          "(model.builtin 'tiny'); give at most 511"));
  EXPECT_THAT(check_text(with_generator("prompt_len { kind: \"fixed\" value: 500 } "
                                        "output_len { kind: \"fixed\" value: 20 }")),
              ElementsAre(HasSubstr("m.textproto:6:67: error: the shortest prompt (500) and "
                                    "output (20) exceed the model's context of 512 tokens")));
  // A model file's context is known only when it is opened: the run checks it.
  EXPECT_THAT(check_text("device { kind: \"cpu\" }\nmodel { path: \"m.textproto\" }\n" +
                         kCore.substr(kCore.find("bricks")) +
                         "workload { generator { num_requests: 2 prompt_len_min: 1 "
                         "prompt_len_max: 100000 output_len_min: 1 output_len_max: 2 } }\n"),
              ::testing::IsEmpty());
}

}  // namespace
}  // namespace bricks::manifest
