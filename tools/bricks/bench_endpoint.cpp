#include "bench_endpoint.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "runtime/run_manifest.h"
#include "runtime/runtime.h"
#include "serve/http_client.h"
#include "workload/workload.h"

namespace bricks::cli {

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Target {
  std::string host;
  uint16_t port = 80;
};

Target parse_url(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) {
    throw std::runtime_error(fmt::format("--endpoint {}: give http://HOST:PORT (https is not "
                                         "supported)", url));
  }
  std::string rest = url.substr(kScheme.size());
  rest = rest.substr(0, rest.find('/'));
  Target t;
  size_t colon = rest.rfind(':');
  if (!rest.empty() && rest.front() == '[') {  // [v6]:port
    const size_t close = rest.find(']');
    if (close == std::string::npos) throw std::runtime_error("--endpoint: unclosed '[' in " + url);
    t.host = rest.substr(1, close - 1);
    colon = rest.find(':', close);
  } else {
    t.host = rest.substr(0, colon);
  }
  if (colon != std::string::npos) {
    try {
      const int p = std::stoi(rest.substr(colon + 1));
      if (p < 1 || p > 65535) throw std::out_of_range("port");
      t.port = static_cast<uint16_t>(p);
    } catch (const std::exception&) {
      throw std::runtime_error("--endpoint " + url + ": the port must be a number in 1..65535");
    }
  }
  if (t.host == "localhost") t.host = "127.0.0.1";
  return t;
}

// The prompts' tokenizer: the model the manifest names (or --model-file), opened here
// only for its vocabulary, so the prompts are those `bricks run` makes.
std::unique_ptr<model::Model> open_prompt_model(const manifest::LoadedManifest& m,
                                                const EndpointOptions& o) {
  std::filesystem::path p = o.model_file;
  const auto& mp = m.proto.model();
  if (p.empty() && !mp.path().empty()) p = m.resolve(mp.path());
  if (p.empty()) {
    p = engine::ensure_builtin_model(mp.builtin().empty() ? "tiny" : mp.builtin(), mp.dtype(),
                                     "models");
  }
  return model::Model::open(p);
}

struct Job {
  size_t index;
  const engine::RequestSpec* spec;
};

struct Outcome {
  engine::RequestRecord record;
  double server_ttft_s = -1;
  bool error = false;
  std::string error_text;
};

std::string request_body(const engine::RequestSpec& s, const std::string& model) {
  json j = {{"model", model},
            {"prompt", s.prompt},
            {"max_tokens", s.max_new_tokens},
            {"temperature", s.sampling.temperature},
            {"top_p", s.sampling.top_p},
            {"seed", s.sampling.seed},
            {"ignore_eos", s.ignore_eos},
            {"stream", true},
            {"stream_options", {{"include_usage", true}}}};
  if (s.sampling.top_k > 0) j["top_k"] = s.sampling.top_k;
  if (s.sampling.min_p > 0) j["min_p"] = s.sampling.min_p;
  if (s.sampling.repetition_penalty != 1.0f) j["repetition_penalty"] = s.sampling.repetition_penalty;
  if (!s.stop.empty()) j["stop"] = s.stop;
  return j.dump();
}

Outcome run_one(serve::HttpClient& client, const engine::RequestSpec& s, const std::string& model,
                const std::string& auth, Clock::time_point t0) {
  Outcome out;
  engine::RequestRecord& rec = out.record;
  rec.tenant = s.tenant;
  rec.priority = s.priority;
  rec.prompt_tokens = static_cast<int32_t>(s.prompt.size());
  const auto since = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  rec.arrival_s = since();
  std::vector<double> times;
  bool failed = false;
  try {
    const serve::HttpResponse res = client.stream(
        "/v1/completions", request_body(s, model), [&](std::string_view data) {
          const double t = since();
          if (data == "[DONE]") return true;
          const json ev = json::parse(data, nullptr, false);
          if (ev.is_discarded()) return true;
          if (ev.contains("error")) {
            failed = true;
            out.error_text = ev["error"].value("message", "error event");
            return true;
          }
          if (ev.contains("usage") && ev["usage"].is_object()) {
            rec.output_tokens = ev["usage"].value("completion_tokens", 0);
            const json& st = ev["usage"]["server_timing"];
            if (st.is_object()) out.server_ttft_s = st.value("ttft_s", -1.0);
          }
          if (ev.contains("choices") && !ev["choices"].empty() &&
              !ev["choices"][0].value("text", std::string()).empty()) {
            times.push_back(t);
          }
          return true;
        },
        auth);
    if (res.status != 200) {
      failed = true;
      out.error_text = fmt::format("HTTP {}: {}", res.status, res.body.substr(0, 200));
    }
  } catch (const std::exception& e) {
    failed = true;
    out.error_text = e.what();
  }
  rec.end_s = since();
  rec.failed = failed || times.empty();
  out.error = rec.failed;
  if (!times.empty()) {
    rec.ttft_s = times.front() - rec.arrival_s;
    if (rec.output_tokens > 1) {
      rec.tpot_s = (times.back() - times.front()) / (rec.output_tokens - 1);
    }
    for (size_t i = 1; i < times.size(); ++i) rec.itl_s.push_back(times[i] - times[i - 1]);
  }
  if (!rec.failed) rec.e2e_s = rec.end_s - rec.arrival_s;
  return out;
}

}  // namespace

