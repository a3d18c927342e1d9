// `bricks inspect NAME`: everything a brick declares: params with type, default, range or
// choices and doc; the capabilities it provides and requires; where it comes from.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "command.h"
#include "host/catalogue.h"
#include "host/did_you_mean.h"
#include "host/kinds.h"
#include "plugin_scan.h"

namespace bricks::cli {
namespace {

namespace host = bricks::host;

struct InspectOptions {
  std::string name;
  std::string kind;
  bool json = false;
  PluginScanFlags scan;
};

std::string joined(const std::vector<std::string>& items) {
  if (items.empty()) return "(none)";
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

void print_brick(const host::BrickInfo& b) {
  std::printf("%s %s %s\n", host::kind_name(b.kind), b.name.c_str(), b.version.c_str());
  std::printf("  %s\n\n", b.summary.c_str());
  std::printf("Plugin:    %s %s (license %s)\n", b.plugin_name.c_str(), b.plugin_version.c_str(),
              b.license.empty() ? "not given" : b.license.c_str());
  std::printf("File:      %s\n", b.file.c_str());
  std::printf("Provides:  %s\n", joined(b.provides).c_str());
  std::printf("Requires:  %s\n\n", joined(b.requires_).c_str());
  if (b.params.empty()) {
    std::printf("Params: none\n");
    return;
  }
  size_t w_name = 4, w_default = 7;
  for (const host::ParamInfo& p : b.params) {
    w_name = std::max(w_name, p.name.size());
    w_default = std::max(w_default, host::param_default_text(p).size());
  }
  std::printf("Params:\n");
  std::printf("  %-*s  %-6s  %-*s  %s\n", static_cast<int>(w_name), "NAME", "TYPE",
              static_cast<int>(w_default), "DEFAULT", "RANGE / CHOICES");
  for (const host::ParamInfo& p : b.params) {
    std::string range = host::param_range_text(p);
    std::printf("  %-*s  %-6s  %-*s  %s\n", static_cast<int>(w_name), p.name.c_str(),
                host::param_type_name(p.type), static_cast<int>(w_default),
                host::param_default_text(p).c_str(), range.empty() ? "-" : range.c_str());
    if (!p.doc.empty()) std::printf("  %-*s  %s\n", static_cast<int>(w_name), "", p.doc.c_str());
  }
}

int run_inspect(const InspectOptions& o) {
  const host::Catalogue all = o.scan.scan();

  bricks_kind kind{};
  bool filter = !o.kind.empty() && host::parse_kind(o.kind, &kind);
  std::vector<const host::BrickInfo*> found;
  std::vector<std::string> names;
  for (const host::BrickInfo& b : all.bricks) {
    if (filter && b.kind != kind) continue;
    names.push_back(b.name);
    if (b.name == o.name) found.push_back(&b);
  }
  if (found.empty()) {
    std::string what = filter ? o.kind + " brick" : "brick";
    std::fprintf(stderr, "error: unknown %s '%s'%s\n", what.c_str(), o.name.c_str(),
                 host::did_you_mean_suffix(o.name, names).c_str());
    std::fprintf(stderr, "Run `bricks list%s` to see the bricks found%s.\n",
                 filter ? (" --kind " + o.kind).c_str() : "",
                 all.broken.empty() ? "" : " and the plugin files that could not be loaded");
    return kExitFailure;
  }
  if (o.json) {
    std::string out = found.size() == 1 ? host::to_json(*found[0], 2) : "";
    if (found.size() > 1) {
      out = "[";
      for (size_t i = 0; i < found.size(); ++i) {
        out += (i ? ",\n" : "\n") + host::to_json(*found[i], 2);
      }
      out += "\n]";
    }
    std::printf("%s\n", out.c_str());
    return kExitOk;
  }
  for (size_t i = 0; i < found.size(); ++i) {
    if (i > 0) std::printf("\n");
    print_brick(*found[i]);
  }
  return kExitOk;
}

void add_inspect_flags(CLI::App* cmd, InspectOptions* options) {
  cmd->add_option("name", options->name, "The brick's name, e.g. fcfs")->required();
  cmd->add_option("--kind", options->kind, "Only a brick of this kind")
      ->check(CLI::IsMember(host::kind_names()));
  cmd->add_flag("--json", options->json,
                "Print the brick as JSON (an array when several kinds match)");
  options->scan.add_to(cmd);
}

const Command kInspect{
    "inspect", 20,
    "Show everything a brick declares: its params (type, default, range or choices, doc), "
    "the capabilities it provides and requires, and the plugin file, name, version and "
    "license it comes from.\n"
    "The plugin search path is the same as for `bricks list`. When bricks of several kinds "
    "share NAME, all are shown unless --kind picks one.\n"
    "Exit status: 0 when found, 1 for an unknown name (with the closest known name).",
    add_inspect_flags, run_inspect};

}  // namespace
}  // namespace bricks::cli
