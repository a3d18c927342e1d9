// `bricks list`: every brick the plugin search path holds, then the plugin files that could
// not be loaded and why. Each file is scanned in a child process, so a broken plugin is
// listed, not fatal.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "command.h"
#include "host/catalogue.h"
#include "host/kinds.h"
#include "plugin_scan.h"

namespace bricks::cli {
namespace {

namespace host = bricks::host;

struct ListOptions {
  std::string kind;
  bool json = false;
  PluginScanFlags scan;
};

void print_table(const std::vector<const host::BrickInfo*>& bricks) {
  size_t w_kind = 4, w_name = 4, w_version = 7, w_summary = 7;
  for (const host::BrickInfo* b : bricks) {
    w_kind = std::max(w_kind, std::string(host::kind_name(b->kind)).size());
    w_name = std::max(w_name, b->name.size());
    w_version = std::max(w_version, b->version.size());
    w_summary = std::max(w_summary, b->summary.size());
  }
  auto row = [&](const std::string& k, const std::string& n, const std::string& v,
                 const std::string& s, const std::string& f) {
    std::printf("%-*s  %-*s  %-*s  %-*s  %s\n", static_cast<int>(w_kind), k.c_str(),
                static_cast<int>(w_name), n.c_str(), static_cast<int>(w_version), v.c_str(),
                static_cast<int>(w_summary), s.c_str(), f.c_str());
  };
  row("KIND", "NAME", "VERSION", "SUMMARY", "FILE");
  for (const host::BrickInfo* b : bricks) {
    row(host::kind_name(b->kind), b->name, b->version, b->summary, b->file);
  }
}

int run_list(const ListOptions& o) {
  const host::Catalogue all = o.scan.scan();

  host::Catalogue shown;
  shown.broken = all.broken;
  bricks_kind kind{};
  bool filter = !o.kind.empty() && host::parse_kind(o.kind, &kind);
  for (const host::BrickInfo& b : all.bricks) {
    if (!filter || b.kind == kind) shown.bricks.push_back(b);
  }

  if (o.json) {
    std::printf("%s\n", host::to_json(shown, 2).c_str());
  } else {
    std::vector<const host::BrickInfo*> rows;
    for (const host::BrickInfo& b : shown.bricks) rows.push_back(&b);
    std::stable_sort(rows.begin(), rows.end(),
                     [](const host::BrickInfo* a, const host::BrickInfo* b) {
                       return a->kind != b->kind ? a->kind < b->kind : a->name < b->name;
                     });
    if (!rows.empty()) print_table(rows);
    if (!shown.broken.empty()) {
      std::printf("%sBroken plugins:\n", rows.empty() ? "" : "\n");
      for (const host::BrokenPlugin& p : shown.broken) {
        std::printf("  %s: %s\n", p.file.c_str(), p.reason.c_str());
      }
    }
  }

  if (shown.bricks.empty()) {
    std::string dirs;
    for (const auto& d : o.scan.search_path()) dirs += "\n  " + d.string();
    std::fprintf(stderr, "error: no %sbricks found in the plugin search path:%s\n",
                 filter ? (o.kind + " ").c_str() : "", dirs.c_str());
    std::fprintf(stderr,
                 "Add a directory with --plugin-path DIR or the BRICKS_PLUGIN_PATH variable.\n");
    return kExitFailure;
  }
  if (!shown.broken.empty()) {
    std::fprintf(stderr, "warning: %zu plugin file(s) could not be loaded; see the reasons %s\n",
                 shown.broken.size(), o.json ? "under \"broken\"" : "above");
  }
  return kExitOk;
}

void add_list_flags(CLI::App* cmd, ListOptions* options) {
  cmd->add_option("--kind", options->kind, "Only bricks of this kind")
      ->check(CLI::IsMember(host::kind_names()));
  cmd->add_flag("--json", options->json, "Print JSON: {\"bricks\": [...], \"broken\": [...]}");
  options->scan.add_to(cmd);
}

const Command kList{
    "list", 10,
    "List the bricks found in the plugin search path, then the plugin files that could not "
    "be loaded and why.\n"
    "Search order: each --plugin-path DIR, then BRICKS_PLUGIN_PATH (colon-separated), then "
    "the install dir, then the build tree's plugin dir. Files named lib*.so in those "
    "directories are scanned, each in a child process, so a plugin that crashes or hangs "
    "is reported instead of stopping the listing.\n"
    "Exit status: 0 when bricks were found (even if some files are broken), 1 when none.",
    add_list_flags, run_list};

}  // namespace
}  // namespace bricks::cli
