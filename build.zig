//! Builds libtimelog (shared by default, ReleaseFast unless -Doptimize says otherwise), the C
//! unit tests (Debug, Zig's UB sanitizer on) and the native benchmark.
//!
//!   zig build                      -> zig-out/lib/libtimelog.{so,dylib} / timelog.dll
//!   zig build test                 -> builds and runs every c/tests/*_test.c
//!   zig build tests                -> installs the test binaries in zig-out/test/ (for ./dev)
//!   zig build bench                -> zig-out/bin/bench_native, bench_codec, bench_disk
//!   zig build soak                 -> zig-out/bin/soak (c/tests/soak.c, ReleaseSafe)
//!   zig build dist                 -> zig-out/dist/<platform>/ for every platform in `dist_targets`
//!                                     (ReleaseFast, stripped; <platform> is the npm package suffix)
const std = @import("std");
const builtin = @import("builtin");

comptime {
    const required = std.SemanticVersion.parse("0.15.2") catch unreachable;
    if (builtin.zig_version.order(required) != .eq) {
        @compileError("timelog pins Zig 0.15.2 (build.zig.zon); run ./dev, which installs it");
    }
}

/// Engine sources, listed explicitly: a new file is a conscious change to this list.
const engine_sources = [_][]const u8{
    "c/src/version.c",
    "c/src/alloc.c",
    "c/src/arena.c",
    "c/src/status.c",
    "c/src/config.c",
    "c/src/summary.c",
    "c/src/mbsum.c",
    "c/src/page.c",
    "c/src/run.c",
    "c/src/tombs.c",
    "c/src/merge.c",
    "c/src/direct.c",
    "c/src/rmerge.c",
    "c/src/query.c",
    "c/src/point.c",
    "c/src/memtable.c",
    "c/src/headsort.c",
    "c/src/vstore.c",
    "c/src/scratch.c",
    "c/src/hold.c",
    "c/src/helper.c",
    "c/src/bgthread.c",
    "c/src/manifest.c",
    "c/src/snapshot.c",
    "c/src/rewrite.c",
    "c/src/flush.c",
    "c/src/compact.c",
    "c/src/relocate.c",
    "c/src/pack.c",
    "c/src/maint.c",
    "c/src/dropq.c",
    "c/src/logref.c",
    "c/src/publish.c",
    "c/src/txn.c",
    "c/src/write.c",
    "c/src/values.c",
    "c/src/worker.c",
    "c/src/timelog.c",
    "c/src/stats.c",
    "c/src/libpin.c",
    "c/src/oneshot.c",
    "c/src/asof.c",
    "c/src/agg.c",
    // The compressed page codec (a leaf module: it depends on nothing else in c/src).
    "c/src/codec/cpu.c",
    "c/src/codec/bitpack.c",
    "c/src/codec/intcol.c",
    "c/src/codec/alp.c",
    "c/src/codec/xorcol.c",
    "c/src/codec/encode.c",
    "c/src/codec/view.c",
    "c/src/codec/search.c",
    "c/src/codec/validate.c",
    // The disk layer (c/src/disk/): leaf modules below the engine core.
    "c/src/disk/crc32c.c",
    "c/src/disk/io.c",
    "c/src/disk/io_posix.c",
    "c/src/disk/io_win.c",
    "c/src/disk/wal_seg.c",
    "c/src/disk/wal_read.c",
    "c/src/disk/wal.c",
    "c/src/disk/mfile.c",
    "c/src/disk/segfile.c",
    // Durable logs (c/src/durable/): the engine's state on the disk layer.
    "c/src/durable/dfiles.c",
    "c/src/durable/dmanifest.c",
    "c/src/durable/dur.c",
    "c/src/durable/recover.c",
    "c/src/durable/checkpoint.c",
};

/// Test sources without a main, shared by several tests: the reference model of the
/// differential tests (model_test and soak) and the simulated file system of the disk-layer
/// tests (the tests in `simfs_tests`). c/tests/sanitize.sh links all of them into every test.
const shared_test_sources = [_][]const u8{
    "c/tests/model.c",
    "c/tests/model_queries.c",
    "c/tests/simfs.c",
};

/// The tests that link c/tests/simfs.c.
const simfs_tests = [_][]const u8{
    "disk_io_test",
    "wal_test",
    "wal_crash_test",
    "mfile_test",
    "segfile_test",
    "disk_format_test",
    "durable_crash_test",
    "durable_corrupt_test",
};

