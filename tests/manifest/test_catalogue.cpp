// The catalogue the manifest suites and the manifest fuzz targets validate against. Kept free
// of GoogleTest so that the fuzz targets can link it.
#include "test_catalogue.h"

namespace bricks::manifest::test_support {
namespace {

host::ParamInfo int_param(const char* name, int64_t def, int64_t lo, int64_t hi) {
  host::ParamInfo p;
  p.name = name;
  p.type = BRICKS_PARAM_INT;
  p.has_default = true;
  p.default_int = def;
  p.min_int = lo;
  p.max_int = hi;
  return p;
}

host::ParamInfo float_param(const char* name, double def, double lo, double hi) {
  host::ParamInfo p;
  p.name = name;
  p.type = BRICKS_PARAM_FLOAT;
  p.has_default = true;
  p.default_float = def;
  p.min_float = lo;
  p.max_float = hi;
  return p;
}

host::ParamInfo bool_param(const char* name, bool def) {
  host::ParamInfo p;
  p.name = name;
  p.type = BRICKS_PARAM_BOOL;
  p.has_default = true;
  p.default_int = def ? 1 : 0;
  p.max_int = 1;
  return p;
}

host::ParamInfo string_param(const char* name, const char* def) {
  host::ParamInfo p;
  p.name = name;
  p.type = BRICKS_PARAM_STRING;
  p.has_default = true;
  p.default_string = def;
  return p;
}

host::ParamInfo enum_param(const char* name, const char* def, std::vector<std::string> choices) {
  host::ParamInfo p;
  p.name = name;
  p.type = BRICKS_PARAM_ENUM;
  p.has_default = true;
  p.default_string = def;
  p.choices = std::move(choices);
  return p;
}

host::BrickInfo brick(bricks_kind kind, const char* name, std::vector<host::ParamInfo> params) {
  host::BrickInfo b;
  b.kind = kind;
  b.name = name;
  b.version = "1.0.0";
  b.params = std::move(params);
  b.file = std::string("lib") + name + ".so";
  return b;
}

}  // namespace

host::Catalogue test_catalogue() {
  host::Catalogue c;
  c.bricks.push_back(brick(BRICKS_KIND_SCHEDULER, "fcfs",
                           {int_param("max_num_seqs", 256, 1, 65536),
                            int_param("max_num_batched_tokens", 2048, 1, 1 << 20),
                            enum_param("preemption", "recompute", {"recompute", "swap"})}));
  c.bricks.push_back(
      brick(BRICKS_KIND_SCHEDULER, "sarathi", {int_param("chunk_size", 512, 16, 8192)}));
  c.bricks.push_back(
      brick(BRICKS_KIND_KV, "paged",
            {int_param("block_size", 16, 1, 1024), bool_param("enable_prefix_cache", false)}));
  for (const char* name : {"reference", "cpu_paged"}) {
    c.bricks.push_back(brick(BRICKS_KIND_ATTENTION, name, {}));
    c.bricks.back().provides = {"attention.scores", "device.cpu"};
  }
  c.bricks.push_back(brick(BRICKS_KIND_ATTENTION, "naive", {}));
  c.bricks.push_back(brick(BRICKS_KIND_ATTENTION, "cuda_paged", {}));
  c.bricks.back().provides = {"device.cuda"};
  host::ParamInfo layer = int_param("layer", 0, 0, 1024);
  layer.has_default = false;
  c.bricks.push_back(
      brick(BRICKS_KIND_PRUNING, "fastv",
            {layer, float_param("keep_ratio", 0.5, 0.0, 1.0), string_param("scoring", "mean")}));
  c.bricks.back().requires_ = {"attention.scores"};
  return c;
}

}  // namespace bricks::manifest::test_support
