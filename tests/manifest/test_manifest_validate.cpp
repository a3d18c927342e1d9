// Validation against the test catalogue (test_support.h): bricks, params, capabilities,
// device, model, paths, workload; and the conversions the engine uses.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "manifest/manifest.h"
#include "test_support.h"

namespace bricks::manifest {
namespace {

using test_support::check_text;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using test_support::kCore;  // line 1 the device, 2 the model, 3-5 the bricks

std::string with_params(const std::string& params) {
  return "bricks { kind: \"scheduler\" name: \"fcfs\" " + params +
         " }\n"
         "bricks { kind: \"kv\" name: \"paged\" }\n"
         "bricks { kind: \"attention\" name: \"reference\" }\n";
}

TEST(ValidateBricks, CoreManifestIsValid) { EXPECT_THAT(check_text(kCore), IsEmpty()); }

TEST(ValidateBricks, UnknownKindAndNameGetSuggestions) {
  EXPECT_THAT(check_text(kCore + "bricks { kind: \"pruner\" name: \"fastv\" }\n"),
              ElementsAre("m.textproto:6:10: error: unknown brick kind 'pruner'; did you mean "
                          "'pruning'?"));
  EXPECT_THAT(check_text(kCore + "bricks { kind: \"pruning\" name: \"fastvv\" }\n"),
              ElementsAre("m.textproto:6:26: error: unknown pruning brick 'fastvv'; did you "
                          "mean 'fastv'?"));
  EXPECT_THAT(check_text(kCore + "bricks { kind: \"pruning\" name: \"paged\" }\n"),
              ElementsAre(HasSubstr("'paged' is a kv brick; known pruning bricks: fastv")));
  EXPECT_THAT(check_text(kCore + "bricks { kind: \"schedular\" name: \"fcfs\" }\n"),
              ElementsAre(HasSubstr("did you mean 'scheduler'?")));
  EXPECT_THAT(check_text(kCore + "bricks { kind: \"router\" name: \"topk\" }\n"),
              ElementsAre(HasSubstr("no router bricks were found")));
  EXPECT_THAT(check_text(kCore + "bricks { name: \"fastv\" }\n"),
              ElementsAre(HasSubstr("6:1: error: brick has no kind; set kind to one of: "
                                    "scheduler, kv, attention, pruning, router, merger")));
}

TEST(ValidateBricks, ExactlyOneSchedulerKvAndAttention) {
  EXPECT_THAT(check_text("device { kind: \"cpu\" }\nmodel { builtin: \"tiny\" }\n"),
              ElementsAre(HasSubstr("no scheduler brick; add one scheduler brick: fcfs, sarathi"),
                          HasSubstr("no kv brick; add one kv brick: paged"),
                          HasSubstr("no attention brick; add one attention brick: reference, "
                                    "cpu_paged, naive")));
  EXPECT_THAT(check_text(kCore + "bricks { kind: \"scheduler\" name: \"sarathi\" }\n"),
              ElementsAre("m.textproto:6:1: error: a second scheduler brick (the first is at "
                          "line 3); keep exactly one scheduler brick"));
}

TEST(ValidateParams, UnknownParamGetsASuggestion) {
  EXPECT_THAT(check_text(with_params("params { key: \"max_num_seq\" value { int: 4 } }")),
              ElementsAre("m.textproto:1:50: error: unknown param 'max_num_seq' for scheduler "
                          "'fcfs'; did you mean 'max_num_seqs'?"));
  EXPECT_THAT(check_text(with_params("params { key: \"zzz\" value { int: 4 } }")),
              ElementsAre(HasSubstr("one of: max_num_seqs, max_num_batched_tokens, preemption")));
}

TEST(ValidateParams, TypesMustMatchTheDeclaration) {
  EXPECT_THAT(check_text(with_params("params { key: \"max_num_seqs\" value { string: \"8\" } }")),
              ElementsAre("m.textproto:1:78: error: param 'max_num_seqs' of scheduler 'fcfs' "
                          "takes an int, got a string; give an int in [1, 65536]"));
  EXPECT_THAT(check_text(with_params("params { key: \"max_num_seqs\" value { float: 8 } }")),
              ElementsAre(HasSubstr("takes an int, got a float")));
  EXPECT_THAT(check_text(with_params("params { key: \"preemption\" value { int: 1 } }")),
              ElementsAre(HasSubstr("takes a string, got an int; give one of: recompute, swap")));
  EXPECT_THAT(check_text(with_params("params { key: \"preemption\" value { } }")),
              ElementsAre(HasSubstr("takes a string, got no value")));
  // An int literal is fine for a float param; a bool needs a bool.
  const std::string pruner =
      "bricks { kind: \"pruning\" name: \"fastv\" params { key: \"layer\" value { int: 2 } } "
      "params { key: \"keep_ratio\" value { int: 1 } } }\n";
  EXPECT_THAT(check_text(kCore + pruner), IsEmpty());
  EXPECT_THAT(check_text(kCore + "bricks { kind: \"kv\" name: \"paged\" }\n"),
              ElementsAre(HasSubstr("a second kv brick")));
  EXPECT_THAT(
      check_text("bricks { kind: \"scheduler\" name: \"fcfs\" }\n"
                 "bricks { kind: \"kv\" name: \"paged\" params { key: \"enable_prefix_cache\" "
                 "value { int: 1 } } }\n"
                 "bricks { kind: \"attention\" name: \"reference\" }\n"),
      ElementsAre(HasSubstr("takes a bool, got an int; give a bool")));
}

TEST(ValidateParams, RangesAndChoices) {
  EXPECT_THAT(check_text(with_params("params { key: \"max_num_seqs\" value { int: 0 } }")),
              ElementsAre(HasSubstr("param 'max_num_seqs' of scheduler 'fcfs' is 0, out of "
                                    "range; allowed range is [1, 65536]")));
  EXPECT_THAT(check_text(with_params("params { key: \"max_num_seqs\" value { int: 65536 } }")),
              IsEmpty());
  EXPECT_THAT(check_text(with_params("params { key: \"preemption\" value { string: \"drop\" } }")),
              ElementsAre(HasSubstr("is 'drop', not one of its choices; one of: recompute, swap")));
  EXPECT_THAT(check_text(with_params("params { key: \"preemption\" value { string: \"swapp\" } }")),
              ElementsAre(HasSubstr("did you mean 'swap'?")));
  const std::string pruner =
      "bricks { kind: \"pruning\" name: \"fastv\" params { key: \"layer\" value { int: 2 } } "
      "params { key: \"keep_ratio\" value { float: 1.5 } } }\n";
  EXPECT_THAT(check_text(kCore + pruner),
              ElementsAre(HasSubstr("is 1.5, out of range; allowed range is [0, 1]")));
}

TEST(ValidateParams, RequiredParamMustBeSet) {
  EXPECT_THAT(check_text(kCore + "bricks { kind: \"pruning\" name: \"fastv\" }\n"),
              ElementsAre("m.textproto:6:1: error: pruning 'fastv' needs param 'layer', which is "
                          "not set; set 'layer' to an int in [0, 1024]"));
}

TEST(ValidateCapabilities, NamesTheBrickAndWhoCouldProvideIt) {
  const std::string core_naive =
      "bricks { kind: \"scheduler\" name: \"fcfs\" }\n"
      "bricks { kind: \"kv\" name: \"paged\" }\n"
      "bricks { kind: \"attention\" name: \"naive\" }\n";
  const std::string pruner =
      "bricks { kind: \"pruning\" name: \"fastv\" params { key: \"layer\" value { int: 2 } } }\n";
  EXPECT_THAT(check_text(core_naive + pruner),
              ElementsAre("m.textproto:4:26: error: pruning 'fastv' requires capability "
                          "'attention.scores', which no other brick in this manifest provides; "
                          "use a brick that provides it: attention 'reference', attention "
                          "'cpu_paged'"));
  EXPECT_THAT(check_text(kCore + pruner), IsEmpty());
  // An unidentified brick's capabilities are unknown: no second error about them.
  EXPECT_THAT(check_text("bricks { kind: \"scheduler\" name: \"fcfs\" }\n"
                         "bricks { kind: \"kv\" name: \"paged\" }\n"
                         "bricks { kind: \"attention\" name: \"refrence\" }\n" +
                         pruner),
              ElementsAre(HasSubstr("unknown attention brick 'refrence'")));
}

TEST(ValidateSections, DeviceSettings) {
  EXPECT_THAT(check_text("device { kind: \"gpu\" }\n" + kCore.substr(kCore.find('\n') + 1)),
              ElementsAre("m.textproto:1:10: error: device.kind 'gpu' is not supported; did "
                          "you mean 'cpu'?"));
  EXPECT_THAT(check_text("device { kind: \"cpu\" threads: -1 compute: \"bf61\" }\n" +
                         kCore.substr(kCore.find('\n') + 1)),
              ElementsAre(HasSubstr("device.threads is -1, below 0"),
                          HasSubstr("device.compute 'bf61' is not supported; did you mean "
                                    "'bf16'?")));
  EXPECT_THAT(check_text("device { kind: \"cpu\" weight_memory_bytes: -5 }\n" +
                         kCore.substr(kCore.find('\n') + 1)),
              ElementsAre(HasSubstr("device.weight_memory_bytes is -5, below 0; give 0 to keep "
                                    "all weights in memory")));
  const auto warned = check_text("device { kind: \"cpu\" gpu: \"a100-80gb\" }\n" +
                                 kCore.substr(kCore.find('\n') + 1));
  EXPECT_THAT(warned, ElementsAre(HasSubstr("warning: device.gpu is ignored for a cpu device")));
}

// The cuda device: its own precisions, no disk tiers, an attention brick that runs there.
TEST(ValidateSections, CudaDeviceSettings) {
  const std::string rest = kCore.substr(kCore.find('\n') + 1);
  const std::string cuda_attention = rest.substr(0, rest.find("bricks { kind: \"attention\"")) +
                                     "bricks { kind: \"attention\" name: \"cuda_paged\" }\n";
  EXPECT_THAT(check_text("device { kind: \"cuda\" compute: \"bf16\" }\n" + cuda_attention),
              IsEmpty());
  EXPECT_THAT(check_text("device { kind: \"cuda\" }\n" + rest),
              ElementsAre(HasSubstr("5:28: error: attention 'reference' does not run on the cuda "
                                    "device (it does not provide device.cuda); use 'cuda_paged'")));
  EXPECT_THAT(check_text("device { kind: \"cuda\" compute: \"f32\" weight_memory_bytes: 1 "
                         "disk_kv_bytes: 1 host_kv_bytes: 1 cuda_device: -1 }\n" +
                         cuda_attention),
              ElementsAre(HasSubstr("device.compute 'f32' is not supported"),
                          HasSubstr("the cuda device keeps every weight in GPU memory"),
                          HasSubstr("the cuda device has no disk tier for KV"),
                          HasSubstr("device.cuda_device is -1, below 0")));
  EXPECT_THAT(check_text("device { kind: \"cpu\" cuda_device: 1 }\n" + rest),
              ElementsAre(HasSubstr("warning: device.cuda_device is ignored for a non-cuda "
                                    "device")));
}

// KV memory on the cpu device: at least one block of the builtin model at the kv brick's
// block size (tiny: 6 layers x 6 kv heads x 48 dims x 2 (K and V) x 4 bytes per token), and
// no more than the machine has (a warning: the manifest may be meant for a larger one).
TEST(ValidateSections, KvBytesHoldABlockAndFitTheMachine) {
  const std::string rest = kCore.substr(kCore.find('\n') + 1);
  EXPECT_THAT(check_text("device { kind: \"cpu\" kv_cache_bytes: 1000 }\n" + rest),
              ElementsAre(HasSubstr("1:22: error: device.kv_cache_bytes is 1000 bytes, less than "
                                    "one KV block of the tiny model (221184 bytes)")));
  EXPECT_THAT(check_text("device { kind: \"cpu\" kv_cache_bytes: 221184 }\n" + rest), IsEmpty());
  std::string bigger_blocks = rest;
  bigger_blocks.replace(bigger_blocks.find("name: \"paged\" }"), 16,
                        "name: \"paged\" params { key: \"block_size\" value { int: 32 } } }");
  EXPECT_THAT(check_text("device { kind: \"cpu\" kv_cache_bytes: 221184 }\n" + bigger_blocks),
              ElementsAre(HasSubstr("(442368 bytes)")));
  EXPECT_THAT(check_text("device { kind: \"cpu\" kv_cache_bytes: 9000000000000000000 }\n" + rest),
              ElementsAre(HasSubstr("warning: device.kv_cache_bytes is 9000000000000000000 bytes, "
                                    "more than this machine's memory")));
}

// The disk tier under the host tier: not negative, below a host tier, in an existing
// directory (relative to the manifest), at least one block; each one error with its fix.
TEST(ValidateSections, DiskKvTierNeedsAHostTierADirectoryAndABlock) {
  const std::string rest = kCore.substr(kCore.find('\n') + 1);
  const auto device = [&](const std::string& fields) {
    return check_text("device { kind: \"cpu\" " + fields + " }\n" + rest);
  };
  EXPECT_THAT(device("host_kv_bytes: 221184 disk_kv_bytes: -1"),
              ElementsAre(HasSubstr("error: device.disk_kv_bytes is -1, below 0; give 0 for no "
                                    "disk tier")));
  EXPECT_THAT(device("disk_kv_bytes: 442368 disk_dir: \".\""),
              ElementsAre(HasSubstr("error: device.disk_kv_bytes needs a host tier above it")));
  EXPECT_THAT(device("host_kv_bytes: 221184 disk_kv_bytes: 442368"),
              ElementsAre(HasSubstr("error: device.disk_kv_bytes needs device.disk_dir")));
  EXPECT_THAT(device("host_kv_bytes: 221184 disk_kv_bytes: 442368 disk_dir: \"no-such-dir\""),
              ElementsAre(AllOf(HasSubstr("no-such-dir' does not exist"),
                                HasSubstr("relative paths are relative to the manifest"))));
  EXPECT_THAT(device("host_kv_bytes: 221184 disk_kv_bytes: 1000 disk_dir: \".\""),
              ElementsAre(HasSubstr("error: device.disk_kv_bytes is 1000 bytes, less than one "
                                    "KV block of the tiny model (221184 bytes)")));
  EXPECT_THAT(device("host_kv_bytes: 1000 disk_kv_bytes: 442368 disk_dir: \".\""),
              ElementsAre(HasSubstr("error: device.host_kv_bytes is 1000 bytes, less than one "
                                    "KV block")));
  EXPECT_THAT(device("host_kv_bytes: 221184 disk_kv_bytes: 442368 disk_dir: \".\""), IsEmpty());
}

TEST(ValidateSections, ModelIsAPathOrABuiltin) {
  const std::string rest = kCore.substr(kCore.find("bricks"));
  const std::string dev = "device { kind: \"cpu\" }\n";
  EXPECT_THAT(check_text(dev + "model { builtin: \"tiny\" path: \"m.gguf\" }\n" + rest),
              ElementsAre(HasSubstr("sets both path and builtin"),
                          HasSubstr("model 'm.gguf' does not exist; paths are relative to the "
                                    "manifest's directory")));
  EXPECT_THAT(check_text(dev + "model { builtin: \"tiyn\" }\n" + rest),
              ElementsAre(HasSubstr("did you mean 'tiny'?")));
  // An existing file, relative to the manifest's directory.
  const auto model = test_support::write_temp_file("model.gguf", "GGUF");
  EXPECT_THAT(check_text(dev + "model { path: \"" + model.string() + "\" }\n" + rest), IsEmpty());
}

TEST(ValidateSections, ModelChatTemplateIsAFamilyName) {
  const std::string rest = kCore.substr(kCore.find("bricks"));
  const std::string dev = "device { kind: \"cpu\" }\n";
  for (const std::string name : {"chatml", "llama-2", "llama-3", "mistral", "zephyr", "gemma"}) {
    EXPECT_THAT(
        check_text(dev + "model { builtin: \"tiny\" chat_template: \"" + name + "\" }\n" + rest),
        IsEmpty())
        << name;
  }
  EXPECT_THAT(check_text(dev + "model { builtin: \"tiny\" chat_template: \"llama3\" }\n" + rest),
              ElementsAre("m.textproto:2:25: error: model.chat_template 'llama3' is not a chat "
                          "template; did you mean 'llama-3'? (the chat templates: chatml, "
                          "llama-2, llama-3, mistral, zephyr, gemma)"));
  EXPECT_THAT(check_text(dev + "model { builtin: \"tiny\" chat_template: \"vicuna\" }\n" + rest),
              ElementsAre("m.textproto:2:25: error: model.chat_template 'vicuna' is not a chat "
                          "template; the chat templates: chatml, llama-2, llama-3, mistral, "
                          "zephyr, gemma"));
  // JSON manifests name the field chatTemplate (or chat_template) and place the error alike.
  EXPECT_THAT(check_text("{\"device\": {\"kind\": \"cpu\"},\n"
                         " \"model\": {\"builtin\": \"tiny\", \"chatTemplate\": \"gemma3\"},\n"
                         " \"bricks\": [{\"kind\": \"scheduler\", \"name\": \"fcfs\"},\n"
                         "  {\"kind\": \"kv\", \"name\": \"paged\"},\n"
                         "  {\"kind\": \"attention\", \"name\": \"reference\"}]}\n",
                         "m.json"),
              ElementsAre(HasSubstr("m.json:2:31: error: model.chat_template 'gemma3' is not a "
                                    "chat template; did you mean 'gemma'?")));
}

TEST(ValidateSections, PluginPathsAndPins) {
  const std::string text =
      "plugin_paths: \"missing_dir\"\n"
      "pins { file: \"libfcfs.so\" sha256: \"ABC\" }\n" +
      kCore;
  EXPECT_THAT(check_text(text),
              ElementsAre("m.textproto:1:1: error: plugin directory 'missing_dir' does not "
                          "exist; paths are relative to the manifest's directory",
                          HasSubstr("2:27: error: pin sha256 'ABC' is not a SHA-256")));
}

// Pins fail closed: a pin the scan could not satisfy is an error at that pin.
TEST(ValidateSections, UnsatisfiedPinIsAnErrorAtThePin) {
  std::vector<Diagnostic> diags;
  const auto file =
      test_support::write_temp_file("m.textproto", "pins { file: \"libgone.so\" sha256: \"" +
                                                       std::string(64, 'a') + "\" }\n" + kCore);
  auto m = load_manifest(file, diags);
  ASSERT_TRUE(m.has_value());
  host::Catalogue cat = test_support::test_catalogue();
  cat.pin_problems.push_back({"libgone.so", "pin libgone.so matches no plugin file"});
  EXPECT_FALSE(validate_manifest(*m, cat, diags));
  ASSERT_EQ(diags.size(), 1u);
  EXPECT_EQ(diags[0].format(),
            file.string() + ":1:8: error: pin libgone.so matches no plugin file");
}

TEST(ValidateSections, WorkloadSanity) {
  const std::string text =
      kCore +
      "workload {\n"
      "  generator { num_requests: 0 rate: -1 prompt_len_min: 64 prompt_len_max: 32\n"
      "              output_len_min: 1 output_len_max: 1 shared_prefix_len: 100 }\n"
      "  sampling { top_p: 1.5 }\n"
      "}\n";
  EXPECT_THAT(
      check_text(text),
      ElementsAre(HasSubstr("7:15: error: workload.generator.num_requests is 0, below 1"),
                  HasSubstr("7:31: error: workload.generator.rate is -1, below 0"),
                  HasSubstr("7:59: error: workload.generator.prompt_len_max 32 is below "
                            "workload.generator.prompt_len_min 64"),
                  HasSubstr("8:51: error: the shared prefix is longer than the shortest "
                            "prompt"),
                  HasSubstr("9:14: error: workload.sampling.top_p is 1.5, outside [0, 1]")));
  EXPECT_THAT(check_text(kCore + "workload { trace: \"t.jsonl\" generator { num_requests: 1 "
                                 "prompt_len_min: 1 prompt_len_max: 1 output_len_min: 1 "
                                 "output_len_max: 1 } }\n"),
              ElementsAre(HasSubstr("trace 't.jsonl' does not exist"),
                          HasSubstr("sets both a trace and a generator")));
}

TEST(ValidateManifest, ReturnValueSaysWhetherThereWereErrors) {
  std::vector<Diagnostic> diags;
  auto m = load_manifest(test_support::write_temp_file("m.textproto", kCore), diags);
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(validate_manifest(*m, test_support::test_catalogue(), diags));
  m->proto.mutable_device()->set_gpu("a100-80gb");  // a warning only, with no place
  EXPECT_TRUE(validate_manifest(*m, test_support::test_catalogue(), diags));
  m->proto.mutable_device()->set_kind("tpu");
  EXPECT_FALSE(validate_manifest(*m, test_support::test_catalogue(), diags));
}

TEST(ToParamMap, TypesValuesAsTheBrickDeclaresThem) {
  const host::Catalogue cat = test_support::test_catalogue();
  Brick b;
  (*b.mutable_params())["keep_ratio"].set_int_(1);
  (*b.mutable_params())["layer"].set_int_(3);
  (*b.mutable_params())["scoring"].set_string("max");
  (*b.mutable_params())["extra"].set_bool_(true);
  const host::ParamMap p = to_param_map(b, *cat.find(BRICKS_KIND_PRUNING, "fastv"));
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p.at("keep_ratio").type, BRICKS_PARAM_FLOAT);
  EXPECT_DOUBLE_EQ(p.at("keep_ratio").f, 1.0);
  EXPECT_EQ(p.at("layer").type, BRICKS_PARAM_INT);
  EXPECT_EQ(p.at("layer").i, 3);
  EXPECT_EQ(p.at("scoring").type, BRICKS_PARAM_STRING);
  EXPECT_EQ(p.at("scoring").s, "max");
  EXPECT_EQ(p.at("extra").type, BRICKS_PARAM_BOOL);  // undeclared: kept as written

