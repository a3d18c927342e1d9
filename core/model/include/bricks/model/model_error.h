// The one error type of bricks::model: its message names the file, the place in it (byte
// offset, metadata key or tensor) and what is wrong.
#pragma once

#include <stdexcept>

namespace bricks::model {

class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace bricks::model
