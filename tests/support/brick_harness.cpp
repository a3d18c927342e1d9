#include "brick_harness.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "host/plugin_paths.h"

namespace bricks::testing {

struct bricks_error_impl {
  bricks_code code;
  std::string message;
};

struct HarnessBrick::HostCtx {
  bricks_host_api api{};
  std::map<bricks_kind, bricks_brick_ref> wired;
};

namespace {

bricks_error* error_new(bricks_code code, const char* message) {
  return reinterpret_cast<bricks_error*>(new bricks_error_impl{code, message ? message : ""});
}

void host_log(void*, bricks_log_level level, const char* message) {
  if (level >= BRICKS_LOG_WARN) std::fprintf(stderr, "[brick] %s\n", message);
}

double host_now(void*) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void* host_alloc(void*, size_t bytes, size_t alignment) {
  return std::aligned_alloc(alignment, (bytes + alignment - 1) / alignment * alignment);
}

void host_free(void*, void* p) { std::free(p); }

const char* error_message(const bricks_error* err) {
  return err != nullptr ? reinterpret_cast<const bricks_error_impl*>(err)->message.c_str() : "";
}

void error_free(bricks_error* err) { delete reinterpret_cast<bricks_error_impl*>(err); }

bricks_brick_ref host_wired(void* ctx, bricks_kind kind) {
  auto* c = static_cast<HarnessBrick::HostCtx*>(ctx);
  auto it = c->wired.find(kind);
  if (it == c->wired.end()) return bricks_brick_ref{kind, nullptr, nullptr};
  return it->second;
}

// Set by set_plugin_files; empty: the build tree's plugin dir.
std::vector<std::filesystem::path>& chosen_plugin_files() {
  static std::vector<std::filesystem::path> files;
  return files;
}

// The build tree's plugins, found from the running program (every test program is in the
// tree's bin/), so no path of the tree is compiled into what links the harness.
std::vector<std::filesystem::path> build_tree_plugin_files() {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(host::plugin_build_dir(), ec)) {
    if (entry.path().extension() == ".so") out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::string take_error(bricks_error* err) {
  if (err == nullptr) return "";
  auto* e = reinterpret_cast<bricks_error_impl*>(err);
  std::string m = e->message;
  delete e;
  return m;
}

HarnessBrick::HarnessBrick(const bricks_brick_desc* desc, void* instance)
    : desc_(desc), instance_(instance) {}

HarnessBrick::~HarnessBrick() {
  if (instance_ != nullptr) {
    // Every vtable starts with struct_size, create, destroy.
    struct Header {
      uint32_t struct_size;
      void* create;
      void (*destroy)(void*);
    };
    static_cast<const Header*>(desc_->vtable)->destroy(instance_);
  }
}

void HarnessBrick::wire(const HarnessBrick& other) {
  ctx_->wired[other.desc().kind] =
      bricks_brick_ref{other.desc().kind, other.desc().vtable, other.instance()};
}

void set_plugin_files(std::vector<std::filesystem::path> files) {
  chosen_plugin_files() = std::move(files);
}

const bricks_plugin_desc* load_plugin(const std::filesystem::path& file) {
  const std::filesystem::path path =
      file.has_parent_path() ? file : host::plugin_build_dir() / file;
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return nullptr;  // never closed: bricks stay loaded until exit
  auto entry = reinterpret_cast<bricks_plugin_entry_fn>(dlsym(handle, BRICKS_ENTRY_SYMBOL));
  return entry != nullptr ? entry() : nullptr;
}

std::unique_ptr<HarnessBrick> create_brick(bricks_kind kind, const std::string& name,
                                           const std::vector<ParamSetting>& params) {
  const std::vector<std::filesystem::path> files =
      chosen_plugin_files().empty() ? build_tree_plugin_files() : chosen_plugin_files();
  for (const std::filesystem::path& file : files) {
    const bricks_plugin_desc* plugin = load_plugin(file);
    if (plugin == nullptr) continue;
    for (int32_t b = 0; b < plugin->num_bricks; ++b) {
      const bricks_brick_desc& d = plugin->bricks[b];
      if (d.kind != kind || name != d.name) continue;
      std::vector<bricks_param_value> values;
      for (int32_t p = 0; p < d.num_params; ++p) {
        const bricks_param_spec& spec = d.params[p];
        bricks_param_value v{spec.name, spec.type, spec.default_value};
        for (const ParamSetting& s : params) {
          if (s.name == spec.name) v.value = s.value;
        }
        values.push_back(v);
      }
      for (const ParamSetting& s : params) {
        bool known = false;
        for (const auto& v : values) known = known || s.name == v.name;
        if (!known) ADD_FAILURE() << "brick " << name << " has no param " << s.name;
      }
      auto ctx = std::make_unique<HarnessBrick::HostCtx>();
      ctx->api = bricks_host_api{sizeof(bricks_host_api), ctx.get(), &host_log, &host_now,
                                 &host_alloc, &host_free, &error_new, &host_wired, &error_message,
                                 &error_free, {}};
      struct Header {
        uint32_t struct_size;
        bricks_error* (*create)(const bricks_host_api*, const bricks_param_value*, int32_t,
                                void**);
      };
      void* instance = nullptr;
      std::string err = take_error(static_cast<const Header*>(d.vtable)->create(
          &ctx->api, values.data(), static_cast<int32_t>(values.size()), &instance));
      if (!err.empty()) {
        ADD_FAILURE() << "create " << name << " failed: " << err;
        return nullptr;
      }
      auto brick = std::make_unique<HarnessBrick>(&d, instance);
      brick->ctx_ = std::move(ctx);
      return brick;
    }
  }
  std::string searched;
  for (const std::filesystem::path& file : files) searched += " " + file.string();
  ADD_FAILURE() << "no " << name << " brick of kind " << kind << " in" << searched;
  return nullptr;
}

}  // namespace bricks::testing
