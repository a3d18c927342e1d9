#include "host/catalogue.h"

#include <cstdio>

#include "host/kinds.h"
#include "host/loader.h"

namespace bricks::host {
namespace {

std::string str(const char* s) { return s != nullptr ? s : ""; }

std::vector<std::string> strings(const char* const* items, int32_t count) {
  std::vector<std::string> out;
  for (int32_t i = 0; items != nullptr && i < count; ++i) out.push_back(str(items[i]));
  return out;
}

ParamInfo copy_param(const bricks_param_spec& spec) {
  ParamInfo p;
  p.name = str(spec.name);
  p.type = spec.type;
  p.doc = str(spec.doc);
  p.has_default = spec.has_default != 0;
  p.default_int = spec.default_value.i;
  p.default_float = spec.default_value.f;
  p.default_string = str(spec.default_value.s);
  p.min_int = spec.min_int;
  p.max_int = spec.max_int;
  p.min_float = spec.min_float;
  p.max_float = spec.max_float;
  p.choices = strings(spec.choices, spec.num_choices);
  if (p.type == BRICKS_PARAM_BOOL) {
    p.min_int = 0;
    p.max_int = 1;
  }
  return p;
}

}  // namespace

const ParamInfo* BrickInfo::find_param(std::string_view param) const {
  for (const ParamInfo& p : params) {
    if (p.name == param) return &p;
  }
  return nullptr;
}

const BrickInfo* Catalogue::find(bricks_kind kind, std::string_view name) const {
  for (const BrickInfo& b : bricks) {
    if (b.kind == kind && b.name == name) return &b;
  }
  return nullptr;
}

std::vector<const BrickInfo*> Catalogue::of_kind(bricks_kind kind) const {
  std::vector<const BrickInfo*> out;
  for (const BrickInfo& b : bricks) {
    if (b.kind == kind) out.push_back(&b);
  }
  return out;
}

const char* kind_name(bricks_kind kind) {
  const KindInfo* k = find_kind(kind);
  return k != nullptr ? k->name : "unknown";
}

bool parse_kind(std::string_view name, bricks_kind* out) {
  const KindInfo* k = find_kind(name);
  if (k == nullptr) return false;
  *out = k->kind;
  return true;
}

const char* param_type_name(bricks_param_type type) {
  switch (type) {
    case BRICKS_PARAM_INT:
      return "int";
    case BRICKS_PARAM_FLOAT:
      return "float";
    case BRICKS_PARAM_BOOL:
      return "bool";
    case BRICKS_PARAM_STRING:
      return "string";
    case BRICKS_PARAM_ENUM:
      return "enum";
  }
  return "unknown";
}

std::string param_number_text(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

namespace {

// Appended in steps: g++ 12 warns falsely (-Wrestrict) on "[" + std::string + ...
std::string interval(const std::string& lo, const std::string& hi) {
  std::string out(1, '[');
  out += lo;
  out += ", ";
  out += hi;
  out += ']';
  return out;
}

}  // namespace

std::string param_default_text(const ParamInfo& p) {
  if (!p.has_default) return "required";
  switch (p.type) {
    case BRICKS_PARAM_INT:
      return std::to_string(p.default_int);
    case BRICKS_PARAM_FLOAT:
      return param_number_text(p.default_float);
    case BRICKS_PARAM_BOOL:
      return p.default_int != 0 ? "true" : "false";
    case BRICKS_PARAM_STRING:
    case BRICKS_PARAM_ENUM: {
      std::string quoted(1, '"');
      quoted += p.default_string;
      quoted += '"';
      return quoted;
    }
  }
  return "";
}

std::string param_range_text(const ParamInfo& p) {
  switch (p.type) {
    case BRICKS_PARAM_INT:
      return interval(std::to_string(p.min_int), std::to_string(p.max_int));
    case BRICKS_PARAM_FLOAT:
      return interval(param_number_text(p.min_float), param_number_text(p.max_float));
    case BRICKS_PARAM_ENUM: {
      std::string out;
      for (const std::string& c : p.choices) {
        if (!out.empty()) out += '|';
        out += c;
      }
      return out;
    }
    case BRICKS_PARAM_BOOL:
    case BRICKS_PARAM_STRING:
      return "";
  }
  return "";
}

std::vector<BrickInfo> copy_bricks(const bricks_plugin_desc& plugin, const std::string& file) {
  std::vector<BrickInfo> out;
  for (int32_t i = 0; i < plugin.num_bricks; ++i) {
    const bricks_brick_desc d = brick_at(plugin, i);
    BrickInfo b;
    b.kind = d.kind;
    b.name = str(d.name);
    b.version = str(d.version);
    b.summary = str(d.summary);
    for (int32_t j = 0; d.params != nullptr && j < d.num_params; ++j) {
      b.params.push_back(copy_param(d.params[j]));
    }
    b.provides = strings(d.provides, d.num_provides);
    b.requires_ = strings(d.requires_, d.num_requires);
    b.file = file;
    b.plugin_name = str(plugin.name);
    b.plugin_version = str(plugin.version);
    b.license = str(plugin.license);
    out.push_back(std::move(b));
  }
  return out;
}

}  // namespace bricks::host
