#include "bricks/model/model_overlay.h"

#include <cstring>

#include "bricks/model/gguf.h"

namespace bricks::model {
namespace {

// The source model's tokenizer, shared: a Model owns its tokenizer, the overlay keeps the
// source alive and forwards to it.
class ForwardingTokenizer final : public Tokenizer {
 public:
  ForwardingTokenizer(std::shared_ptr<const Model> owner, const Tokenizer& inner)
      : owner_(std::move(owner)), inner_(inner) {}
  std::vector<int32_t> encode(std::string_view text, bool add_bos) const override {
    return inner_.encode(text, add_bos);
  }
  std::string decode(std::span<const int32_t> ids) const override { return inner_.decode(ids); }
  std::string piece(int32_t id) const override { return inner_.piece(id); }
  int32_t bos() const override { return inner_.bos(); }
  int32_t eos() const override { return inner_.eos(); }
  int32_t vocab_size() const override { return inner_.vocab_size(); }
  const std::string& token_text(int32_t id) const override { return inner_.token_text(id); }

 private:
  std::shared_ptr<const Model> owner_;
  const Tokenizer& inner_;
};

}  // namespace

OverlayModel::OverlayModel(std::shared_ptr<const Model> source,
                           std::map<std::string, std::vector<unsigned char>> replacements,
                           std::filesystem::path path)
    : source_(std::move(source)), owned_(std::move(replacements)) {
  path_ = std::move(path);
  config_ = source_->config();
  chat_template_ = source_->chat_template();
  tensors_ = source_->tensors();
  index_tensors();
  for (auto& [name, bytes] : owned_) {
    auto it = index_.find(name);
    if (it == index_.end()) {
      throw ModelError(path_.string() + ": replacement for '" + name + "', which " +
                       source_->path().string() + " does not have");
    }
    TensorView& t = tensors_[it->second];
    if (bytes.size() != t.nbytes) {
      throw ModelError(path_.string() + ": replacement for '" + name + "' has " +
                       std::to_string(bytes.size()) + " bytes, the tensor " +
                       std::to_string(t.nbytes));
    }
    t.data = bytes.data();
    t.file = nullptr;
  }
  validate();
  if (source_->has_tokenizer()) {
    tokenizer_ = std::make_unique<ForwardingTokenizer>(source_, source_->tokenizer());
  }
}

OverlayModel::~OverlayModel() {
  tokenizer_.reset();  // it holds a reference into source_
}

std::vector<unsigned char> encode_f32(DType dtype, const std::vector<float>& values) {
  if (!row_fits(dtype, static_cast<int64_t>(values.size()))) {
    throw ModelError(std::string(dtype_name(dtype)) + " needs a multiple of " +
                     std::to_string(dtype_block(dtype).values) + " values, got " +
                     std::to_string(values.size()));
  }
  std::vector<unsigned char> out(dtype_bytes(dtype, static_cast<int64_t>(values.size())).value());
  from_f32(dtype, values, std::as_writable_bytes(std::span(out)));
  return out;
}

void write_model_gguf(const Model& m, const std::filesystem::path& metadata_from,
                      const std::filesystem::path& out) {
  std::unique_ptr<GgufFile> meta;
  try {
    meta = GgufFile::open(metadata_from);
  } catch (const ModelError& e) {
    throw ModelError(metadata_from.string() +
                     ": the GGUF metadata (tokenizer, llama.* keys) is "
                     "taken from the first checkpoint, which must be a GGUF file (" +
                     e.what() + ")");
  }
  GgufWriter w(meta->alignment());
  for (const auto& [key, value] : meta->metadata()) w.set(key, value);
  for (const TensorView& t : m.tensors()) w.add_tensor(t.name, t.dtype, t.ne);
  w.write_atomically(out, [&](size_t i, const GgufWriter::Sink& sink) {
    const TensorView& t = m.tensors()[i];
    sink(t.data, t.nbytes);
  });
}

}  // namespace bricks::model
