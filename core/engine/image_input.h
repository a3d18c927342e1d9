// Image inputs: blocks of precomputed embeddings placed among a request's prompt tokens.
//
// There is no vision encoder here. A LLaVA model turns an image into CLIP patch features
// (24 x 24 patches of 1024 floats at 336 px) and its projector, a 2-layer MLP
// (Linear 1024 -> hidden, GELU, Linear hidden -> hidden), maps them into the language
// model's embedding space; what this file handles is that projector's output: one row of
// `hidden` floats per patch, from a file or generated.
//
// Placeholder ids. The kv bricks hash token ids to share prefix-cache blocks, so each patch
// position needs an id, and two different images must never share a block. The ids are
// negative, so no text token (always in [0, vocab)) equals one, and each is 31 bits of a
// mix of a 64-bit hash of the image's embeddings and grid with the patch index: two images
// give equal ids on a block's patches only if their content hashes collide (or, for a block
// holding k of their patches, 31 * k mixed bits all agree by chance); and because block
// hashes chain, every later block of the prompt differs too. The same image gives the
// same ids, so its KV is shared exactly when it may be. The forward pass reads the
// embedding rows at image positions and never looks these ids up in the vocabulary.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <vector>

#include "engine/llama_weights.h"
#include "engine/request.h"

namespace bricks::engine {

class ImageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The 64-bit content hash of an image (grid and embedding bits).
uint64_t image_hash(const ImageInput& image);
// The placeholder id of patch `index` of an image with content hash `hash` (negative).
int32_t image_placeholder_id(uint64_t hash, int32_t index);

// Inserts `image` into `spec.prompt` before token `at` (clamped to the prompt's length):
// its placeholder ids go in, later images move back, and image.offset is set. Throws
// ImageError when the image has no patches or its embeddings are not
// [grid_w * grid_h][hidden].
void place_image(RequestSpec& spec, int32_t at, ImageInput image, int32_t hidden);

// The problem with `spec`'s images for a model of `hidden` width, or "" when they are
// sound: ascending, inside the prompt, not overlapping, rows of `hidden` floats, and the
// prompt holding exactly their placeholder ids.
std::string check_images(const RequestSpec& spec, int32_t hidden);

// The embedding row for prompt position `pos` of `r`, or nullptr for a text position.
const float* image_row(const RequestSpec& r, int32_t pos, int32_t hidden);

// Reads an image's embeddings: a .npy file of float32 [n][hidden] (little-endian, C
// order) or a .safetensors file with one F32 tensor [n][hidden]. Throws ImageError naming
// the file and the problem.
std::vector<float> load_image_embeddings(const std::filesystem::path& file, int32_t hidden,
                                         int32_t* rows);

// Generated embeddings for a grid_w x grid_h image: a few smooth blobs of random
// directions over the grid plus noise, so neighbouring patches are alike (as real image
// patches are), every row scaled to root-mean-square `rms` (the token embeddings' RMS
// makes them look like inputs the model is used to). Deterministic in `seed`.
std::vector<float> generate_image_embeddings(int32_t grid_w, int32_t grid_h, int32_t hidden,
                                             float rms, uint64_t seed);

// The root-mean-square of the model's token embeddings (over up to `sample_rows` rows
// spread over the vocabulary): the scale generated image rows take.
float token_embedding_rms(const LlamaWeights& weights, int32_t sample_rows = 256);

}  // namespace bricks::engine
