/*
 * simfs.c — the simulated file system behind the disk-layer crash and fault tests (simfs.h).
 *
 * Structure. Nodes (files and directories) live in one array, node 0 being the root. A file
 * node holds two byte buffers, `dur` (as of its last fdatasync) and `vol` (what reads see), and
 * the list of operations (writes with a copy of their bytes, truncates) applied to `vol` since
 * the last fdatasync, in order: replaying a prefix of that list onto `dur` is how a crash tears.
 * A directory node holds two entry lists (name -> node), `edur` as of its last fsync and `evol`
 * as the processes see it. Paths are resolved through `evol`. Descriptors are slots in a fixed
 * table; a descriptor or lock handle carries the crash epoch, so one that survived a crash
 * is recognised as stale instead of reaching a recycled slot.
 *
 * Crash: (1) with a tear mode, the file written last gets a new `dur`: its old `dur` plus a
 * random prefix of its pending operations, the next one torn (or, for REORDER, a random
 * subset); (2) every file's `vol` becomes its `dur`, pending lists are dropped; (3) every
 * directory's `evol` becomes its `edur` (or, with keep_dir_ops, a random half of the
 * directories keep their unsynced entries instead), locks are released; (4) nodes no durable entry
 * reaches from the root are freed; (5) descriptors are closed.
 *
 * Invariants: a file's `vol` equals its `dur` with its pending operations applied in order;
 * `edur` only changes at a directory fsync or a crash. Every call (except sleep_us and unmap,
 * which touch no disk) is counted first, so fault and crash points are deterministic; a call
 * failed by injection has no effect. Callbacks (list_dir) run after the mutex is released.
 *
 * Complexity: path resolution O(depth * entries per directory); a write O(len) plus the copy
 * kept for tearing; fdatasync O(file size) (it copies `vol`); crash O(total bytes). Test-sized.
 */
#include "simfs.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_FDS 128
#define SIM_NAME_MAX 255

enum { NODE_FREE = 0, NODE_FILE = 1, NODE_DIR = 2 };
enum { OP_WRITE = 1, OP_TRUNC = 2 };

typedef struct { uint8_t *p; size_t len, cap; } buf_t;
typedef struct { int kind; uint64_t off; size_t len; uint8_t *data; } op_t;
typedef struct { char *name; int node; } ent_t;
typedef struct { ent_t *v; size_t n, cap; } ents_t;

typedef struct {
    int kind;
    buf_t dur, vol;
    op_t *ops;
    size_t nops, capops;
    ents_t edur, evol;
    bool locked;
    bool mark; /* crash GC */
} node_t;

typedef struct { int node; bool used, writable; } fdslot_t;

struct tl_simfs {
    tl_io_t io;
    pthread_mutex_t mu;
    node_t *nodes;
    size_t nnodes, capnodes;
    fdslot_t fd[SIM_FDS];
    uint64_t rng, calls, epoch;
    uint64_t fail_from, fail_to;
    int fail_err;
    uint64_t crash_call;
    int crash_tear;
    bool dead, short_writes, keep_dir_ops, trace;
    const char *fault_op, *crash_op; /* the operations that met the fault / the crash */
    uint64_t slept_us, sleeps;
    int last_node; /* the file written last (for tearing), -1 when none */
    int maps;
};

/* ---------------------------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------------------------- */

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (q == NULL) {
        fprintf(stderr, "simfs: out of memory\n");
        abort();
    }
    return q;
}

static uint64_t rnd(tl_simfs_t *fs) {
    fs->rng ^= fs->rng >> 12;
    fs->rng ^= fs->rng << 25;
    fs->rng ^= fs->rng >> 27;
    return fs->rng * 2685821657736338717ull;
}

static void buf_resize(buf_t *b, size_t len) {
    if (len > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < len) cap *= 2;
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
    }
    if (len > b->len) memset(b->p + b->len, 0, len - b->len);
    b->len = len;
}

static void buf_write(buf_t *b, uint64_t off, const uint8_t *data, size_t len) {
    if (off + len > b->len) buf_resize(b, (size_t)(off + len));
    if (len) memcpy(b->p + off, data, len);
}

static void buf_copy(buf_t *dst, const buf_t *src) {
    dst->len = 0;
    buf_resize(dst, src->len);
    if (src->len) memcpy(dst->p, src->p, src->len);
}

static void buf_free(buf_t *b) {
    free(b->p);
    *b = (buf_t){0};
}

