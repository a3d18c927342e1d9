// The error of `bricks plan`'s library: a message for the user that names the fix.
#pragma once

#include <stdexcept>

namespace bricks::plan {

class PlanError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace bricks::plan
