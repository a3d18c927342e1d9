// The error every step from a manifest to a running engine throws, with a message for the
// user (the file, the problem, the fix).
#pragma once

#include <stdexcept>

namespace bricks::engine {

class RuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace bricks::engine
