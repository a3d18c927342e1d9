// Loads brick plugins and creates instances with a minimal host API, so brick suites
// (conformance tests) run without the rest of the host. Bricks come from the build tree's
// plugin dir unless set_plugin_files names the files to take them from (bricks-conform).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bricks/abi.h"

namespace bricks::testing {

// One value for a param; the harness fills every other declared param with its default.
struct ParamSetting {
  std::string name;
  bricks_value value;
};

class HarnessBrick {
 public:
  HarnessBrick(const bricks_brick_desc* desc, void* instance);
  ~HarnessBrick();
  HarnessBrick(const HarnessBrick&) = delete;
  HarnessBrick& operator=(const HarnessBrick&) = delete;

  template <class VT>
  const VT* vt() const { return static_cast<const VT*>(desc_->vtable); }
  void* instance() const { return instance_; }
  const bricks_brick_desc& desc() const { return *desc_; }
  // Makes `other` what this brick's host->wired(other.kind) returns.
  void wire(const HarnessBrick& other);

  struct HostCtx;  // the host API's ctx: wired bricks

 private:
  const bricks_brick_desc* desc_;
  void* instance_;
  std::unique_ptr<HostCtx> ctx_;
  friend std::unique_ptr<HarnessBrick> create_brick(bricks_kind, const std::string&,
                                                    const std::vector<ParamSetting>&);
};

// Makes create_brick look in `files`, in order, instead of the build tree's plugin dir; the
// first file that declares a brick is the one it comes from. Call before any test runs.
void set_plugin_files(std::vector<std::filesystem::path> files);

// Loads `file` (a path, or a file name in the build tree's plugin dir) and calls its entry
// symbol; null if either fails. Never unloaded.
const bricks_plugin_desc* load_plugin(const std::filesystem::path& file);
// Creates brick `name` of `kind` from the first plugin file (see set_plugin_files) that
// declares it, every declared param not in `params` at its default. Fails the current test
// (and returns null) if no file declares it or create fails.
std::unique_ptr<HarnessBrick> create_brick(bricks_kind kind, const std::string& name,
                                           const std::vector<ParamSetting>& params = {});
// The message of an error returned through the boundary; frees it. "" for nullptr.
std::string take_error(bricks_error* err);

inline ParamSetting int_param(const std::string& n, int64_t v) { return {n, {v, 0.0, ""}}; }
inline ParamSetting float_param(const std::string& n, double v) { return {n, {0, v, ""}}; }
inline ParamSetting bool_param(const std::string& n, bool v) { return {n, {v ? 1 : 0, 0.0, ""}}; }
// `v` must outlive the brick's create call (a string literal is fine).
inline ParamSetting string_param(const std::string& n, const char* v) { return {n, {0, 0.0, v}}; }

}  // namespace bricks::testing
