/* The layout as the C compiler sees it, so the test can check that C and C++ agree with
 * the pins (bricks are written in either). */
#include <stdalign.h>
#include <stddef.h>

#include "abi_layout_c.h"
#include "abi_layout_pins.h"
#include "bricks/abi.h"
#include "bricks/capabilities.h" /* plain C as well */

#define C_STRUCT(type, size, align) {#type, "", sizeof(type), alignof(type)},
#define C_FIELD(type, field, offset) {#type, #field, offsetof(type, field), 0},

static const abi_layout_entry kEntries[] = {BRICKS_ABI_LAYOUT(C_STRUCT, C_FIELD)};

const abi_layout_entry* abi_layout_from_c(size_t* count) {
  *count = sizeof kEntries / sizeof kEntries[0];
  return kEntries;
}
