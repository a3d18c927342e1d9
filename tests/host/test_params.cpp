// Param validation against a brick's declared specs; no plugin is loaded here.
#include "host/params.h"

#include <gtest/gtest.h>

#include <cstring>

#include "host/host_error.h"

namespace bricks::host {
namespace {

BrickInfo brick() {
  BrickInfo b;
  b.kind = BRICKS_KIND_SCHEDULER;
  b.name = "sarathi";
  b.params = {
      {"max_num_seqs", BRICKS_PARAM_INT, "Seqs.", true, 128, 0, "", 1, 1024},
      {"ratio", BRICKS_PARAM_FLOAT, "Ratio.", true, 0, 0.5, "", 0, 0, 0.0, 1.0},
      {"chunked", BRICKS_PARAM_BOOL, "Chunk.", true, 1, 0, "", 0, 1},
      {"policy",
       BRICKS_PARAM_ENUM,
       "Policy.",
       true,
       0,
       0,
       "fcfs",
       0,
       0,
       0,
       0,
       {"fcfs", "priority"}},
      {"tag", BRICKS_PARAM_STRING, "Tag.", true, 0, 0, "t"},
      {"seed", BRICKS_PARAM_INT, "Seed.", false, 0, 0, "", 0, 100},
  };
  return b;
}

std::string only_problem(const ParamMap& params) {
  std::vector<std::string> problems = param_problems(brick(), params);
  EXPECT_EQ(problems.size(), 1u);
  return problems.empty() ? "" : problems[0];
}

TEST(Params, ValidParamsHaveNoProblems) {
  EXPECT_TRUE(param_problems(brick(), {{"seed", int_value(3)}}).empty());
}

TEST(Params, UnknownNameSuggestsTheClosest) {
  EXPECT_EQ(only_problem({{"seed", int_value(3)}, {"max_num_seq", int_value(3)}}),
            "scheduler 'sarathi': unknown param 'max_num_seq' (did you mean 'max_num_seqs'?); "
            "its params are 'max_num_seqs', 'ratio', 'chunked', 'policy', 'tag', 'seed'");
}

TEST(Params, MissingRequiredIsNamed) {
  std::string p = only_problem({});
  EXPECT_EQ(p,
            "scheduler 'sarathi': param 'seed' (int) is required: set it in the manifest (Seed.)");
}

TEST(Params, WrongTypeIsNamed) {
  EXPECT_EQ(only_problem({{"seed", int_value(1)}, {"chunked", string_value("yes")}}),
            "scheduler 'sarathi': param 'chunked': expects a bool but got a string");
  EXPECT_EQ(only_problem({{"seed", float_value(1.5)}}),
            "scheduler 'sarathi': param 'seed': expects an int but got a float");
}

TEST(Params, OutOfRangeShowsTheRange) {
  EXPECT_EQ(only_problem({{"seed", int_value(1)}, {"max_num_seqs", int_value(0)}}),
            "scheduler 'sarathi': param 'max_num_seqs': value 0 is out of range [1, 1024]");
  EXPECT_EQ(only_problem({{"seed", int_value(1)}, {"ratio", float_value(1.5)}}),
            "scheduler 'sarathi': param 'ratio': value 1.5 is out of range [0, 1]");
}

TEST(Params, ChoiceNotAmongChoicesSuggestsOne) {
  EXPECT_EQ(only_problem({{"seed", int_value(1)}, {"policy", enum_value("priorty")}}),
            "scheduler 'sarathi': param 'policy': 'priorty' is not one of 'fcfs', 'priority' "
            "(did you mean 'priority'?)");
}

TEST(Params, EveryProblemIsReportedNotJustTheFirst) {
  auto problems = param_problems(
      brick(), {{"bogus", int_value(1)}, {"ratio", float_value(-1)}, {"tag", int_value(2)}});
  EXPECT_EQ(problems.size(), 4u);  // unknown, ratio range, tag type, missing seed
}

TEST(Params, ResolveFillsDefaultsInDeclarationOrderAndWidensIntToFloat) {
  ResolvedParams r;
  resolve_params(
      brick(),
      {{"seed", int_value(7)}, {"ratio", int_value(1)}, {"policy", string_value("priority")}}, r);
  ASSERT_EQ(r.size(), 6);
  const bricks_param_value* v = r.data();
  EXPECT_STREQ(v[0].name, "max_num_seqs");
  EXPECT_EQ(v[0].value.i, 128);
  EXPECT_EQ(v[1].type, BRICKS_PARAM_FLOAT);
  EXPECT_DOUBLE_EQ(v[1].value.f, 1.0);
  EXPECT_EQ(v[2].value.i, 1);
  EXPECT_EQ(v[3].type, BRICKS_PARAM_ENUM);
  EXPECT_STREQ(v[3].value.s, "priority");
  EXPECT_STREQ(v[4].value.s, "t");
  EXPECT_EQ(v[5].value.i, 7);
  for (int i = 0; i < r.size(); ++i) EXPECT_NE(v[i].value.s, nullptr) << v[i].name;
}

TEST(Params, ResolveThrowsWithEveryProblem) {
  ResolvedParams r;
  try {
    resolve_params(brick(), {{"max_num_seq", int_value(1)}}, r);
    FAIL() << "expected BrickError";
  } catch (const BrickError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("unknown param 'max_num_seq'"), std::string::npos) << m;
    EXPECT_NE(m.find("param 'seed' (int) is required"), std::string::npos) << m;
  }
}

}  // namespace
}  // namespace bricks::host
