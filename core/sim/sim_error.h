// The one error type of the sim library: a message that names what is wrong and the fix.
#pragma once

#include <stdexcept>

namespace bricks::sim {

class SimError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace bricks::sim