static int ents_find(const ents_t *e, const char *name) {
    for (size_t i = 0; i < e->n; i++) {
        if (strcmp(e->v[i].name, name) == 0) return (int)i;
    }
    return -1;
}

static void ents_set(ents_t *e, const char *name, int node) {
    int i = ents_find(e, name);
    if (i >= 0) {
        e->v[i].node = node;
        return;
    }
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 8;
        e->v = xrealloc(e->v, e->cap * sizeof *e->v);
    }
    size_t n = strlen(name) + 1;
    e->v[e->n].name = xrealloc(NULL, n);
    memcpy(e->v[e->n].name, name, n);
    e->v[e->n++].node = node;
}

static void ents_del(ents_t *e, int i) {
    free(e->v[i].name);
    e->v[i] = e->v[--e->n];
}

static void ents_clear(ents_t *e) {
    while (e->n > 0) ents_del(e, (int)e->n - 1);
}

static void ents_copy(ents_t *dst, const ents_t *src) {
    ents_clear(dst);
    for (size_t i = 0; i < src->n; i++) ents_set(dst, src->v[i].name, src->v[i].node);
}

static void ops_clear(node_t *n) {
    for (size_t i = 0; i < n->nops; i++) free(n->ops[i].data);
    n->nops = 0;
}

static void ops_push(tl_simfs_t *fs, int node, int kind, uint64_t off, const uint8_t *data,
                     size_t len) {
    node_t *n = &fs->nodes[node];
    if (n->nops == n->capops) {
        n->capops = n->capops ? n->capops * 2 : 8;
        n->ops = xrealloc(n->ops, n->capops * sizeof *n->ops);
    }
    op_t *op = &n->ops[n->nops++];
    *op = (op_t){.kind = kind, .off = off, .len = len, .data = NULL};
    if (kind == OP_WRITE) {
        op->data = xrealloc(NULL, len);
        memcpy(op->data, data, len);
    }
    fs->last_node = node;
}

static void node_free(node_t *n) {
    buf_free(&n->dur);
    buf_free(&n->vol);
    ops_clear(n);
    free(n->ops);
    ents_clear(&n->edur);
    ents_clear(&n->evol);
    free(n->edur.v);
    free(n->evol.v);
    *n = (node_t){0};
}

static int node_new(tl_simfs_t *fs, int kind) {
    size_t i = 1;
    while (i < fs->nnodes && fs->nodes[i].kind != NODE_FREE) i++;
    if (i == fs->nnodes) {
        if (fs->nnodes == fs->capnodes) {
            fs->capnodes *= 2;
            fs->nodes = xrealloc(fs->nodes, fs->capnodes * sizeof *fs->nodes);
        }
        fs->nnodes++;
    }
    fs->nodes[i] = (node_t){.kind = kind};
    return (int)i;
}

/* ---------------------------------------------------------------------------------------------
 * Paths
 * ------------------------------------------------------------------------------------------- */

/* Splits path into its parent directory node and last name (through the volatile entries).
 * The root itself has no parent: *parent = -1. */
static int resolve(tl_simfs_t *fs, const char *path, int *parent, char name[SIM_NAME_MAX + 1]) {
    int cur = 0;
    *parent = -1;
    name[0] = '\0';
    const char *p = path;
    for (;;) {
        while (*p == '/') p++;
        if (*p == '\0') return 0;
        size_t k = strcspn(p, "/");
        if (k > SIM_NAME_MAX) return -ENAMETOOLONG;
        if (name[0] != '\0') { /* descend into the previous component */
            if (fs->nodes[cur].kind != NODE_DIR) return -ENOTDIR;
            int i = ents_find(&fs->nodes[cur].evol, name);
            if (i < 0) return -ENOENT;
            cur = fs->nodes[cur].evol.v[i].node;
        }
        memcpy(name, p, k);
        name[k] = '\0';
        *parent = cur;
        if (fs->nodes[cur].kind != NODE_DIR) return -ENOTDIR;
        p += k;
    }
}

/* The node at path, or -errno. */
static int lookup(tl_simfs_t *fs, const char *path) {
    int parent;
    char name[SIM_NAME_MAX + 1];
    int r = resolve(fs, path, &parent, name);
    if (r < 0) return r;
    if (parent < 0) return 0;
    int i = ents_find(&fs->nodes[parent].evol, name);
    return i < 0 ? -ENOENT : fs->nodes[parent].evol.v[i].node;
}

