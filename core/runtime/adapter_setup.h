// From the manifest's model section to adapters: the files to load, the rule that assigns
// requests to them, and the kv settings adapters need.
#pragma once

#include <vector>

#include "engine/adapter_rule.h"
#include "host/catalogue.h"
#include "manifest/manifest.h"

namespace bricks::engine {

// model.adapters with paths resolved against the manifest (scale 0 -> 1).
std::vector<AdapterSpec> adapter_specs(const manifest::LoadedManifest& m);

// The rule of model.adapters and model.adapter_assign (see AdapterRule).
AdapterRule adapter_rule(const manifest::Model& model);

// Cached KV does not record which adapter computed it, so a kv brick that hands one
// request's KV to another (capability kv.prefix_cache or kv.conversation_reuse) would mix
// adapters. Throws std::invalid_argument with the fix unless the manifest turns that reuse
// off (enable_prefix_cache / keep_conversations set to false on the kv brick).
void refuse_shared_kv(const manifest::LoadedManifest& m, const host::BrickInfo& kv);

}  // namespace bricks::engine
