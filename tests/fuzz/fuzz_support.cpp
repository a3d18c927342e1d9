#include "fuzz_support.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "make_model_internal.h"
#include "scratch_dir.h"

namespace bricks::fuzz {

const model::Tokenizer& builtin_tokenizer() {
  // The vocabulary and flags make_model writes into a builtin model's GGUF file.
  static const std::unique_ptr<model::Tokenizer> tok = [] {
    const model::TrainedVocab v = model::train_vocab(model::training_text(), 4096);
    model::SpmVocab s;
    s.tokens = v.tokens;
    s.scores = v.scores;
    s.types = v.types;
    s.unk = 0;
    s.bos = 1;
    s.eos = 2;
    s.add_space_prefix = true;
    s.add_bos = true;
    return model::make_spm_tokenizer(std::move(s), "builtin");
  }();
  return *tok;
}

void write_file(const std::filesystem::path& dir, const std::string& name, std::string_view bytes) {
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "fuzz: cannot write %s\n", (dir / name).c_str());
    std::abort();
  }
}

std::filesystem::path write_scratch_file(const std::string& name, std::string_view bytes) {
  const std::filesystem::path& dir = bricks::testing::scratch_dir("bricks-fuzz");
  write_file(dir, name, bytes);
  return dir / name;
}

void write_seeds_if_asked(const std::function<void(const std::filesystem::path& dir)>& write) {
  const char* dir = std::getenv("BRICKS_FUZZ_WRITE_SEEDS");
  if (dir == nullptr || *dir == '\0') return;
  std::filesystem::create_directories(dir);
  write(dir);
  std::exit(0);
}

}  // namespace bricks::fuzz
