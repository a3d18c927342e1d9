// workload.images: the patch grid, the share of requests, the files, the placement.
#include "validate_checker.h"

namespace bricks::manifest {

void check_images(Checker& c, const Workload& w) {
  if (!w.has_images()) return;
  const Images& im = w.images();
  const std::string p = "workload.images.";
  c.at_least<int32_t>(p + "grid_w", im.grid_w(), 1, "give the patch grid, e.g. 24 x 24");
  c.at_least<int32_t>(p + "grid_h", im.grid_h(), 1, "give the patch grid, e.g. 24 x 24");
  if (!(im.fraction() >= 0.0 && im.fraction() <= 1.0)) {
    c.error(p + "fraction", p + "fraction is " + show(im.fraction()) + ", outside [0, 1]",
            "give the share of requests with an image (0 = all)");
  }
  c.at_least<double>(p + "scale", im.scale(), 0.0, "give 0 (or 1) for the token embeddings' RMS");
  c.at_least<int32_t>(p + "text_before", im.text_before(), 0,
                      "give the number of prompt tokens before the image");
  for (int i = 0; i < im.files_size(); ++i) {
    const std::string path = p + "files[" + std::to_string(i) + "]";
    const std::string& f = im.files(i);
    const bool npy = f.size() > 4 && f.compare(f.size() - 4, 4, ".npy") == 0;
    const bool st = f.size() > 12 && f.compare(f.size() - 12, 12, ".safetensors") == 0;
    if (!npy && !st) {
      c.error(path, "image embeddings '" + f + "' are neither .npy nor .safetensors",
              "give float32 [patches][hidden] as a .npy or .safetensors file");
    }
    c.exists(path, f, "image embeddings file", false);
  }
  if (im.files_size() > 0 && (im.seed() != 0 || im.scale() != 0)) {
    c.warning(p + "files",
              "seed and scale only shape generated embeddings; files are used as "
              "they are",
              "drop seed and scale, or the files");
  }
}

}  // namespace bricks::manifest
