// The generator: arrivals, lengths, tenants, shared prefixes and multi-turn conversations.
#include "workload/workload.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "manifest/trace_rows.h"
#include "workload/workload_dists.h"
#include "workload/workload_tokens.h"

namespace bricks::engine {

// One independent request, or the first turn of a conversation.
struct GeneratorUnit {
  double arrival_s;
  int32_t tenant;
};

namespace {

using bricks::manifest::Generator;
using Unit = GeneratorUnit;

// Random streams of one seed; see stream().
enum Stream : uint64_t { kArrivals = 1, kTenants, kLengths, kTokens, kThink };

bool has_tenant_rates(const Generator& g) {
  return std::any_of(g.tenants().begin(), g.tenants().end(),
                     [](const auto& t) { return t.rate() > 0; });
}

// Arrivals of one stream at `rate` until `count` units (0 = no limit) or `duration_s`
// (0 = no limit). The first arrives at 0. Only the first `keep` are stored (0 = all); with
// `drain` the rest are still drawn, so that a stream drawn next from `rng` starts where it
// would without the cut.
void arrivals(const ArrivalProcess& p, int32_t count, double duration_s, size_t keep, bool drain,
              int32_t tenant, Rng& rng, std::vector<Unit>& out) {
  double t = 0;
  size_t kept = 0;
  for (int32_t i = 0; count <= 0 || i < count; ++i) {
    const bool full = keep > 0 && kept == keep;
    if (full && !drain) break;
    if (i > 0) t += p.next_gap(rng);
    if (duration_s > 0 && t >= duration_s) break;
    if (full) continue;
    out.push_back({t, tenant});
    ++kept;
  }
}

// When each unit starts and whose it is. Units arrive at `unit_rate` (requests per
// second for independent requests; conversations per second for chats). Only the first
// `keep` units by arrival are made (0 = all): each stream's arrivals rise, so those are
// among the first `keep` of every stream, and the units kept are the same as without the
// cut. Tenants' own streams share one generator: all but the last are drawn in full (their
// time, not their memory).
std::vector<Unit> unit_arrivals(const Generator& g, double unit_scale, int32_t count, uint64_t seed,
                                size_t keep) {
  Rng arr = stream(seed, kArrivals);
  std::vector<Unit> units;
  if (has_tenant_rates(g)) {
    double total = 0;
    for (const auto& t : g.tenants()) total += t.rate();
    int32_t assigned = 0;
    for (int i = 0; i < g.tenants_size(); ++i) {
      const double r = g.tenants(i).rate();
      // Largest-remainder split would be fairer; the last tenant takes the rounding.
      int32_t n = 0;
      if (count > 0) {
        n = i + 1 == g.tenants_size() ? count - assigned
                                      : static_cast<int32_t>(std::lround(count * r / total));
        n = std::max(0, std::min(n, count - assigned));
        assigned += n;
        if (n == 0) continue;
      }
      const bool more_streams = i + 1 < g.tenants_size();
      arrivals(ArrivalProcess::from(g.arrival(), r * unit_scale), n, g.duration_s(), keep,
               more_streams, i, arr, units);
    }
    std::stable_sort(units.begin(), units.end(),
                     [](const Unit& a, const Unit& b) { return a.arrival_s < b.arrival_s; });
    if (keep > 0 && units.size() > keep) units.resize(keep);
    return units;
  }
  arrivals(ArrivalProcess::from(g.arrival(), g.rate() * unit_scale), count, g.duration_s(), keep,
           false, 0, arr, units);
  if (g.tenants_size() > 0) {
    Rng pick = stream(seed, kTenants);
    std::vector<double> cum;
    double total = 0;
    // All shares 0: equal shares.
    const bool equal = std::none_of(g.tenants().begin(), g.tenants().end(),
                                    [](const auto& t) { return t.share() > 0; });
    for (const auto& t : g.tenants())
      cum.push_back(total += equal ? 1.0 : std::max(0.0, t.share()));
    for (Unit& u : units) {
      const double x = uniform01(pick) * total;
      u.tenant = static_cast<int32_t>(std::upper_bound(cum.begin(), cum.end(), x) - cum.begin());
      u.tenant = std::min(u.tenant, g.tenants_size() - 1);
    }
  }
  return units;
}

LengthSampler length_sampler(const Generator& g, bool prompt, const std::filesystem::path& base) {
  const std::string field =
      std::string("workload.generator.") + (prompt ? "prompt_len" : "output_len");
  if (prompt && g.has_prompt_len())
    return LengthSampler::from(g.prompt_len(), "prompt_len", base, field);
  if (!prompt && g.has_output_len())
    return LengthSampler::from(g.output_len(), "output_len", base, field);
  const int32_t lo = prompt ? g.prompt_len_min() : g.output_len_min();
  const int32_t hi = prompt ? g.prompt_len_max() : g.output_len_max();
  if (lo < 1 || hi < lo) {
    throw WorkloadError(field + ": give " + field + " { ... } or 1 <= " + field +
                        "_min <= " + field + "_max");
  }
  return LengthSampler::uniform(lo, hi);
}

// Refuses lengths that cannot fit a context of `context` tokens, before any prompt is
// built: a length past it would only make a request that fails, after allocating it.
void check_fits(const LengthSampler& prompt, const LengthSampler& output, const Generator& g,
                int32_t context, ContextOverflow overflow) {
  std::string limit = "the model's context of " + std::to_string(context) + " tokens";
  if (overflow != ContextOverflow::kFail) {
    // Fitted at submission; a bound remains so that no prompt takes gigabytes to build.
    context = manifest::kMaxTracePromptTokens;
    limit = std::to_string(context) + " tokens, the longest request a workload may hold";
  }
  if (context <= 0) return;
  const std::string p = "workload.generator.";
  auto name = [&](bool is_prompt, bool longest) {
    const bool dist = is_prompt ? g.has_prompt_len() : g.has_output_len();
    const std::string base = p + (is_prompt ? "prompt_len" : "output_len");
    if (dist) return base + (longest ? ".max" : ".min");
    return base + (longest ? "_max" : "_min");
  };
  const std::string beyond = " is beyond " + limit;
  if (prompt.longest() > context) {
    throw WorkloadError(name(true, true) + " " + std::to_string(prompt.longest()) + beyond +
                        "; give at most " + std::to_string(context - 1));
  }
  if (output.longest() > context) {
    throw WorkloadError(name(false, true) + " " + std::to_string(output.longest()) + beyond +
                        "; give at most " + std::to_string(context - 1));
  }
  if (int64_t{prompt.shortest()} + output.shortest() > context) {
    throw WorkloadError(name(true, false) + " " + std::to_string(prompt.shortest()) + " plus " +
                        name(false, false) + " " + std::to_string(output.shortest()) + beyond +
                        ": no request can fit; shorten them");
  }
}

// `g` once its request count is checked: a generator needs a count, or a duration with a
// rate. Throws WorkloadError.
const Generator& with_count(const Generator& g) {
  const bool chats = g.has_conversations();
  const int32_t count = chats ? g.conversations().count() : g.num_requests();
  const bool rated = g.rate() > 0 || has_tenant_rates(g);
  if (count <= 0 && !(g.duration_s() > 0 && rated)) {
    throw WorkloadError(chats ? "workload.generator.conversations.count must be > 0 (or give "
                                "duration_s with a rate)"
                              : "workload.generator.num_requests must be > 0 (or give "
                                "duration_s with a rate)");
  }
  return g;
}

}  // namespace

// A generator's draws, request by request. The constructor checks the generator and
// draws every unit's arrival; each request's lengths and tokens are drawn when asked for,
// in unit order, so that drawing them one at a time gives the same requests as drawing
// them all at once.
class Generated {
 public:
  Generated(const Generator& g, const WorkloadContext& ctx)
      : g_(with_count(g)),
        chats_(g.has_conversations()),
        turns_(chats_ ? std::max(1, g.conversations().turns()) : 1),
        prompt_len_(length_sampler(g, true, ctx.base_dir)),
        output_len_(length_sampler(g, false, ctx.base_dir)),
        user_len_(chats_ && g.conversations().has_user_len()
                      ? LengthSampler::from(g.conversations().user_len(), "prompt_len",
                                            ctx.base_dir,
                                            "workload.generator.conversations.user_len")
                      : prompt_len_),
        lengths_(stream(g.seed(), kLengths)),
        think_(stream(g.seed(), kThink)),
        draw_(ctx, g.seed() ^ (uint64_t{kTokens} << 56)),
        group_(g.prefix_group_size() > 0 ? g.prefix_group_size() : 1),
        cap_(chats_ && g.conversations().max_prompt_len() > 0
                 ? g.conversations().max_prompt_len()
                 : std::numeric_limits<int32_t>::max()) {
    const int32_t count = chats_ ? g.conversations().count() : g.num_requests();
    if (!chats_) check_fits(prompt_len_, output_len_, g, ctx.context_length, ctx.context_overflow);
    units_ = unit_arrivals(g, 1.0 / turns_, count, g.seed(), ctx.max_requests);
  }

