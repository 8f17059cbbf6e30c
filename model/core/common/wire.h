/*
 * Bounds-checked readers and writers: every parser and serializer in the
 * core goes through these, so reading past the end of a message is an
 * error code, never undefined behaviour.
 *
 * Both cursors carry a sticky error: once a call fails, every later call on
 * the same cursor fails with the same code and produces zeroes, so a parser
 * may read a run of fields and check once (vpn_rd_err) at the end. Every
 * call also returns its own result for early-return style.
 *
 * Integers are big-endian (network order) throughout.
 */
#ifndef VPN_WIRE_H
#define VPN_WIRE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Calls whose result is the whole point (a sub-reader that may not exist,
 * the end check, a reserved span to fill) must have it used; the field
 * readers and writers keep the sticky contract above (a run of calls, one
 * vpn_rd_err / vpn_wr_err check), so they are not marked: marking them
 * would force a check after every field (GCC lets no cast silence the
 * warning) and undo that design. What guards the contract instead: in
 * debug builds (no NDEBUG) every call checks the cursor's invariant (offset
 * within the buffer, error 0 or a VPN_ERR_* code; only init clears one, and
 * vpn_rd_fail refuses 0) and stops the program on a broken one (wire.c;
 * ctest common-wire, and the fuzz targets, built without NDEBUG).
 */
#if defined(__GNUC__) || defined(__clang__)
#define VPN_WIRE_MUST_USE __attribute__((warn_unused_result))
#else
#define VPN_WIRE_MUST_USE
#endif

/* A read cursor over bytes it does not own. */
typedef struct vpn_rd {
    const uint8_t *buf;
    size_t len;
    size_t off;
    int err; /* 0 or the first VPN_ERR_* hit */
} vpn_rd;

/* A write cursor over a caller-owned buffer of capacity cap. */
typedef struct vpn_wr {
    uint8_t *buf;
    size_t cap;
    size_t off;
    int err;
} vpn_wr;

void vpn_rd_init(vpn_rd *r, const void *buf, size_t len);
static inline size_t vpn_rd_left(const vpn_rd *r) { return r->err ? 0 : r->len - r->off; }
static inline int vpn_rd_err(const vpn_rd *r) { return r->err; }
/* Pointer to the next unread byte (valid for vpn_rd_left bytes). */
static inline const uint8_t *vpn_rd_cur(const vpn_rd *r) { return r->buf + r->off; }

/* Each returns 0 or VPN_ERR_TRUNCATED; on failure *out is set to 0. */
int vpn_rd_u8(vpn_rd *r, uint8_t *out);
int vpn_rd_u16(vpn_rd *r, uint16_t *out);
int vpn_rd_u24(vpn_rd *r, uint32_t *out);
int vpn_rd_u32(vpn_rd *r, uint32_t *out);
int vpn_rd_u64(vpn_rd *r, uint64_t *out);
/* Copies n bytes into out (zeroed on failure). */
int vpn_rd_bytes(vpn_rd *r, void *out, size_t n);
/* Zero-copy: *out points into the reader's buffer for n bytes. */
int vpn_rd_view(vpn_rd *r, const uint8_t **out, size_t n);
int vpn_rd_skip(vpn_rd *r, size_t n);
/*
 * Takes the next n bytes as a sub-reader and advances past them: the way
 * to parse a length-delimited payload, whose body then cannot run into its
 * neighbour. Fails with VPN_ERR_TRUNCATED if n overruns the parent.
 */
VPN_WIRE_MUST_USE int vpn_rd_sub(vpn_rd *r, vpn_rd *sub, size_t n);
/* 0 if everything was consumed, else VPN_ERR_MALFORMED (trailing bytes). */
VPN_WIRE_MUST_USE int vpn_rd_expect_end(vpn_rd *r);
/* Marks the reader failed with err (keeps an earlier error). Returns err. */
int vpn_rd_fail(vpn_rd *r, int err);

void vpn_wr_init(vpn_wr *w, void *buf, size_t cap);
static inline size_t vpn_wr_len(const vpn_wr *w) { return w->off; }
static inline size_t vpn_wr_room(const vpn_wr *w) { return w->err ? 0 : w->cap - w->off; }
static inline int vpn_wr_err(const vpn_wr *w) { return w->err; }

/* Each returns 0 or VPN_ERR_NOSPACE (nothing is written on failure). */
int vpn_wr_u8(vpn_wr *w, uint8_t v);
int vpn_wr_u16(vpn_wr *w, uint16_t v);
int vpn_wr_u24(vpn_wr *w, uint32_t v);
int vpn_wr_u32(vpn_wr *w, uint32_t v);
int vpn_wr_u64(vpn_wr *w, uint64_t v);
int vpn_wr_bytes(vpn_wr *w, const void *p, size_t n);
int vpn_wr_zero(vpn_wr *w, size_t n);
/* Reserves n bytes and returns a pointer to them for the caller to fill. */
VPN_WIRE_MUST_USE int vpn_wr_take(vpn_wr *w, uint8_t **out, size_t n);

/*
 * Length fields written before their payload: reserve a width-byte field
 * (1, 2 or 4) now, remembering its offset in *pos; later, patch it with the
 * number of bytes written since offset `from` (usually the start of the
 * payload header, which includes the field itself). The patch fails with
 * VPN_ERR_OVERFLOW if the length does not fit in the field.
 */
int vpn_wr_len_reserve(vpn_wr *w, unsigned width, size_t *pos);
int vpn_wr_len_patch(vpn_wr *w, size_t pos, unsigned width, size_t from);

/* Plain big-endian helpers on raw memory the caller has bounds-checked. */
static inline uint16_t vpn_load16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t vpn_load32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void vpn_store16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void vpn_store32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

#ifdef __cplusplus
}
#endif

#endif
