#include "bench_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "output_file.h"
#include "svg_plot.h"

namespace bricks::cli {

namespace {

namespace fs = std::filesystem;

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

nlohmann::json search_json(const engine::RateSearchResult& s) {
  nlohmann::json tried = nlohmann::json::array();
  for (const auto& [rate, ok] : s.tried) tried.push_back({{"rate", rate}, {"passed", ok}});
  return {{"max_rate", s.best},
          {"lowest_failed_rate",
           std::isfinite(s.lowest_failed) ? nlohmann::json(s.lowest_failed) : nlohmann::json()},
          {"bounded", s.bounded},
          {"converged", s.converged},
          {"tried", tried}};
}

// The points of manifest `m`, by rate (the last run of a rate wins).
std::vector<const BenchPoint*> by_rate(const BenchResults& r, size_t m) {
  std::vector<const BenchPoint*> pts;
  for (const BenchPoint& p : r.points) {
    if (p.manifest != m) continue;
    auto same = std::find_if(pts.begin(), pts.end(),
                             [&](const BenchPoint* q) { return q->rate == p.rate; });
    if (same != pts.end()) {
      *same = &p;
    } else {
      pts.push_back(&p);
    }
  }
  std::sort(pts.begin(), pts.end(),
            [](const BenchPoint* a, const BenchPoint* b) { return a->rate < b->rate; });
  return pts;
}

void save(const fs::path& file, const std::string& text, std::vector<fs::path>& written) {
  write_file_atomically(file, text);
  written.push_back(file);
}

// Empirical CDF points of one latency over a run's finished requests, in ms.
Series cdf_series(const std::string& label, const engine::Report& rep, bool ttft) {
  std::vector<double> v;
  for (const engine::RequestRecord& rec : rep.records) {
    if (rec.failed) continue;
    if (ttft && rec.has_ttft()) v.push_back(rec.ttft_s * 1e3);
    if (!ttft && rec.has_tpot()) v.push_back(rec.tpot_s * 1e3);
  }
  std::sort(v.begin(), v.end());
  Series s{label, {}, false};
  if (!v.empty()) s.points.emplace_back(v.front(), 0.0);
  for (size_t i = 0; i < v.size(); ++i) {
    s.points.emplace_back(v[i], static_cast<double>(i + 1) / static_cast<double>(v.size()));
  }
  return s;
}

}  // namespace

std::string bench_table(const BenchResults& r) {
  std::string out;
  char line[400];
  std::snprintf(line, sizeof line, "%-20s %7s %5s %5s %8s %9s %9s %9s %9s %9s %7s %9s\n",
                "manifest", "rate", "done", "fail", "req/s", "out tok/s", "TTFT p50", "TTFT p99",
                "TPOT p50", "TPOT p99", "SLO met", "eff req/s");
  out += line;
  for (size_t m = 0; m < r.labels.size(); ++m) {
    for (const BenchPoint* p : by_rate(r, m)) {
      if (!p->swept) continue;
      const engine::Report& rep = p->report;
      const std::string met = rep.slo.ttft_s > 0 || rep.slo.tpot_s > 0
                                  ? fmt("%.1f%%", rep.slo_result.attainment * 100)
                                  : "-";
      std::snprintf(line, sizeof line,
                    "%-20s %7.2f %5zu %5zu %8.2f %9.1f %9.1f %9.1f %9.1f %9.1f %7s %9.2f\n",
                    r.labels[m].c_str(), p->rate, rep.finished, rep.failed, rep.request_throughput,
                    rep.output_throughput, rep.ttft.p50() * 1e3, rep.ttft.p99 * 1e3,
                    rep.tpot.p50() * 1e3, rep.tpot.p99 * 1e3, met.c_str(),
                    rep.slo_result.effective_rps);
      out += line;
    }
  }
  out +=
      "latencies in ms; SLO met and effective req/s count requests within the TTFT and TPOT "
      "targets\n";
  for (const BenchCapacity& c : r.capacity) {
    const engine::SloSpec& s = r.slos[c.manifest];
    out += "\n" + r.labels[c.manifest] + " (SLO " + s.targets() + ")\n";
    if (c.has_capacity) {
      const std::string delay =
          r.capacity_median_ttft > 0 ? fmt(" and median TTFT <= %g s", r.capacity_median_ttft)
                                     : std::string();
      std::snprintf(line, sizeof line,
                    "  capacity  %.2f req/s with P%g latencies within the SLO%s (%s, %zu runs)\n",
                    c.capacity.best, s.percentile, delay.c_str(),
                    c.capacity.converged
                        ? fmt("next failing rate %.2f", c.capacity.lowest_failed).c_str()
                    : c.capacity.bounded ? "not converged: raise --max-runs"
                                         : "no failing rate found: raise the rates",
                    c.capacity.tried.size());
      out += line;
    }
    if (c.has_goodput) {
      std::snprintf(line, sizeof line,
                    "  goodput   %.2f req/s with >= %.0f%% of requests within TTFT and TPOT "
                    "(%zu runs)\n",
                    c.goodput.best, s.attainment * 100, c.goodput.tried.size());
      out += line;
    } else {
      out += "  goodput   not searched: it needs a TTFT target (--slo-ttft or output.slo.ttft_s)\n";
    }
  }
  return out;
}

nlohmann::json bench_json(const BenchResults& r) {
  nlohmann::json manifests = nlohmann::json::array();
  for (size_t m = 0; m < r.labels.size(); ++m) {
    const engine::SloSpec& s = r.slos[m];
    manifests.push_back({{"label", r.labels[m]},
                         {"file", r.files[m]},
                         {"slo",
                          {{"ttft_s", s.ttft_s},
                           {"tpot_s", s.tpot_s},
                           {"tbt_s", s.tbt_s},
                           {"percentile", s.percentile},
                           {"attainment", s.attainment}}}});
  }
  nlohmann::json runs = nlohmann::json::array();
  for (const BenchPoint& p : r.points) {
    runs.push_back({{"manifest", r.labels[p.manifest]},
                    {"rate", p.rate},
                    {"swept", p.swept},
                    {"report", p.report.to_json()}});
  }
  nlohmann::json caps = nlohmann::json::array();
  for (const BenchCapacity& c : r.capacity) {
    nlohmann::json j = {{"manifest", r.labels[c.manifest]}};
    if (c.has_capacity) j["capacity"] = search_json(c.capacity);
    if (c.has_goodput) j["goodput"] = search_json(c.goodput);
    caps.push_back(j);
  }
  return {{"manifests", manifests}, {"runs", runs}, {"capacity", caps}, {"cdf_rate", r.cdf_rate}};
}

std::vector<fs::path> write_bench_plots(const BenchResults& r, const fs::path& dir) {
  std::vector<fs::path> written;
  for (const bool ttft : {true, false}) {
    LineChart c;
    c.title = std::string(ttft ? "Time to first token" : "Time per output token") +
              " against request rate";
    c.x_label = "request rate (req/s)";
    c.y_label = ttft ? "TTFT (ms)" : "TPOT (ms)";
    for (size_t m = 0; m < r.labels.size(); ++m) {
      Series p50{r.labels[m] + " P50", {}, false}, p99{r.labels[m] + " P99", {}, true};
      for (const BenchPoint* p : by_rate(r, m)) {
        const engine::Distribution& d = ttft ? p->report.ttft : p->report.tpot;
        p50.points.emplace_back(p->rate, d.p50() * 1e3);
        p99.points.emplace_back(p->rate, d.p99 * 1e3);
      }
      c.series.push_back(std::move(p50));
      c.series.push_back(std::move(p99));
    }
    save(dir / (ttft ? "latency_ttft.svg" : "latency_tpot.svg"), render(c), written);

    LineChart cdf;
    cdf.title = std::string("CDF of ") + (ttft ? "TTFT" : "TPOT") + " at " +
                tick_label(r.cdf_rate) + " req/s";
    cdf.x_label = ttft ? "TTFT (ms)" : "TPOT (ms)";
    cdf.y_label = "share of requests";
    cdf.steps = true;
    for (size_t m = 0; m < r.labels.size(); ++m) {
      for (const BenchPoint* p : by_rate(r, m)) {
        if (p->rate == r.cdf_rate) cdf.series.push_back(cdf_series(r.labels[m], p->report, ttft));
      }
    }
    save(dir / (ttft ? "cdf_ttft.svg" : "cdf_tpot.svg"), render(cdf), written);
  }
  if (!r.capacity.empty()) {
    BarChart b;
    b.title = "Capacity and goodput per manifest";
    b.y_label = "request rate (req/s)";
    b.bar_labels = {"capacity (percentile SLO)", "goodput (attainment)"};
    for (const BenchCapacity& c : r.capacity) {
      b.groups.push_back(
          {r.labels[c.manifest],
           {c.has_capacity ? c.capacity.best : 0.0, c.has_goodput ? c.goodput.best : 0.0}});
    }
    save(dir / "capacity.svg", render(b), written);
  }
  return written;
}

}  // namespace bricks::cli
