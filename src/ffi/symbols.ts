/**
 * The one description of the C ABI (`c/include/timelog.h`), in runtime-neutral type names.
 * `deno.ts` and `bun.ts` translate it; nothing else in the binding names a C type.
 *
 * Neutral types: `i32 u32 i64 u64 f64 usize` scalars, `pointer` (an opaque native object
 * handle), `buffer` (a typed array passed by pointer, or `null` for NULL), `function` (a
 * callback pointer), `void`.
 *
 * @module
 */

/** A C type as the symbol table names it. */
export type NativeType =
  | "i32"
  | "u32"
  | "i64"
  | "u64"
  | "f64"
  | "usize"
  | "pointer"
  | "buffer"
  | "function"
  | "void";

/** One C function: its parameter types in order and its result type. */
export interface SymbolSpec {
  readonly parameters: readonly NativeType[];
  readonly result: NativeType;
}

/**
 * The C ABI this binding speaks (`TL_ABI_VERSION` in `c/include/timelog.h`). The loader refuses
 * a library whose `tl_abi_version()` differs, before binding any other symbol.
 */
export const ABI_VERSION = 4;

/** The two functions every library since ABI 1 has, read before the full table is bound. */
export const VERSION_SYMBOLS = {
  tl_version: { parameters: [], result: "pointer" /* const char* */ },
  tl_abi_version: { parameters: [], result: "u32" },
} as const satisfies Record<string, SymbolSpec>;

