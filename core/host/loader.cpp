#include "host/loader.h"

#include <algorithm>
#include <boost/dll/shared_library.hpp>
#include <cstddef>
#include <cstring>
#include <map>
#include <mutex>

#include "host/catalogue.h"
#include "host/host_error.h"
#include "host/kinds.h"

namespace fs = std::filesystem;

namespace bricks::host {
namespace {

// Bounds beyond which a count or size is garbage rather than a real descriptor.
constexpr int32_t kMaxBricks = 4096;
constexpr int32_t kMaxParams = 4096;
constexpr int32_t kMaxCapabilities = 4096;
constexpr uint32_t kMaxStructSize = 1u << 16;

// The fields a plugin descriptor must have for this host to read it.
constexpr uint32_t kMinPluginDescSize = offsetof(bricks_plugin_desc, reserved);
constexpr uint32_t kMinBrickDescSize = offsetof(bricks_brick_desc, reserved);

struct LoadedLibraries {
  std::mutex mutex;
  std::map<fs::path, boost::dll::shared_library> by_path;
};

// Deliberately never destroyed: plugins are not unloaded before exit, and objects they own
// (instances, static data) may be used by other static destructors.
LoadedLibraries& loaded() {
  static auto* libraries = new LoadedLibraries;
  return *libraries;
}

std::string abi_text(uint32_t major, uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

// Boost.DLL's message is "<what> (dlerror system message: <dlerror>): <errno text>", and
// the errno text is stale (often "Bad file descriptor"). Returns just the dlerror text
// without the leading "<file>: ", or the whole message when it has no dlerror part.
std::string dlerror_text(const std::string& what, const std::string& file) {
  const std::string marker = "(dlerror system message: ";
  size_t at = what.find(marker);
  if (at == std::string::npos) return what;
  std::string text = what.substr(at + marker.size());
  // The dlerror text may hold parentheses of its own ("(required by ...)"): cut at the last
  // "): " that Boost.DLL adds, or at a final ')'.
  if (size_t end = text.rfind("): "); end != std::string::npos) {
    text.resize(end);
  } else if (!text.empty() && text.back() == ')') {
    text.pop_back();
  }
  if (text.rfind(file + ": ", 0) == 0) text.erase(0, file.size() + 2);
  return text;
}

// One line saying why the dynamic loader refused `file`, with the loader's own words last.
std::string load_failure(const std::string& what, const std::string& file) {
  const std::string text = dlerror_text(what, file);
  auto has = [&](const char* s) { return text.find(s) != std::string::npos; };
  if (has("invalid ELF header") || has("file too short")) {
    return "not a shared library (" + text + ")";
  }
  if (has("wrong ELF class") || has("ELF file data encoding") || has("ELF file OS ABI")) {
    return "built for another platform (" + text + ")";
  }
  // "<dependency>: cannot open shared object file: ..."; without the name it is this file.
  if (has("cannot open shared object file") && text.rfind("cannot open", 0) != 0) {
    return "a library it needs was not found (" + text +
           "); install it or fix the plugin's RUNPATH";
  }
  if (has("undefined symbol")) {
    return "it uses a symbol nothing provides (" + text + "); rebuild it against this SDK";
  }
  return "cannot load (" + text + ")";
}

void check_strings(const char* const* items, int32_t count, const std::string& where,
                   const char* what) {
  if (count < 0 || count > kMaxCapabilities) {
    throw BrickError(where + ": implausible " + what + " count " + std::to_string(count));
  }
  if (count > 0 && items == nullptr) {
    throw BrickError(where + ": " + what + " count is " + std::to_string(count) +
                     " but the array is NULL");
  }
  for (int32_t i = 0; i < count; ++i) {
    if (items[i] == nullptr) {
      throw BrickError(where + ": " + what + "[" + std::to_string(i) + "] is NULL");
    }
  }
}

void check_param(const bricks_param_spec& p, const std::string& where) {
  if (p.name == nullptr || p.name[0] == '\0') throw BrickError(where + ": a param has no name");
  std::string here = where + ", param '" + p.name + "'";
  if (p.type < BRICKS_PARAM_INT || p.type > BRICKS_PARAM_ENUM) {
    throw BrickError(here + ": unknown type " + std::to_string(static_cast<int>(p.type)));
  }
  if (p.type == BRICKS_PARAM_ENUM) {
    if (p.num_choices <= 0) throw BrickError(here + ": an enum needs at least one choice");
    check_strings(p.choices, p.num_choices, here, "choices");
  }
  if ((p.type == BRICKS_PARAM_INT && p.min_int > p.max_int) ||
      (p.type == BRICKS_PARAM_FLOAT && p.min_float > p.max_float)) {
    throw BrickError(here + ": min is greater than max");
  }
}

void check_brick(const bricks_brick_desc& b, int32_t index, const std::string& file) {
  std::string where = file + ": brick #" + std::to_string(index);
  if (b.struct_size < kMinBrickDescSize || b.struct_size > kMaxStructSize) {
    throw BrickError(where + ": struct_size " + std::to_string(b.struct_size) +
                     " is not a bricks_brick_desc size; rebuild the plugin against this SDK");
  }
  if (b.name == nullptr || b.name[0] == '\0') throw BrickError(where + ": the brick has no name");
  where = file + ": brick '" + b.name + "'";
  const KindInfo* kind = find_kind(b.kind);
  if (kind == nullptr) {
    throw BrickError(where + ": unknown kind " + std::to_string(static_cast<int>(b.kind)));
  }
  where += " (" + std::string(kind->name) + ")";
  if (b.vtable == nullptr) throw BrickError(where + ": vtable is NULL");
  // A vtable past this size is garbage, not a newer minor; reading its slots could fault.
  if (static_cast<const VtableHeader*>(b.vtable)->struct_size > kMaxStructSize) {
    throw BrickError(where + ": implausible vtable struct_size " +
                     std::to_string(static_cast<const VtableHeader*>(b.vtable)->struct_size));
  }
  if (std::string problem = check_vtable(*kind, b.vtable); !problem.empty()) {
    throw BrickError(where + ": " + problem + "; rebuild the plugin against this SDK");
  }
  if (b.num_params < 0 || b.num_params > kMaxParams || (b.num_params > 0 && !b.params)) {
    throw BrickError(where + ": bad params array (count " + std::to_string(b.num_params) + ")");
  }
  for (int32_t i = 0; i < b.num_params; ++i) check_param(b.params[i], where);
  check_strings(b.provides, b.num_provides, where, "provides");
  check_strings(b.requires_, b.num_requires, where, "requires");
}

}  // namespace

void check_plugin_desc(const bricks_plugin_desc* desc, const std::string& file) {
  if (desc == nullptr) throw BrickError(file + ": " BRICKS_ENTRY_SYMBOL " returned NULL");
  // struct_size, abi_major and abi_minor open the struct in every ABI version.
  if (desc->abi_major != BRICKS_ABI_MAJOR) {
    throw BrickError(file + ": plugin ABI " + abi_text(desc->abi_major, desc->abi_minor) +
                     " is not compatible with host ABI " +
                     abi_text(BRICKS_ABI_MAJOR, BRICKS_ABI_MINOR) +
                     " (major versions differ); rebuild the plugin against this SDK");
  }
  if (desc->abi_minor > BRICKS_ABI_MINOR) {
    throw BrickError(file + ": plugin ABI " + abi_text(desc->abi_major, desc->abi_minor) +
                     " is newer than host ABI " + abi_text(BRICKS_ABI_MAJOR, BRICKS_ABI_MINOR) +
                     " (minor version is newer); upgrade the host or rebuild the plugin "
                     "against this SDK");
  }
  if (desc->struct_size < kMinPluginDescSize || desc->struct_size > kMaxStructSize) {
    throw BrickError(file + ": plugin descriptor struct_size " + std::to_string(desc->struct_size) +
                     " is not a bricks_plugin_desc size; rebuild the plugin against this SDK");
  }
  if (desc->name == nullptr || desc->name[0] == '\0') {
    throw BrickError(file + ": the plugin descriptor has no name");
  }
  if (desc->num_bricks < 0 || desc->num_bricks > kMaxBricks ||
      (desc->num_bricks > 0 && desc->bricks == nullptr)) {
    throw BrickError(file + ": bad bricks array (count " + std::to_string(desc->num_bricks) + ")");
  }
  if (desc->num_bricks > 0) {
    uint32_t stride = desc->bricks[0].struct_size;
    for (int32_t i = 0; i < desc->num_bricks; ++i) {
      const auto* raw = reinterpret_cast<const bricks_brick_desc*>(
          reinterpret_cast<const char*>(desc->bricks) + static_cast<size_t>(i) * stride);
      if (i > 0 && raw->struct_size != stride) {
        throw BrickError(file + ": brick descriptors have different struct sizes");
      }
      check_brick(brick_at(*desc, i), i, file);
    }
  }
}

bricks_brick_desc brick_at(const bricks_plugin_desc& plugin, int32_t index) {
  uint32_t stride = plugin.bricks[0].struct_size;
  const char* raw =
      reinterpret_cast<const char*>(plugin.bricks) + static_cast<size_t>(index) * stride;
  bricks_brick_desc out{};
  std::memcpy(&out, raw, std::min<size_t>(stride, sizeof out));
  return out;
}

LoadedPlugin load_plugin(const fs::path& file) {
  std::error_code ec;
  fs::path key = fs::canonical(file, ec);
  if (ec) throw BrickError(file.string() + ": " + ec.message());

  LoadedLibraries& libs = loaded();
  std::lock_guard<std::mutex> lock(libs.mutex);
  auto it = libs.by_path.find(key);
  if (it == libs.by_path.end()) {
    boost::dll::shared_library lib;
    try {
      lib.load(key.string(), boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    } catch (const std::exception& e) {
      throw BrickError(file.string() + ": " + load_failure(e.what(), key.string()));
    }
    it = libs.by_path.emplace(key, std::move(lib)).first;
  }
  if (!it->second.has(BRICKS_ENTRY_SYMBOL)) {
    throw BrickError(file.string() +
                     ": no `" BRICKS_ENTRY_SYMBOL
                     "` symbol, so it is not a brick plugin; build it with BRICKS_PLUGIN(...) "
                     "or export the entry function");
  }
  auto entry = it->second.get<const bricks_plugin_desc*()>(BRICKS_ENTRY_SYMBOL);
  const bricks_plugin_desc* desc = entry();
  check_plugin_desc(desc, file.string());
  return {file, desc};
}

}  // namespace bricks::host
