// `bricks bench --endpoint URL`: replays a manifest's workload (generator or trace, with
// its arrival times) against a running OpenAI-compatible server and measures what a client
// sees, as vLLM's benchmark_serving does: TTFT from sending the request to the first
// streamed text, TPOT, ITL between streamed chunks, E2E. The report is the one `bricks run`
// prints, built from those client-side records.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "manifest/manifest.h"
#include "report/report.h"

namespace bricks::cli {

struct EndpointOptions {
  std::string url;               // http://HOST:PORT (a path prefix such as /v1 is ignored)
  std::string model;             // model id; empty: the first of GET /v1/models
  std::string api_key;
  int max_concurrency = 256;     // requests in flight at once; later arrivals wait
  size_t max_requests = 0;       // keep the workload's first N (0: all)
  std::filesystem::path model_file;  // tokenizer for the prompts (default: the manifest's model)
};

// What the client measured, beside the report.
struct EndpointResult {
  engine::Report report;
  // Client TTFT minus the server's own (usage.server_timing.ttft_s), over finished
  // requests: the time the HTTP layer and the network add.
  engine::Distribution added_ttft_s;
  size_t errors = 0;  // requests that got an error status or an error event
};

// Throws std::runtime_error (unreachable server, bad URL, workload errors) with a message
// for the user. `progress` is told (ended, total) as requests end.
EndpointResult bench_endpoint(const manifest::LoadedManifest& m, const EndpointOptions& o,
                              const engine::SloSpec& slo,
                              const std::function<void(size_t, size_t)>& progress = {});

}  // namespace bricks::cli
