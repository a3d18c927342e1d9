#include "engine/image_input.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <string>

#include "cpu/cpu.h"

namespace bricks::engine {

namespace {

uint64_t mix64(uint64_t x) {  // splitmix64's finaliser
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ImageError(file.string() + ": cannot open the image embeddings file");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<float> check_shape(const std::filesystem::path& file, const char* data, size_t bytes,
                               int64_t rows, int64_t cols, int32_t hidden, int32_t* out_rows) {
  if (cols != hidden) {
    throw ImageError(file.string() + ": embeddings are " + std::to_string(rows) + " x " +
                     std::to_string(cols) + " but the model's hidden width is " +
                     std::to_string(hidden) + "; project them to the model first");
  }
  if (rows < 1 || static_cast<size_t>(rows * cols) * 4 > bytes) {
    throw ImageError(file.string() + ": the file holds fewer bytes than its " +
                     std::to_string(rows) + " x " + std::to_string(cols) + " f32 shape");
  }
  std::vector<float> out(static_cast<size_t>(rows * cols));
  std::memcpy(out.data(), data, out.size() * 4);
  for (float v : out) {
    if (!std::isfinite(v)) throw ImageError(file.string() + ": holds a NaN or infinite value");
  }
  *out_rows = static_cast<int32_t>(rows);
  return out;
}

// NumPy's format: magic, version, header length, a Python dict literal, the data.
std::vector<float> load_npy(const std::filesystem::path& file, int32_t hidden, int32_t* rows) {
  const std::string s = read_file(file);
  if (s.size() < 10 || s.compare(0, 6, "\x93NUMPY") != 0) {
    throw ImageError(file.string() + ": not a .npy file (bad magic)");
  }
  const int major = static_cast<unsigned char>(s[6]);
  size_t header_len = 0;
  size_t start = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(s[8]) | (static_cast<unsigned char>(s[9]) << 8);
    start = 10;
  } else {
    if (s.size() < 12) throw ImageError(file.string() + ": truncated .npy header");
    for (int i = 0; i < 4; ++i)
      header_len |= static_cast<size_t>(static_cast<unsigned char>(s[8 + i])) << (8 * i);
    start = 12;
  }
  if (start + header_len > s.size()) throw ImageError(file.string() + ": truncated .npy header");
  const std::string header = s.substr(start, header_len);
  if (header.find("'<f4'") == std::string::npos) {
    throw ImageError(file.string() + ": .npy dtype must be little-endian float32 ('<f4')");
  }
  if (header.find("'fortran_order': False") == std::string::npos) {
    throw ImageError(file.string() + ": .npy must be C order (fortran_order False)");
  }
  const size_t open = header.find('(');
  const size_t close = header.find(')', open == std::string::npos ? 0 : open);
  if (open == std::string::npos || close == std::string::npos) {
    throw ImageError(file.string() + ": .npy header has no shape");
  }
  std::vector<int64_t> dims;
  std::string shape = header.substr(open + 1, close - open - 1);
  for (size_t p = 0; p < shape.size();) {
    const size_t q = std::min(shape.find(',', p), shape.size());
    const std::string part = shape.substr(p, q - p);
    if (part.find_first_not_of(" ") != std::string::npos) dims.push_back(std::stoll(part));
    p = q + 1;
  }
  if (dims.size() != 2) {
    throw ImageError(file.string() + ": .npy shape must be [patches][hidden], got " +
                     std::to_string(dims.size()) + " dimensions");
  }
  const size_t data = start + header_len;
  return check_shape(file, s.data() + data, s.size() - data, dims[0], dims[1], hidden, rows);
}

// safetensors: u64 header length, a JSON header, the data; one F32 tensor expected.
std::vector<float> load_safetensors(const std::filesystem::path& file, int32_t hidden,
                                    int32_t* rows) {
  const std::string s = read_file(file);
  if (s.size() < 8) throw ImageError(file.string() + ": truncated safetensors file");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= static_cast<uint64_t>(static_cast<unsigned char>(s[i])) << (8 * i);
  if (n > s.size() - 8) throw ImageError(file.string() + ": truncated safetensors header");
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(s.substr(8, n));
  } catch (const std::exception& e) {
    throw ImageError(file.string() + ": bad safetensors header: " + e.what());
  }
  const nlohmann::json* tensor = nullptr;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    if (tensor != nullptr) {
      throw ImageError(file.string() + ": holds several tensors; give a file with one");
    }
    tensor = &it.value();
  }
  if (tensor == nullptr) throw ImageError(file.string() + ": holds no tensor");
  if (tensor->value("dtype", "") != "F32") {
    throw ImageError(file.string() + ": the tensor must be F32");
  }
  const auto shape = tensor->at("shape").get<std::vector<int64_t>>();
  const auto offsets = tensor->at("data_offsets").get<std::vector<uint64_t>>();
  if (shape.size() != 2 || offsets.size() != 2 || offsets[0] > offsets[1] ||
      8 + n + offsets[1] > s.size()) {
    throw ImageError(file.string() + ": the tensor must be [patches][hidden] inside the file");
  }
  const char* data = s.data() + 8 + n + offsets[0];
  return check_shape(file, data, offsets[1] - offsets[0], shape[0], shape[1], hidden, rows);
}

}  // namespace

