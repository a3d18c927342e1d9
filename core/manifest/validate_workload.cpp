// The workload section: a trace or a generator (arrivals, lengths, tenants, conversations,
// shared prefixes), and sampling.
#include "bricks/model/model.h"
#include "manifest/trace_rows.h"
#include "validate_checker.h"
#include "validate_checks.h"

namespace bricks::manifest {

// workload.context_overflow makes requests fit (truncate_prompt, clamp_max_tokens): what
// cannot fit even so fails alone at submission, with its reason.
bool overflow_is_fitted(const Workload& w) {
  return !w.context_overflow().empty() && w.context_overflow() != "fail";
}

// The model's context in tokens where the manifest alone says it: a builtin model on a
// device that computes it. 0 when only the model file knows (then the run checks before
// it draws a prompt).
int32_t known_context(const Manifest& m) {
  const Model& model = m.model();
  if (m.device().kind() == "sim" || model.builtin().empty() || !model.path().empty() ||
      model.has_merge()) {
    return 0;
  }
  try {
    return model::preset_config(model.builtin()).context_length;
  } catch (const std::exception&) {
    return 0;  // an unknown builtin is reported by check_model
  }
}

namespace {

bool has_tenant_rates(const Generator& g) {
  for (const Tenant& t : g.tenants()) {
    if (t.rate() > 0) return true;
  }
  return false;
}

void check_arrival(Checker& c, const std::string& p, const Arrival& a) {
  c.one_of(p + "process", a.process(), {"poisson", "gamma"});
  c.at_least<double>(p + "cv", a.cv(), 0.0, "give the coefficient of variation of the gaps");
  c.at_least<double>(p + "burstiness", a.burstiness(), 0.0, "give the gamma shape (> 0)");
  if (a.process() != "gamma" && (a.cv() > 0 || a.burstiness() > 0)) {
    c.error(p + (a.cv() > 0 ? "cv" : "burstiness"),
            "cv and burstiness apply to gamma arrivals only", "set process: \"gamma\"");
  }
  if (a.cv() > 0 && a.burstiness() > 0) {
    c.error(p + "burstiness", "both cv and burstiness are given",
            "give one of them (cv = 1 / sqrt(burstiness))");
  }
}

void check_length(Checker& c, const std::string& p, const LengthDist& d) {
  const std::string& k = d.kind();
  if (k.empty()) {
    c.error(p.substr(0, p.size() - 1), p + "kind is not set",
            "set kind to one of: fixed, uniform, lognormal, empirical");
    return;
  }
  c.one_of(p + "kind", k, {"fixed", "uniform", "lognormal", "empirical"});
  c.at_least<int64_t>(p + "min", d.min(), 0, "give the shortest length (>= 1), or 0 for 1");
  c.at_least<int64_t>(p + "max", d.max(), 0, "give the longest length, or 0 for no cap");
  if (d.max() > 0 && d.max() < d.min()) {
    c.error(p + "max", p + "max " + show(d.max()) + " is below " + p + "min " + show(d.min()),
            "make max at least min");
  }
  if (k == "fixed") {
    c.at_least<int64_t>(p + "value", d.value(), 1, "give the length in tokens (>= 1)");
  } else if (k == "uniform") {
    if (d.max() < 1) c.error(p + "max", "a uniform length needs max", "give max >= min >= 1");
  } else if (k == "lognormal") {
    const bool by_median = d.median() > 0 || d.p90() > 0;
    const bool by_mean = d.mean() > 0 || d.sigma() > 0;
    if (by_median && by_mean) {
      c.error(p + "kind", "a lognormal length is given both by mean/sigma and by median/p90",
              "keep one pair");
    } else if (by_median) {
      if (!(d.median() >= 1)) c.error(p + "median", p + "median must be >= 1", "give tokens");
      if (!(d.p90() > d.median())) {
        c.error(p + "p90",
                p + "p90 " + show(d.p90()) + " is not above the median " + show(d.median()),
                "give a 90th percentile larger than the median");
      }
    } else {
      if (!(d.mean() >= 1)) c.error(p + "mean", p + "mean must be >= 1", "give tokens");
      if (!(d.sigma() > 0)) {
        c.error(p + "sigma", p + "sigma must be > 0",
                "give the standard deviation of ln(length), e.g. 1.0");
      }
    }
  } else if (k == "empirical") {
    if (d.file().empty()) {
      c.error(p + "kind", "an empirical length needs a file",
              "give file: a quantile or histogram JSON, e.g. from manifests/workloads/");
    }
    c.exists(p + "file", d.file(), "length distribution file", false);
  }
}

// The old min/max pair of a length, or its distribution: one of them.
void check_length_pair(Checker& c, const std::string& p, const char* which, bool has_dist,
                       const LengthDist& dist, int32_t lo, int32_t hi) {
  const std::string name = p + which;
  if (has_dist) {
    if (lo != 0 || hi != 0) {
      c.error(name + "_min", "both " + name + " and " + name + "_min/_max are given",
              "keep one of them");
    }
    check_length(c, name + ".", dist);
    return;
  }
  c.at_least<int64_t>(name + "_min", lo, 1,
                      which[0] == 'p' ? "prompts need a token" : "outputs need a token");
  if (hi < lo) {
    c.error(
        name + "_max",
        name + "_max " + std::to_string(hi) + " is below " + name + "_min " + std::to_string(lo),
        "make max at least min (equal for a fixed length)");
  }
}

void check_tenants(Checker& c, const std::string& p, const Generator& g) {
  const bool rates = has_tenant_rates(g);
  for (int i = 0; i < g.tenants_size(); ++i) {
    const Tenant& t = g.tenants(i);
    const std::string tp = p + "tenants[" + std::to_string(i) + "].";
    c.at_least<double>(tp + "share", t.share(), 0.0, "give a relative share (>= 0)");
    c.at_least<double>(tp + "rate", t.rate(), 0.0, "give requests per second (>= 0)");
    if (rates && !(t.rate() > 0)) {
      c.error(p + "tenants[" + std::to_string(i) + "]",
              "some tenants have their own rate and this one has none",
              "give every tenant a rate, or every tenant a share");
    }
    if (rates && t.share() > 0) {
      c.error(tp + "share", "a tenant with its own rate takes no share",
              "give every tenant a rate, or every tenant a share");
    }
  }
  if (rates && g.rate() > 0) {
    c.warning(p + "rate", "the tenants' own rates replace workload.generator.rate",
              "remove rate, or give the tenants shares");
  }
}

void check_conversations(Checker& c, const std::string& p, const Generator& g) {
  const Conversation& cv = g.conversations();
  const std::string cp = p + "conversations.";
  c.at_least<int64_t>(cp + "turns", cv.turns(), 1, "give the turns per conversation");
  c.at_least<double>(cp + "think_time_s", cv.think_time_s(), 0.0,
                     "give the mean seconds between turns");
  c.at_least<int64_t>(cp + "max_prompt_len", cv.max_prompt_len(), 0, "give 0 for no cap");
  if (cv.count() < 1 && !(g.duration_s() > 0)) {
    c.error(cp + "count", cp + "count is " + show(cv.count()) + ", below 1",
            "give the number of conversations (or duration_s with a rate)");
  }
  if (g.num_requests() > 0) {
    c.error(p + "num_requests",
            "num_requests counts independent requests; with "
            "conversations the count is conversations.count",
            "remove num_requests");
  }
  if (cv.has_user_len()) check_length(c, cp + "user_len.", cv.user_len());
}

// Prompt and output lengths that cannot fit the model's context, checked where the
// limits are written: the old min/max pairs, or a distribution's max (or fixed value).
void check_fits_context(Checker& c, const std::string& p, const Generator& g) {
  const int32_t context = known_context(c.m.proto);
  if (context <= 0 || g.has_conversations() || overflow_is_fitted(c.m.proto.workload())) return;
  struct Bound {
    std::string field;
    int64_t shortest, longest;  // longest 0: unbounded
  };
  auto bound = [&](const char* which, bool has_dist, const LengthDist& d, int32_t lo,
                   int32_t hi) -> Bound {
    const std::string name = p + which;
    if (!has_dist) return {name + "_max", lo, hi};
    if (d.kind() == "fixed") return {name + ".value", d.value(), d.value()};
    return {name + ".max", std::max(1, d.min()), d.max()};
  };
  const Bound prompt = bound("prompt_len", g.has_prompt_len(), g.prompt_len(), g.prompt_len_min(),
                             g.prompt_len_max());
  const Bound output = bound("output_len", g.has_output_len(), g.output_len(), g.output_len_min(),
                             g.output_len_max());
  const std::string context_words = "the model's context of " + std::to_string(context) +
                                    " tokens (model.builtin '" + c.m.proto.model().builtin() + "')";
  bool beyond = false;
  for (const Bound& b : {prompt, output}) {
    if (b.longest > context) {
      beyond = true;
      c.error(b.field, b.field + " " + show(b.longest) + " is beyond " + context_words,
              "give at most " + std::to_string(context - 1));
    }
  }
  if (!beyond && prompt.shortest + output.shortest > context) {
    c.error(prompt.field,
            "the shortest prompt (" + show(prompt.shortest) + ") and output (" +
                show(output.shortest) + ") exceed " + context_words,
            "shorten them so that a request fits");
  }
}

void check_generator(Checker& c, const Generator& g) {
  const std::string p = "workload.generator.";
  const bool rated = g.rate() > 0 || has_tenant_rates(g);
  if (!g.has_conversations() && !(g.duration_s() > 0)) {
    c.at_least<int64_t>(p + "num_requests", g.num_requests(), 1, "give at least one request");
  }
  c.at_least<double>(p + "rate", g.rate(), 0.0, "give requests per second, or 0 for all at once");
  c.at_least<double>(p + "duration_s", g.duration_s(), 0.0, "give seconds of arrivals");
  if (g.duration_s() > 0 && !rated) {
    c.error(p + "duration_s", "duration_s needs arrivals spread in time",
            "give a rate > 0 (or the tenants' rates)");
  }
  check_length_pair(c, p, "prompt_len", g.has_prompt_len(), g.prompt_len(), g.prompt_len_min(),
                    g.prompt_len_max());
  check_length_pair(c, p, "output_len", g.has_output_len(), g.output_len(), g.output_len_min(),
                    g.output_len_max());
  check_fits_context(c, p, g);
  if (g.has_arrival()) check_arrival(c, p + "arrival.", g.arrival());
  check_tenants(c, p, g);
  if (g.has_conversations()) check_conversations(c, p, g);
  c.at_least<int64_t>(p + "shared_prefix_len", g.shared_prefix_len(), 0, "give 0 for none");
  c.at_least<int64_t>(p + "prefix_group_size", g.prefix_group_size(), 0, "give 0 for none");
  if (!g.has_prompt_len() && g.shared_prefix_len() > 0 && g.prompt_len_min() > 0 &&
      g.shared_prefix_len() > g.prompt_len_min()) {
    c.error(p + "shared_prefix_len", "the shared prefix is longer than the shortest prompt",
            "make it at most prompt_len_min (" + std::to_string(g.prompt_len_min()) + ")");
  }
}

// The trace file, row by row: each bad row an error at its own file:line, and the rows
// that cannot fit the model's context (they would fail alone at run time) one warning.
void check_trace(Checker& c, const std::string& trace) {
  const std::filesystem::path file = c.m.resolve(trace);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return;  // reported by exists()
  TraceCheck t;
  try {
    t = check_trace_file(file, known_context(c.m.proto));
  } catch (const TraceError& e) {
    c.error("workload.trace", e.what(), "check the file's permissions");
    return;
  }
  for (const TraceCheck::Problem& p : t.errors) {
    // The message ends "; fix": split it so the diagnostic prints as the others do.
    const size_t semi = p.message.rfind("; ");
    Diagnostic d;
    d.file = file.string();
    d.line = p.line;
    d.message = semi == std::string::npos ? p.message : p.message.substr(0, semi);
    d.fix = semi == std::string::npos ? "" : p.message.substr(semi + 2);
    c.diags.push_back(std::move(d));
  }
  if (t.error_count > t.errors.size()) {
    c.error("workload.trace",
            std::to_string(t.error_count - t.errors.size()) + " more rows of " + file.string() +
                " are invalid (" + std::to_string(t.error_count) + " of " +
                std::to_string(t.rows) + " in all)",
            "fix the rows above first; every row is checked the same way");
  }
  if (t.rows == 0) {
    c.error("workload.trace", "the trace " + file.string() + " has no requests",
            "give one JSON object per line, e.g. {\"arrival_s\": 0, \"prompt_len\": 128}");
  }
  if (t.over_context > 0 && !overflow_is_fitted(c.m.proto.workload())) {
    c.warning("workload.trace",
              std::to_string(t.over_context) + " of " + std::to_string(t.rows) +
                  " requests in " + file.string() + " need more than the model's context of " +
                  std::to_string(known_context(c.m.proto)) + " tokens (the first at line " +
                  std::to_string(t.first_over_context_line) + "); they will fail",
              "shorten their prompt_len or max_tokens, use a model with a longer context, or "
              "set workload.context_overflow to truncate_prompt or clamp_max_tokens");
  }
}

}  // namespace

void check_workload(Checker& c, const Workload& w) {
  if (!w.trace().empty() && w.has_generator()) {
    c.error("workload.generator", "the workload sets both a trace and a generator",
            "keep one of them");
  }
  // Settings (sampling, images) with no requests to apply them to: the run would stop at
  // its start. An empty section reads as none, as it does when only a misspelt field (an
  // error of its own) was in it.
  if (w.ByteSizeLong() > 0 && w.trace().empty() && !w.has_generator()) {
    c.error("workload", "the workload has neither a trace nor a generator",
            "give trace: \"requests.jsonl\" or generator { num_requests: ... }");
  }
  c.one_of("workload.context_overflow", w.context_overflow(),
           {"fail", "truncate_prompt", "clamp_max_tokens"});
  c.exists("workload.trace", w.trace(), "trace", false);
  if (!w.trace().empty()) check_trace(c, w.trace());
  c.at_least<double>("workload.trace_time_scale", w.trace_time_scale(), 0.0,
                     "give a factor for the arrival times, e.g. 0.5 to replay twice as fast");
  if (w.trace().empty() && w.trace_time_scale() != 0) {
    c.warning("workload.trace_time_scale", "workload.trace_time_scale is ignored without a trace",
              "remove it, or scale the generator's rate instead");
  }
  if (w.trace().empty() && w.trace_seed() != 0) {
    c.warning("workload.trace_seed", "workload.trace_seed is ignored without a trace",
              "remove it, or seed the generator with workload.generator.seed");
  }
  if (w.has_generator()) check_generator(c, w.generator());
  if (w.has_sampling()) {
    const Sampling& s = w.sampling();
    const std::string p = "workload.sampling.";
    c.at_least<double>(p + "temperature", s.temperature(), 0.0, "give 0 for greedy");
    // Logits divided by more than this are all but equal: the value is a slip, and far
    // larger ones overflow the float the sampler works in.
    c.at_most<double>(p + "temperature", s.temperature(), 100.0,
                      "give 0 for greedy, or a temperature such as 0.7");
    c.at_least<int64_t>(p + "top_k", s.top_k(), 0, "give 0 for no top-k cut");
    c.at_least<double>(p + "repetition_penalty", s.repetition_penalty(), 0.0,
                       "give 1 (or 0) for none");
    for (const char* f : {"top_p", "min_p"}) {
      const double v = f[0] == 't' ? s.top_p() : s.min_p();
      if (!(v >= 0.0 && v <= 1.0)) {
        c.error(p + f, p + f + " is " + show(v) + ", outside [0, 1]",
                "give a probability in [0, 1]");
      }
    }
  }
  check_images(c, w);
}

}  // namespace bricks::manifest