/** Every C function the binding calls, with the C declaration beside each argument. */
export const SYMBOLS = {
  ...VERSION_SYMBOLS,
  tl_strerror: { parameters: ["i32" /* int status */], result: "pointer" /* const char* */ },
  tl_last_error: {
    parameters: ["pointer", /* const tl_timelog_t* tl */ "buffer", /* char* buf */ "u32" /* cap */],
    result: "u32",
  },
  tl_config_size: { parameters: [], result: "u32" },
  tl_config_init_defaults: { parameters: ["buffer" /* tl_config_t* cfg */], result: "void" },
  tl_config_set: {
    parameters: ["buffer", /* tl_config_t* cfg */ "i32", /* int32_t key */ "i64" /* value */],
    result: "i32",
  },
  tl_config_set_drop_queue: {
    parameters: ["buffer", /* tl_config_t* cfg */ "pointer" /* tl_dropq_t* q */],
    result: "i32",
  },
  tl_config_set_path: {
    parameters: ["buffer", /* tl_config_t* cfg */ "buffer", /* const char* path */ "u32" /* len */],
    result: "i32",
  },
  tl_open_ex: {
    parameters: [
      "buffer", /* const tl_config_t* cfg */
      "buffer", /* tl_timelog_t** out */
      "buffer", /* char* err (reason on failure, NUL-terminated) */
      "u32", /* uint32_t cap */
    ],
    result: "i32",
  },
  tl_close: { parameters: ["pointer" /* tl_timelog_t* tl */], result: "void" },

  tl_sync: { parameters: ["pointer" /* tl_timelog_t* tl */], result: "i32" },
  tl_sync_request: {
    parameters: ["pointer", /* tl */ "buffer" /* uint64_t* target */],
    result: "i32",
  },
  tl_durable_seq: { parameters: ["pointer", /* tl */ "buffer" /* uint64_t* out */], result: "i32" },
  tl_checkpoint: { parameters: ["pointer" /* tl */], result: "i32" },

  tl_append: {
    parameters: ["pointer", /* tl */ "i64", /* int64_t ts */ "u64" /* uint64_t handle */],
    result: "i32",
  },
  tl_append_f64: {
    parameters: ["pointer", /* tl */ "f64", /* double ts */ "f64" /* double value */],
    result: "i32",
  },
  tl_append_batch: {
    parameters: [
      "pointer", /* tl */
      "buffer", /* const int64_t* ts */
      "buffer", /* const uint64_t* handles */
      "usize", /* size_t n */
      "u32", /* uint32_t flags */
    ],
    result: "i32",
  },
  tl_append_batch_f64: {
    parameters: [
      "pointer", /* tl */
      "buffer", /* const double* ts */
      "buffer", /* const uint64_t* values */
      "usize", /* size_t n */
      "u32", /* uint32_t flags */
    ],
    result: "i32",
  },
  tl_append_bytes: {
    parameters: [
      "pointer", /* tl */
      "buffer", /* const int64_t* ts */
      "buffer", /* const uint8_t* data */
      "buffer", /* const uint32_t* ends */
      "u32", /* uint32_t n */
      "u32", /* uint32_t flags */
    ],
    result: "i32",
  },
  tl_append_bytes_f64: {
    parameters: [
      "pointer", /* tl */
      "buffer", /* const double* ts */
      "buffer", /* const uint8_t* data */
      "buffer", /* const uint32_t* ends */
      "u32", /* uint32_t n */
      "u32", /* uint32_t flags */
    ],
    result: "i32",
  },
  tl_values_read: {
    parameters: [
      "pointer", /* tl */
      "buffer", /* const uint64_t* h */
      "u32", /* uint32_t n */
      "buffer", /* uint8_t* buf */
      "usize", /* uint64_t cap */
      "buffer", /* uint32_t* ends */
      "buffer", /* uint64_t* need */
    ],
    result: "i32",
  },
  tl_values_stats: { parameters: ["pointer", "buffer" /* uint64_t out[4] */], result: "i32" },
  tl_delete_range: { parameters: ["pointer", "i64", /* t1 */ "i64" /* t2 */], result: "i32" },
  tl_delete_before: { parameters: ["pointer", "i64" /* cutoff */], result: "i32" },
  tl_delete_since: { parameters: ["pointer", "i64" /* t1 */], result: "i32" },
  tl_delete_at: { parameters: ["pointer", "i64" /* ts */], result: "i32" },

  tl_flush: { parameters: ["pointer"], result: "i32" },
  tl_compact: { parameters: ["pointer"], result: "i32" },
  tl_maint_step: { parameters: ["pointer"], result: "i32" },
  tl_maint_start: { parameters: ["pointer"], result: "i32" },
  tl_maint_stop: { parameters: ["pointer"], result: "i32" },

  tl_snapshot_acquire: {
    parameters: ["pointer", /* tl */ "buffer" /* tl_snapshot_t** out */],
    result: "i32",
  },
  tl_snapshot_release: { parameters: ["pointer" /* tl_snapshot_t* */], result: "void" },
  tl_iter_open: {
    parameters: [
      "pointer", /* tl_snapshot_t* s */
      "i64", /* int64_t lo */
      "i64", /* int64_t hi (closed) */
      "buffer", /* tl_iter_t** out */
    ],
    result: "i32",
  },
  tl_iter_next_batch: {
    parameters: [
      "pointer", /* tl_iter_t* it */
      "buffer", /* int64_t* ts */
      "buffer", /* uint64_t* handles */
      "usize", /* size_t cap */
      "buffer", /* size_t* n_out */
    ],
    result: "i32",
  },
  tl_iter_next_batch_f64: {
    parameters: [
      "pointer", /* tl_iter_t* it */
      "buffer", /* double* ts */
      "buffer", /* uint64_t* handles */
      "usize", /* size_t cap */
      "buffer", /* size_t* n_out */
    ],
    result: "i32",
  },
  tl_iter_destroy: { parameters: ["pointer" /* tl_iter_t* */], result: "void" },
  tl_snapshot_count: {
    parameters: ["pointer", /* s */ "i64", /* lo */ "i64", /* hi */ "buffer" /* uint64_t* */],
    result: "i32",
  },
  tl_snapshot_min: { parameters: ["pointer", "buffer" /* int64_t* out */], result: "i32" },
  tl_snapshot_max: { parameters: ["pointer", "buffer" /* int64_t* out */], result: "i32" },
  tl_snapshot_next: {
    parameters: ["pointer", "i64", /* ts */ "buffer" /* int64_t* out */],
    result: "i32",
  },
  tl_snapshot_prev: {
    parameters: ["pointer", "i64", /* ts */ "buffer" /* int64_t* out */],
    result: "i32",
  },

  tl_iter_open_f64: {
    parameters: ["pointer", /* s */ "f64", /* lo */ "f64", /* hi */ "buffer" /* tl_iter_t** */],
    result: "i32",
  },
  tl_snapshot_read_f64: {
    parameters: [
      "pointer", /* tl_snapshot_t* s */
      "f64", /* double lo (closed; -inf = INT64_MIN) */
      "f64", /* double hi (closed; +inf = INT64_MAX) */
      "buffer", /* double* ts */
      "buffer", /* uint64_t* handles */
      "u32", /* uint32_t cap */
      "buffer", /* size_t* n_out */
    ],
    result: "i32",
  },
  tl_read_f64: {
    parameters: ["pointer", /* tl */ "f64", "f64", "buffer", "buffer", "u32", "buffer"],
    result: "i32",
  },
  tl_snapshot_count_f64: {
    parameters: ["pointer", /* s */ "f64", /* lo */ "f64", /* hi */ "buffer" /* double* */],
    result: "i32",
  },
  tl_count_f64: {
    parameters: ["pointer", /* tl */ "f64", /* lo */ "f64", /* hi */ "buffer" /* double* */],
    result: "i32",
  },

  tl_iter_open_ex: {
    parameters: [
      "pointer", /* tl_snapshot_t* s */
      "i64", /* int64_t lo */
      "i64", /* int64_t hi (closed) */
      "u32", /* uint32_t flags (TL_READ_REVERSE) */
      "buffer", /* tl_iter_t** out */
    ],
    result: "i32",
  },
  tl_iter_open_ex_f64: {
    parameters: ["pointer", /* s */ "f64", /* lo */ "f64", /* hi */ "u32", /* flags */ "buffer"],
    result: "i32",
  },
  tl_snapshot_read_ex_f64: {
    parameters: [
      "pointer", /* tl_snapshot_t* s */
      "f64", /* double lo */
      "f64", /* double hi */
      "u32", /* uint32_t flags */
      "buffer", /* double* ts */
      "buffer", /* uint64_t* handles */
      "u32", /* uint32_t cap */
      "buffer", /* size_t* n_out */
    ],
    result: "i32",
  },
  tl_read_ex_f64: {
    parameters: ["pointer", /* tl */ "f64", "f64", "u32", "buffer", "buffer", "u32", "buffer"],
    result: "i32",
  },
  tl_snapshot_asof_many: {
    parameters: [
      "pointer", /* tl_snapshot_t* s */
      "buffer", /* const int64_t* ts */
      "usize", /* size_t n */
      "buffer", /* int64_t* ts_out */
      "buffer", /* uint64_t* h_out */
      "buffer", /* uint8_t* found */
    ],
    result: "i32",
  },
  tl_snapshot_asof_many_f64: {
    parameters: [
      "pointer", /* tl_snapshot_t* s */
      "buffer", /* const double* ts */
      "u32", /* uint32_t n */
      "buffer", /* double* ts_out */
      "buffer", /* uint64_t* h_out */
      "buffer", /* uint8_t* found */
    ],
    result: "i32",
  },
  tl_asof_many_f64: {
    parameters: ["pointer", /* tl */ "buffer", "u32", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  tl_snapshot_aggregate: {
    parameters: [
      "pointer", /* tl_snapshot_t* s */
      "i64", /* int64_t lo */
      "i64", /* int64_t hi (closed) */
      "i64", /* int64_t start */
      "i64", /* int64_t every */
      "u32", /* uint32_t nbuckets */
      "u32", /* uint32_t ops (TL_AGG_*) */
      "buffer", /* double* out */
    ],
    result: "i32",
  },
  tl_snapshot_aggregate_f64: {
    parameters: [
      "pointer", /* tl_snapshot_t* s */
      "f64", /* double lo */
      "f64", /* double hi */
      "f64", /* double start */
      "f64", /* double every */
      "u32", /* uint32_t nbuckets */
      "u32", /* uint32_t ops */
      "buffer", /* double* out */
    ],
    result: "i32",
  },
  tl_aggregate_f64: {
    parameters: ["pointer", /* tl */ "f64", "f64", "f64", "f64", "u32", "u32", "buffer"],
    result: "i32",
  },

  tl_dropq_create_ex: {
    parameters: [
      "pointer", /* const tl_allocator_t* alloc (NULL) */
      "function", /* tl_doorbell_fn doorbell */
      "u32", /* uint32_t token */
      "u32", /* uint32_t flags (TL_DROPQ_BELL_ONLY = 1) */
      "buffer", /* tl_dropq_t** out */
    ],
    result: "i32",
  },
  tl_dropq_drain: {
    parameters: [
      "pointer", /* tl_dropq_t* q */
      "buffer", /* uint64_t* handles */
      "usize", /* size_t cap */
      "buffer", /* size_t* n_out */
    ],
    result: "i32",
  },
  tl_dropq_pending: { parameters: ["pointer", "buffer" /* uint64_t* out */], result: "i32" },
  tl_dropq_shutdown: { parameters: ["pointer"], result: "i32" },
  tl_dropq_release: { parameters: ["pointer"], result: "i32" },

  tl_stats: { parameters: ["pointer", /* tl */ "buffer" /* tl_stats_t* */], result: "i32" },
  tl_snapshot_stats: { parameters: ["pointer", /* s */ "buffer" /* tl_stats_t* */], result: "i32" },
  tl_validate: { parameters: ["pointer"], result: "i32" },
} as const satisfies Record<string, SymbolSpec>;

/** The symbol table's type. */
export type SymbolTable = typeof SYMBOLS;
