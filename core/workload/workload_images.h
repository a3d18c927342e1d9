// The manifest's workload.images on generated or traced requests (image_input.h has the
// image inputs themselves).
#pragma once

#include <filesystem>
#include <vector>

#include "engine/image_input.h"
#include "manifest.pb.h"

namespace bricks::engine {

// Applies the manifest's `workload.images` to generated or traced requests: each chosen
// request gets one image inserted after `text_before` prompt tokens. `embed_rms` scales
// generated embeddings; `base_dir` resolves files. Throws ImageError.
void attach_images(std::vector<RequestSpec>& specs, const bricks::manifest::Images& images,
                   const std::filesystem::path& base_dir, int32_t hidden, float embed_rms);

}  // namespace bricks::engine
