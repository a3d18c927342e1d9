// A brick's params against the brick's declared specs: names, types, ranges, choices and
// the params it requires.
#include <algorithm>

#include "host/did_you_mean.h"
#include "validate_checks.h"

namespace bricks::manifest {
namespace {

// "[1, 65536]", "[0, 1]": the bounds of an INT or FLOAT param.
std::string range(const host::ParamInfo& p) {
  if (p.type == BRICKS_PARAM_FLOAT) {
    return "[" + host::param_number_text(p.min_float) + ", " +
           host::param_number_text(p.max_float) + "]";
  }
  return "[" + std::to_string(p.min_int) + ", " + std::to_string(p.max_int) + "]";
}

// "an int in [1, 65536]", "a float in [0, 1]", "a bool", "one of: a, b".
std::string expected(const host::ParamInfo& p) {
  switch (p.type) {
    case BRICKS_PARAM_INT:
      return "an int in " + range(p);
    case BRICKS_PARAM_FLOAT:
      return "a float in " + range(p);
    case BRICKS_PARAM_BOOL:
      return "a bool";
    case BRICKS_PARAM_STRING:
      return "a string";
    case BRICKS_PARAM_ENUM:
      return "one of: " + host::join(p.choices);
  }
  return "a value";
}

const char* value_type(Value::VCase c) {
  switch (c) {
    case Value::kInt:
      return "an int";
    case Value::kFloat:
      return "a float";
    case Value::kBool:
      return "a bool";
    case Value::kString:
      return "a string";
    case Value::V_NOT_SET:
      break;
  }
  return "no value";
}

const char* type_word(bricks_param_type t) {
  switch (t) {
    case BRICKS_PARAM_INT:
      return "an int";
    case BRICKS_PARAM_FLOAT:
      return "a float";
    case BRICKS_PARAM_BOOL:
      return "a bool";
    case BRICKS_PARAM_STRING:
    case BRICKS_PARAM_ENUM:
      return "a string";
  }
  return "a value";
}

// The written form of a value for messages: 42, 0.5, true, 'swap'.
std::string shown(const Value& v) {
  switch (v.v_case()) {
    case Value::kInt:
      return std::to_string(v.int_());
    case Value::kFloat:
      return host::param_number_text(v.float_());
    case Value::kBool:
      return v.bool_() ? "true" : "false";
    case Value::kString:
      return "'" + v.string() + "'";
    case Value::V_NOT_SET:
      break;
  }
  return "nothing";
}

}  // namespace

void check_params(const LoadedManifest& m, const std::string& path, const Brick& brick,
                  const host::BrickInfo& info, std::vector<Diagnostic>& diags) {
  const std::string who = std::string(host::kind_name(info.kind)) + " '" + info.name + "'";
  std::vector<std::string> declared;
  for (const host::ParamInfo& p : info.params) declared.push_back(p.name);

  std::vector<std::string> keys;
  for (const auto& [key, value] : brick.params()) keys.push_back(key);
  std::sort(keys.begin(), keys.end());  // map order is unspecified; diagnostics are not

  for (const std::string& key : keys) {
    const Value& v = brick.params().at(key);
    const std::string entry = path + ".params[" + key + "]";
    const host::ParamInfo* p = info.find_param(key);
    if (p == nullptr) {
      diags.push_back(m.at(entry + ".key", "unknown param '" + key + "' for " + who,
                           host::suggest(key, declared, info.name + " takes no params")));
      continue;
    }
    std::string at = entry + ".value";
    if (v.v_case() != Value::V_NOT_SET) {
      at += "." + Value::descriptor()->FindFieldByNumber(v.v_case())->name();
    }
    // No value at all is the wrong type for every param, STRING ones included.
    const host::ParamFault fault = v.v_case() == Value::V_NOT_SET
                                       ? host::ParamFault::kType
                                       : host::param_fault(*p, as_written(v));
    switch (fault) {
      case host::ParamFault::kNone:
        break;
      case host::ParamFault::kType:
        diags.push_back(m.at(at,
                             "param '" + key + "' of " + who + " takes " + type_word(p->type) +
                                 ", got " + value_type(v.v_case()),
                             "give " + expected(*p)));
        break;
      case host::ParamFault::kRange:
        diags.push_back(m.at(at,
                             "param '" + key + "' of " + who + " is " + shown(v) + ", out of range",
                             "allowed range is " + range(*p)));
        break;
      case host::ParamFault::kChoice:
        diags.push_back(m.at(
            at, "param '" + key + "' of " + who + " is " + shown(v) + ", not one of its choices",
            host::suggest(v.string(), p->choices)));
        break;
    }
  }

  for (const host::ParamInfo& p : info.params) {
    if (!p.has_default && brick.params().count(p.name) == 0) {
      diags.push_back(m.at(path, who + " needs param '" + p.name + "', which is not set",
                           "set '" + p.name + "' to " + expected(p)));
    }
  }
}

}  // namespace bricks::manifest
