#include "host/registry.h"

#include "host/host_api.h"
#include "host/loader.h"
#include "host/scanner.h"

namespace bricks::host {

BrickInstance::BrickInstance(BrickInfo info, const void* vtable, std::unique_ptr<HostContext> host)
    : info_(std::move(info)), vtable_(vtable), host_(std::move(host)) {}

BrickInstance::~BrickInstance() {
  if (instance_ != nullptr) static_cast<const VtableHeader*>(vtable_)->destroy(instance_);
}

uint32_t BrickInstance::vtable_size() const {
  return static_cast<const VtableHeader*>(vtable_)->struct_size;
}

const bricks_host_api* BrickInstance::host_api() const { return host_->api(); }

void BrickInstance::wire(const BrickInstance* other) {
  if (other == nullptr) throw BrickError(brick_label(info_) + ": cannot wire to a null brick");
  host_->wire(bricks_brick_ref{other->kind(), other->vtable_, other->instance_});
}

Registry::Registry(const LoadOptions& options) : Registry(scan_plugins(options)) {}

Registry::Registry(Catalogue catalogue)
    : catalogue_(std::move(catalogue)),
      clock_(std::make_shared<ClockSource>(ClockSource{&steady_now_s})) {}

Registry::~Registry() = default;

const BrickInfo& Registry::find(bricks_kind kind, const std::string& name) const {
  if (const BrickInfo* b = catalogue_.find(kind, name)) return *b;
  std::vector<std::string> names;
  for (const BrickInfo* b : catalogue_.of_kind(kind)) names.push_back(b->name);
  std::string message = std::string("unknown ") + kind_name(kind) + " '" + name + "'" +
                        did_you_mean_suffix(name, names);
  for (const BrickInfo& b : catalogue_.bricks) {
    if (b.name == name) {
      message += std::string("; there is a ") + kind_name(b.kind) + " of that name";
      break;
    }
  }
  if (names.empty()) {
    message += std::string("; no ") + kind_name(kind) + " bricks were found";
  } else if (!closest_match(name, names)) {
    std::string known;
    for (const std::string& n : names) known += (known.empty() ? "'" : ", '") + n + "'";
    message += std::string("; known ") + kind_name(kind) + " bricks: " + known;
  }
  if (!catalogue_.broken.empty()) {
    message += "; " + std::to_string(catalogue_.broken.size()) +
               " plugin file(s) could not be loaded, run `bricks list` to see why";
  }
  throw BrickError(message);
}

std::unique_ptr<BrickInstance> Registry::create(bricks_kind kind, const std::string& name,
                                                const ParamMap& params) const {
  const BrickInfo& info = find(kind, name);
  const std::string label = brick_label(info);
  ResolvedParams resolved;
  resolve_params(info, params, resolved);

  LoadedPlugin plugin = load_plugin(info.file);
  const void* vtable = nullptr;
  for (int32_t i = 0; i < plugin.desc->num_bricks; ++i) {
    bricks_brick_desc d = brick_at(*plugin.desc, i);
    if (d.kind == kind && name == d.name) vtable = d.vtable;
  }
  if (vtable == nullptr) {
    throw BrickError(info.file + ": no longer declares " + label +
                     "; the file changed after it was scanned");
  }

  auto host = std::make_unique<HostContext>(info.name, clock_);
  std::unique_ptr<BrickInstance> brick(new BrickInstance(info, vtable, std::move(host)));
  void* instance = nullptr;
  bricks_error* err = static_cast<const VtableHeader*>(vtable)->create(
      brick->host_api(), resolved.data(), resolved.size(), &instance);
  check(err, label + ": create failed");
  brick->instance_ = instance;
  return brick;
}

void Registry::set_clock(std::function<double()> now_s) {
  clock_->now_s = now_s ? std::move(now_s) : std::function<double()>(&steady_now_s);
}

}  // namespace bricks::host
