#include "conform_plan.h"

#include <cctype>
#include <cstdlib>
#include <deque>
#include <set>

#include "attention_conformance.h"
#include "bricks/capabilities.h"
#include "host/did_you_mean.h"
#include "host/params.h"
#include "host/scanner.h"
#include "kv_fixture.h"

namespace fs = std::filesystem;

namespace bricks::conform {
namespace {

using testing::ParamSetting;

// A test-name suffix from a brick name: letters, digits and '_'.
std::string label_of(const std::string& name) {
  std::string out = name;
  for (char& c : out) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) c = '_';
  }
  return out.empty() ? "brick" : out;
}

// The strings ParamSettings point at; they live as long as the program.
const char* keep_string(const std::string& s) {
  static std::deque<std::string> strings;
  strings.push_back(s);
  return strings.back().c_str();
}

// `text` as a value of `param`'s type; throws UsageError naming the brick when it is not one.
host::ParamValue typed_value(const host::BrickInfo& brick, const host::ParamInfo& param,
                             const std::string& text) {
  const std::string what = host::brick_label(brick) + ": --param " + param.name + "=" + text;
  char* end = nullptr;
  switch (param.type) {
    case BRICKS_PARAM_INT: {
      const long long v = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0') throw UsageError{what + " is not an integer"};
      return host::int_value(v);
    }
    case BRICKS_PARAM_FLOAT: {
      const double v = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0') throw UsageError{what + " is not a number"};
      return host::float_value(v);
    }
    case BRICKS_PARAM_BOOL:
      if (text == "true" || text == "1") return host::bool_value(true);
      if (text == "false" || text == "0") return host::bool_value(false);
      throw UsageError{what + " is not true or false"};
    case BRICKS_PARAM_ENUM:
      return host::enum_value(text);
    default:
      return host::string_value(text);
  }
}

ParamSetting setting_of(const std::string& name, const host::ParamValue& v) {
  return {name, {v.i, v.f, keep_string(v.s)}};
}

// The int value `brick` gets for param `name`: the --param value, else its default; nothing
// when it declares no int param of that name.
bool int_param_value(const host::BrickInfo& brick, const host::ParamMap& given,
                     const std::string& name, int64_t* out) {
  const host::ParamInfo* p = brick.find_param(name);
  if (p == nullptr || p->type != BRICKS_PARAM_INT) return false;
  auto it = given.find(name);
  if (it != given.end()) {
    *out = it->second.i;
    return true;
  }
  if (!p->has_default) return false;
  *out = p->default_int;
  return true;
}