/* ---------------------------------------------------------------------------------------------
 * Crash
 * ------------------------------------------------------------------------------------------- */

static void apply_op(buf_t *b, const op_t *op) {
    if (op->kind == OP_TRUNC) buf_resize(b, (size_t)op->off);
    else buf_write(b, op->off, op->data, op->len);
}

static void apply_torn(tl_simfs_t *fs, buf_t *b, const op_t *op, int tear) {
    if (op->kind == OP_TRUNC) { /* a size change is all or nothing */
        if (rnd(fs) & 1) apply_op(b, op);
        return;
    }
    size_t keep = op->len ? (size_t)(rnd(fs) % op->len) : 0;
    buf_write(b, op->off, op->data, keep);
    if (tear == TL_SIM_TEAR_PREFIX || keep == op->len) return;
    size_t rest = op->len - keep;
    uint8_t *junk = xrealloc(NULL, rest);
    for (size_t i = 0; i < rest; i++) {
        junk[i] = tear == TL_SIM_TEAR_ZERO ? 0 : (uint8_t)rnd(fs);
    }
    buf_write(b, op->off + keep, junk, rest);
    free(junk);
}

/* The last-written file's durable image after a torn power loss. */
static void tear_file(tl_simfs_t *fs, node_t *n, int tear) {
    buf_t img = {0};
    buf_copy(&img, &n->dur);
    if (tear == TL_SIM_TEAR_REORDER) {
        for (size_t i = 0; i < n->nops; i++) {
            if (rnd(fs) & 1) apply_op(&img, &n->ops[i]);
        }
    } else {
        size_t full = (size_t)(rnd(fs) % n->nops);
        for (size_t i = 0; i < full; i++) apply_op(&img, &n->ops[i]);
        apply_torn(fs, &img, &n->ops[full], tear);
    }
    buf_free(&n->dur);
    n->dur = img;
}

static void mark(tl_simfs_t *fs, int node) {
    node_t *n = &fs->nodes[node];
    if (n->mark) return;
    n->mark = true;
    for (size_t i = 0; n->kind == NODE_DIR && i < n->edur.n; i++) mark(fs, n->edur.v[i].node);
}

static void crash_locked(tl_simfs_t *fs, int tear) {
    int last = fs->last_node;
    if (tear != TL_SIM_TEAR_NONE && last > 0 && (size_t)last < fs->nnodes &&
        fs->nodes[last].kind == NODE_FILE && fs->nodes[last].nops > 0) {
        tear_file(fs, &fs->nodes[last], tear);
    }
    for (size_t i = 0; i < fs->nnodes; i++) {
        node_t *n = &fs->nodes[i];
        n->mark = false;
        if (n->kind == NODE_FILE) {
            buf_copy(&n->vol, &n->dur);
            ops_clear(n);
        } else if (n->kind == NODE_DIR) {
            /* A journaling file system may commit entry changes nobody fsynced. */
            if (fs->keep_dir_ops && (rnd(fs) & 1)) ents_copy(&n->edur, &n->evol);
            else ents_copy(&n->evol, &n->edur);
            n->locked = false;
        }
    }
    mark(fs, 0);
    for (size_t i = 1; i < fs->nnodes; i++) {
        if (fs->nodes[i].kind != NODE_FREE && !fs->nodes[i].mark) node_free(&fs->nodes[i]);
    }
    memset(fs->fd, 0, sizeof fs->fd);
    fs->last_node = -1;
    fs->epoch++;
}

/* ---------------------------------------------------------------------------------------------
 * The vtable
 * ------------------------------------------------------------------------------------------- */

/* Counts the call and applies the armed crash or fault. Called with the mutex held. */
static int enter(tl_simfs_t *fs, const char *op) {
    fs->calls++;
    if (fs->trace) fprintf(stderr, "simfs #%llu %s\n", (unsigned long long)fs->calls, op);
    if (fs->dead) return -EIO;
    if (fs->crash_call != 0 && fs->calls == fs->crash_call) {
        crash_locked(fs, fs->crash_tear);
        fs->crash_call = 0;
        fs->dead = true;
        fs->crash_op = op;
        return -EIO;
    }
    if (fs->calls >= fs->fail_from && fs->calls < fs->fail_to) {
        if (fs->fault_op == NULL) fs->fault_op = op;
        return -fs->fail_err;
    }
    return 0;
}

