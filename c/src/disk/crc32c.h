/*
 * crc32c.h — CRC32C (Castagnoli), the checksum of every durable file (docs/format.md).
 *
 * Convention (as zlib's crc32): start with crc = 0; pass a previous result to continue, so
 * tl_crc32c(tl_crc32c(0, a, n), b, m) == tl_crc32c(0, a || b, n + m). The check value is
 * tl_crc32c(0, "123456789", 9) == 0xE3069283. The pre- and post-inversion mean that a run of
 * zero bytes does not checksum to zero, so an all-zero region never passes for valid data.
 *
 * tl_crc32c picks the hardware instruction when the CPU has it (SSE4.2 `crc32` on x86_64,
 * the ARMv8 CRC extension on aarch64), else the software path (slicing-by-8). The choice is
 * probed once and cached (see crc32c.c). Both paths give identical results for any input.
 */
#ifndef TL_DISK_CRC32C_H
#define TL_DISK_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CRC32C of n bytes at data (data may be NULL when n == 0), continuing from crc. */
uint32_t tl_crc32c(uint32_t crc, const void *data, size_t n);

/* The software path, always available (~1.5-2 GB/s). */
uint32_t tl_crc32c_sw(uint32_t crc, const void *data, size_t n);

/* The hardware path. Call only when tl_crc32c_hw_available() is true; otherwise it falls back
 * to the software path (so it is never wrong, only slow). */
uint32_t tl_crc32c_hw(uint32_t crc, const void *data, size_t n);

/* Whether this CPU and this build have a hardware CRC32C instruction. */
bool tl_crc32c_hw_available(void);

/* Static name of the path tl_crc32c uses: "sse4.2", "armv8-crc" or "software". */
const char *tl_crc32c_impl(void);

#endif /* TL_DISK_CRC32C_H */