  bool chats() const { return chats_; }
  size_t num_units() const { return units_.size(); }

  // The first (for independent requests, the only) request of unit `i`; units are drawn
  // in order, each once.
  RequestSpec first_of(size_t i) {
    const Unit& u = units_[i];
    if (g_.shared_prefix_len() > 0 && i % static_cast<size_t>(group_) == 0) {
      prefix_.clear();
      draw_.append(prefix_, g_.shared_prefix_len());
    }
    RequestSpec r;
    r.arrival_s = u.arrival_s;
    r.tenant = u.tenant;
    r.priority = g_.tenants_size() > 0 ? g_.tenants(u.tenant).priority() : 0;
    if (g_.shared_prefix_len() > 0) r.prefix_group = i / static_cast<size_t>(group_) + 1;
    r.prompt =
        draw_.prompt(chats_ ? user_len_.draw(lengths_) : prompt_len_.draw(lengths_), prefix_);
    r.max_new_tokens = output_len_.draw(lengths_);
    if (chats_) r.conversation = i + 1;
    return r;
  }

  // The turns of the conversation that starts with `r` (from first_of), appended to `out`
  // until one's prompt is past the cap.
  void turns_of(RequestSpec r, std::vector<RequestSpec>& out) {
    for (int32_t k = 0; k < turns_; ++k) {
      if (k > 0) {
        RequestSpec next = r;
        next.turn = k;
        next.arrival_s = r.arrival_s + exponential(think_, g_.conversations().think_time_s());
        // The previous answer, stood in for by tokens of its length, then the new user text.
        draw_.append(next.prompt, r.max_new_tokens);
        draw_.append(next.prompt, user_len_.draw(lengths_));
        next.max_new_tokens = output_len_.draw(lengths_);
        r = std::move(next);
      }
      if (static_cast<int32_t>(r.prompt.size()) > cap_) break;
      out.push_back(r);
    }
  }

