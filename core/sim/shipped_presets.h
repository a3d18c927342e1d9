// The presets this project ships (core/sim/presets/<kind>/<name>.textproto), built into
// the library: the files are the one source, and a build step copies their text into a
// generated source (embed_presets.cmake), so that no installed binary reads the source or
// build tree.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/sim_error.h"

namespace bricks::sim {

struct ShippedPreset {
  std::string_view kind;  // the folder: "gpus", "ssds", "models" or "costs"
  std::string_view name;  // the file name without .textproto, e.g. "a100-80gb"
  std::string_view path;  // relative to core/sim/presets/, e.g. "gpus/a100-80gb.textproto"
  std::string_view text;  // the file's text, byte for byte
};

// Every shipped preset, sorted by path.
std::span<const ShippedPreset> shipped_presets();

// The names of the shipped presets of `kind`, sorted.
std::vector<std::string> shipped_preset_names(std::string_view kind);

// The shipped preset of `kind` named `name`, or nullptr.
const ShippedPreset* find_shipped_preset(std::string_view kind, std::string_view name);

// The shipped presets of `kind` named `names`, in that order, each read by
// parse(text, path). Throws SimError for a name whose file is not built in.
template <class Spec, class Names, class Parse>
std::vector<Spec> parse_shipped_presets(std::string_view kind, const Names& names, Parse parse) {
  std::vector<Spec> out;
  for (std::string_view name : names) {
    const ShippedPreset* shipped = find_shipped_preset(kind, name);
    if (shipped == nullptr) {
      throw SimError("the preset " + std::string(kind) + "/" + std::string(name) +
                     " is not built in; add core/sim/presets/" + std::string(kind) + "/" +
                     std::string(name) + ".textproto");
    }
    out.push_back(parse(std::string(shipped->text), std::string(shipped->path)));
  }
  return out;
}

}  // namespace bricks::sim
