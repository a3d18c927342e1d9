// Errors on the host side: BrickError for every host-side failure, and the host's half of
// the boundary's error object (bricks_error, made by bricks_host_api::error_new).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "bricks/abi.h"

namespace bricks::host {

// Every failure the host reports: loading, scanning, param validation, a brick's error.
// what() is one line that names the place (file, brick, param) and, where there is one,
// the fix.
class BrickError : public std::runtime_error {
 public:
  explicit BrickError(const std::string& message, bricks_code code = BRICKS_INVALID_ARGUMENT)
      : std::runtime_error(message), code_(code) {}
  bricks_code code() const noexcept { return code_; }

 private:
  bricks_code code_;
};

// The host's error_new: a new error holding `code` and a copy of `message` (NULL reads as
// ""). Safe to call from any thread. Freed with free_error or consumed by check/take_error.
bricks_error* make_error(bricks_code code, const char* message);
// Code and message of an error; BRICKS_OK and "" for nullptr.
bricks_code error_code(const bricks_error* err);
std::string error_message(const bricks_error* err);
void free_error(bricks_error* err);
// The host API's error_message: the message as a C string owned by the error ("" for nullptr).
const char* error_message_c(const bricks_error* err);
// The message of `err`, then frees it; "" for nullptr.
std::string take_error(bricks_error* err);

// Does nothing for nullptr. Otherwise frees `err` and throws BrickError
// "<context>: <message>" carrying the error's code.
void check(bricks_error* err, std::string_view context);

}  // namespace bricks::host
