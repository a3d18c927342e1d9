// A brick's params against the brick's declared specs: names, types, ranges, choices and
// the params it requires.
#include <algorithm>
#include <cstdio>

#include "did_you_mean.h"
#include "validate_checks.h"

namespace bricks::manifest {
namespace {

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// "an int in [1, 65536]", "a float in [0, 1]", "a bool", "one of: a, b".
std::string expected(const host::ParamInfo& p) {
  switch (p.type) {
    case BRICKS_PARAM_INT:
      return "an int in [" + std::to_string(p.min_int) + ", " + std::to_string(p.max_int) + "]";
    case BRICKS_PARAM_FLOAT:
      return "a float in [" + number(p.min_float) + ", " + number(p.max_float) + "]";
    case BRICKS_PARAM_BOOL:
      return "a bool";
    case BRICKS_PARAM_STRING:
      return "a string";
    case BRICKS_PARAM_ENUM:
      return "one of: " + join(p.choices);
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

bool type_fits(bricks_param_type t, Value::VCase c) {
  switch (t) {
    case BRICKS_PARAM_INT:
      return c == Value::kInt;
    case BRICKS_PARAM_FLOAT:
      return c == Value::kFloat || c == Value::kInt;
    case BRICKS_PARAM_BOOL:
      return c == Value::kBool;
    case BRICKS_PARAM_STRING:
    case BRICKS_PARAM_ENUM:
      return c == Value::kString;
  }
  return false;
}

// The written form of a value for messages: 42, 0.5, true, 'swap'.
std::string shown(const Value& v) {
  switch (v.v_case()) {
    case Value::kInt:
      return std::to_string(v.int_());
    case Value::kFloat:
      return number(v.float_());
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
                           suggest(key, declared, info.name + " takes no params")));
      continue;
    }
    std::string at = entry + ".value";
    if (v.v_case() != Value::V_NOT_SET) {
      at += "." + Value::descriptor()->FindFieldByNumber(v.v_case())->name();
    }
    if (!type_fits(p->type, v.v_case())) {
      diags.push_back(m.at(at,
                           "param '" + key + "' of " + who + " takes " + type_word(p->type) +
                               ", got " + value_type(v.v_case()),
                           "give " + expected(*p)));
      continue;
    }
    if (p->type == BRICKS_PARAM_INT && p->min_int <= p->max_int &&
        (v.int_() < p->min_int || v.int_() > p->max_int)) {
      diags.push_back(m.at(at,
                           "param '" + key + "' of " + who + " is " + shown(v) + ", out of range",
                           "allowed range is [" + std::to_string(p->min_int) + ", " +
                               std::to_string(p->max_int) + "]"));
    } else if (p->type == BRICKS_PARAM_FLOAT && p->min_float <= p->max_float) {
      const double f = v.v_case() == Value::kInt ? static_cast<double>(v.int_()) : v.float_();
      if (!(f >= p->min_float && f <= p->max_float)) {
        diags.push_back(
            m.at(at, "param '" + key + "' of " + who + " is " + shown(v) + ", out of range",
                 "allowed range is [" + number(p->min_float) + ", " + number(p->max_float) + "]"));
      }
    } else if (p->type == BRICKS_PARAM_ENUM &&
               std::find(p->choices.begin(), p->choices.end(), v.string()) == p->choices.end()) {
      diags.push_back(
          m.at(at, "param '" + key + "' of " + who + " is " + shown(v) + ", not one of its choices",
               suggest(v.string(), p->choices)));
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