#define BEGIN(fs, op)                                                                       \
    tl_simfs_t *fs = ctx;                                                                   \
    pthread_mutex_lock(&fs->mu);                                                            \
    int r_ = enter(fs, op);                                                                 \
    if (r_ < 0) {                                                                           \
        pthread_mutex_unlock(&fs->mu);                                                      \
        return r_;                                                                          \
    }

#define END(fs, r)                                                                          \
    do {                                                                                    \
        pthread_mutex_unlock(&(fs)->mu);                                                    \
        return (r);                                                                         \
    } while (0)

/* The slot of a live descriptor of this epoch, or -1. */
static int slot_of(tl_simfs_t *fs, int fd) {
    if (fd < 0 || (uint64_t)fd / SIM_FDS != fs->epoch % 1000000) return -1;
    int s = fd % SIM_FDS;
    return fs->fd[s].used ? s : -1;
}

static int open_locked(tl_simfs_t *fs, const char *path, int flags, int *fd) {
    if (fs->trace) fprintf(stderr, "simfs    open %s flags %d\n", path, flags);
    int parent;
    char name[SIM_NAME_MAX + 1];
    int r = resolve(fs, path, &parent, name);
    if (r < 0) return r;
    if (parent < 0) return -EISDIR;
    int i = ents_find(&fs->nodes[parent].evol, name), node;
    if (i >= 0) {
        node = fs->nodes[parent].evol.v[i].node;
        if ((flags & TL_IO_CREATE) && (flags & TL_IO_EXCL)) return -EEXIST;
        if (fs->nodes[node].kind != NODE_FILE) return -EISDIR;
    } else if (flags & TL_IO_CREATE) {
        node = node_new(fs, NODE_FILE);
        ents_set(&fs->nodes[parent].evol, name, node);
    } else {
        return -ENOENT;
    }
    int s = 0;
    while (s < SIM_FDS && fs->fd[s].used) s++;
    if (s == SIM_FDS) return -EMFILE;
    if ((flags & TL_IO_TRUNC) && fs->nodes[node].vol.len > 0) {
        buf_resize(&fs->nodes[node].vol, 0);
        ops_push(fs, node, OP_TRUNC, 0, NULL, 0);
    }
    fs->fd[s] = (fdslot_t){.node = node, .used = true, .writable = (flags & TL_IO_RDWR) != 0};
    *fd = (int)((fs->epoch % 1000000) * SIM_FDS + (uint64_t)s);
    return 0;
}

static int s_open(void *ctx, const char *path, int flags, int *fd) {
    BEGIN(fs, "open");
    int r = open_locked(fs, path, flags, fd);
    END(fs, r);
}

static int64_t s_pread(void *ctx, int fd, void *buf, size_t len, uint64_t off) {
    BEGIN(fs, "pread");
    int s = slot_of(fs, fd);
    if (s < 0) END(fs, -EBADF);
    const buf_t *b = &fs->nodes[fs->fd[s].node].vol;
    size_t n = off >= b->len ? 0 : (b->len - (size_t)off < len ? b->len - (size_t)off : len);
    if (n) memcpy(buf, b->p + off, n);
    END(fs, (int64_t)n);
}

static int64_t s_pwrite(void *ctx, int fd, const void *buf, size_t len, uint64_t off) {
    BEGIN(fs, "pwrite");
    int s = slot_of(fs, fd);
    if (s < 0 || !fs->fd[s].writable) END(fs, -EBADF);
    if (fs->short_writes && len > 1 && rnd(fs) % 4 == 0) len = 1 + (size_t)(rnd(fs) % (len - 1));
    int node = fs->fd[s].node;
    if (fs->trace) {
        fprintf(stderr, "simfs    pwrite node %d at %llu, %zu bytes\n", node,
                (unsigned long long)off, len);
    }
    buf_write(&fs->nodes[node].vol, off, buf, len);
    ops_push(fs, node, OP_WRITE, off, buf, len);
    END(fs, (int64_t)len);
}

static int s_datasync(void *ctx, int fd) {
    BEGIN(fs, "datasync");
    int s = slot_of(fs, fd);
    if (s < 0) END(fs, -EBADF);
    node_t *n = &fs->nodes[fs->fd[s].node];
    buf_copy(&n->dur, &n->vol);
    ops_clear(n);
    END(fs, 0);
}

