// The registry: what the scan found, and creating brick instances in this process.
//
// Typical use (the engine):
//   Registry registry({plugin_search_path(manifest_paths), pins});
//   auto kv = registry.create(BRICKS_KIND_KV, "paged", {{"block_size", int_value(16)}});
//   auto sched = registry.create(BRICKS_KIND_SCHEDULER, "fcfs", {});
//   sched->wire(kv.get());
//   sched->vtable<bricks_scheduler_vtable>()->schedule(sched->instance(), &in, &plan);
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bricks/abi.h"
#include "host/catalogue.h"
#include "host/did_you_mean.h"
#include "host/host_error.h"
#include "host/params.h"
#include "host/plugin_paths.h"

namespace bricks::host {

class HostContext;
struct ClockSource;

// Owns one created brick instance and its host API; destroying it calls the vtable's
// destroy. A brick wired to another must be destroyed before the one it is wired to.
// Used by one thread at a time.
class BrickInstance {
 public:
  ~BrickInstance();
  BrickInstance(const BrickInstance&) = delete;
  BrickInstance& operator=(const BrickInstance&) = delete;

  const BrickInfo& info() const { return info_; }
  bricks_kind kind() const { return info_.kind; }
  // The kind's vtable, e.g. vtable<bricks_kv_vtable>(). The caller picks the type that
  // matches kind(); vtable_size() tells how much of it the plugin filled (older minor ABIs
  // have shorter vtables: slots past it must not be read).
  template <class VT>
  const VT* vtable() const {
    return static_cast<const VT*>(vtable_);
  }
  uint32_t vtable_size() const;
  void* instance() const { return instance_; }
  // The host API this instance was created with.
  const bricks_host_api* host_api() const;
  // Makes `other` visible to this brick through host->wired(other->kind()); the first
  // brick wired of each kind is the one returned. Throws BrickError for nullptr.
  void wire(const BrickInstance* other);

 private:
  friend class Registry;
  BrickInstance(BrickInfo info, const void* vtable, std::unique_ptr<HostContext> host);

  BrickInfo info_;
  const void* vtable_;
  std::unique_ptr<HostContext> host_;
  void* instance_ = nullptr;
};

// Scans plugins at construction (in child processes unless options say otherwise) and loads
// a plugin into this process the first time one of its bricks is created. Plugins are
// never unloaded. create() may be called from several threads; set_clock may not run
// concurrently with anything else.
class Registry {
 public:
  explicit Registry(const LoadOptions& options);
  // A registry over an existing scan (e.g. one shared by several engines).
  explicit Registry(Catalogue catalogue);
  ~Registry();

  // Every brick found, and the broken plugins with their reasons.
  const Catalogue& catalogue() const { return catalogue_; }
  // The brick's info. Throws BrickError for an unknown brick, with a did-you-mean and,
  // if some plugin files are broken, a pointer to `bricks list`.
  const BrickInfo& find(bricks_kind kind, const std::string& name) const;

  // Creates brick `name` of `kind` with `params` (validated and completed with defaults).
  // Throws BrickError naming the brick and the param for an unknown brick, unknown,
  // missing, mistyped or out-of-range param, a plugin that no longer loads, or an error
  // returned by the brick's create ("scheduler 'x': create failed: <brick's message>").
  std::unique_ptr<BrickInstance> create(bricks_kind kind, const std::string& name,
                                        const ParamMap& params) const;

  // The clock instances of this registry read through host->now_s; the default is the
  // steady clock. Applies to instances already created too.
  void set_clock(std::function<double()> now_s);

 private:
  Catalogue catalogue_;
  std::shared_ptr<ClockSource> clock_;
};

}  // namespace bricks::host
