// The checker the section validators share: where a problem is, what it is, the fix.
// Internal to bricks_manifest.
#pragma once

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <vector>

#include "host/did_you_mean.h"
#include "manifest/manifest.h"

namespace bricks::manifest {

template <typename T>
inline std::string show(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g", static_cast<double>(v));
    return buf;
  } else {
    return std::to_string(v);
  }
}

struct Checker {
  const LoadedManifest& m;
  std::vector<Diagnostic>& diags;

  void error(std::string_view path, std::string message, std::string fix) {
    diags.push_back(m.at(path, std::move(message), std::move(fix)));
  }
  void warning(std::string_view path, std::string message, std::string fix) {
    diags.push_back(m.at(path, std::move(message), std::move(fix), false));
  }

  // An optional string setting: empty, or one of `allowed`.
  void one_of(const std::string& path, const std::string& value,
              const std::vector<std::string>& allowed) {
    if (value.empty() || std::find(allowed.begin(), allowed.end(), value) != allowed.end()) {
      return;
    }
    error(path, path + " '" + value + "' is not supported", host::suggest(value, allowed));
  }

  template <typename T>
  void at_least(const std::string& path, T value, T low, const std::string& fix) {
    if (value < low) error(path, path + " is " + show(value) + ", below " + show(low), fix);
  }

  template <typename T>
  void at_most(const std::string& path, T value, T high, const std::string& fix) {
    if (value > high) error(path, path + " is " + show(value) + ", above " + show(high), fix);
  }

  // A path written in the manifest that must exist; `what` says what it is for.
  void exists(const std::string& path, const std::string& value, const std::string& what,
              bool directory) {
    if (value.empty()) return;
    const std::filesystem::path resolved = m.resolve(value);
    std::error_code ec;
    const std::filesystem::file_status st = std::filesystem::status(resolved, ec);
    if (!std::filesystem::exists(st)) {
      error(path, what + " '" + resolved.string() + "' does not exist",
            "paths are relative to the manifest's directory");
    } else if (directory && !std::filesystem::is_directory(st)) {
      error(path, what + " '" + resolved.string() + "' is not a directory",
            "give the directory that holds the plugin libraries");
    }
  }
};

// One per manifest section; each appends what it finds.
void check_device(Checker& c, const Device& d);
void check_model(Checker& c, const Model& model);
void check_plugins(Checker& c, const Manifest& p);
void check_workload(Checker& c, const Workload& w);
// The sim device's tier sizes (validate_sim_tiers.cpp); check_device calls it.
void check_sim_tiers(Checker& c, const Device& d);
// workload.images (validate_images.cpp); check_workload calls it.
void check_images(Checker& c, const Workload& w);

}  // namespace bricks::manifest
