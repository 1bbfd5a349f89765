/*
 * version.c — the library's version and ABI version, as the binding checks them at load.
 *
 * Both come from c/include/timelog.h, so the numbers have one home in C. A test-only build
 * (`zig build tests` installs it as libtimelog_abi_mismatch) defines TL_ABI_VERSION_OVERRIDE to
 * report another ABI, which is how the binding's mismatch error is tested without a second
 * real release.
 */
#include "tl_common.h"

#define TL_STR_(x) #x
#define TL_STR(x) TL_STR_(x)

const char *tl_version(void) {
    return TL_STR(TL_VERSION_MAJOR) "." TL_STR(TL_VERSION_MINOR) "." TL_STR(TL_VERSION_PATCH);
}

uint32_t tl_abi_version(void) {
#if defined(TL_ABI_VERSION_OVERRIDE)
    return TL_ABI_VERSION_OVERRIDE;
#else
    return TL_ABI_VERSION;
#endif
}