bool provides_all(const host::BrickInfo& kv, const host::BrickInfo& scheduler) {
  for (const std::string& cap : scheduler.requires_) {
    if (cap.rfind("device.", 0) == 0) continue;  // met by the device, not the kv brick
    bool found = false;
    for (const std::string& p : kv.provides) found = found || p == cap;
    if (!found) return false;
  }
  return true;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// The shipped bricks the suites pair others with, scanned once when first needed.
class Partners {
 public:
  explicit Partners(const host::LoadOptions& options) : options_(options) {}

  const host::Catalogue& catalogue() {
    if (!scanned_) {
      catalogue_ = host::scan_plugins(options_);
      scanned_ = true;
    }
    return catalogue_;
  }
  // The kv brick a scheduler is wired to: `paged` if it provides what the scheduler
  // requires, else the first kv brick that does.
  const host::BrickInfo& kv_for(const host::BrickInfo& scheduler) {
    const host::BrickInfo* paged = catalogue().find(BRICKS_KIND_KV, "paged");
    if (paged != nullptr && provides_all(*paged, scheduler)) return *paged;
    for (const host::BrickInfo* kv : catalogue().of_kind(BRICKS_KIND_KV)) {
      if (provides_all(*kv, scheduler)) return *kv;
    }
    throw UsageError{host::brick_label(scheduler) + " requires " + joined(scheduler.requires_) +
                     ", which no kv brick on the plugin path provides (searched: " + searched() +
                     "); the scheduler suite wires it to one"};
  }
  const host::BrickInfo& reference_attention() {
    const host::BrickInfo* ref = catalogue().find(BRICKS_KIND_ATTENTION, "reference");
    if (ref == nullptr) {
      throw UsageError{
          "the attention suite compares against the shipped attention brick "
          "'reference', which is on no plugin path (searched: " +
          searched() + "); set BRICKS_PLUGIN_PATH to the shipped plugins"};
    }
    return *ref;
  }

 private:
  std::string searched() const {
    std::vector<std::string> dirs;
    for (const fs::path& d : options_.search_path) dirs.push_back(d.string());
    return dirs.empty() ? "nothing" : joined(dirs);
  }

  host::LoadOptions options_;
  bool scanned_ = false;
  host::Catalogue catalogue_;
};

// The bricks of `catalogue` that --kind and --brick pick.
std::vector<host::BrickInfo> chosen_bricks(const host::Catalogue& catalogue,
                                           const ConformArgs& args, const fs::path& plugin) {
  std::vector<host::BrickInfo> out;
  std::vector<std::string> names, titles;
  for (const host::BrickInfo& b : catalogue.bricks) {
    titles.push_back(std::string(host::kind_name(b.kind)) + "/" + b.name);
    if (args.kind && b.kind != *args.kind) continue;
    names.push_back(b.name);
    if (!args.brick.empty() && b.name != args.brick) continue;
    out.push_back(b);
  }
  if (!out.empty()) return out;
  const std::string has = titles.empty() ? "no bricks" : "its bricks are " + joined(titles);
  if (!args.brick.empty() && args.kind) {
    throw UsageError{plugin.string() + " has no " + host::kind_name(*args.kind) + " brick '" +
                     args.brick + "'" + host::did_you_mean_suffix(args.brick, names) + "; " + has};
  }
  if (!args.brick.empty()) {
    throw UsageError{plugin.string() + " has no brick '" + args.brick + "'" +
                     host::did_you_mean_suffix(args.brick, names) + "; " + has};
  }
  if (args.kind) {
    throw UsageError{plugin.string() + " has no " + std::string(host::kind_name(*args.kind)) +
                     " brick; " + has};
  }
  throw UsageError{plugin.string() + " declares no bricks"};
}

// The --param values for `brick` (those of the params it declares), checked against its specs.
host::ParamMap params_for(const host::BrickInfo& brick, const ConformArgs& args) {
  host::ParamMap map;
  for (const auto& [name, text] : args.params) {
    if (const host::ParamInfo* p = brick.find_param(name)) map[name] = typed_value(brick, *p, text);
  }
  const std::vector<std::string> problems = host::param_problems(brick, map);
  if (!problems.empty()) throw UsageError{joined(problems)};
  return map;
}

// Every --param must name a param of some chosen brick.
void check_param_names(const std::vector<host::BrickInfo>& bricks, const ConformArgs& args) {
  std::vector<std::string> declared;
  for (const host::BrickInfo& b : bricks) {
    for (const host::ParamInfo& p : b.params) declared.push_back(p.name);
  }
  for (const auto& [name, text] : args.params) {
    bool known = false;
    for (const std::string& d : declared) known = known || d == name;
    if (!known) {
      throw UsageError{
          "--param " + name + "=" + text + ": no chosen brick has a param '" + name + "'" +
          host::did_you_mean_suffix(name, declared) +
          (declared.empty() ? "; they declare none" : "; they declare " + joined(declared))};
    }
  }
}

}  // namespace

