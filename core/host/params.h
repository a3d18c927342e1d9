// Brick parameters as the host holds them: typed values from a manifest, checked against
// the brick's declared specs and turned into the bricks_param_value array `create` takes.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "bricks/abi.h"
#include "host/catalogue.h"

namespace bricks::host {

// One value as a manifest gives it; only the field matching `type` is meaningful (BOOL in
// `i`). Accepted besides the exact type: an INT for a FLOAT param, a STRING for an ENUM
// param and an ENUM for a STRING param.
struct ParamValue {
  bricks_param_type type = BRICKS_PARAM_INT;
  int64_t i = 0;
  double f = 0;
  std::string s;
};
using ParamMap = std::map<std::string, ParamValue>;

inline ParamValue int_value(int64_t v) { return {BRICKS_PARAM_INT, v, 0.0, {}}; }
inline ParamValue float_value(double v) { return {BRICKS_PARAM_FLOAT, 0, v, {}}; }
inline ParamValue bool_value(bool v) { return {BRICKS_PARAM_BOOL, v ? 1 : 0, 0.0, {}}; }
inline ParamValue string_value(std::string v) {
  return {BRICKS_PARAM_STRING, 0, 0.0, std::move(v)};
}
inline ParamValue enum_value(std::string v) { return {BRICKS_PARAM_ENUM, 0, 0.0, std::move(v)}; }

// "scheduler 'fcfs'": how messages name a brick.
std::string brick_label(const BrickInfo& brick);

// How one given value fails its declared param. The host's checks before `create` and the
// manifest's validation both classify values here and word the fault each their own way.
enum class ParamFault {
  kNone,
  kType,    // a type the param does not accept (see ParamValue)
  kRange,   // an INT or FLOAT outside [min, max] (NaN included), a BOOL other than 0 or 1
  kChoice,  // an ENUM value that is not one of the choices
};
ParamFault param_fault(const ParamInfo& spec, const ParamValue& v);

// Every problem with `params` for `brick`, one line each, in param order: unknown names
// (with a did-you-mean), missing required params, wrong types, values out of range or not
// among the choices. Empty when the params are valid.
std::vector<std::string> param_problems(const BrickInfo& brick, const ParamMap& params);

// The array `create` takes: every declared param in declaration order, defaults filled.
// Holds the strings the array points into, so it must outlive the create call.
class ResolvedParams {
 public:
  ResolvedParams() = default;
  ResolvedParams(const ResolvedParams&) = delete;
  ResolvedParams& operator=(const ResolvedParams&) = delete;

  const bricks_param_value* data() const { return values_.data(); }
  int32_t size() const { return static_cast<int32_t>(values_.size()); }
  const std::vector<bricks_param_value>& values() const { return values_; }

 private:
  friend void resolve_params(const BrickInfo&, const ParamMap&, ResolvedParams&);
  std::deque<std::string> strings_;  // deque: push_back keeps earlier c_str() valid
  std::vector<bricks_param_value> values_;
};

// Fills `out` from `params` for `brick`. Throws BrickError listing every problem
// ("scheduler 'fcfs': unknown param 'max_num_seq' (did you mean 'max_num_seqs'?); ...").
void resolve_params(const BrickInfo& brick, const ParamMap& params, ResolvedParams& out);

}  // namespace bricks::host