static int s_truncate(void *ctx, int fd, uint64_t size) {
    BEGIN(fs, "truncate");
    int s = slot_of(fs, fd);
    if (s < 0 || !fs->fd[s].writable) END(fs, -EBADF);
    buf_resize(&fs->nodes[fs->fd[s].node].vol, (size_t)size);
    ops_push(fs, fs->fd[s].node, OP_TRUNC, size, NULL, 0);
    END(fs, 0);
}

static int s_size(void *ctx, int fd, uint64_t *size) {
    BEGIN(fs, "size");
    int s = slot_of(fs, fd);
    if (s < 0) END(fs, -EBADF);
    *size = fs->nodes[fs->fd[s].node].vol.len;
    END(fs, 0);
}

static int s_close(void *ctx, int fd) {
    tl_simfs_t *fs = ctx; /* as POSIX: the descriptor is released even when close fails */
    pthread_mutex_lock(&fs->mu);
    int r = enter(fs, "close");
    int s = slot_of(fs, fd);
    if (s >= 0) fs->fd[s].used = false;
    END(fs, r < 0 ? r : s < 0 ? -EBADF : 0);
}

static int rename_locked(tl_simfs_t *fs, const char *from, const char *to) {
    int pf, pt;
    char nf[SIM_NAME_MAX + 1], nt[SIM_NAME_MAX + 1];
    int r = resolve(fs, from, &pf, nf);
    if (r == 0) r = resolve(fs, to, &pt, nt);
    if (r < 0) return r;
    if (pf < 0 || pt < 0) return -EBUSY;
    int i = ents_find(&fs->nodes[pf].evol, nf);
    if (i < 0) return -ENOENT;
    int node = fs->nodes[pf].evol.v[i].node;
    int j = ents_find(&fs->nodes[pt].evol, nt);
    if (j >= 0 && fs->nodes[fs->nodes[pt].evol.v[j].node].kind == NODE_DIR) return -EISDIR;
    if (pf == pt && i == j) return 0;
    ents_del(&fs->nodes[pf].evol, i);
    ents_set(&fs->nodes[pt].evol, nt, node);
    return 0;
}

static int s_rename(void *ctx, const char *from, const char *to) {
    BEGIN(fs, "rename");
    if (fs->trace) fprintf(stderr, "simfs    rename %s -> %s\n", from, to);
    int r = rename_locked(fs, from, to);
    END(fs, r);
}

static int s_unlink(void *ctx, const char *path) {
    BEGIN(fs, "unlink");
    if (fs->trace) fprintf(stderr, "simfs    unlink %s\n", path);
    int parent;
    char name[SIM_NAME_MAX + 1];
    int r = resolve(fs, path, &parent, name);
    if (r == 0 && parent < 0) r = -EISDIR;
    int i = r == 0 ? ents_find(&fs->nodes[parent].evol, name) : -1;
    if (r == 0 && i < 0) r = -ENOENT;
    if (r == 0 && fs->nodes[fs->nodes[parent].evol.v[i].node].kind != NODE_FILE) r = -EISDIR;
    if (r == 0) ents_del(&fs->nodes[parent].evol, i);
    END(fs, r);
}

static int s_mkdir(void *ctx, const char *path) {
    BEGIN(fs, "mkdir");
    int parent;
    char name[SIM_NAME_MAX + 1];
    int r = resolve(fs, path, &parent, name);
    if (r == 0 && (parent < 0 || ents_find(&fs->nodes[parent].evol, name) >= 0)) r = -EEXIST;
    if (r == 0) {
        int node = node_new(fs, NODE_DIR);
        ents_set(&fs->nodes[parent].evol, name, node);
    }
    END(fs, r);
}

static int s_sync_dir(void *ctx, const char *path) {
    BEGIN(fs, "sync_dir");
    if (fs->trace) fprintf(stderr, "simfs    sync_dir %s\n", path);
    int node = lookup(fs, path);
    if (node >= 0 && fs->nodes[node].kind != NODE_DIR) node = -ENOTDIR;
    if (node >= 0) ents_copy(&fs->nodes[node].edur, &fs->nodes[node].evol);
    END(fs, node < 0 ? node : 0);
}