uint64_t image_hash(const ImageInput& image) {
  uint64_t h =
      mix64(static_cast<uint64_t>(image.grid_w) << 32 | static_cast<uint32_t>(image.grid_h));
  if (image.embeddings) {
    for (float v : *image.embeddings) {
      uint32_t bits = 0;
      std::memcpy(&bits, &v, 4);
      h = mix64(h ^ bits);
    }
  }
  return h;
}

int32_t image_placeholder_id(uint64_t hash, int32_t index) {
  const uint64_t m = mix64(hash ^ (static_cast<uint64_t>(index) * 0xD6E8FEB86659FD93ull));
  return -1 - static_cast<int32_t>(m & 0x7FFFFFFFull);
}

void place_image(RequestSpec& spec, int32_t at, ImageInput image, int32_t hidden) {
  const int32_t n = image.num_patches();
  if (image.grid_w < 1 || image.grid_h < 1) {
    throw ImageError("an image needs a grid of at least 1 x 1 patches");
  }
  if (!image.embeddings ||
      image.embeddings->size() != static_cast<size_t>(n) * static_cast<size_t>(hidden)) {
    throw ImageError("an image of " + std::to_string(image.grid_w) + " x " +
                     std::to_string(image.grid_h) + " patches needs " + std::to_string(n) + " x " +
                     std::to_string(hidden) + " embedding values");
  }
  at = std::clamp<int32_t>(at, 0, static_cast<int32_t>(spec.prompt.size()));
  const uint64_t h = image_hash(image);
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) ids[static_cast<size_t>(i)] = image_placeholder_id(h, i);
  spec.prompt.insert(spec.prompt.begin() + at, ids.begin(), ids.end());
  for (ImageInput& other : spec.images) {
    if (other.offset >= at) other.offset += n;
  }
  image.offset = at;
  auto pos = std::upper_bound(spec.images.begin(), spec.images.end(), at,
                              [](int32_t a, const ImageInput& b) { return a < b.offset; });
  spec.images.insert(pos, std::move(image));
}

std::string check_images(const RequestSpec& spec, int32_t hidden) {
  int32_t end = 0;
  const auto len = static_cast<int32_t>(spec.prompt.size());
  for (size_t i = 0; i < spec.images.size(); ++i) {
    const ImageInput& im = spec.images[i];
    const std::string which = "image " + std::to_string(i);
    if (im.grid_w < 1 || im.grid_h < 1) return which + " has an empty patch grid";
    if (im.offset < end || im.end() > len) {
      return which + " at prompt positions [" + std::to_string(im.offset) + ", " +
             std::to_string(im.end()) + ") overlaps another image or leaves the prompt of " +
             std::to_string(len) + " tokens; place images with place_image";
    }
    if (!im.embeddings || im.embeddings->size() != static_cast<size_t>(im.num_patches()) * hidden) {
      return which + " does not hold " + std::to_string(im.num_patches()) + " x " +
             std::to_string(hidden) + " embedding values";
    }
    const uint64_t h = image_hash(im);
    for (int32_t p = 0; p < im.num_patches(); ++p) {
      if (spec.prompt[static_cast<size_t>(im.offset + p)] != image_placeholder_id(h, p)) {
        return which + ": prompt position " + std::to_string(im.offset + p) +
               " does not hold the image's placeholder id; place images with place_image";
      }
    }
    end = im.end();
  }
  return {};
}

