/*
 * crc32c_test.c — CRC32C: the standard check value, the tables against the polynomial, the
 * software and hardware paths against each other and against a bitwise reference, and
 * continuation (a CRC computed in pieces equals the one-shot CRC).
 */
#include <stdlib.h>
#include <string.h>

#include "disk/crc32c.h"
#include "disk/crc32c_tab.h"
#include "test.h"

/* Bit-at-a-time reference: the definition, with no table and no instruction. */
static uint32_t crc_ref(uint32_t crc, const uint8_t *p, size_t n) {
    uint32_t c = ~crc;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    }
    return ~c;
}

TL_TEST(check_values) {
    const char *s = "123456789";
    CHECK_EQ_U64(tl_crc32c(0, s, 9), 0xE3069283u);
    CHECK_EQ_U64(tl_crc32c_sw(0, s, 9), 0xE3069283u);
    CHECK_EQ_U64(tl_crc32c_hw(0, s, 9), 0xE3069283u);
    CHECK_EQ_U64(crc_ref(0, (const uint8_t *)s, 9), 0xE3069283u);
    CHECK_EQ_U64(tl_crc32c(0, NULL, 0), 0);
    /* RFC 3720 (iSCSI) B.4 vectors: 32 bytes of zeros, of 0xff, and ascending 0..31. */
    uint8_t b[32];
    memset(b, 0, sizeof b);
    CHECK_EQ_U64(tl_crc32c(0, b, 32), 0x8A9136AAu);
    memset(b, 0xff, sizeof b);
    CHECK_EQ_U64(tl_crc32c(0, b, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++) b[i] = (uint8_t)i;
    CHECK_EQ_U64(tl_crc32c(0, b, 32), 0x46DD794Eu);
}

TL_TEST(tables_match_polynomial) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        CHECK_EQ_U64(tl_crc32c_tab[0][i], c);
        for (int t = 1; t < 8; t++) {
            c = tl_crc32c_tab[0][c & 0xff] ^ (c >> 8);
            CHECK_EQ_U64(tl_crc32c_tab[t][i], c);
        }
    }
}

TL_TEST(paths_agree_on_random_input) {
    tl_t_rng = 0x9E3779B97F4A7C15ull;
    enum { CAP = 4096 + 64 };
    uint8_t *buf = malloc(CAP);
    CHECK(buf != NULL);
    for (size_t i = 0; i < CAP; i++) buf[i] = (uint8_t)tl_t_rnd();
    for (int iter = 0; iter < 3000; iter++) {
        size_t off = tl_t_rnd() % 16, n = iter < 1100 ? (size_t)iter : tl_t_rnd() % 4096;
        uint32_t seed = (iter & 1) ? (uint32_t)tl_t_rnd() : 0;
        uint32_t want = crc_ref(seed, buf + off, n);
        uint32_t sw = tl_crc32c_sw(seed, buf + off, n), hw = tl_crc32c_hw(seed, buf + off, n);
        if (sw != want || hw != want || tl_crc32c(seed, buf + off, n) != want) {
            free(buf);
            TL_FAIL_("iter %d off %zu n %zu: ref %08x sw %08x hw %08x", iter, off, n, want, sw,
                     hw);
        }
    }
    free(buf);
    printf("  crc32c path in use: %s\n", tl_crc32c_impl());
}

TL_TEST(continuation_equals_one_shot) {
    tl_t_rng = 12345;
    uint8_t buf[777];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)tl_t_rnd();
    uint32_t whole = tl_crc32c(0, buf, sizeof buf);
    for (size_t cut = 0; cut <= sizeof buf; cut += 7) {
        uint32_t a = tl_crc32c(0, buf, cut);
        CHECK_EQ_U64(tl_crc32c(a, buf + cut, sizeof buf - cut), whole);
        uint32_t b = tl_crc32c_sw(0, buf, cut);
        CHECK_EQ_U64(tl_crc32c_hw(b, buf + cut, sizeof buf - cut), whole);
    }
}

TL_TEST(single_bit_flips_change_the_crc) {
    uint8_t buf[64];
    memset(buf, 0xA5, sizeof buf);
    uint32_t base = tl_crc32c(0, buf, sizeof buf);
    for (size_t bit = 0; bit < sizeof buf * 8; bit++) {
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        CHECK(tl_crc32c(0, buf, sizeof buf) != base);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
}

int main(void) {
    RUN(check_values);
    RUN(tables_match_polynomial);
    RUN(paths_agree_on_random_input);
    RUN(continuation_equals_one_shot);
    RUN(single_bit_flips_change_the_crc);
    return tl_test_done("crc32c_test");
}
