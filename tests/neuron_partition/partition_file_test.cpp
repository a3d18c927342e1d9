// The partition file: round trip, and every way a file is refused (stale weights, damage,
// truncation, other version, not a partition), each with the command that remakes it.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <numeric>

#include "engine/neuron_partition_file.h"
#include "partition_fixture.h"

namespace bricks::testing {
namespace {

namespace fs = std::filesystem;
using engine::NeuronPartition;
using engine::PartitionError;

NeuronPartition sample_partition(const model::Model& m) {
  NeuronPartition p;
  p.model_checksum = engine::model_checksum(m);
  p.ffn = m.config().ffn;
  p.clusters = 4;
  p.calibration_tokens = 10;
  p.calibration_share = 0.25f;
  p.layers.resize(static_cast<size_t>(m.config().n_layers));
  for (size_t l = 0; l < p.layers.size(); ++l) {
    auto& L = p.layers[l];
    L.order.resize(static_cast<size_t>(p.ffn));
    std::iota(L.order.begin(), L.order.end(), 0);
    std::rotate(L.order.begin(), L.order.begin() + static_cast<long>(l) + 1, L.order.end());
    L.offsets = {0, 100, 300, 301, p.ffn};
  }
  return p;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void spit(const fs::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << s;
}

// The error message of loading `file`, or "" when it loads.
std::string load_error(const fs::path& file, const model::Model& m) {
  try {
    engine::load_partition(file, m, engine::model_checksum(m));
    return "";
  } catch (const PartitionError& e) {
    return e.what();
  }
}

class PartitionFile : public ::testing::Test {
 protected:
  void SetUp() override {
    model_path_ = tiny_model("file");
    model_ = model::Model::open(model_path_);
    file_ = engine::partition_path_for(model_path_);
  }
  fs::path model_path_, file_;
  std::unique_ptr<model::Model> model_;
};

TEST_F(PartitionFile, RoundTrips) {
  EXPECT_EQ(file_.string(), model_path_.string() + ".partition");
  const NeuronPartition p = sample_partition(*model_);
  engine::save_partition(p, file_);
  const NeuronPartition q = engine::load_partition(file_, *model_, p.model_checksum);
  EXPECT_EQ(q.model_checksum, p.model_checksum);
  EXPECT_EQ(q.clusters, 4);
  EXPECT_EQ(q.calibration_tokens, 10);
  EXPECT_FLOAT_EQ(q.calibration_share, 0.25f);
  ASSERT_EQ(q.layers.size(), p.layers.size());
  for (size_t l = 0; l < p.layers.size(); ++l) {
    EXPECT_EQ(q.layers[l].order, p.layers[l].order);
    EXPECT_EQ(q.layers[l].offsets, p.layers[l].offsets);
  }
}

TEST_F(PartitionFile, StaleModelIsRefusedWithTheFix) {
  NeuronPartition p = sample_partition(*model_);
  p.model_checksum ^= 1;
  engine::save_partition(p, file_);
  const std::string err = load_error(file_, *model_);
  EXPECT_NE(err.find("stale"), std::string::npos) << err;
  EXPECT_NE(err.find("bricks partition --model"), std::string::npos) << err;
  EXPECT_NE(err.find(file_.string()), std::string::npos) << err;
}

TEST_F(PartitionFile, ChecksumSeesChangedWeights) {
  const uint64_t before = engine::model_checksum(*model_);
  model_.reset();
  // Flip one byte near the end of the file (inside the last tensor's data).
  {
    std::fstream f(model_path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(-5, std::ios::end);
    const char c = static_cast<char>(f.get() ^ 0x10);
    f.seekp(-5, std::ios::end);
    f.put(c);
  }
  auto changed = model::Model::open(model_path_);
  EXPECT_NE(engine::model_checksum(*changed), before);
}

TEST_F(PartitionFile, DamagedTruncatedAndForeignFilesAreRefused) {
  engine::save_partition(sample_partition(*model_), file_);
  const std::string good = slurp(file_);

  std::string damaged = good;
  damaged[40] ^= 0x01;
  spit(file_, damaged);
  EXPECT_NE(load_error(file_, *model_).find("damaged"), std::string::npos);

  spit(file_, good.substr(0, good.size() / 2));
  EXPECT_NE(load_error(file_, *model_), "");

  std::string version = good;
  version[8] = 9;
  spit(file_, version);
  EXPECT_NE(load_error(file_, *model_).find("version 9"), std::string::npos);

  spit(file_, "GGUF and something else entirely");
  EXPECT_NE(load_error(file_, *model_).find("not a neuron partition"), std::string::npos);

  fs::remove(file_);
  EXPECT_NE(load_error(file_, *model_).find("cannot read"), std::string::npos);
}

TEST_F(PartitionFile, MalformedPartitionsAreNotSaved) {
  NeuronPartition p = sample_partition(*model_);
  p.layers[2].order[5] = p.layers[2].order[6];
  EXPECT_THROW(engine::save_partition(p, file_), PartitionError);
  p = sample_partition(*model_);
  p.layers[0].offsets = {0, 100, 100, 301, p.ffn};  // an empty cluster
  EXPECT_THROW(engine::save_partition(p, file_), PartitionError);
  EXPECT_THROW(engine::save_partition(sample_partition(*model_), test_dir() / "no" / "such.p"),
               PartitionError);
}

}  // namespace
}  // namespace bricks::testing