/// One executable per file; each links the engine statically and can reach internals.
const test_sources = [_][]const u8{
    "c/tests/page_test.c",
    "c/tests/arena_test.c",
    "c/tests/run_test.c",
    "c/tests/tombs_test.c",
    "c/tests/merge_test.c",
    "c/tests/rmerge_test.c",
    "c/tests/query_test.c",
    "c/tests/memtable_test.c",
    "c/tests/headsort_test.c",
    "c/tests/api_test.c",
    "c/tests/delete_test.c",
    "c/tests/snapshot_test.c",
    "c/tests/maint_test.c",
    "c/tests/idle_test.c",
    "c/tests/hold_test.c",
    "c/tests/pack_test.c",
    "c/tests/dropq_test.c",
    "c/tests/model_test.c",
    "c/tests/oneshot_test.c",
    "c/tests/asof_test.c",
    "c/tests/values_test.c",
    "c/tests/values_durable_test.c",
    "c/tests/agg_test.c",
    "c/tests/alloc_fail_test.c",
    "c/tests/codec_test.c",
    "c/tests/crc32c_test.c",
    "c/tests/disk_io_test.c",
    "c/tests/wal_test.c",
    "c/tests/wal_crash_test.c",
    "c/tests/mfile_test.c",
    "c/tests/segfile_test.c",
    "c/tests/disk_format_test.c",
    "c/tests/durable_test.c",
    "c/tests/ckpt_stall_test.c",
    "c/tests/durable_crash_test.c",
    "c/tests/durable_corrupt_test.c",
};

const c_flags = [_][]const u8{
    "-std=c17",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wshadow",
    "-Wstrict-prototypes",
    "-fvisibility=hidden",
    "-D_GNU_SOURCE",
};

/// Platforms `zig build dist` produces (a closed list: adding one is a release decision), each
/// named as its npm package is (`@timelog/timelog-<name>`, the esbuild / @swc convention).
/// glibc 2.17 is the floor for the gnu builds: the oldest glibc still common in production
/// (RHEL/CentOS 7, manylinux2014), the first with aarch64 support, and the library needs
/// nothing newer (pthreads, mmap/madvise, malloc_trim). CPUs are each architecture's baseline
/// (x86-64 with SSE2, ARMv8.0): a prebuilt library must load on any machine of its platform.
const DistTarget = struct { name: []const u8, query: std.Target.Query };
const glibc_floor = std.SemanticVersion{ .major = 2, .minor = 17, .patch = 0 };
const dist_targets = [_]DistTarget{
    .{ .name = "linux-x64-gnu", .query = .{ .cpu_arch = .x86_64, .os_tag = .linux, .abi = .gnu, .glibc_version = glibc_floor } },
    .{ .name = "linux-arm64-gnu", .query = .{ .cpu_arch = .aarch64, .os_tag = .linux, .abi = .gnu, .glibc_version = glibc_floor } },
    .{ .name = "linux-x64-musl", .query = .{ .cpu_arch = .x86_64, .os_tag = .linux, .abi = .musl } },
    .{ .name = "linux-arm64-musl", .query = .{ .cpu_arch = .aarch64, .os_tag = .linux, .abi = .musl } },
    .{ .name = "darwin-x64", .query = .{ .cpu_arch = .x86_64, .os_tag = .macos } },
    .{ .name = "darwin-arm64", .query = .{ .cpu_arch = .aarch64, .os_tag = .macos } },
    .{ .name = "win32-x64", .query = .{ .cpu_arch = .x86_64, .os_tag = .windows, .abi = .gnu } },
};

fn engineModule(
    b: *std.Build,
    target: std.Build.ResolvedTarget,
    optimize: std.builtin.OptimizeMode,
) *std.Build.Module {
    return engineModuleOpts(b, target, optimize, false);
}

fn engineModuleOpts(
    b: *std.Build,
    target: std.Build.ResolvedTarget,
    optimize: std.builtin.OptimizeMode,
    strip: bool,
) *std.Build.Module {
    const mod = b.createModule(.{ .target = target, .optimize = optimize, .link_libc = true, .strip = strip });
    mod.addIncludePath(b.path("c/include"));
    mod.addIncludePath(b.path("c/src"));
    mod.addCSourceFiles(.{ .files = &engine_sources, .flags = &c_flags });
    return mod;
}

/// The engine as a static library, for the test binaries to link.
fn engineArchive(
    b: *std.Build,
    target: std.Build.ResolvedTarget,
    optimize: std.builtin.OptimizeMode,
) *std.Build.Step.Compile {
    return b.addLibrary(.{
        .name = "timelog_engine",
        .linkage = .static,
        .root_module = engineModule(b, target, optimize),
    });
}