 private:
  Generator g_;
  bool chats_;
  int32_t turns_;
  LengthSampler prompt_len_, output_len_, user_len_;
  Rng lengths_, think_;
  TokenDraw draw_;
  int32_t group_, cap_;
  std::vector<Unit> units_;
  std::vector<int32_t> prefix_;
};

namespace {

// Every request of a generator with conversations, sorted by arrival (a conversation's
// later turns arrive among later units' first turns).
std::vector<RequestSpec> all_turns(Generated& gen, size_t max_requests) {
  std::vector<RequestSpec> out;
  for (size_t i = 0; i < gen.num_units(); ++i) gen.turns_of(gen.first_of(i), out);
  std::stable_sort(out.begin(), out.end(), [](const RequestSpec& a, const RequestSpec& b) {
    return a.arrival_s < b.arrival_s;
  });
  if (max_requests > 0 && out.size() > max_requests) out.resize(max_requests);
  return out;
}

}  // namespace

cpu::SamplingParams sampling_from(const bricks::manifest::Sampling& s) {
  cpu::SamplingParams p;
  p.temperature = static_cast<float>(s.temperature());
  p.top_k = s.top_k();
  p.top_p = s.top_p() > 0 ? static_cast<float>(s.top_p()) : 1.0f;
  p.min_p = static_cast<float>(s.min_p());
  p.repetition_penalty =
      s.repetition_penalty() > 0 ? static_cast<float>(s.repetition_penalty()) : 1.0f;
  p.seed = s.seed();
  return p;
}

// Independent requests come straight from the generator: their units arrive in order
// (one stream, or the tenants' streams merged by a stable sort) and each unit is one
// request, so unit order is arrival order and the sort of all_turns would keep it.
RequestStream::RequestStream(const bricks::manifest::Workload& w, const WorkloadContext& context) {
  WorkloadContext ctx = context;
  if (!w.context_overflow().empty() &&
      !parse_context_overflow(w.context_overflow(), &ctx.context_overflow)) {
    throw WorkloadError("workload.context_overflow '" + w.context_overflow() +
                        "' is not one of fail, truncate_prompt, clamp_max_tokens");
  }
  if (!w.trace().empty()) {
    built_ = read_trace(trace_path(w, ctx.base_dir), ctx, w.trace_seed());
    if (w.trace_time_scale() > 0) {
      for (RequestSpec& r : built_) r.arrival_s *= w.trace_time_scale();
    }
  } else {
    generated_ = std::make_unique<Generated>(w.generator(), ctx);
    if (generated_->chats()) {
      built_ = all_turns(*generated_, ctx.max_requests);
      generated_.reset();
    }
  }
  size_ = generated_ != nullptr ? generated_->num_units() : built_.size();
  if (ctx.max_requests > 0 && size_ > ctx.max_requests) size_ = ctx.max_requests;
  sampling_ = sampling_from(w.sampling());
  ignore_eos_ = w.sampling().ignore_eos();
  context_overflow_ = ctx.context_overflow;
}

RequestStream::~RequestStream() = default;

bool RequestStream::next(RequestSpec& out) {
  if (next_ == size_) return false;
  out = generated_ != nullptr ? generated_->first_of(next_) : std::move(built_[next_]);
  ++next_;
  out.sampling = sampling_;
  out.ignore_eos = ignore_eos_;
  out.context_overflow = context_overflow_;
  return true;
}

std::vector<RequestSpec> make_workload(const bricks::manifest::Workload& w,
                                       const WorkloadContext& context) {
  RequestStream stream(w, context);
  std::vector<RequestSpec> out;
  out.reserve(stream.size());
  RequestSpec spec;
  while (stream.next(spec)) out.push_back(std::move(spec));
  return out;
}

std::vector<RequestSpec> make_workload(const bricks::manifest::Workload& w,
                                       const model::Tokenizer& tokenizer,
                                       const std::filesystem::path& base_dir) {
  WorkloadContext ctx;
  ctx.tokenizer = &tokenizer;
  ctx.vocab_size = tokenizer.vocab_size();
  ctx.base_dir = base_dir;
  return make_workload(w, ctx);
}

void retarget_generator(bricks::manifest::Generator& g, double rate, int32_t num_requests,
                        double duration_s) {
  if (has_tenant_rates(g)) {
    double total = 0;
    for (const auto& t : g.tenants()) total += t.rate();
    for (auto& t : *g.mutable_tenants()) t.set_rate(t.rate() * rate / total);
  }
  g.set_rate(rate);
  if (num_requests > 0) {
    g.set_duration_s(0);
    if (g.has_conversations()) {
      const int32_t turns = std::max(1, g.conversations().turns());
      g.mutable_conversations()->set_count((num_requests + turns - 1) / turns);
      g.set_num_requests(0);
    } else {
      g.set_num_requests(num_requests);
    }
  } else if (duration_s > 0) {
    g.set_duration_s(duration_s);
    g.set_num_requests(0);
    if (g.has_conversations()) g.mutable_conversations()->set_count(0);
  }
}

RateRetarget::RateRetarget(const bricks::manifest::Workload& w,
                           const std::filesystem::path& base_dir) {
  if (!w.trace().empty()) trace_.emplace(trace_path(w, base_dir));
}

size_t RateRetarget::apply(bricks::manifest::Workload& w, double rate, int32_t num_requests,
                           double duration_s) const {
  if (!trace_) {
    retarget_generator(*w.mutable_generator(), rate, num_requests, duration_s);
    return 0;
  }
  if (duration_s > 0) {
    throw WorkloadError(
        "a duration needs workload.generator: a trace replays its own rows; "
        "keep the first N of them with a request count instead");
  }
  const size_t keep = num_requests > 0 ? static_cast<size_t>(num_requests) : 0;
  w.set_trace_time_scale(trace_->rate(keep) / rate);
  return keep;
}

}  // namespace bricks::engine
