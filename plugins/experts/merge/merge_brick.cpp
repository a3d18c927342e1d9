// merger/merge: combines checkpoints of one architecture tensor by tensor at load, by the
// method the manifest names, on the tensors its include/exclude filters select.
//
// Thread safety: merge() may run from several host threads at once (kind_experts.h); the
// instance is immutable after create and std::regex matching on a const regex is safe.
// GCC 12 reports -Wmaybe-uninitialized inside libstdc++'s <regex> automaton once inlined
// (with -fsanitize and -O2); the std::function members it names are always initialised.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <cmath>
#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "bricks/bricks.hpp"
#include "merge_methods.h"

namespace bricks_merge {
namespace {

using bricks::Error;

enum class Method { kLinear, kTaskArithmetic, kTies, kDare, kSlerp };

Method parse_method(const std::string& s) {
  if (s == "linear") return Method::kLinear;
  if (s == "task_arithmetic") return Method::kTaskArithmetic;
  if (s == "ties") return Method::kTies;
  if (s == "dare") return Method::kDare;
  if (s == "slerp") return Method::kSlerp;
  throw Error::invalid("merger merge: unknown method '" + s +
                       "'; use linear, task_arithmetic, ties, dare or slerp");
}

std::regex compile(const std::string& param, const std::string& pattern) {
  try {
    return std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw Error::invalid("merger merge: param " + param + " '" + pattern +
                         "' is not a valid regular expression (" + e.what() + ")");
  }
}

class Merge final : public bricks::Merger {
 public:
  Merge(const bricks::Host& host, const bricks::Params& params)
      : Merger(host),
        method_(parse_method(params.get_string("method"))),
        include_(compile("include", params.get_string("include"))),
        density_(params.get_float("density")),
        lambda_(params.get_float("lambda")),
        seed_(params.get_int("seed")),
        t_(params.get_float("t")) {
    const std::string exclude = params.get_string("exclude");
    if (!exclude.empty()) exclude_ = compile("exclude", exclude);
    if (!(density_ > 0.0 && density_ <= 1.0)) {
      throw Error::invalid("merger merge: density " + std::to_string(density_) +
                           " must be in (0, 1]");
    }
    if (!(t_ >= 0.0 && t_ <= 1.0)) {
      throw Error::invalid("merger merge: t " + std::to_string(t_) + " must be in [0, 1]");
    }
  }

  // Filters are searched anywhere in the name (anchor with ^ and $ for whole names).
  bool merge(const bricks_merge_tensor& tensor, float* out) override {
    const std::string name = tensor.name != nullptr ? tensor.name : "";
    if (!std::regex_search(name, include_)) return false;
    if (exclude_ && std::regex_search(name, *exclude_)) return false;
    check(tensor, name, out);

    std::vector<double> weights(static_cast<size_t>(tensor.num_inputs), 1.0);
    if (tensor.weights != nullptr) {
      for (int32_t i = 0; i < tensor.num_inputs; ++i) weights[i] = tensor.weights[i];
    }
    const MergeInputs in{tensor.base, tensor.inputs, weights.data(), tensor.num_inputs,
                         tensor.numel};
    switch (method_) {
      case Method::kLinear: {
        double total = 0.0;
        for (double w : weights) total += w;
        if (total == 0.0) {
          throw Error::invalid("merger merge: linear merge of '" + name +
                               "' has weights summing to 0; give the checkpoints weights with a "
                               "non-zero sum");
        }
        merge_linear(in, out);
        break;
      }
      case Method::kTaskArithmetic:
        merge_task_arithmetic(in, lambda_, out);
        break;
      case Method::kTies:
        merge_ties(in, density_, lambda_, out);
        break;
      case Method::kDare:
        merge_dare(in, density_, lambda_, dare_stream(name, seed_), out);
        break;
      case Method::kSlerp:
        merge_slerp(tensor.inputs[0], tensor.inputs[1], tensor.numel, t_, out);
        break;
    }
    return true;
  }

 private:
  void check(const bricks_merge_tensor& tensor, const std::string& name, const float* out) const {
    const std::string what = "merger merge: tensor '" + name + "': ";
    if (tensor.numel < 0) throw Error::invalid(what + "numel is negative");
    if (tensor.numel > 0 && out == nullptr) throw Error::invalid(what + "out is not set");
    if (tensor.num_inputs < 1 || tensor.inputs == nullptr) {
      throw Error::invalid(what + "needs at least one input checkpoint");
    }
    for (int32_t i = 0; i < tensor.num_inputs; ++i) {
      if (tensor.inputs[i] == nullptr) {
        throw Error::invalid(what + "input " + std::to_string(i) + " is not set");
      }
    }
    const bool needs_base =
        method_ == Method::kTaskArithmetic || method_ == Method::kTies || method_ == Method::kDare;
    if (needs_base && tensor.base == nullptr) {
      throw Error::invalid(what +
                           "this method merges task vectors (input - base) and needs the "
                           "base model; name a base model in the manifest");
    }
    if (method_ == Method::kSlerp && tensor.num_inputs != 2) {
      throw Error::invalid(what + "slerp interpolates exactly 2 checkpoints, got " +
                           std::to_string(tensor.num_inputs) + "; use linear for more");
    }
  }

  const Method method_;
  const std::regex include_;
  std::optional<std::regex> exclude_;
  const double density_;
  const double lambda_;
  const int64_t seed_;
  const double t_;
};

const char* const kMethods[] = {"linear", "task_arithmetic", "ties", "dare", "slerp"};
const bricks_param_spec kParams[] = {
    bricks::param_enum("method", "linear", kMethods,
                       "How checkpoints combine: linear, task_arithmetic, ties, dare or slerp."),
    bricks::param_string("include", ".*",
                         "Regular expression; only tensors whose name matches are merged."),
    bricks::param_string("exclude", "",
                         "Regular expression; tensors whose name matches are left alone."),
    bricks::param_float("density", 0.5, 1e-6, 1.0,
                        "TIES/DARE: share of each task vector's entries kept."),
    bricks::param_float("lambda", 1.0, -1e6, 1e6,
                        "Scale applied to the merged task vector (task_arithmetic, ties, dare)."),
    bricks::param_int("seed", 0, 0, INT64_MAX, "DARE: random seed for the entries dropped."),
    bricks::param_float("t", 0.5, 0.0, 1.0,
                        "SLERP: position from the first (0) to the second (1)."),
};

}  // namespace
}  // namespace bricks_merge

BRICKS_PLUGIN(
    "bricks_merger_merge", "1.0.0", "Apache-2.0",
    bricks::describe<bricks_merge::Merge>(
        "merge", "1.0.0",
        "Checkpoint merging: linear, task arithmetic, TIES, DARE, SLERP; per-tensor filters.")
        .params(bricks_merge::kParams))
