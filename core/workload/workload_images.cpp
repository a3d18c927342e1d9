#include "workload/workload_images.h"

#include <memory>
#include <string>

namespace bricks::engine {

void attach_images(std::vector<RequestSpec>& specs, const bricks::manifest::Images& images,
                   const std::filesystem::path& base_dir, int32_t hidden, float embed_rms) {
  const int32_t gw = images.grid_w();
  const int32_t gh = images.grid_h();
  if (gw < 1 || gh < 1) {
    throw ImageError("workload.images: grid_w and grid_h must be >= 1 (LLaVA-1.5: 24 x 24)");
  }
  const double fraction = images.fraction() > 0 ? images.fraction() : 1.0;
  const double scale = images.scale() > 0 ? images.scale() : 1.0;
  std::vector<std::shared_ptr<const std::vector<float>>> files;
  for (const std::string& f : images.files()) {
    std::filesystem::path path = f;
    if (path.is_relative()) path = base_dir / path;
    int32_t rows = 0;
    auto data = std::make_shared<std::vector<float>>(load_image_embeddings(path, hidden, &rows));
    if (rows != gw * gh) {
      throw ImageError(path.string() + ": holds " + std::to_string(rows) +
                       " patch rows but workload.images asks for " + std::to_string(gw) + " x " +
                       std::to_string(gh) + " = " + std::to_string(gw * gh));
    }
    files.push_back(std::move(data));
  }
  // Every request whose index falls on the fraction's stride gets an image, so the choice
  // is even over the workload and deterministic.
  double credit = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    credit += fraction;
    if (credit < 1.0 - 1e-9) continue;
    credit -= 1.0;
    ImageInput im;
    im.grid_w = gw;
    im.grid_h = gh;
    if (!files.empty()) {
      im.embeddings = files[i % files.size()];
    } else {
      im.embeddings = std::make_shared<const std::vector<float>>(generate_image_embeddings(
          gw, gh, hidden, static_cast<float>(embed_rms * scale), images.seed() * 1000003u + i));
    }
    place_image(specs[i], images.text_before(), std::move(im), hidden);
  }
}

}  // namespace bricks::engine
