// The names of the sim device's GPU and model presets, header-only so that manifest
// validation can offer them without linking the cost model. gpu_presets.cpp and
// model_presets.cpp define one preset for each name here, in this order (tests/sim checks).
#pragma once

#include <array>
#include <string_view>

namespace bricks::sim {

inline constexpr std::array<std::string_view, 4> kGpuPresetNames = {"a100-80gb", "h100-80gb",
                                                                    "a10g", "l4"};

inline constexpr std::array<std::string_view, 8> kModelPresetNames = {
    "llama-2-7b", "llama-2-13b", "llama-2-70b", "mistral-7b",
    "llama-3-8b", "llama-3-70b", "yi-34b",      "opt-13b"};

}  // namespace bricks::sim