ConformPlan make_plan(const ConformArgs& args, const host::LoadOptions& options) {
  ConformPlan plan;
  std::error_code ec;
  plan.plugin = fs::absolute(args.plugin, ec);
  if (!fs::exists(plan.plugin, ec)) throw UsageError{"no such plugin file: " + args.plugin};
  if (!fs::is_regular_file(plan.plugin, ec)) {
    throw UsageError{args.plugin + " is not a plugin file (a lib*.so shared library)"};
  }
  if (const std::string why = host::refusal_reason(plan.plugin, options); !why.empty()) {
    throw UsageError{"refused " + plan.plugin.string() + ": " + why};
  }
  const host::Catalogue own = host::scan_file_in_child(plan.plugin, options.scan_timeout_s);
  if (!own.broken.empty()) {
    throw UsageError{"cannot load " + plan.plugin.string() + ": " + own.broken.front().reason};
  }
  const std::vector<host::BrickInfo> bricks = chosen_bricks(own, args, plan.plugin);
  check_param_names(bricks, args);

  Partners partners(options);
  std::set<fs::path> partner_files;
  for (const host::BrickInfo& b : bricks) {
    const host::ParamMap given = params_for(b, args);
    BrickRun run;
    run.brick = b;
    run.title = std::string(host::kind_name(b.kind)) + "/" + b.name;
    std::vector<ParamSetting> settings;
    for (const auto& [name, value] : given) settings.push_back(setting_of(name, value));
    run.brick_case = {label_of(b.name), b.name, settings};
    if (b.kind == BRICKS_KIND_SCHEDULER) {
      const host::BrickInfo& kv = partners.kv_for(b);
      partner_files.insert(kv.file);
      int64_t seqs = kDefaultMaxNumSeqs, tokens = kDefaultMaxNumBatchedTokens;
      const bool own_seqs = int_param_value(b, given, "max_num_seqs", &seqs);
      bool own_tokens = int_param_value(b, given, "max_num_batched_tokens", &tokens);
      if (own_tokens && tokens <= 0) {  // 0: the brick sizes its budget itself
        tokens = kDefaultMaxNumBatchedTokens;
        own_tokens = false;
      }
      std::vector<ParamSetting> kv_params;
      if (kv.find_param("block_size") != nullptr)
        kv_params.push_back(testing::int_param("block_size", 4));
      run.scheduler_case = {
          run.brick_case.label,
          b.name,
          kv.name,
          settings,
          kv_params,
          testing::SimLimits{static_cast<int32_t>(seqs), static_cast<int32_t>(tokens)},
          24,
          /*must_preempt=*/false};
      run.setup = "wired to kv/" + kv.name + (kv_params.empty() ? "" : " (block_size 4)") +
                  "; plans checked against max_num_seqs " + std::to_string(seqs) +
                  (own_seqs ? " (its param)" : " (default)") + " and max_num_batched_tokens " +
                  std::to_string(tokens) + (own_tokens ? " (its param)" : " (default)");
    } else if (b.kind == BRICKS_KIND_ATTENTION) {
      partner_files.insert(partners.reference_attention().file);
      run.setup = "compared with attention/reference";
    } else if (b.kind == BRICKS_KIND_PRUNING) {
      int64_t layer = -1;
      const bool has_layer = int_param_value(b, given, "layer", &layer);
      run.pruning_case = {run.brick_case.label,
                          b.name,
                          settings,
                          has_layer ? static_cast<int32_t>(layer) : -1,
                          "",
                          0.0};
      if (has_layer) run.setup = "prunes after layer " + std::to_string(layer) + " (its param)";
    }
    plan.runs.push_back(std::move(run));
  }
  plan.files.push_back(plan.plugin);
  plan.files.insert(plan.files.end(), partner_files.begin(), partner_files.end());
  return plan;
}

void select_for_suite(const BrickRun& run) {
  testing::scheduler_cases().clear();
  testing::pruning_cases().clear();
  for (auto& [kind, cases] : testing::brick_case_lists()) cases->clear();
  if (run.brick.kind == BRICKS_KIND_SCHEDULER) {
    testing::scheduler_cases().push_back(run.scheduler_case);
  } else if (run.brick.kind == BRICKS_KIND_PRUNING) {
    testing::pruning_cases().push_back(run.pruning_case);
  } else if (auto it = testing::brick_case_lists().find(run.brick.kind);
             it != testing::brick_case_lists().end()) {
    it->second->push_back(run.brick_case);
  }
}

}  // namespace bricks::conform
