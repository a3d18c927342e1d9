// What the host knows about the bricks it found: plain C++ copies of the plugin
// descriptors, so they outlive a scanning child process and can be printed, validated
// against and serialised without touching the plugin again.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bricks/abi.h"

namespace bricks::host {

struct ParamInfo {
  std::string name;
  bricks_param_type type = BRICKS_PARAM_INT;
  std::string doc;
  bool has_default = false;
  int64_t default_int = 0;     // INT, BOOL
  double default_float = 0.0;  // FLOAT
  std::string default_string;  // STRING, ENUM
  int64_t min_int = 0, max_int = 0;
  double min_float = 0.0, max_float = 0.0;
  std::vector<std::string> choices;
};

struct BrickInfo {
  bricks_kind kind = BRICKS_KIND_SCHEDULER;
  std::string name;
  std::string version;
  std::string summary;
  std::vector<ParamInfo> params;
  std::vector<std::string> provides;
  std::vector<std::string> requires_;
  // The plugin library it came from.
  std::string file;
  std::string plugin_name;
  std::string plugin_version;
  std::string license;

  const ParamInfo* find_param(std::string_view param) const;
};

// A plugin file that could not be loaded or listed, and why (one line).
struct BrokenPlugin {
  std::string file;
  std::string reason;
};

// A SHA-256 pin that no plugin file satisfied: no file on the search path has its name or
// path, or every such file was refused. Pins fail closed, so a manifest with one is not
// valid (the pinned plugin's bricks would be missing, or come from an unpinned copy).
struct PinProblem {
  std::string pin;     // the pin's file as given: a file name or a path
  std::string reason;  // one line naming the pin and what went wrong
};

struct Catalogue {
  std::vector<BrickInfo> bricks;
  std::vector<BrokenPlugin> broken;
  std::vector<PinProblem> pin_problems;

  const BrickInfo* find(bricks_kind kind, std::string_view name) const;
  std::vector<const BrickInfo*> of_kind(bricks_kind kind) const;
};

// The kind's name from the kinds table (kinds.h), e.g. "scheduler"; "unknown" outside it.
const char* kind_name(bricks_kind kind);
// The kind for a name above; false if the name is not a kind.
bool parse_kind(std::string_view name, bricks_kind* out);
const char* param_type_name(bricks_param_type type);
// A param's float value as messages show it ("%g": 0.5, 1e+06).
std::string param_number_text(double v);

// How `inspect` and error messages show a param: its default ("8", "0.5", "true",
// "\"fcfs\"", or "required") and its allowed values ("[1, 1024]", "fcfs|lifo", or "").
std::string param_default_text(const ParamInfo& param);
std::string param_range_text(const ParamInfo& param);

// JSON forms, used for the scanner's pipe and `bricks list/inspect --json`. `indent` < 0
// gives one line. from_json throws BrickError naming what is malformed.
std::string to_json(const BrickInfo& brick, int indent = -1);
std::string to_json(const Catalogue& catalogue, int indent = -1);
Catalogue catalogue_from_json(std::string_view text);

// Plain copies of a plugin's descriptors, one BrickInfo per brick, stamped with `file`.
// The descriptor must have been checked (check_plugin_desc in loader.h).
std::vector<BrickInfo> copy_bricks(const bricks_plugin_desc& plugin, const std::string& file);

}  // namespace bricks::host
