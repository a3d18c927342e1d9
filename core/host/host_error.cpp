#include "host/host_error.h"

#include <new>

// The definition behind the SDK's opaque bricks_error. Only this file sees its layout.
struct bricks_error {
  bricks_code code;
  std::string message;
};

namespace bricks::host {
namespace {
// Returned when allocating an error fails; never freed.
bricks_error g_out_of_memory{BRICKS_RESOURCE_EXHAUSTED, "out of memory while reporting an error"};
}  // namespace

bricks_error* make_error(bricks_code code, const char* message) {
  // Called from brick code through the C boundary: must not throw.
  try {
    return new bricks_error{code, message != nullptr ? message : ""};
  } catch (...) {
    return &g_out_of_memory;
  }
}

bricks_code error_code(const bricks_error* err) { return err != nullptr ? err->code : BRICKS_OK; }

std::string error_message(const bricks_error* err) { return err != nullptr ? err->message : ""; }

const char* error_message_c(const bricks_error* err) {
  return err != nullptr ? err->message.c_str() : "";
}

void free_error(bricks_error* err) {
  if (err != &g_out_of_memory) delete err;
}

std::string take_error(bricks_error* err) {
  std::string m = error_message(err);
  free_error(err);
  return m;
}

void check(bricks_error* err, std::string_view context) {
  if (err == nullptr) return;
  bricks_code code = err->code;
  std::string message = take_error(err);
  throw BrickError(std::string(context) + ": " + message, code);
}

}  // namespace bricks::host
