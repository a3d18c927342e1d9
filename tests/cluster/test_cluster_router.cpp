// A colocated cluster split into pools with a router: each request goes to the pool the
// router names and, within it, to the least-loaded instance; without a router nothing
// changes; the refusals.
#include <gtest/gtest.h>

#include <set>

#include "cluster/cluster.h"
#include "toy_cluster.h"

namespace bricks::testing {
namespace {

using engine::Cluster;
using engine::ClusterInstance;
using engine::Placement;

// Three colocated instances: 0 and 1 in pool 0, 2 in pool 1.
std::unique_ptr<Cluster> pooled(std::vector<std::unique_ptr<host::BrickInstance>>& bricks) {
  ToyClusterOptions o;
  std::vector<ClusterInstance> in = toy_instances(Placement{false, 3, 1, 0, 1}, o, bricks);
  in[2].pool = 1;
  return std::make_unique<Cluster>(std::move(in), o.link, o.kv_bytes_per_token);
}

TEST(ClusterRouter, RequestsGoToTheNamedPoolAndSpreadWithinIt) {
  std::vector<std::unique_ptr<host::BrickInstance>> bricks;
  std::unique_ptr<Cluster> c = pooled(bricks);
  // Even requests to pool 1, odd ones to pool 0.
  c->set_router([](size_t index, const engine::RequestSpec&) {
    return static_cast<int32_t>(index % 2 == 0 ? 1 : 0);
  });
  ToyWorkload w;
  w.num_requests = 40;
  for (engine::RequestSpec& s : toy_workload(w)) c->submit(std::move(s));
  c->run_to_completion();
  ASSERT_EQ(c->num_ended(), c->requests().size());
  std::set<int32_t> odd_instances;
  for (size_t i = 0; i < c->requests().size(); ++i) {
    const engine::ClusterRequest& cr = c->requests()[i];
    EXPECT_EQ(cr.merged.finish, engine::FinishReason::kLength) << cr.merged.failure;
    if (i % 2 == 0) {
      EXPECT_EQ(cr.first_instance, 2) << "request " << i;
    } else {
      EXPECT_NE(cr.first_instance, 2) << "request " << i;
      odd_instances.insert(cr.first_instance);
    }
  }
  EXPECT_EQ(odd_instances, (std::set<int32_t>{0, 1}));  // least loaded within pool 0
}

TEST(ClusterRouter, APoolWithoutInstancesAndADisaggregatedClusterAreRefused) {
  std::vector<std::unique_ptr<host::BrickInstance>> bricks;
  std::unique_ptr<Cluster> c = pooled(bricks);
  c->set_router([](size_t, const engine::RequestSpec&) { return 7; });
  ToyWorkload w;
  w.num_requests = 1;
  for (engine::RequestSpec& s : toy_workload(w)) c->submit(std::move(s));
  EXPECT_THROW(c->step(), std::out_of_range);

  std::vector<std::unique_ptr<host::BrickInstance>> more;
  ToyClusterOptions o;
  Cluster d(toy_instances(Placement{true, 1, 1, 1, 1}, o, more), o.link, o.kv_bytes_per_token);
  EXPECT_THROW(d.set_router([](size_t, const engine::RequestSpec&) { return 0; }),
               std::invalid_argument);
}

}  // namespace
}  // namespace bricks::testing
