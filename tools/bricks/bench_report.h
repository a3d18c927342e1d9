// What `bricks bench` measured, and how it shows it: a table for the terminal, bench.json
// and SVG plots (latency against rate, latency CDFs, capacity and goodput per manifest).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "report/report.h"
#include "report/report_capacity.h"

namespace bricks::cli {

struct BenchPoint {
  size_t manifest = 0;  // index into BenchResults::labels
  double rate = 0;      // requests per second asked of the generator
  bool swept = false;   // one of --rates (else a capacity search step)
  engine::Report report;
};

struct BenchCapacity {
  size_t manifest = 0;
  bool has_capacity = false, has_goodput = false;
  engine::RateSearchResult capacity;  // percentile targets hold (Sarathi-Serve)
  engine::RateSearchResult goodput;   // attainment reached (DistServe)
};

struct BenchResults {
  std::vector<std::string> labels;      // per manifest: file stem
  std::vector<std::string> files;       // per manifest: path as given
  std::vector<engine::SloSpec> slos;    // per manifest
  std::vector<BenchPoint> points;       // every run, in the order run
  std::vector<BenchCapacity> capacity;  // per manifest, with --capacity
  double cdf_rate = 0;                  // the rate whose CDFs are plotted
  double capacity_median_ttft = 0;      // capacity's bound on the median TTFT, s (0: none)
};

std::string bench_table(const BenchResults& r);
nlohmann::json bench_json(const BenchResults& r);
// Writes latency_ttft.svg, latency_tpot.svg, cdf_ttft.svg, cdf_tpot.svg and (with
// capacity results) capacity.svg into `dir`; returns the files written. Throws
// std::runtime_error naming a file that cannot be written.
std::vector<std::filesystem::path> write_bench_plots(const BenchResults& r,
                                                     const std::filesystem::path& dir);

}  // namespace bricks::cli
