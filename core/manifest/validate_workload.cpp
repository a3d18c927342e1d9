// The workload section: a trace or a generator, and sampling.
#include "validate_checker.h"

namespace bricks::manifest {

void check_workload(Checker& c, const Workload& w) {
  if (!w.trace().empty() && w.has_generator()) {
    c.error("workload.generator", "the workload sets both a trace and a generator",
            "keep one of them");
  }
  c.exists("workload.trace", w.trace(), "trace", false);
  if (w.has_generator()) {
    const Generator& g = w.generator();
    const std::string p = "workload.generator.";
    c.at_least<int64_t>(p + "num_requests", g.num_requests(), 1, "give at least one request");
    c.at_least<double>(p + "rate", g.rate(), 0.0, "give requests per second, or 0 for all at once");
    c.at_least<int64_t>(p + "prompt_len_min", g.prompt_len_min(), 1, "prompts need a token");
    c.at_least<int64_t>(p + "output_len_min", g.output_len_min(), 1, "outputs need a token");
    for (const char* which : {"prompt_len", "output_len"}) {
      const bool prompt = which[0] == 'p';
      const int32_t lo = prompt ? g.prompt_len_min() : g.output_len_min();
      const int32_t hi = prompt ? g.prompt_len_max() : g.output_len_max();
      const std::string name = p + which;
      if (hi < lo) {
        c.error(name + "_max",
                name + "_max " + std::to_string(hi) + " is below " + name + "_min " +
                    std::to_string(lo),
                "make max at least min (equal for a fixed length)");
      }
    }
    c.at_least<int64_t>(p + "shared_prefix_len", g.shared_prefix_len(), 0, "give 0 for none");
    c.at_least<int64_t>(p + "prefix_group_size", g.prefix_group_size(), 0, "give 0 for none");
    if (g.shared_prefix_len() > 0 && g.prompt_len_min() > 0 &&
        g.shared_prefix_len() > g.prompt_len_min()) {
      c.error(p + "shared_prefix_len", "the shared prefix is longer than the shortest prompt",
              "make it at most prompt_len_min (" + std::to_string(g.prompt_len_min()) + ")");
    }
  }
  if (w.has_sampling()) {
    const Sampling& s = w.sampling();
    const std::string p = "workload.sampling.";
    c.at_least<double>(p + "temperature", s.temperature(), 0.0, "give 0 for greedy");
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
}

}  // namespace bricks::manifest
