#include "plan/plan_ilp.h"

#include <glpk.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "plan/plan_error.h"

namespace bricks::plan {

namespace {

// Loads below this many GPUs count as none: capacity ratios carry rounding noise.
constexpr double kLoadEps = 1e-9;

struct ProbDeleter {
  void operator()(glp_prob* p) const { glp_delete_prob(p); }
};

void check_shape(const PlanProblem& p) {
  const size_t g = p.prices.size(), b = p.rates.size();
  if (g == 0) throw PlanError("the plan needs at least one GPU type");
  if (!(p.max_load > 0 && p.max_load <= 1)) {
    throw PlanError("the plan's maximum load per GPU must be in (0, 1]");
  }
  if (p.gpu_names.size() != g || p.bucket_names.size() != b || p.cap.size() != b) {
    throw PlanError("the plan's problem is malformed: names, rates and capacities differ in size");
  }
  for (size_t i = 0; i < g; ++i) {
    if (!(p.prices[i] > 0)) {
      throw PlanError("GPU type " + p.gpu_names[i] + " has no price per hour (> 0)");
    }
  }
  for (size_t i = 0; i < b; ++i) {
    if (p.cap[i].size() != g) throw PlanError("the plan's capacity table is malformed");
    if (!(p.rates[i] >= 0)) throw PlanError("bucket " + p.bucket_names[i] + " has a negative rate");
    for (double c : p.cap[i]) {
      if (!(c >= 0)) throw PlanError("bucket " + p.bucket_names[i] + " has a negative capacity");
    }
  }
}

}  // namespace

double single_type_cost(const PlanProblem& p, size_t g, int32_t* gpus) {
  check_shape(p);
  double load = 0;
  for (size_t b = 0; b < p.rates.size(); ++b) {
    if (p.rates[b] <= 0) continue;
    if (p.cap[b][g] <= 0) return -1;
    load += p.rates[b] / p.cap[b][g];
  }
  const auto n = static_cast<int32_t>(std::ceil(load / p.max_load - kLoadEps));
  if (gpus != nullptr) *gpus = n;
  return n * p.prices[g];
}

PlanSolution solve_plan(const PlanProblem& p) {
  check_shape(p);
  const size_t ng = p.prices.size(), nb = p.rates.size();
  for (size_t b = 0; b < nb; ++b) {
    bool any = false;
    for (size_t g = 0; g < ng; ++g) any = any || p.cap[b][g] > 0;
    if (p.rates[b] > 0 && !any) {
      std::string names;
      for (const std::string& n : p.gpu_names) names += (names.empty() ? "" : ", ") + n;
      throw PlanError("no GPU type can serve bucket " + p.bucket_names[b] +
                      " within the SLO (tried " + names +
                      "); relax the SLO, add a faster GPU type with --gpus, or use other "
                      "bucket edges");
    }
  }

  std::unique_ptr<glp_prob, ProbDeleter> lp(glp_create_prob());
  glp_set_obj_dir(lp.get(), GLP_MIN);
  // Columns: n_g first (1..ng), then x[b][g] for cap > 0.
  glp_add_cols(lp.get(), static_cast<int>(ng));
  for (size_t g = 0; g < ng; ++g) {
    const int col = static_cast<int>(g) + 1;
    glp_set_col_kind(lp.get(), col, GLP_IV);
    glp_set_col_bnds(lp.get(), col, GLP_LO, 0.0, 0.0);
    glp_set_obj_coef(lp.get(), col, p.prices[g]);
  }
  std::vector<std::vector<int>> xcol(nb, std::vector<int>(ng, 0));
  for (size_t b = 0; b < nb; ++b) {
    for (size_t g = 0; g < ng; ++g) {
      if (p.cap[b][g] <= 0) continue;
      const int col = glp_add_cols(lp.get(), 1);
      glp_set_col_bnds(lp.get(), col, GLP_DB, 0.0, 1.0);
      xcol[b][g] = col;
    }
  }
  // Rows: one share row per bucket (= 1), one load row per type (<= 0 after moving n_g).
  std::vector<int> ia{0}, ja{0};
  std::vector<double> ar{0.0};
  auto put = [&](int row, int col, double v) {
    ia.push_back(row);
    ja.push_back(col);
    ar.push_back(v);
  };
  glp_add_rows(lp.get(), static_cast<int>(nb + ng));
  for (size_t b = 0; b < nb; ++b) {
    const int row = static_cast<int>(b) + 1;
    bool servable = false;
    for (size_t g = 0; g < ng; ++g) servable = servable || xcol[b][g] != 0;
    // A bucket without requests that no type can serve asks for nothing.
    if (servable) {
      glp_set_row_bnds(lp.get(), row, GLP_FX, 1.0, 1.0);
    } else {
      glp_set_row_bnds(lp.get(), row, GLP_FR, 0.0, 0.0);
    }
    for (size_t g = 0; g < ng; ++g) {
      if (xcol[b][g] != 0) put(row, xcol[b][g], 1.0);
    }
  }
  for (size_t g = 0; g < ng; ++g) {
    const int row = static_cast<int>(nb + g) + 1;
    glp_set_row_bnds(lp.get(), row, GLP_UP, 0.0, 0.0);
    put(row, static_cast<int>(g) + 1, -p.max_load);
    for (size_t b = 0; b < nb; ++b) {
      if (xcol[b][g] != 0) put(row, xcol[b][g], p.rates[b] / p.cap[b][g]);
    }
  }
  glp_load_matrix(lp.get(), static_cast<int>(ia.size()) - 1, ia.data(), ja.data(), ar.data());

  glp_iocp parm;
  glp_init_iocp(&parm);
  parm.presolve = GLP_ON;
  parm.msg_lev = GLP_MSG_OFF;
  const int rc = glp_intopt(lp.get(), &parm);
  const int status = glp_mip_status(lp.get());
  if (rc != 0 || (status != GLP_OPT && status != GLP_FEAS)) {
    throw PlanError("GLPK found no GPU allocation that serves every bucket (glp_intopt " +
                    std::to_string(rc) + ", status " + std::to_string(status) + ")");
  }

  PlanSolution s;
  s.counts.assign(ng, 0);
  s.load.assign(ng, 0.0);
  s.shares.assign(nb, std::vector<double>(ng, 0.0));
  for (size_t g = 0; g < ng; ++g) {
    s.counts[g] =
        static_cast<int32_t>(std::lround(glp_mip_col_val(lp.get(), static_cast<int>(g) + 1)));
    s.cost_per_hour += s.counts[g] * p.prices[g];
  }
  for (size_t b = 0; b < nb; ++b) {
    double sum = 0;
    for (size_t g = 0; g < ng; ++g) {
      if (xcol[b][g] == 0) continue;
      const double x = std::clamp(glp_mip_col_val(lp.get(), xcol[b][g]), 0.0, 1.0);
      s.shares[b][g] = x;
      sum += x;
    }
    for (size_t g = 0; g < ng; ++g) {
      if (sum > 0) s.shares[b][g] /= sum;  // exact rows despite the solver's tolerances
      if (p.cap[b][g] > 0) s.load[g] += s.shares[b][g] * p.rates[b] / p.cap[b][g];
    }
  }
  return s;
}

}  // namespace bricks::plan
