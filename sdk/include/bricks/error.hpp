// bricks/error.hpp: errors on the C++ side of the boundary.
//
// A brick throws bricks::Error (or any std::exception); the adapters in bricks/bricks.hpp
// catch it at the C entry point and turn it into a bricks_error* with the message.
#pragma once

#include <stdexcept>
#include <string>

#include "bricks/abi.h"

namespace bricks {

class Error : public std::runtime_error {
 public:
  Error(bricks_code code, const std::string& message) : std::runtime_error(message), code_(code) {}
  bricks_code code() const noexcept { return code_; }

  static Error invalid(const std::string& m) { return {BRICKS_INVALID_ARGUMENT, m}; }
  static Error exhausted(const std::string& m) { return {BRICKS_RESOURCE_EXHAUSTED, m}; }
  static Error unsupported(const std::string& m) { return {BRICKS_UNSUPPORTED, m}; }
  static Error internal(const std::string& m) { return {BRICKS_INTERNAL, m}; }

 private:
  bricks_code code_;
};

// Runs `body` and converts any exception into a bricks_error* made by `host`; NULL on
// success. Every C entry point the SDK generates goes through here.
template <class Body>
bricks_error* guard(const bricks_host_api* host, Body&& body) noexcept {
  try {
    body();
    return nullptr;
  } catch (const Error& e) {
    return host->error_new(e.code(), e.what());
  } catch (const std::exception& e) {
    return host->error_new(BRICKS_INTERNAL, e.what());
  } catch (...) {
    return host->error_new(BRICKS_INTERNAL, "unknown exception");
  }
}

}  // namespace bricks
