// bricks/params.hpp: declaring typed parameters and reading them in `create`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "bricks/abi.h"
#include "bricks/error.hpp"

namespace bricks {

// Spec builders, usable in a static array:
//   static const bricks_param_spec kParams[] = {
//       bricks::param_int("max_num_seqs", 256, 1, 65536, "Most sequences in one step."),
//   };
constexpr bricks_param_spec param_int(const char* name, int64_t def, int64_t lo, int64_t hi,
                                      const char* doc) {
  return {name, BRICKS_PARAM_INT, doc, 1, {def, 0.0, ""}, lo, hi, 0.0, 0.0, nullptr, 0};
}
constexpr bricks_param_spec param_float(const char* name, double def, double lo, double hi,
                                        const char* doc) {
  return {name, BRICKS_PARAM_FLOAT, doc, 1, {0, def, ""}, 0, 0, lo, hi, nullptr, 0};
}
constexpr bricks_param_spec param_bool(const char* name, bool def, const char* doc) {
  return {name, BRICKS_PARAM_BOOL, doc, 1, {def ? 1 : 0, 0.0, ""}, 0, 1, 0.0, 0.0, nullptr, 0};
}
constexpr bricks_param_spec param_string(const char* name, const char* def, const char* doc) {
  return {name, BRICKS_PARAM_STRING, doc, 1, {0, 0.0, def}, 0, 0, 0.0, 0.0, nullptr, 0};
}
template <int N>
constexpr bricks_param_spec param_enum(const char* name, const char* def,
                                       const char* const (&choices)[N], const char* doc) {
  return {name, BRICKS_PARAM_ENUM, doc, 1, {0, 0.0, def}, 0, 0, 0.0, 0.0, choices, N};
}
// A parameter the manifest must set (no default).
constexpr bricks_param_spec required(bricks_param_spec spec) {
  spec.has_default = 0;
  return spec;
}

// Read access to the values the host passed to `create`. The host has filled defaults and
// checked types and ranges, so a missing name or wrong type is a brick bug.
class Params {
 public:
  Params(const bricks_param_value* values, int32_t count) : values_(values), count_(count) {}

  int64_t get_int(std::string_view name) const { return find(name, BRICKS_PARAM_INT).i; }
  double get_float(std::string_view name) const { return find(name, BRICKS_PARAM_FLOAT).f; }
  bool get_bool(std::string_view name) const { return find(name, BRICKS_PARAM_BOOL).i != 0; }
  std::string get_string(std::string_view name) const {
    const bricks_param_value* v = lookup(name);
    if (v == nullptr || (v->type != BRICKS_PARAM_STRING && v->type != BRICKS_PARAM_ENUM)) {
      throw Error::internal("parameter '" + std::string(name) + "' is not a string or enum");
    }
    return v->value.s != nullptr ? v->value.s : "";
  }
  bool has(std::string_view name) const { return lookup(name) != nullptr; }

 private:
  const bricks_param_value* lookup(std::string_view name) const {
    for (int32_t i = 0; i < count_; ++i) {
      if (values_[i].name != nullptr && name == values_[i].name) return &values_[i];
    }
    return nullptr;
  }
  const bricks_value& find(std::string_view name, bricks_param_type type) const {
    const bricks_param_value* v = lookup(name);
    if (v == nullptr) throw Error::internal("parameter '" + std::string(name) + "' was not passed");
    if (v->type != type) throw Error::internal("parameter '" + std::string(name) + "' has another type");
    return v->value;
  }

  const bricks_param_value* values_;
  int32_t count_;
};

}  // namespace bricks
