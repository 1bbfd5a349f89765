/*
 * le.h — little-endian loads and stores for every on-disk field (docs/format.md).
 *
 * Files are portable across platforms, so every multi-byte field is little-endian and read or
 * written through these helpers, never by casting a byte pointer to a wider type: memcpy has
 * no alignment requirement and compiles to one load or store; on a big-endian host the value
 * is byte-swapped (none of the platforms we ship is big-endian, but the format does not care).
 */
#ifndef TL_DISK_LE_H
#define TL_DISK_LE_H

#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define TL_LE16(x) __builtin_bswap16(x)
#define TL_LE32(x) __builtin_bswap32(x)
#define TL_LE64(x) __builtin_bswap64(x)
#else
#define TL_LE16(x) (x)
#define TL_LE32(x) (x)
#define TL_LE64(x) (x)
#endif

static inline uint16_t tl_le16_load(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return (uint16_t)TL_LE16(v);
}

static inline uint32_t tl_le32_load(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return (uint32_t)TL_LE32(v);
}

static inline uint64_t tl_le64_load(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return (uint64_t)TL_LE64(v);
}

static inline void tl_le16_store(uint8_t *p, uint16_t v) {
    v = (uint16_t)TL_LE16(v);
    memcpy(p, &v, sizeof v);
}

static inline void tl_le32_store(uint8_t *p, uint32_t v) {
    v = (uint32_t)TL_LE32(v);
    memcpy(p, &v, sizeof v);
}

static inline void tl_le64_store(uint8_t *p, uint64_t v) {
    v = (uint64_t)TL_LE64(v);
    memcpy(p, &v, sizeof v);
}

/* Rounds n up to a multiple of 8 (every frame and blob on disk starts 8-aligned). The caller
 * guarantees n <= UINT64_MAX - 7. */
static inline uint64_t tl_align8(uint64_t n) { return (n + 7) & ~(uint64_t)7; }

#endif /* TL_DISK_LE_H */