const float* image_row(const RequestSpec& r, int32_t pos, int32_t hidden) {
  auto it = std::upper_bound(r.images.begin(), r.images.end(), pos,
                             [](int32_t p, const ImageInput& im) { return p < im.offset; });
  if (it == r.images.begin()) return nullptr;
  --it;
  if (pos >= it->end()) return nullptr;
  return it->embeddings->data() + static_cast<size_t>(pos - it->offset) * hidden;
}

std::vector<float> load_image_embeddings(const std::filesystem::path& file, int32_t hidden,
                                         int32_t* rows) {
  const std::string ext = file.extension().string();
  if (ext == ".npy") return load_npy(file, hidden, rows);
  if (ext == ".safetensors") return load_safetensors(file, hidden, rows);
  throw ImageError(file.string() + ": image embeddings must be a .npy or .safetensors file");
}

std::vector<float> generate_image_embeddings(int32_t grid_w, int32_t grid_h, int32_t hidden,
                                             float rms, uint64_t seed) {
  std::mt19937_64 rng(mix64(seed));
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  constexpr int kBlobs = 4;
  std::vector<float> dirs(static_cast<size_t>(kBlobs) * hidden);
  for (float& v : dirs) v = normal(rng);
  float cx[kBlobs], cy[kBlobs], radius[kBlobs];
  for (int k = 0; k < kBlobs; ++k) {
    cx[k] = unit(rng) * static_cast<float>(grid_w);
    cy[k] = unit(rng) * static_cast<float>(grid_h);
    radius[k] = (0.15f + 0.25f * unit(rng)) * static_cast<float>(std::max(grid_w, grid_h));
  }
  const int64_t n = static_cast<int64_t>(grid_w) * grid_h;
  std::vector<float> out(static_cast<size_t>(n * hidden));
  for (int64_t p = 0; p < n; ++p) {
    const auto x = static_cast<float>(p % grid_w) + 0.5f;
    const auto y = static_cast<float>(p / grid_w) + 0.5f;
    float* row = out.data() + p * hidden;
    for (int32_t j = 0; j < hidden; ++j) row[j] = 0.3f * normal(rng);
    for (int k = 0; k < kBlobs; ++k) {
      const float d2 =
          ((x - cx[k]) * (x - cx[k]) + (y - cy[k]) * (y - cy[k])) / (radius[k] * radius[k]);
      const float w = std::exp(-d2);
      const float* dir = dirs.data() + static_cast<size_t>(k) * hidden;
      for (int32_t j = 0; j < hidden; ++j) row[j] += w * dir[j];
    }
    double ss = 0;
    for (int32_t j = 0; j < hidden; ++j) ss += static_cast<double>(row[j]) * row[j];
    const auto scale = static_cast<float>(rms / std::sqrt(ss / hidden + 1e-12));
    for (int32_t j = 0; j < hidden; ++j) row[j] *= scale;
  }
  return out;
}

float token_embedding_rms(const LlamaWeights& weights, int32_t sample_rows) {
  const int64_t vocab = weights.token_embd.rows;
  const int64_t d = weights.token_embd.cols;
  const int64_t n = std::max<int64_t>(1, std::min<int64_t>(sample_rows, vocab));
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) ids[static_cast<size_t>(i)] = static_cast<int32_t>(i * vocab / n);
  std::vector<float> rows(static_cast<size_t>(n * d));
  cpu::embed_rows(weights.token_embd, ids.data(), n, rows.data());
  double ss = 0;
  for (float v : rows) ss += static_cast<double>(v) * v;
  return static_cast<float>(std::sqrt(ss / static_cast<double>(rows.size())));
}

}  // namespace bricks::engine