static int s_list_dir(void *ctx, const char *path, tl_io_list_fn fn, void *arg) {
    BEGIN(fs, "list_dir");
    int node = lookup(fs, path);
    if (node >= 0 && fs->nodes[node].kind != NODE_DIR) node = -ENOTDIR;
    if (node < 0) END(fs, node);
    ents_t names = {0}; /* copied, so the callback runs outside the mutex */
    ents_copy(&names, &fs->nodes[node].evol);
    pthread_mutex_unlock(&fs->mu);
    int r = 0;
    for (size_t i = 0; i < names.n && r == 0; i++) r = fn(arg, names.v[i].name);
    ents_clear(&names);
    free(names.v);
    return r;
}

static int s_lock_dir(void *ctx, const char *dir, int *lock) {
    BEGIN(fs, "lock_dir");
    int node = lookup(fs, dir);
    if (node >= 0 && fs->nodes[node].kind != NODE_DIR) node = -ENOTDIR;
    if (node >= 0 && fs->nodes[node].locked) node = -EWOULDBLOCK;
    if (node >= 0) {
        fs->nodes[node].locked = true;
        *lock = (int)((fs->epoch % 1000) * 1000000 + (uint64_t)node);
    }
    END(fs, node < 0 ? node : 0);
}

static int s_unlock_dir(void *ctx, int lock) {
    tl_simfs_t *fs = ctx; /* a lock dies with its descriptor, whatever close says */
    pthread_mutex_lock(&fs->mu);
    int r = enter(fs, "unlock_dir");
    size_t node = (size_t)lock % 1000000;
    bool live = lock >= 0 && (uint64_t)lock / 1000000 == fs->epoch % 1000;
    if (live && node < fs->nnodes && fs->nodes[node].kind == NODE_DIR) {
        fs->nodes[node].locked = false;
    }
    END(fs, r < 0 ? r : live ? 0 : -EBADF);
}

static int s_map(void *ctx, int fd, uint64_t len, const void **addr) {
    BEGIN(fs, "map");
    int s = slot_of(fs, fd);
    if (s < 0) END(fs, -EBADF);
    const buf_t *b = &fs->nodes[fs->fd[s].node].vol;
    if (len == 0 || len > b->len) END(fs, -EINVAL);
    uint8_t *p = xrealloc(NULL, (size_t)len);
    memcpy(p, b->p, (size_t)len);
    *addr = p;
    fs->maps++;
    END(fs, 0);
}

static int s_unmap(void *ctx, const void *addr, uint64_t len) {
    tl_simfs_t *fs = ctx; /* memory, not disk: never counted, never failed */
    (void)len;
    pthread_mutex_lock(&fs->mu);
    fs->maps--;
    pthread_mutex_unlock(&fs->mu);
    free((void *)(uintptr_t)addr);
    return 0;
}

static void s_sleep_us(void *ctx, uint32_t us) {
    tl_simfs_t *fs = ctx;
    pthread_mutex_lock(&fs->mu);
    fs->slept_us += us;
    fs->sleeps++;
    pthread_mutex_unlock(&fs->mu);
}

/* ---------------------------------------------------------------------------------------------
 * Control and test helpers
 * ------------------------------------------------------------------------------------------- */

tl_simfs_t *tl_simfs_new(uint64_t seed) {
    tl_simfs_t *fs = xrealloc(NULL, sizeof *fs);
    memset(fs, 0, sizeof *fs);
    pthread_mutex_init(&fs->mu, NULL);
    fs->rng = seed ? seed : 0x9E3779B97F4A7C15ull;
    fs->capnodes = 16;
    fs->nodes = xrealloc(NULL, fs->capnodes * sizeof *fs->nodes);
    fs->nnodes = 1;
    fs->nodes[0] = (node_t){.kind = NODE_DIR};
    fs->last_node = -1;
    fs->io = (tl_io_t){.ctx = fs, .open = s_open, .pread = s_pread, .pwrite = s_pwrite,
                       .datasync = s_datasync, .truncate = s_truncate, .size = s_size,
                       .close = s_close, .rename = s_rename, .unlink = s_unlink,
                       .mkdir = s_mkdir, .sync_dir = s_sync_dir, .list_dir = s_list_dir,
                       .lock_dir = s_lock_dir, .unlock_dir = s_unlock_dir, .map = s_map,
                       .unmap = s_unmap, .sleep_us = s_sleep_us};
    return fs;
}

static void buf_dup(buf_t *dst, const buf_t *src) {
    *dst = (buf_t){0};
    buf_copy(dst, src);
}

static void ents_dup(ents_t *dst, const ents_t *src) {
    *dst = (ents_t){0};
    ents_copy(dst, src);
}

static int open_fds_locked(const tl_simfs_t *fs);