/// A test binary's module: its own sources (added by the caller) over the engine archive.
fn testModule(
    b: *std.Build,
    target: std.Build.ResolvedTarget,
    optimize: std.builtin.OptimizeMode,
    engine: *std.Build.Step.Compile,
) *std.Build.Module {
    const mod = b.createModule(.{ .target = target, .optimize = optimize, .link_libc = true });
    mod.addIncludePath(b.path("c/include"));
    mod.addIncludePath(b.path("c/src"));
    mod.linkLibrary(engine);
    return mod;
}

pub fn build(b: *std.Build) void {
    const target = b.standardTargetOptions(.{});
    const optimize = b.option(std.builtin.OptimizeMode, "optimize", "Library build mode (default ReleaseFast)") orelse .ReleaseFast;
    const linkage = b.option(std.builtin.LinkMode, "linkage", "Library linkage (default dynamic)") orelse .dynamic;
    const test_optimize = b.option(std.builtin.OptimizeMode, "test-optimize", "C test build mode (default Debug)") orelse .Debug;

    // The library users load through FFI.
    const lib = b.addLibrary(.{
        .name = "timelog",
        .linkage = linkage,
        .root_module = engineModule(b, target, optimize),
    });
    b.installArtifact(lib);

    // C unit tests: `zig build test` runs them; `zig build tests` installs them. Each links one
    // static build of the engine: a module per test compiling all its sources took a fresh
    // checkout's `zig build tests` 125 s on two cores.
    const test_step = b.step("test", "Build and run the C unit tests");
    const tests_step = b.step("tests", "Install the C test binaries into zig-out/test");
    const test_engine = engineArchive(b, target, test_optimize);
    for (test_sources) |src| {
        const name = std.fs.path.stem(src);
        const mod = testModule(b, target, test_optimize, test_engine);
        mod.addCSourceFiles(.{ .files = &.{src}, .flags = &c_flags });
        if (std.mem.eql(u8, name, "model_test")) {
            mod.addCSourceFiles(.{ .files = &.{"c/tests/model_queries.c"}, .flags = &c_flags });
        }
        if (std.mem.eql(u8, name, "model_test") or std.mem.startsWith(u8, name, "durable_")) {
            mod.addCSourceFiles(.{ .files = &.{"c/tests/model.c"}, .flags = &c_flags });
        }
        for (simfs_tests) |t| {
            if (std.mem.eql(u8, name, t)) {
                mod.addCSourceFiles(.{ .files = &.{"c/tests/simfs.c"}, .flags = &c_flags });
            }
        }
        const exe = b.addExecutable(.{ .name = name, .root_module = mod });
        const run = b.addRunArtifact(exe);
        run.stdio = .inherit;
        test_step.dependOn(&run.step);
        const install = b.addInstallArtifact(exe, .{ .dest_dir = .{ .override = .{ .custom = "test" } } });
        tests_step.dependOn(&install.step);
    }

    // The tests of the kernels built twice (codec/cpu.h: the bit-unpacking decoders, the value
    // summary pass) once more in a build for the baseline CPU of an x86-64 host, as the
    // distributed libraries are built: there the kernels pick AVX2 or SSE2 at run time, and
    // these binaries hold both sets to their references.
    if (target.result.cpu.arch == .x86_64) {
        const base_target = b.resolveTargetQuery(.{
            .cpu_arch = .x86_64,
            .os_tag = target.result.os.tag,
            .abi = target.result.abi,
            .cpu_model = .baseline,
        });
        const base_engine = engineArchive(b, base_target, test_optimize);
        for ([_][]const u8{ "codec", "agg" }) |stem| {
            const mod = testModule(b, base_target, test_optimize, base_engine);
            mod.addCSourceFiles(.{ .files = &.{b.fmt("c/tests/{s}_test.c", .{stem})}, .flags = &c_flags });
            const exe = b.addExecutable(.{ .name = b.fmt("{s}_baseline_test", .{stem}), .root_module = mod });
            const run = b.addRunArtifact(exe);
            run.stdio = .inherit;
            test_step.dependOn(&run.step);
            const install = b.addInstallArtifact(exe, .{ .dest_dir = .{ .override = .{ .custom = "test" } } });
            tests_step.dependOn(&install.step);
        }
    }

    // Native benchmark (always optimized).
    const bench_mod = engineModule(b, target, .ReleaseFast);
    bench_mod.addCSourceFiles(.{ .files = &.{ "bench/native/main.c", "bench/native/memory.c", "bench/native/queries.c" }, .flags = &c_flags });
    const bench_exe = b.addExecutable(.{ .name = "bench_native", .root_module = bench_mod });
    const bench_install = b.addInstallArtifact(bench_exe, .{});
    const bench_step = b.step("bench", "Build the native benchmarks into zig-out/bin");
    bench_step.dependOn(&bench_install.step);

    // Page codec benchmark: the codec sources alone (a leaf module). -Dpcodec-mb-log2=5|7
    // builds it with 32- or 128-record miniblocks, to compare miniblock sizes.
    const mb_log2 = b.option(u8, "pcodec-mb-log2", "bench_codec's miniblock size, log2 (6)");
    const codec_flags = b.allocator.alloc([]const u8, c_flags.len + 1) catch @panic("OOM");
    @memcpy(codec_flags[0..c_flags.len], &c_flags);
    codec_flags[c_flags.len] = b.fmt("-DTL_PCODEC_MB_LOG2={d}", .{mb_log2 orelse 6});
    const codec_mod = b.createModule(.{
        .target = target,
        .optimize = .ReleaseFast,
        .link_libc = true,
    });
    codec_mod.addIncludePath(b.path("c/include"));
    codec_mod.addIncludePath(b.path("c/src"));
    for (engine_sources) |src| {
        if (std.mem.startsWith(u8, src, "c/src/codec/")) {
            codec_mod.addCSourceFiles(.{ .files = &.{src}, .flags = codec_flags });
        }
    }
    codec_mod.addCSourceFiles(.{ .files = &.{"bench/native/codec.c"}, .flags = codec_flags });
    const codec_exe = b.addExecutable(.{ .name = "bench_codec", .root_module = codec_mod });
    bench_step.dependOn(&b.addInstallArtifact(codec_exe, .{}).step);

    // The disk layer against the disk's own limit (bench/native/disk.c).
    const disk_mod = engineModule(b, target, .ReleaseFast);
    disk_mod.addCSourceFiles(.{ .files = &.{"bench/native/disk.c"}, .flags = &c_flags });
    const disk_exe = b.addExecutable(.{ .name = "bench_disk", .root_module = disk_mod });
    bench_step.dependOn(&b.addInstallArtifact(disk_exe, .{}).step);

    // Soak test (c/tests/soak.c, run by `./dev soak`): ReleaseSafe, so the engine keeps its
    // debug assertions (TL_DASSERT) and Zig's UB checks while running at speed.
    const soak_mod = engineModule(b, target, .ReleaseSafe);
    soak_mod.addCSourceFiles(.{ .files = &.{"c/tests/soak.c"}, .flags = &c_flags });
    soak_mod.addCSourceFiles(.{ .files = &.{ "c/tests/model.c", "c/tests/model_queries.c" }, .flags = &c_flags });
    const soak_exe = b.addExecutable(.{ .name = "soak", .root_module = soak_mod });
    const soak_install = b.addInstallArtifact(soak_exe, .{});
    b.step("soak", "Build the soak test into zig-out/bin").dependOn(&soak_install.step);

    // A library that reports another ABI, for the binding's load-time check (tests only).
    const mismatch_mod = engineModule(b, target, .Debug);
    mismatch_mod.addCMacro("TL_ABI_VERSION_OVERRIDE", "999");
    const mismatch = b.addLibrary(.{
        .name = "timelog_abi_mismatch",
        .linkage = .dynamic,
        .root_module = mismatch_mod,
    });
    const mismatch_install = b.addInstallArtifact(mismatch, .{
        .dest_dir = .{ .override = .{ .custom = "test" } },
        .implib_dir = .disabled,
        .pdb_dir = .disabled,
    });
    tests_step.dependOn(&mismatch_install.step);

    // Cross-built libraries for the platforms we ship.
    const dist_step = b.step("dist", "Build libtimelog for every supported platform into zig-out/dist");
    for (dist_targets) |d| {
        const t = b.resolveTargetQuery(d.query);
        const dlib = b.addLibrary(.{
            .name = "timelog",
            .linkage = .dynamic,
            .root_module = engineModuleOpts(b, t, .ReleaseFast, true),
        });
        const inst = b.addInstallArtifact(dlib, .{
            .dest_dir = .{ .override = .{ .custom = b.fmt("dist/{s}", .{d.name}) } },
            .implib_dir = .disabled,
            .pdb_dir = .disabled,
        });
        dist_step.dependOn(&inst.step);
    }
}
