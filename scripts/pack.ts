/**
 * `./dev pack`: writes every npm package of this release to `dist/npm/*.tgz`.
 *
 * - `@timelog/timelog`: the binding as JavaScript + declarations emitted by `tsc` from `mod.ts`
 *   and `src/` (Deno refuses TypeScript under `node_modules`), README, LICENSE, CHANGELOG,
 *   one optional dependency per platform at the same version, and apache-arrow as an optional
 *   peer dependency (toArrow / fromArrow load it only when called).
 * - `@timelog/timelog-<platform>`: one per entry of `PLATFORMS`, holding only the library built
 *   by `zig build dist` (`zig-out/dist/<platform>/`), an `index.js` exporting its path, and
 *   `os` / `cpu` / `libc` fields so that a package manager installs only the matching one.
 *
 * Needs `zig build dist` to have run (./dev pack does it), Bun (runs tsc) and npm (packs).
 *
 *   deno run --allow-read --allow-write --allow-run --allow-env scripts/pack.ts
 *
 * @module
 */
import { VERSION } from "../src/version.ts";

/** A prebuilt library's npm package: the suffix, the npm platform fields, the file. */
interface Platform {
  name: string;
  os: string;
  cpu: string;
  libc?: "glibc" | "musl";
  file: string;
}

/** Must match build.zig's dist_targets and src/ffi/load.ts's platformNames. */
export const PLATFORMS: readonly Platform[] = [
  { name: "linux-x64-gnu", os: "linux", cpu: "x64", libc: "glibc", file: "libtimelog.so" },
  { name: "linux-arm64-gnu", os: "linux", cpu: "arm64", libc: "glibc", file: "libtimelog.so" },
  { name: "linux-x64-musl", os: "linux", cpu: "x64", libc: "musl", file: "libtimelog.so" },
  { name: "linux-arm64-musl", os: "linux", cpu: "arm64", libc: "musl", file: "libtimelog.so" },
  { name: "darwin-x64", os: "darwin", cpu: "x64", file: "libtimelog.dylib" },
  { name: "darwin-arm64", os: "darwin", cpu: "arm64", file: "libtimelog.dylib" },
  { name: "win32-x64", os: "win32", cpu: "x64", file: "timelog.dll" },
];

const root = new URL("..", import.meta.url).pathname;
const out = `${root}dist/npm`;
const stage = `${out}/stage`;
const description = "Embedded, time-indexed multimap for Deno and Bun (C17 engine via FFI)";
const common = { version: VERSION, license: "MIT" };

function run(cmd: string, args: string[], cwd = root): string {
  const r = new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).outputSync();
  const text = new TextDecoder().decode(r.stdout);
  if (!r.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed:\n${text}${new TextDecoder().decode(r.stderr)}`,
    );
  }
  return text;
}

function writeJson(path: string, value: unknown): void {
  Deno.writeTextFileSync(path, JSON.stringify(value, null, 2) + "\n");
}

function platformPackage(p: Platform): string {
  const dir = `${stage}/timelog-${p.name}`;
  Deno.mkdirSync(dir, { recursive: true });
  const lib = `${root}zig-out/dist/${p.name}/${p.file}`;
  try {
    Deno.copyFileSync(lib, `${dir}/${p.file}`);
  } catch (err) {
    throw new Error(`missing ${lib}: run \`zig build dist\` first (./dev pack does)`, {
      cause: err,
    });
  }
  Deno.copyFileSync(`${root}LICENSE`, `${dir}/LICENSE`);
  Deno.writeTextFileSync(
    `${dir}/index.js`,
    `// The libtimelog this package carries (${p.name}), for @timelog/timelog's loader.\n` +
      `import { fileURLToPath } from "node:url";\n\n` +
      `/** Absolute path of the library. */\n` +
      `export const libraryPath = fileURLToPath(new URL("./${p.file}", import.meta.url));\n`,
  );
  Deno.writeTextFileSync(
    `${dir}/index.d.ts`,
    "/** Absolute path of the library. */\nexport declare const libraryPath: string;\n",
  );
  Deno.writeTextFileSync(
    `${dir}/README.md`,
    `# @timelog/timelog-${p.name}\n\nThe prebuilt native library of ` +
      `[@timelog/timelog](https://www.npmjs.com/package/@timelog/timelog) for ${p.name}. ` +
      "Install `@timelog/timelog`, which depends on this package for the matching platform.\n",
  );
  writeJson(`${dir}/package.json`, {
    name: `@timelog/timelog-${p.name}`,
    ...common,
    description: `${description}: the native library for ${p.name}`,
    type: "module",
    main: "index.js",
    types: "index.d.ts",
    os: [p.os],
    cpu: [p.cpu],
    ...(p.libc ? { libc: [p.libc] } : {}),
    files: ["index.js", "index.d.ts", p.file, "LICENSE", "README.md"],
  });
  return dir;
}

function bindingPackage(): string {
  const dir = `${stage}/timelog`;
  Deno.mkdirSync(dir, { recursive: true });
  run("bun", [
    "node_modules/typescript/bin/tsc",
    "-p",
    "scripts/tsconfig.npm.json",
    "--outDir",
    dir,
  ]);
  for (const f of ["README.md", "LICENSE", "CHANGELOG.md"]) {
    Deno.copyFileSync(`${root}${f}`, `${dir}/${f}`);
  }
  writeJson(`${dir}/package.json`, {
    name: "@timelog/timelog",
    ...common,
    description,
    keywords: ["time-series", "timeseries", "deno", "bun", "ffi", "index", "multimap"],
    type: "module",
    exports: { ".": { types: "./mod.d.ts", default: "./mod.js" } },
    types: "./mod.d.ts",
    files: ["mod.js", "mod.d.ts", "src/", "README.md", "LICENSE", "CHANGELOG.md"],
    optionalDependencies: Object.fromEntries(
      PLATFORMS.map((p) => [`@timelog/timelog-${p.name}`, VERSION]),
    ),
    // toArrow / fromArrow only: loaded on first use, never required (src/arrow.ts).
    peerDependencies: { "apache-arrow": ">=17" },
    peerDependenciesMeta: { "apache-arrow": { optional: true } },
  });
  return dir;
}

function main(): void {
  try {
    Deno.removeSync(out, { recursive: true });
  } catch { /* first run */ }
  Deno.mkdirSync(stage, { recursive: true });
  const dirs = [bindingPackage(), ...PLATFORMS.map(platformPackage)];
  for (const dir of dirs) {
    const name = run("npm", ["pack", "--silent", "--pack-destination", out], dir).trim().split("\n")
      .at(-1);
    console.log(`dist/npm/${name}`);
  }
  Deno.removeSync(stage, { recursive: true });
}

if (import.meta.main) main();
