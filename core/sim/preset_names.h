// The names of the sim device's shipped GPU, SSD and model presets, in the order reports
// and help list them. Each name is a file core/sim/presets/{gpus,ssds,models}/<name>.textproto
// built into the library (tests/sim checks that the two agree).
#pragma once

#include <array>
#include <string_view>

namespace bricks::sim {

inline constexpr std::array<std::string_view, 5> kGpuPresetNames = {"a100-80gb", "h100-80gb",
                                                                    "a10g", "l4", "rtx-4090"};

inline constexpr std::array<std::string_view, 3> kSsdPresetNames = {"nvme-gen4", "nvme-gen3",
                                                                    "sata"};

inline constexpr std::array<std::string_view, 9> kModelPresetNames = {
    "llama-2-7b", "llama-2-13b", "llama-2-70b", "mistral-7b", "llama-3-8b",
    "llama-3-70b", "yi-34b",      "opt-13b",     "opt-66b"};

}  // namespace bricks::sim
