/* One row of the layout table: a struct's size and alignment (field "") or a field's
 * offset (align 0). */
#ifndef BRICKS_TESTS_ABI_LAYOUT_C_H
#define BRICKS_TESTS_ABI_LAYOUT_C_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct abi_layout_entry {
  const char* type;
  const char* field;
  size_t value; /* size or offset */
  size_t align;
} abi_layout_entry;

/* The table computed by the C compiler, in BRICKS_ABI_LAYOUT order. */
const abi_layout_entry* abi_layout_from_c(size_t* count);

#ifdef __cplusplus
}
#endif

#endif