tl_simfs_t *tl_simfs_clone(tl_simfs_t *fs, uint64_t seed) {
    pthread_mutex_lock(&fs->mu);
    if (open_fds_locked(fs) != 0) {
        fprintf(stderr, "simfs: clone with open descriptors\n");
        abort();
    }
    tl_simfs_t *c = tl_simfs_new(seed);
    c->capnodes = fs->capnodes;
    c->nnodes = fs->nnodes;
    c->nodes = xrealloc(c->nodes, c->capnodes * sizeof *c->nodes);
    for (size_t i = 0; i < fs->nnodes; i++) {
        const node_t *n = &fs->nodes[i];
        node_t *m = &c->nodes[i];
        *m = (node_t){.kind = n->kind};
        buf_dup(&m->dur, &n->dur);
        buf_dup(&m->vol, &n->vol);
        ents_dup(&m->edur, &n->edur);
        ents_dup(&m->evol, &n->evol);
        for (size_t k = 0; k < n->nops; k++) {
            const op_t *op = &n->ops[k];
            ops_push(c, (int)i, op->kind, op->off, op->data, op->len);
        }
    }
    c->last_node = fs->last_node;
    c->short_writes = fs->short_writes;
    c->keep_dir_ops = fs->keep_dir_ops;
    pthread_mutex_unlock(&fs->mu);
    return c;
}

void tl_simfs_free(tl_simfs_t *fs) {
    if (fs == NULL) return;
    for (size_t i = 0; i < fs->nnodes; i++) node_free(&fs->nodes[i]);
    free(fs->nodes);
    pthread_mutex_destroy(&fs->mu);
    free(fs);
}

const tl_io_t *tl_simfs_io(tl_simfs_t *fs) { return &fs->io; }

void tl_simfs_crash(tl_simfs_t *fs, int tear) {
    pthread_mutex_lock(&fs->mu);
    crash_locked(fs, tear);
    pthread_mutex_unlock(&fs->mu);
}

void tl_simfs_crash_at(tl_simfs_t *fs, uint64_t k, int tear) {
    pthread_mutex_lock(&fs->mu);
    fs->crash_call = k ? fs->calls + k : 0;
    fs->crash_tear = tear;
    fs->crash_op = NULL;
    pthread_mutex_unlock(&fs->mu);
}

/* The accessors take the mutex: the log's background threads call into fs meanwhile (the
 * mutex is the only thing they change in a const fs). */
static tl_simfs_t *lock_fs(const tl_simfs_t *fs) {
    tl_simfs_t *m = (tl_simfs_t *)(uintptr_t)fs;
    pthread_mutex_lock(&m->mu);
    return m;
}

static uint64_t read_u64(const tl_simfs_t *fs, const uint64_t *field) {
    tl_simfs_t *m = lock_fs(fs);
    uint64_t v = *field;
    pthread_mutex_unlock(&m->mu);
    return v;
}

static const char *read_str(const tl_simfs_t *fs, const char *const *field) {
    tl_simfs_t *m = lock_fs(fs);
    const char *v = *field;
    pthread_mutex_unlock(&m->mu);
    return v;
}

bool tl_simfs_dead(const tl_simfs_t *fs) {
    tl_simfs_t *m = lock_fs(fs);
    bool v = m->dead;
    pthread_mutex_unlock(&m->mu);
    return v;
}


void tl_simfs_revive(tl_simfs_t *fs) {
    pthread_mutex_lock(&fs->mu);
    fs->dead = false;
    fs->crash_call = 0;
    fs->fail_from = fs->fail_to = 0;
    pthread_mutex_unlock(&fs->mu);
}

const char *tl_simfs_fault_op(const tl_simfs_t *fs) { return read_str(fs, &fs->fault_op); }
const char *tl_simfs_crash_op(const tl_simfs_t *fs) { return read_str(fs, &fs->crash_op); }

void tl_simfs_fail_at(tl_simfs_t *fs, uint64_t k, int err, uint64_t times) {
    pthread_mutex_lock(&fs->mu);
    fs->fault_op = NULL;
    fs->fail_from = k ? fs->calls + k : 0;
    fs->fail_to = k ? fs->fail_from + times : 0;
    fs->fail_err = err;
    pthread_mutex_unlock(&fs->mu);
}

static void set_flag(tl_simfs_t *fs, bool *flag, bool on) {
    pthread_mutex_lock(&fs->mu);
    *flag = on;
    pthread_mutex_unlock(&fs->mu);
}

