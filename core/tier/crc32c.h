// CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected), the checksum iSCSI, ext4 and
// NVMe use: the SSE4.2 crc32 instruction where the CPU has it (chosen once, at run time),
// a table otherwise. Both give the same value for the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace bricks::tier {

// The CRC-32C of `size` bytes at `data`, continuing from `crc` (0 to start).
uint32_t crc32c(const void* data, size_t size, uint32_t crc = 0);

// The same with the table only, whatever the CPU: the reference the fast path is tested
// against.
uint32_t crc32c_portable(const void* data, size_t size, uint32_t crc = 0);

}  // namespace bricks::tier
