/*
 * libpin.c — keeps libtimelog mapped until the process ends.
 *
 * Why: the engine owns threads (the background maintenance worker, the drop queue's notifier)
 * that may still be running when a JavaScript runtime tears itself down. Deno unloads FFI
 * libraries at exit (dlclose); if a worker is inside the library at that moment — even just
 * returning from a condition-variable wait — it executes unmapped code and the process dies
 * with SIGSEGV (observed: a script that never closes its log crashed 3 runs in 5). A process
 * that forgets close() must still exit cleanly, so the library pins itself when it is loaded:
 * dlclose then only drops a reference, and exit ends the threads as it ends every other.
 *
 * How: a load-time constructor re-opens the library by its own path with RTLD_NOLOAD (no second
 * load) | RTLD_NODELETE (never unmapped); on Windows GetModuleHandleEx with the PIN flag. When
 * the engine is linked statically (tests, benches) this pins the executable: a no-op.
 */
#include "tl_common.h"

#if defined(_WIN32)
#include <windows.h>

static void tl_pin_library(void) {
    HMODULE self = NULL;
    (void)GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
                             (LPCWSTR)(void *)&tl_pin_library, &self);
}

#if defined(_MSC_VER)
#pragma section(".CRT$XCU", read)
__declspec(allocate(".CRT$XCU")) static void (*tl_pin_init)(void) = tl_pin_library;
#else /* MinGW (zig's windows-gnu target): the GNU constructor attribute */
__attribute__((constructor)) static void tl_pin_init(void) { tl_pin_library(); }
#endif
#else
#include <dlfcn.h>

__attribute__((constructor)) static void tl_pin_library(void) {
    Dl_info info;
    if (dladdr((void *)&tl_pin_library, &info) == 0 || info.dli_fname == NULL) return;
    /* The handle is deliberately never closed: that reference is the pin. */
    (void)dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}
#endif
