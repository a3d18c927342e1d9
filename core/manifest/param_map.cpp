// Brick params from the manifest's Values to the host's typed ParamMap.
#include "manifest/manifest.h"
#include "validate_checks.h"

namespace bricks::manifest {

host::ParamValue as_written(const Value& v) {
  switch (v.v_case()) {
    case Value::kInt:
      return host::int_value(v.int_());
    case Value::kFloat:
      return host::float_value(v.float_());
    case Value::kBool:
      return host::bool_value(v.bool_());
    case Value::kString:
      return host::string_value(v.string());
    case Value::V_NOT_SET:
      break;
  }
  // No value at all: a STRING with no text, which no declared type but STRING accepts.
  return host::string_value("");
}

host::ParamMap to_param_map(const Brick& brick, const host::BrickInfo& info) {
  host::ParamMap out;
  for (const auto& [name, value] : brick.params()) {
    host::ParamValue v = as_written(value);
    if (const host::ParamInfo* spec = info.find_param(name)) {
      if (spec->type == BRICKS_PARAM_FLOAT && v.type == BRICKS_PARAM_INT) {
        v = host::float_value(static_cast<double>(v.i));
      } else if (spec->type == BRICKS_PARAM_ENUM && v.type == BRICKS_PARAM_STRING) {
        v.type = BRICKS_PARAM_ENUM;
      }
    }
    out.emplace(name, std::move(v));
  }
  return out;
}

}  // namespace bricks::manifest
