// JSON forms of the catalogue. The scanner child writes them to its pipe and the parent
// reads them back, so from_json must accept exactly what to_json writes and reject the rest
// with a message (a plugin's static initializer could write garbage to an inherited fd).
#include <nlohmann/json.hpp>

#include "host/catalogue.h"
#include "host/host_error.h"

namespace bricks::host {
namespace {

using nlohmann::json;

json param_json(const ParamInfo& p) {
  json j = {{"name", p.name},
            {"type", param_type_name(p.type)},
            {"doc", p.doc},
            {"required", !p.has_default}};
  switch (p.type) {
    case BRICKS_PARAM_INT:
      j["min"] = p.min_int;
      j["max"] = p.max_int;
      if (p.has_default) j["default"] = p.default_int;
      break;
    case BRICKS_PARAM_FLOAT:
      j["min"] = p.min_float;
      j["max"] = p.max_float;
      if (p.has_default) j["default"] = p.default_float;
      break;
    case BRICKS_PARAM_BOOL:
      if (p.has_default) j["default"] = p.default_int != 0;
      break;
    case BRICKS_PARAM_ENUM:
      j["choices"] = p.choices;
      if (p.has_default) j["default"] = p.default_string;
      break;
    case BRICKS_PARAM_STRING:
      if (p.has_default) j["default"] = p.default_string;
      break;
  }
  return j;
}

json brick_json(const BrickInfo& b) {
  json params = json::array();
  for (const ParamInfo& p : b.params) params.push_back(param_json(p));
  return {{"kind", kind_name(b.kind)}, {"name", b.name},
          {"version", b.version},      {"summary", b.summary},
          {"params", params},          {"provides", b.provides},
          {"requires", b.requires_},   {"file", b.file},
          {"plugin", b.plugin_name},   {"plugin_version", b.plugin_version},
          {"license", b.license}};
}

bricks_param_type parse_param_type(const std::string& name) {
  for (int t = BRICKS_PARAM_INT; t <= BRICKS_PARAM_ENUM; ++t) {
    auto type = static_cast<bricks_param_type>(t);
    if (name == param_type_name(type)) return type;
  }
  throw BrickError("unknown param type '" + name + "'");
}

ParamInfo param_from(const json& j) {
  ParamInfo p;
  p.name = j.at("name").get<std::string>();
  p.type = parse_param_type(j.at("type").get<std::string>());
  p.doc = j.at("doc").get<std::string>();
  p.has_default = !j.at("required").get<bool>();
  switch (p.type) {
    case BRICKS_PARAM_INT:
      p.min_int = j.at("min").get<int64_t>();
      p.max_int = j.at("max").get<int64_t>();
      if (p.has_default) p.default_int = j.at("default").get<int64_t>();
      break;
    case BRICKS_PARAM_FLOAT:
      p.min_float = j.at("min").get<double>();
      p.max_float = j.at("max").get<double>();
      if (p.has_default) p.default_float = j.at("default").get<double>();
      break;
    case BRICKS_PARAM_BOOL:
      p.max_int = 1;
      if (p.has_default) p.default_int = j.at("default").get<bool>() ? 1 : 0;
      break;
    case BRICKS_PARAM_ENUM:
      p.choices = j.at("choices").get<std::vector<std::string>>();
      if (p.has_default) p.default_string = j.at("default").get<std::string>();
      break;
    case BRICKS_PARAM_STRING:
      if (p.has_default) p.default_string = j.at("default").get<std::string>();
      break;
  }
  return p;
}

BrickInfo brick_from(const json& j) {
  BrickInfo b;
  if (!parse_kind(j.at("kind").get<std::string>(), &b.kind)) {
    throw BrickError("unknown brick kind '" + j.at("kind").get<std::string>() + "'");
  }
  b.name = j.at("name").get<std::string>();
  b.version = j.at("version").get<std::string>();
  b.summary = j.at("summary").get<std::string>();
  for (const json& p : j.at("params")) b.params.push_back(param_from(p));
  b.provides = j.at("provides").get<std::vector<std::string>>();
  b.requires_ = j.at("requires").get<std::vector<std::string>>();
  b.file = j.at("file").get<std::string>();
  b.plugin_name = j.at("plugin").get<std::string>();
  b.plugin_version = j.at("plugin_version").get<std::string>();
  b.license = j.at("license").get<std::string>();
  return b;
}

// Invalid UTF-8 from a plugin's strings is replaced, not thrown on.
std::string dump(const json& j, int indent) {
  return j.dump(indent, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string to_json(const BrickInfo& brick, int indent) { return dump(brick_json(brick), indent); }

std::string to_json(const Catalogue& catalogue, int indent) {
  json bricks = json::array();
  for (const BrickInfo& b : catalogue.bricks) bricks.push_back(brick_json(b));
  json broken = json::array();
  for (const BrokenPlugin& p : catalogue.broken) {
    broken.push_back({{"file", p.file}, {"reason", p.reason}});
  }
  json out{{"bricks", bricks}, {"broken", broken}};
  // Only a scan with pins can have these; the usual output keeps its two keys.
  if (!catalogue.pin_problems.empty()) {
    json pins = json::array();
    for (const PinProblem& p : catalogue.pin_problems) {
      pins.push_back({{"pin", p.pin}, {"reason", p.reason}});
    }
    out["pin_problems"] = pins;
  }
  return dump(out, indent);
}

Catalogue catalogue_from_json(std::string_view text) {
  try {
    json j = json::parse(text);
    Catalogue c;
    for (const json& b : j.at("bricks")) c.bricks.push_back(brick_from(b));
    for (const json& p : j.at("broken")) {
      c.broken.push_back({p.at("file").get<std::string>(), p.at("reason").get<std::string>()});
    }
    if (j.contains("pin_problems")) {
      for (const json& p : j.at("pin_problems")) {
        c.pin_problems.push_back(
            {p.at("pin").get<std::string>(), p.at("reason").get<std::string>()});
      }
    }
    return c;
  } catch (const json::exception& e) {
    throw BrickError(std::string("malformed catalogue JSON: ") + e.what());
  }
}

}  // namespace bricks::host
