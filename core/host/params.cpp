#include "host/params.h"

#include <cmath>

#include "host/did_you_mean.h"
#include "host/host_error.h"

namespace bricks::host {
namespace {

std::string quoted_list(const std::vector<std::string>& items) {
  std::vector<std::string> q;
  for (const std::string& s : items) q.push_back("'" + s + "'");
  return join(q);
}

bool accepts(bricks_param_type spec, bricks_param_type given) {
  if (spec == given) return true;
  return (spec == BRICKS_PARAM_FLOAT && given == BRICKS_PARAM_INT) ||
         (spec == BRICKS_PARAM_ENUM && given == BRICKS_PARAM_STRING) ||
         (spec == BRICKS_PARAM_STRING && given == BRICKS_PARAM_ENUM);
}

const char* article(bricks_param_type t) { return t == BRICKS_PARAM_INT ? "an " : "a "; }

// The problem with one given value, or "".
std::string value_problem(const ParamInfo& spec, const ParamValue& v) {
  switch (param_fault(spec, v)) {
    case ParamFault::kNone:
      break;
    case ParamFault::kType:
      return std::string("expects ") + article(spec.type) + param_type_name(spec.type) +
             " but got " + article(v.type) + param_type_name(v.type);
    case ParamFault::kRange:
      if (spec.type == BRICKS_PARAM_BOOL) return "value " + std::to_string(v.i) + " is not a bool";
      if (spec.type == BRICKS_PARAM_FLOAT) {
        const double f = v.type == BRICKS_PARAM_INT ? static_cast<double>(v.i) : v.f;
        return "value " + param_number_text(f) + " is out of range [" +
               param_number_text(spec.min_float) + ", " + param_number_text(spec.max_float) + "]";
      }
      return "value " + std::to_string(v.i) + " is out of range [" + std::to_string(spec.min_int) +
             ", " + std::to_string(spec.max_int) + "]";
    case ParamFault::kChoice:
      return "'" + v.s + "' is not one of " + quoted_list(spec.choices) +
             did_you_mean_suffix(v.s, spec.choices);
  }
  return "";
}

std::vector<std::string> param_names(const BrickInfo& brick) {
  std::vector<std::string> names;
  for (const ParamInfo& p : brick.params) names.push_back(p.name);
  return names;
}

}  // namespace

ParamFault param_fault(const ParamInfo& spec, const ParamValue& v) {
  if (!accepts(spec.type, v.type)) return ParamFault::kType;
  switch (spec.type) {
    case BRICKS_PARAM_INT:
      return v.i < spec.min_int || v.i > spec.max_int ? ParamFault::kRange : ParamFault::kNone;
    case BRICKS_PARAM_FLOAT: {
      const double f = v.type == BRICKS_PARAM_INT ? static_cast<double>(v.i) : v.f;
      return std::isnan(f) || f < spec.min_float || f > spec.max_float ? ParamFault::kRange
                                                                       : ParamFault::kNone;
    }
    case BRICKS_PARAM_BOOL:
      return v.i != 0 && v.i != 1 ? ParamFault::kRange : ParamFault::kNone;
    case BRICKS_PARAM_ENUM:
      for (const std::string& c : spec.choices) {
        if (c == v.s) return ParamFault::kNone;
      }
      return ParamFault::kChoice;
    case BRICKS_PARAM_STRING:
      break;
  }
  return ParamFault::kNone;
}

std::string brick_label(const BrickInfo& brick) {
  return std::string(kind_name(brick.kind)) + " '" + brick.name + "'";
}

std::vector<std::string> param_problems(const BrickInfo& brick, const ParamMap& params) {
  std::vector<std::string> problems;
  const std::string label = brick_label(brick);
  for (const auto& [name, value] : params) {
    if (brick.find_param(name) != nullptr) continue;
    std::vector<std::string> names = param_names(brick);
    std::string known =
        names.empty() ? "it takes no params" : "its params are " + quoted_list(names);
    problems.push_back(label + ": unknown param '" + name + "'" + did_you_mean_suffix(name, names) +
                       "; " + known);
  }
  for (const ParamInfo& spec : brick.params) {
    auto it = params.find(spec.name);
    if (it == params.end()) {
      if (!spec.has_default) {
        problems.push_back(label + ": param '" + spec.name + "' (" + param_type_name(spec.type) +
                           ") is required: set it in the manifest" +
                           (spec.doc.empty() ? "" : " (" + spec.doc + ")"));
      }
      continue;
    }
    std::string problem = value_problem(spec, it->second);
    if (!problem.empty()) problems.push_back(label + ": param '" + spec.name + "': " + problem);
  }
  return problems;
}

void resolve_params(const BrickInfo& brick, const ParamMap& params, ResolvedParams& out) {
  std::vector<std::string> problems = param_problems(brick, params);
  if (!problems.empty()) throw BrickError(join(problems, "; "));
  out.strings_.clear();
  out.values_.clear();
  for (const ParamInfo& spec : brick.params) {
    bricks_param_value v{};
    v.type = spec.type;
    auto it = params.find(spec.name);
    if (it == params.end()) {
      v.value.i = spec.default_int;
      v.value.f = spec.default_float;
      out.strings_.push_back(spec.default_string);
    } else {
      const ParamValue& given = it->second;
      v.value.i = given.i;
      v.value.f = spec.type == BRICKS_PARAM_FLOAT && given.type == BRICKS_PARAM_INT
                      ? static_cast<double>(given.i)
                      : given.f;
      out.strings_.push_back(given.s);
    }
    v.value.s = out.strings_.back().c_str();
    out.strings_.push_back(spec.name);
    v.name = out.strings_.back().c_str();
    out.values_.push_back(v);
  }
}

}  // namespace bricks::host
