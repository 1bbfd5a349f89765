/*
 * scripts/musl_probe.c — loads a prebuilt libtimelog with dlopen and uses it: the install
 * stage builds this for x86_64-linux-musl and runs it under musl's own loader, to show that the
 * linux-x64-musl artifact works on a musl system (the glibc one is what Bun and Deno load here).
 * Prints the version and ABI; exits 0 only when 100000 appended records count back.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
int main(int argc, char **argv) {
    void *h = dlopen(argv[1], RTLD_NOW);
    if (!h) { printf("dlopen failed: %s\n", dlerror()); return 1; }
    const char *(*ver)(void) = (const char *(*)(void))dlsym(h, "tl_version");
    uint32_t (*abi)(void) = (uint32_t (*)(void))dlsym(h, "tl_abi_version");
    int (*open_)(const void *, void **) = (int (*)(const void *, void **))dlsym(h, "tl_open");
    int (*append)(void *, int64_t, uint64_t) = (int (*)(void *, int64_t, uint64_t))dlsym(h, "tl_append");
    int (*count)(void *, double, double, double *) = (int (*)(void *, double, double, double *))dlsym(h, "tl_count_f64");
    void (*close_)(void *) = (void (*)(void *))dlsym(h, "tl_close");
    void *tl = NULL;
    if (open_(NULL, &tl) != 0) return 2;
    for (int i = 0; i < 100000; i++) append(tl, i % 977, (uint64_t)i);
    double n = 0;
    count(tl, -1.0 / 0.0, 1.0 / 0.0, &n);
    close_(tl);
    printf("version %s abi %u count %.0f\n", ver(), abi(), n);
    return n == 100000 ? 0 : 3;
}
