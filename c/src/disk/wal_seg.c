/*
 * wal_seg.c — the WAL's byte format on memory: names, the segment header, record frames, and
 * the scan of one segment image that tells a torn tail from corruption (wal.h).
 *
 * Layouts (little-endian; docs/format.md, "WAL segment"):
 *   header (64 B): magic "TLWALSEG" | version u32 | header bytes u32 (64) | segment u64 |
 *                  first seq u64 | segment bytes u64 | 20 reserved zero bytes | crc32c u32 of
 *                  bytes 0..59
 *   frame (24 B + payload, padded to 8): crc32c u32 of bytes 4..24+len | len u32 | type u8 |
 *                  flags u8 | 6 reserved zero bytes | seq u64 | payload | zero padding
 * Every byte of a segment up to its end is covered by a check: fields by the checksums,
 * reserved bytes and padding by "must be zero". So any single damaged byte is detected.
 *
 * The scan reads frames from offset 64 while they are well formed and their seqs increase. At
 * the first invalid frame (offset `end`) it classifies the rest of the image:
 *   - the invalid frame is itself well formed (its seq does not increase, a seal that does not
 *     match, bytes after the seal): CORRUPT, a torn write cannot produce that;
 *   - otherwise it searches every 8-aligned offset after `end` for a well-formed frame (cheap
 *     tests first; the checksum only for candidates whose reserved bytes are zero): one found
 *     means damage followed by valid data, CORRUPT; none means a TORN tail. The search's
 *     checksum work is bounded (4 x the bytes searched + 1 MiB); a file that exhausts it is
 *     classified CORRUPT (it is not a torn write; repair still handles it).
 * Known limit: a payload that itself contains a well-formed frame makes its own torn record
 * look like corruption (strict open fails; repair cuts the same bytes a torn tail would).
 *
 * Complexity: O(len) checksum work for valid data; the search after damage is bounded as
 * above. No allocation.
 */
#include "disk/wal.h"

#include <stdio.h>
#include <string.h>

#include "disk/crc32c.h"
#include "disk/le.h"

void tl_wal_name(char out[TL_WAL_NAME_CAP], uint64_t segment) {
    snprintf(out, TL_WAL_NAME_CAP, "wal-%016llx.log", (unsigned long long)segment);
}

bool tl_wal_parse_name(const char *name, uint64_t *segment) {
    if (strlen(name) != TL_WAL_NAME_CAP - 1 || memcmp(name, "wal-", 4) != 0 ||
        strcmp(name + 20, ".log") != 0) {
        return false;
    }
    uint64_t v = 0;
    for (int i = 4; i < 20; i++) {
        char c = name[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return false;
        v = v << 4 | (uint64_t)d;
    }
    *segment = v;
    return true;
}

void tl_wal_hdr_encode(uint8_t out[TL_WAL_HEADER_BYTES], const tl_wal_hdr_t *h) {
    memset(out, 0, TL_WAL_HEADER_BYTES);
    memcpy(out, TL_WAL_MAGIC, 8);
    tl_le32_store(out + 8, TL_WAL_VERSION);
    tl_le32_store(out + 12, TL_WAL_HEADER_BYTES);
    tl_le64_store(out + 16, h->segment);
    tl_le64_store(out + 24, h->first_seq);
    tl_le64_store(out + 32, h->segment_bytes);
    tl_le32_store(out + 60, tl_crc32c(0, out, 60));
}

static bool all_zero(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0) return false;
    }
    return true;
}

const char *tl_wal_hdr_decode(const uint8_t *p, size_t n, tl_wal_hdr_t *h) {
    if (n < TL_WAL_HEADER_BYTES) return "segment shorter than its header";
    if (memcmp(p, TL_WAL_MAGIC, 8) != 0) return "bad segment magic";
    if (tl_le32_load(p + 60) != tl_crc32c(0, p, 60)) return "segment header checksum mismatch";
    if (tl_le32_load(p + 8) != TL_WAL_VERSION) return "unsupported WAL format version";
    if (tl_le32_load(p + 12) != TL_WAL_HEADER_BYTES || !all_zero(p + 40, 20)) {
        return "bad segment header layout";
    }
    h->segment = tl_le64_load(p + 16);
    h->first_seq = tl_le64_load(p + 24);
    h->segment_bytes = tl_le64_load(p + 32);
    if (h->segment_bytes < TL_WAL_SEGMENT_MIN || h->segment_bytes > TL_WAL_SEGMENT_MAX ||
        h->segment_bytes % 8 != 0) {
        return "bad segment size in header";
    }
    return NULL;
}

void tl_wal_frame_encode(uint8_t *out, uint64_t seq, uint8_t type, uint8_t flags,
                         const void *payload, uint32_t len) {
    tl_wal_piece_t one = {payload, len};
    tl_wal_frame_encodev(out, seq, type, flags, &one, len ? 1 : 0, len);
}

void tl_wal_frame_encodev(uint8_t *out, uint64_t seq, uint8_t type, uint8_t flags,
                          const tl_wal_piece_t *pieces, uint32_t npieces, uint32_t len) {
    uint64_t size = tl_wal_frame_size(len);
    tl_le32_store(out + 4, len);
    out[8] = type;
    out[9] = flags;
    memset(out + 10, 0, 6);
    tl_le64_store(out + 16, seq);
    uint8_t *p = out + TL_WAL_FRAME_BYTES;
    for (uint32_t i = 0; i < npieces; i++) {
        if (pieces[i].len) memcpy(p, pieces[i].data, pieces[i].len);
        p += pieces[i].len;
    }
    memset(out + TL_WAL_FRAME_BYTES + len, 0, (size_t)(size - TL_WAL_FRAME_BYTES - len));
    /* Checksummed in place, right after the copy: the bytes are still in cache. */
    tl_le32_store(out, tl_crc32c(0, out + 4, (size_t)TL_WAL_FRAME_BYTES - 4 + len));
}

