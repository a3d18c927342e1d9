// The chat template families a manifest's model.chat_template may name. bricks_serve renders
// them (serve/chat_template.h); the list lives here so that the manifest validator can check
// the name without depending on the server library.
#pragma once

#include <string>
#include <vector>

namespace bricks::manifest {

// chatml, llama-2, llama-3, mistral, zephyr, gemma: the order `bricks validate` lists them in.
inline const std::vector<std::string>& chat_template_names() {
  static const std::vector<std::string> names = {"chatml",  "llama-2", "llama-3",
                                                 "mistral", "zephyr",  "gemma"};
  return names;
}

}  // namespace bricks::manifest
