// JSONL traces without a tokenizer (sim): lengths only, conversations and prefix groups
// share tokens, text prompts are refused with the fix.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "workload/workload.h"
#include "workload_support.h"

namespace bricks::engine {
namespace {

TEST(Trace, LengthOnlyLinesWithConversationsAndPrefixGroups) {
  const auto p =
      write("bricks-trace-ok.jsonl",
            "{\"arrival_s\": 0, \"prompt_len\": 10, \"max_tokens\": 3, "
            "\"conversation\": 5, \"turn\": 0, \"tenant\": 2, \"priority\": 1}\n"
            "\n"
            "{\"arrival_s\": 1, \"prompt_len\": 20, \"output_len\": 4, "
            "\"conversation\": 5, \"turn\": 1}\n"
            "{\"arrival_s\": 2, \"prompt_len\": 12, \"prefix_group\": 9, \"prefix_len\": 8}\n"
            "{\"arrival_s\": 3, \"prompt_len\": 30, \"prefix_group\": 9, \"prefix_len\": 8}\n");
  const auto rs = read_trace(p, trace_ctx(), 1);
  ASSERT_EQ(rs.size(), 4u);
  EXPECT_EQ(rs[0].tenant, 2);
  EXPECT_EQ(rs[0].priority, 1);
  EXPECT_EQ(rs[0].max_new_tokens, 3);
  EXPECT_EQ(rs[1].max_new_tokens, 4);
  EXPECT_EQ(rs[1].turn, 1);
  ASSERT_EQ(rs[1].prompt.size(), 20u);
  EXPECT_TRUE(std::equal(rs[0].prompt.begin(), rs[0].prompt.end(), rs[1].prompt.begin()));
  ASSERT_EQ(rs[3].prompt.size(), 30u);
  EXPECT_TRUE(std::equal(rs[2].prompt.begin(), rs[2].prompt.begin() + 8, rs[3].prompt.begin()));
  for (const auto& r : rs) {
    for (int32_t t : r.prompt) {
      ASSERT_GE(t, 259);
      ASSERT_LT(t, 1000);
    }
  }
}

TEST(Trace, TextPromptWithoutTokenizerSaysUsePromptLen) {
  const auto p = write("bricks-trace-text.jsonl", "{\"prompt_len\": 3}\n{\"prompt\": \"hi\"}\n");
  try {
    read_trace(p, trace_ctx(), 1);
    FAIL() << "no error";
  } catch (const WorkloadError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("bricks-trace-text.jsonl:2"), std::string::npos) << msg;
    EXPECT_NE(msg.find("prompt_len"), std::string::npos) << msg;
  }
}

// 1e999 is valid JSON that nlohmann cannot hold in a double; lengths past 2^20 tokens, and
// numbers past their field's type, are refused before anything is drawn (the fuzz target of
// traces found each of these).
TEST(Trace, BadValuesNameTheLine) {
  for (const std::string bad :
       {"{\"prompt_len\": 0}", "{\"prompt_len\": 4, \"max_tokens\": 0}",
        "{\"prompt_len\": 4, \"arrival_s\": -1}", "{\"max_tokens\": 4}", "{\"prompt_len\": \"x\"}",
        "[1]", "{\"prompt_len\": 1e999}", "{\"prompt_len\": 14444444444444}",
        "{\"prompt_len\": 1048577}",
        "{\"prompt_len\": 8, \"prefix_group\": 1, \"prefix_len\": 2e9}",
        "{\"prompt_len\": 4, \"conversation\": 1e300}", "{\"prompt_len\": 4, \"priority\": -1e10}",
        "{\"prompt_len\": 4, \"max_tokens\": 3e9}"}) {
    const auto p = write("bricks-trace-bad.jsonl", "{\"prompt_len\": 3}\n" + bad + "\n");
    try {
      read_trace(p, trace_ctx(), 1);
      ADD_FAILURE() << "no error for " << bad;
    } catch (const WorkloadError& e) {
      EXPECT_NE(std::string(e.what()).find("bricks-trace-bad.jsonl:2: "), std::string::npos)
          << e.what();
    }
  }
}

// Every value is checked within its type: 64-bit values are never cut to 32 bits, fractions
// and negatives are refused, unknown fields are named with the closest known one.
TEST(Trace, ValuesOutOfTheirTypeAreErrorsNeverCut) {
  const std::pair<std::string, std::string> cases[] = {
      {"{\"prompt_len\": 4294967306}", "\"prompt_len\" is 4294967306, out of range"},
      {"{\"prompt_len\": 2000000}", "\"prompt_len\" is 2000000, out of range"},
      {"{\"prompt_len\": 4, \"tenant\": 4294967296}", "\"tenant\" is 4294967296"},
      {"{\"prompt_len\": 4, \"max_tokens\": 99999999999}", "\"max_tokens\" is 99999999999"},
      {"{\"prompt_len\": 4, \"arrival_s\": 1e300}", "outside 0 to 30 days"},
      {"{\"prompt_len\": 4.5}", "not a whole number"},
      {"{\"prompt_len\": 4, \"conversation\": -3}", "\"conversation\" is -3, negative"},
      {"{\"prompt_len\": 4, \"arival_s\": 1}", "did you mean \"arrival_s\"?"},
      {"{\"prompt_len\": 4, \"prompt\": \"hi\"}", "both \"prompt\" and \"prompt_len\""},
      {"{\"prompt_len\": 4, \"prefix_len\": 8}", "longer than \"prompt_len\""},
  };
  for (const auto& [row, expect] : cases) {
    const auto p = write("bricks-trace-range.jsonl", "{\"prompt_len\": 3}\n" + row + "\n");
    try {
      read_trace(p, trace_ctx(), 1);
      ADD_FAILURE() << "no error for " << row;
    } catch (const WorkloadError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("bricks-trace-range.jsonl:2: "), std::string::npos) << msg;
      EXPECT_NE(msg.find(expect), std::string::npos) << row << "\n" << msg;
    }
  }
  // A whole number written as a float, and the largest 64-bit conversation id, are fine.
  const auto ok = write("bricks-trace-wide.jsonl",
                        "{\"prompt_len\": 4.0, \"conversation\": 18446744073709551615}\n");
  const auto rs = read_trace(ok, trace_ctx(), 1);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].conversation, 18446744073709551615ull);
}

// workload.trace_seed picks the token ids of length-only prompts: the same seed replays the
// same prompts, another gives other prompts of the same lengths.
TEST(Trace, TraceSeedPicksTheTokenIds) {
  const auto p = write("bricks-trace-seed.jsonl",
                       "{\"prompt_len\": 24}\n{\"arrival_s\": 1, \"prompt_len\": 40}\n");
  auto prompts = [&](uint64_t seed) {
    bricks::manifest::Workload w;
    w.set_trace(p.string());
    w.set_trace_seed(seed);
    std::vector<std::vector<int32_t>> out;
    for (const RequestSpec& r : make_workload(w, trace_ctx())) out.push_back(r.prompt);
    return out;
  };
  const auto a = prompts(0), b = prompts(5);
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].size(), b[i].size());
  EXPECT_NE(a, b);
  EXPECT_EQ(a, prompts(0));
  EXPECT_EQ(b, prompts(5));
}

}  // namespace
}  // namespace bricks::engine
