// Bricks' encoders write the bytes llama.cpp's quantizer writes. tests/data/peer/
// micro-mixed.gguf holds the `micro` preset (f16, seed 0) with every matrix quantized by
// llama.cpp's llama-quantize, one block type per matrix (its output matrix was scaled first,
// so it is left out here); each other matrix encoded by from_f32 must equal it byte for byte.
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <vector>

#include "bricks/model/gguf.h"
#include "bricks/model/model.h"
#include "test_files.h"

namespace bricks::model {
namespace {

TEST(QuantizePeerBytes, EveryBlockTypeMatchesLlamaQuantize) {
  const auto peer = GgufFile::open(BRICKS_SOURCE_DIR "/tests/data/peer/micro-mixed.gguf");
  const auto dir = testing::temp_dir();
  MakeModelOptions o{"micro", DType::F16, dir / "micro-f16.gguf", 0};
  make_model(o);
  const auto f16 = GgufFile::open(o.out);
  std::set<DType> checked;
  for (const GgufTensorInfo& t : peer->tensors()) {
    if (!dtype_is_quantized(t.dtype) || t.name == "output.weight") continue;
    const GgufTensorInfo* src = f16->find_tensor(t.name);
    ASSERT_NE(src, nullptr) << t.name;
    ASSERT_EQ(src->dtype, DType::F16) << t.name;
    std::vector<float> v(src->nbytes / 2);
    to_f32(DType::F16, f16->tensor_data(*src), v);
    std::vector<std::byte> mine(t.nbytes);
    from_f32(t.dtype, v, mine);
    EXPECT_EQ(std::memcmp(mine.data(), peer->tensor_data(t), t.nbytes), 0)
        << t.name << " (" << dtype_name(t.dtype) << ") differs from llama-quantize's bytes";
    checked.insert(t.dtype);
  }
  EXPECT_EQ(checked.size(), 8u) << "the peer file should hold all eight block types";
}

}  // namespace
}  // namespace bricks::model