EndpointResult bench_endpoint(const manifest::LoadedManifest& m, const EndpointOptions& o,
                              const engine::SloSpec& slo,
                              const std::function<void(size_t, size_t)>& progress) {
  const Target target = parse_url(o.url);
  const std::string auth = o.api_key.empty() ? "" : "Authorization: Bearer " + o.api_key + "\r\n";
  std::string model = o.model;
  {
    serve::HttpClient c(target.host, target.port);
    const serve::HttpResponse r = c.request("GET", "/v1/models", {}, auth);
    if (r.status != 200) {
      throw std::runtime_error(fmt::format("{}: GET /v1/models answered {}: {}", o.url, r.status,
                                           r.body.substr(0, 300)));
    }
    const json j = json::parse(r.body, nullptr, false);
    if (model.empty()) {
      if (j.is_discarded() || !j.contains("data") || j["data"].empty()) {
        throw std::runtime_error(o.url + ": GET /v1/models listed no model");
      }
      model = j["data"][0].value("id", "");
    }
  }

  const std::unique_ptr<model::Model> pm = open_prompt_model(m, o);
  engine::WorkloadContext ctx;
  ctx.tokenizer = &pm->tokenizer();
  ctx.vocab_size = pm->config().vocab_size;
  ctx.base_dir = m.base_dir();
  std::vector<engine::RequestSpec> work = engine::make_workload(m.proto.workload(), ctx);
  if (o.max_requests > 0 && work.size() > o.max_requests) work.resize(o.max_requests);
  if (work.empty()) throw std::runtime_error(m.file.string() + ": the workload has no requests");

  // Arrivals are released on time into a queue; at most max_concurrency workers take
  // from it, so later arrivals wait on the client when that many are in flight.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Job> ready;
  bool all_released = false;
  std::vector<Outcome> outcomes(work.size());
  std::atomic<size_t> ended{0};
  const Clock::time_point t0 = Clock::now();
  const int workers = std::max(1, std::min<int>(o.max_concurrency, static_cast<int>(work.size())));
  std::vector<std::thread> pool;
  for (int w = 0; w < workers; ++w) {
    pool.emplace_back([&] {
      serve::HttpClient client(target.host, target.port);
      for (;;) {
        Job job{};
        {
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return !ready.empty() || all_released; });
          if (ready.empty()) return;
          job = ready.front();
          ready.pop_front();
        }
        outcomes[job.index] = run_one(client, *job.spec, model, auth, t0);
        const size_t n = ++ended;
        if (progress) progress(n, work.size());
      }
    });
  }
  const double first = work.front().arrival_s;
  for (size_t i = 0; i < work.size(); ++i) {
    std::this_thread::sleep_until(
        t0 + std::chrono::duration_cast<Clock::duration>(
                 std::chrono::duration<double>(work[i].arrival_s - first)));
    std::lock_guard lock(mu);
    ready.push_back({i, &work[i]});
    cv.notify_one();
  }
  {
    std::lock_guard lock(mu);
    all_released = true;
    cv.notify_all();
  }
  for (std::thread& t : pool) t.join();

  EndpointResult res;
  std::vector<engine::RequestRecord> records;
  std::vector<double> added;
  for (Outcome& oc : outcomes) {
    if (oc.error) {
      ++res.errors;
      res.report.failures.add("request " + std::to_string(records.size()), oc.error_text);
    } else if (oc.server_ttft_s >= 0 && oc.record.has_ttft()) {
      added.push_back(oc.record.ttft_s - oc.server_ttft_s);
    }
    records.push_back(std::move(oc.record));
  }
  engine::FailureTally failures = std::move(res.report.failures);
  res.report = engine::Report::from_records(std::move(records), slo);
  res.report.failures = std::move(failures);
  res.report.name = m.proto.name().empty() ? m.file.filename().string() : m.proto.name();
  res.report.bricks = "endpoint " + o.url + " (model " + model + ")";
  res.report.device = fmt::format("client: {} concurrent streams at most", workers);
  res.report.tenant_names = engine::tenant_names(m.proto);
  res.added_ttft_s = engine::Distribution::of(std::move(added));
  return res;
}

}  // namespace bricks::cli
