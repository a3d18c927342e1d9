// A brick whose create always fails: its constructor throws, and the SDK turns that into
// the error create returns.
#include "bricks/bricks.hpp"

namespace {

class Throwing : public bricks::Scheduler {
 public:
  Throwing(const bricks::Host& host, const bricks::Params&) : bricks::Scheduler(host) {
    throw bricks::Error::invalid("the throwing brick refuses every configuration");
  }
  void schedule(const bricks_sched_input&, bricks_step_plan&) override {}
};

}  // namespace

BRICKS_PLUGIN("throwing", "0.0.1", "MIT",
              bricks::describe<Throwing>("throwing", "0.0.1", "Fails in create."))
