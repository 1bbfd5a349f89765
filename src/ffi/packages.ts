/**
 * Imports of the platform packages `@timelog/timelog-<name>` (name: `linux-x64-gnu`, ...), each
 * of which exports the absolute path of the library it carries.
 *
 * A binding installed from npm imports the package by name: node resolution from this module
 * (`node_modules`, or Deno's npm cache for `npm:` imports) finds the one optional dependency
 * the package manager installed for this machine. A binding loaded from a registry URL (JSR)
 * has no such resolution, so it imports `npm:@timelog/timelog-<name>@<VERSION>`: Deno fetches
 * that one package into its npm cache on first use, with no extra permission.
 *
 * Each specifier's fixed part ends at the scope's "/": the form `deno publish` accepts as
 * analyzable without resolving anything ahead of time, so nothing is fetched for other
 * platforms and a checkout's runs never look the packages up.
 *
 * @module
 */
import { VERSION } from "../version.ts";

/** A platform package's module: the absolute path of the library it carries. */
export interface PlatformModule {
  readonly libraryPath: string;
}

/**
 * Imports the platform package `name`, by node resolution or (`viaNpm`) as an `npm:` specifier
 * pinned to this release. Rejects when it is not installed (or cannot be fetched).
 *
 * @example
 * ```ts ignore
 * const { libraryPath } = await importPlatformPackage("linux-x64-gnu", false);
 * ```
 */
export function importPlatformPackage(name: string, viaNpm: boolean): Promise<PlatformModule> {
  const pkg = `timelog-${name}`;
  if (viaNpm) {
    const pinned = `${pkg}@${VERSION}`;
    return import(`npm:@timelog/${pinned}`);
  }
  return import(`@timelog/${pkg}`);
}
