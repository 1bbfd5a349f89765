/**
 * The binding's release version. It equals the C library's `tl_version()` of the same release,
 * the `version` of `package.json`, `deno.json` and `build.zig.zon`, and the version of every
 * `@timelog/timelog-<platform>` package the npm package depends on (a test checks all of it).
 *
 * @module
 */

/**
 * This release of Timelog's TypeScript binding.
 *
 * @example
 * ```ts
 * import { VERSION } from "@timelog/timelog";
 * console.log(VERSION); // "0.1.0"
 * ```
 */
export const VERSION = "0.1.0";
