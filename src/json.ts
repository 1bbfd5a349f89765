/**
 * JSON values (`values: "json"`) in batches: the text of each value, checked strictly, and
 * the UTF-8 of a whole batch encoded or decoded in one call.
 *
 * Why batches: one `TextEncoder.encode` per value cost ~0.7 µs in Deno (an allocation and a
 * call each), five times the `JSON.stringify` it follows; joining a batch's texts and encoding
 * them once with `encodeInto` costs ~0.1 µs a value. When every byte is ASCII (the common
 * case: the text's length equals its byte count) a value's byte range is its text's; otherwise
 * the batch falls back to one encode (or decode) per value.
 *
 * Strictness: a value JSON cannot represent exactly (`undefined`, a function or symbol, a
 * non-finite number, anywhere inside) is a TypeError. A plain walk checks that before a plain
 * `JSON.stringify` (a replacer function made stringify 3-4× slower); values the walk cannot
 * vouch for (`toJSON`, nesting deeper than 64) go through the checking replacer instead.
 *
 * @module
 */
import { describe } from "./time.ts";

const utf8 = new TextEncoder();
const utf8d = new TextDecoder("utf-8", { fatal: true });

/** JSON.stringify replacer that refuses what JSON would silently change or drop. */
function strict(this: unknown, key: string, v: unknown): unknown {
  const at = key ? ` (at key "${key}")` : "";
  if (typeof v === "number" && !Number.isFinite(v)) {
    throw new TypeError(`${v} cannot be stored as JSON${at}`);
  }
  if (v === undefined || typeof v === "function" || typeof v === "symbol") {
    throw new TypeError(`${describe(v)} cannot be stored as JSON${at}`);
  }
  return v;
}

/** True when plain JSON.stringify gives exactly v back through JSON.parse (up to depth 64). */
function plain(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(v);
    case "object": {
      if (v === null) return true;
      if (depth > 64) return false;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (!plain(v[i], depth + 1)) return false;
        return true;
      }
      if (typeof (v as { toJSON?: unknown }).toJSON === "function") return false;
      for (const k in v) {
        if (Object.hasOwn(v, k) && !plain((v as Record<string, unknown>)[k], depth + 1)) {
          return false;
        }
      }
      return true;
    }
    default:
      return false;
  }
}

/** The JSON text of v; TypeError when JSON cannot represent it. */
export function jsonText(v: unknown): string {
  return plain(v, 0) ? JSON.stringify(v) : JSON.stringify(v, strict);
}

/** The value of JSON text bytes. */
export function jsonValue(b: Uint8Array): unknown {
  return JSON.parse(utf8d.decode(b));
}

/** The UTF-8 of texts back to back, ends[i] the end of text i; null when a batch is not all
 * ASCII (the caller then encodes text by text). */
export function encodeAscii(texts: string[], ends: Uint32Array): Uint8Array | null {
  const joined = texts.join("");
  const data = new Uint8Array(joined.length);
  const r = utf8.encodeInto(joined, data);
  if (r.read !== joined.length || r.written !== joined.length) return null;
  for (let i = 0, at = 0; i < texts.length; i++) ends[i] = at += texts[i].length;
  return data;
}

/** The texts of values back to back in bytes[0, ends[n - 1]): one decode when all ASCII. */
export function decodeTexts(bytes: Uint8Array, ends: Uint32Array, n: number): string[] {
  const out: string[] = new Array(n);
  const total = n ? ends[n - 1] : 0;
  const whole = utf8d.decode(bytes.subarray(0, total));
  if (whole.length === total) {
    for (let i = 0, at = 0; i < n; i++) out[i] = whole.slice(at, at = ends[i]);
  } else {
    for (let i = 0, at = 0; i < n; i++) out[i] = utf8d.decode(bytes.subarray(at, at = ends[i]));
  }
  return out;
}

/** The UTF-8 of one text. */
export function utf8Of(text: string): Uint8Array {
  return utf8.encode(text);
}