void tl_simfs_short_writes(tl_simfs_t *fs, bool on) { set_flag(fs, &fs->short_writes, on); }
void tl_simfs_trace(tl_simfs_t *fs, bool on) { set_flag(fs, &fs->trace, on); }
void tl_simfs_keep_dir_ops(tl_simfs_t *fs, bool on) { set_flag(fs, &fs->keep_dir_ops, on); }
uint64_t tl_simfs_calls(const tl_simfs_t *fs) { return read_u64(fs, &fs->calls); }
uint64_t tl_simfs_slept_us(const tl_simfs_t *fs) { return read_u64(fs, &fs->slept_us); }
uint64_t tl_simfs_sleeps(const tl_simfs_t *fs) { return read_u64(fs, &fs->sleeps); }

static int open_fds_locked(const tl_simfs_t *fs) {
    int n = fs->maps;
    for (int s = 0; s < SIM_FDS; s++) n += fs->fd[s].used;
    for (size_t i = 0; i < fs->nnodes; i++) n += fs->nodes[i].locked;
    return n;
}

int tl_simfs_open_fds(const tl_simfs_t *fs) {
    tl_simfs_t *m = lock_fs(fs);
    int v = open_fds_locked(m);
    pthread_mutex_unlock(&m->mu);
    return v;
}

void tl_simfs_mkdir_durable(tl_simfs_t *fs, const char *path) {
    pthread_mutex_lock(&fs->mu);
    int cur = 0;
    const char *p = path;
    char name[SIM_NAME_MAX + 1];
    for (;;) {
        while (*p == '/') p++;
        if (*p == '\0') break;
        size_t k = strcspn(p, "/");
        if (k > SIM_NAME_MAX) abort();
        memcpy(name, p, k);
        name[k] = '\0';
        p += k;
        int i = ents_find(&fs->nodes[cur].evol, name);
        int next = i >= 0 ? fs->nodes[cur].evol.v[i].node : node_new(fs, NODE_DIR);
        ents_set(&fs->nodes[cur].evol, name, next);
        ents_set(&fs->nodes[cur].edur, name, next);
        cur = next;
    }
    pthread_mutex_unlock(&fs->mu);
}

int tl_simfs_get(tl_simfs_t *fs, const char *path, uint8_t **data, size_t *len) {
    pthread_mutex_lock(&fs->mu);
    int node = lookup(fs, path);
    if (node >= 0 && fs->nodes[node].kind != NODE_FILE) node = -EISDIR;
    if (node >= 0) {
        const buf_t *b = &fs->nodes[node].vol;
        *data = xrealloc(NULL, b->len);
        if (b->len) memcpy(*data, b->p, b->len);
        *len = b->len;
    }
    pthread_mutex_unlock(&fs->mu);
    return node < 0 ? node : 0;
}

int tl_simfs_put(tl_simfs_t *fs, const char *path, const void *data, size_t len) {
    pthread_mutex_lock(&fs->mu);
    int parent;
    char name[SIM_NAME_MAX + 1];
    int r = resolve(fs, path, &parent, name);
    if (r == 0 && parent < 0) r = -EISDIR;
    if (r == 0) {
        int i = ents_find(&fs->nodes[parent].evol, name);
        int node = i >= 0 ? fs->nodes[parent].evol.v[i].node : node_new(fs, NODE_FILE);
        node_t *n = &fs->nodes[node];
        n->vol.len = 0;
        buf_write(&n->vol, 0, data, len);
        buf_copy(&n->dur, &n->vol);
        ops_clear(n);
        ents_set(&fs->nodes[parent].evol, name, node);
        ents_set(&fs->nodes[parent].edur, name, node);
    }
    pthread_mutex_unlock(&fs->mu);
    return r;
}

bool tl_simfs_exists(tl_simfs_t *fs, const char *path) {
    pthread_mutex_lock(&fs->mu);
    int node = lookup(fs, path);
    pthread_mutex_unlock(&fs->mu);
    return node >= 0;
}

int tl_simfs_count(tl_simfs_t *fs, const char *dir) {
    pthread_mutex_lock(&fs->mu);
    int node = lookup(fs, dir);
    int n = node >= 0 && fs->nodes[node].kind == NODE_DIR ? (int)fs->nodes[node].evol.n : -1;
    pthread_mutex_unlock(&fs->mu);
    return n;
}
