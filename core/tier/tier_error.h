// The one error type of the tier library: a message that names the file, what went wrong
// and the fix.
#pragma once

#include <stdexcept>

namespace bricks::tier {

class TierError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace bricks::tier