/* The structural checks, cheapest first; *crc_bytes += the checksum work done. */
static const char *frame_check(const uint8_t *p, size_t avail, tl_wal_rec_t *rec,
                               uint64_t *crc_bytes) {
    if (avail < TL_WAL_FRAME_BYTES) return "frame header cut short";
    uint8_t type = p[8];
    if (type == 0) return "no frame here (zero type)";
    if (!all_zero(p + 10, 6)) return "frame reserved bytes not zero";
    uint32_t len = tl_le32_load(p + 4);
    uint64_t size = tl_wal_frame_size(len);
    if (size > avail) return "frame extends past the end of the file";
    *crc_bytes += TL_WAL_FRAME_BYTES - 4 + (uint64_t)len;
    if (tl_le32_load(p) != tl_crc32c(0, p + 4, (size_t)TL_WAL_FRAME_BYTES - 4 + len)) {
        return "frame checksum mismatch";
    }
    if (!all_zero(p + TL_WAL_FRAME_BYTES + len, (size_t)(size - TL_WAL_FRAME_BYTES - len))) {
        return "frame padding not zero";
    }
    rec->seq = tl_le64_load(p + 16);
    rec->type = type;
    rec->flags = p[9];
    rec->len = len;
    rec->payload = p + TL_WAL_FRAME_BYTES;
    return NULL;
}

const char *tl_wal_frame_check(const uint8_t *p, size_t avail, tl_wal_rec_t *rec) {
    uint64_t work = 0;
    return frame_check(p, avail, rec, &work);
}

/* The number of consecutive well-formed frames starting at o. */
static uint64_t count_run(const uint8_t *seg, size_t len, uint64_t o, uint64_t *work) {
    tl_wal_rec_t r;
    uint64_t n = 0;
    while (o < len && frame_check(seg + o, len - (size_t)o, &r, work) == NULL) {
        n++;
        o += tl_wal_frame_size(r.len);
    }
    return n;
}

/* After damage at `bad`: *found = the run of well-formed frames starting at the first
 * 8-aligned offset past `bad` where one is. Returns false when the checksum budget ran out. */
static bool search_after(const uint8_t *seg, size_t len, uint64_t bad, uint64_t *found) {
    uint64_t budget = 4 * (uint64_t)(len - bad) + ((uint64_t)1 << 20), work = 0;
    *found = 0;
    for (uint64_t o = bad + 8; o + TL_WAL_FRAME_BYTES <= len; o += 8) {
        *found = count_run(seg, len, o, &work);
        if (*found > 0) return true;
        if (work > budget) return false;
    }
    return true;
}

/* The seq rule for a frame that passed frame_check: NULL when it may follow. */
static const char *seq_rule(const tl_wal_seg_t *s, const tl_wal_hdr_t *h,
                            const tl_wal_rec_t *r) {
    if (s->sealed) return "data after the segment seal";
    if (r->type == TL_WAL_TYPE_SEAL) {
        if (s->records == 0 || r->seq != s->last_seq || r->len != 0) {
            return "segment seal does not match its last record";
        }
        return NULL;
    }
    if (s->records == 0 ? r->seq < h->first_seq : r->seq <= s->last_seq) {
        return "sequence number does not increase";
    }
    return NULL;
}

tl_status_t tl_wal_seg_scan(const uint8_t *seg, size_t len, const tl_wal_hdr_t *h,
                            uint64_t deliver_from, tl_wal_visit_fn fn, void *ctx,
                            tl_wal_seg_t *out) {
    memset(out, 0, sizeof *out);
    uint64_t off = TL_WAL_HEADER_BYTES, work = 0;
    const char *why = NULL;
    bool formed = false; /* the invalid frame is well formed (a seq or seal violation) */
    while (off < len) {
        tl_wal_rec_t r;
        why = frame_check(seg + off, len - (size_t)off, &r, &work);
        if (why != NULL) break;
        why = seq_rule(out, h, &r);
        if (why != NULL) {
            formed = true;
            break;
        }
        uint64_t size = tl_wal_frame_size(r.len);
        if (r.type == TL_WAL_TYPE_SEAL) {
            out->sealed = true;
            off += size;
            continue;
        }
        if (out->records == 0) out->first_seq = r.seq;
        out->records++;
        out->last_seq = r.seq;
        if (fn != NULL && r.seq >= deliver_from) {
            r.segment = h->segment;
            r.offset = off;
            tl_status_t st = fn(ctx, &r);
            if (st != TL_OK) {
                out->end = off + size;
                return st;
            }
        }
        off += size;
    }
    out->end = off < len ? off : len;
    out->why = why;
    if (off >= len) {
        out->end_kind = TL_WAL_END_CLEAN;
    } else if (formed) {
        out->end_kind = TL_WAL_END_CORRUPT;
        out->later_records = count_run(seg, len, off, &work);
    } else if (!search_after(seg, len, off, &out->later_records) || out->later_records > 0) {
        out->end_kind = TL_WAL_END_CORRUPT;
        if (out->later_records == 0) out->why = "unclassifiable damage";
    } else {
        out->end_kind = TL_WAL_END_TORN;
    }
    return TL_OK;
}