  Brick s;
  (*s.mutable_params())["preemption"].set_string("swap");
  const host::ParamMap q = to_param_map(s, *cat.find(BRICKS_KIND_SCHEDULER, "fcfs"));
  EXPECT_EQ(q.at("preemption").type, BRICKS_PARAM_ENUM);
}

TEST(ManifestPaths, PluginPathsAreResolvedAgainstTheManifest) {
  std::vector<Diagnostic> diags;
  const auto file = test_support::write_temp_file("m.textproto",
                                                  "plugin_paths: \"plug\"\nplugin_paths: \"/abs\"\n"
                                                  "pins { file: \"a.so\" sha256: \"00\" }\n"
                                                  "pins { file: \"plug/b.so\" sha256: \"11\" }\n");
  auto m = load_manifest(file, diags);
  ASSERT_TRUE(m.has_value());
  const auto paths = manifest_plugin_paths(*m);
  ASSERT_EQ(paths.size(), 2u);
  EXPECT_EQ(paths[0], std::filesystem::absolute(file.parent_path() / "plug").lexically_normal());
  EXPECT_EQ(paths[1], "/abs");
  EXPECT_EQ(manifest_pins(*m).at("a.so"), "00");
  // A pin by path is resolved like plugin_paths; a bare file name stays as written.
  EXPECT_EQ(manifest_pins(*m).at((paths[0] / "b.so").string()), "11");
}

}  // namespace
}  // namespace bricks::manifest
