// Which adapter each request uses (the rule the manifest's model.adapters and
// model.adapter_assign make; runtime/adapter_setup.h builds it), and the adapters to load.
//
// Thread safety: an AdapterRule is immutable after adapter_rule(); the functions are pure.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "engine/request.h"

namespace bricks::engine {

// One adapter to load: the name requests use, its file, and its scale (1 = as trained).
struct AdapterSpec {
  std::string name;
  std::filesystem::path path;
  float scale = 1.f;
};

// The assignment of model.adapter_assign: "tenant" (default; the adapter listing the
// request's tenant, none if no adapter does) or "round_robin" (the request with engine id
// i, counted from 1 in submission order, uses adapters[(i - 1) % count]).
struct AdapterRule {
  bool round_robin = false;
  std::vector<std::string> names;  // model.adapters, in order
  std::map<int32_t, std::string> by_tenant;

  // The adapter `spec` uses: its own when it names one, else the rule's; "" for none.
  const std::string& pick(const RequestSpec& spec, uint64_t request_id) const;
};

// Sets RequestSpec::adapter of every request of `work` that names none, as the engine would
// (request i of `work` taking id i + 1), and checks every name against the rule's adapters;
// throws std::invalid_argument naming the request and the known adapters otherwise. For
// callers that want bad names refused before the run starts.
void assign_adapters(const AdapterRule& rule, std::vector<RequestSpec>& work);

}  // namespace bricks::engine
