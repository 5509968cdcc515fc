/* SPDX-License-Identifier: MIT */
/* common/wire.h -- bounds-checked cursors over network bytes, with a sticky error.
 *
 * The first error sticks in ->err; every later read returns 0 (or does nothing)
 * and writes nothing, so a parser reads all its fields and checks once at the
 * end, and can never run past the buffer. Writers work the same way over an
 * output buffer (ZX_ELIMIT when it is full).
 *
 * Threading: a cursor belongs to one thread.
 */
#ifndef ZX_COMMON_WIRE_H
#define ZX_COMMON_WIRE_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct wire_rd {
	const uint8_t *start; /**< buffer start, for compression pointers and offsets */
	const uint8_t *pos;
	const uint8_t *end;
	int err; /**< first error; later reads are no-ops */
};

struct wire_wr {
	uint8_t *start;
	uint8_t *pos;
	uint8_t *end;
	int err; /**< first error (ZX_ELIMIT when full); later writes are no-ops */
};

static inline struct wire_rd wire_rd_init(const uint8_t *buf, size_t len)
{
	return (struct wire_rd){.start = buf, .pos = buf, .end = buf + len, .err = 0};
}

static inline struct wire_wr wire_wr_init(uint8_t *buf, size_t len)
{
	return (struct wire_wr){.start = buf, .pos = buf, .end = buf + len, .err = 0};
}

static inline size_t wire_rd_left(const struct wire_rd *rd)
{
	return rd->err != 0 ? 0 : (size_t)(rd->end - rd->pos);
}

static inline size_t wire_rd_offset(const struct wire_rd *rd)
{
	return (size_t)(rd->pos - rd->start);
}

/** Fail the cursor with @p err unless it already failed. */
static inline void wire_rd_fail(struct wire_rd *rd, int err)
{
	if (rd->err == 0) {
		rd->err = err;
	}
}

/** True when @p n bytes can be read; otherwise fails the cursor with ZX_ETRUNC. */
static inline int wire_rd_need(struct wire_rd *rd, size_t n)
{
	if (rd->err == 0 && (size_t)(rd->end - rd->pos) < n) {
		rd->err = ZX_ETRUNC;
	}
	return rd->err == 0;
}

static inline uint8_t wire_rd_u8(struct wire_rd *rd)
{
	if (!wire_rd_need(rd, 1)) {
		return 0;
	}
	return *rd->pos++;
}

static inline uint16_t wire_rd_u16(struct wire_rd *rd)
{
	if (!wire_rd_need(rd, 2)) {
		return 0;
	}
	uint16_t v = (uint16_t)(rd->pos[0] << 8 | rd->pos[1]);
	rd->pos += 2;
	return v;
}

static inline uint32_t wire_rd_u32(struct wire_rd *rd)
{
	if (!wire_rd_need(rd, 4)) {
		return 0;
	}
	uint32_t v = (uint32_t)rd->pos[0] << 24 | (uint32_t)rd->pos[1] << 16 |
	             (uint32_t)rd->pos[2] << 8 | rd->pos[3];
	rd->pos += 4;
	return v;
}

/** Pointer to the next @p n bytes, then skip them; NULL on error. */
static inline const uint8_t *wire_rd_bytes(struct wire_rd *rd, size_t n)
{
	if (!wire_rd_need(rd, n)) {
		return NULL;
	}
	const uint8_t *p = rd->pos;
	rd->pos += n;
	return p;
}

static inline void wire_rd_skip(struct wire_rd *rd, size_t n)
{
	(void)wire_rd_bytes(rd, n);
}

static inline int wire_wr_need(struct wire_wr *wr, size_t n)
{
	if (wr->err == 0 && (size_t)(wr->end - wr->pos) < n) {
		wr->err = ZX_ELIMIT;
	}
	return wr->err == 0;
}

static inline void wire_wr_u8(struct wire_wr *wr, uint8_t v)
{
	if (wire_wr_need(wr, 1)) {
		*wr->pos++ = v;
	}
}

static inline void wire_wr_u16(struct wire_wr *wr, uint16_t v)
{
	if (wire_wr_need(wr, 2)) {
		wr->pos[0] = (uint8_t)(v >> 8);
		wr->pos[1] = (uint8_t)v;
		wr->pos += 2;
	}
}

static inline void wire_wr_u32(struct wire_wr *wr, uint32_t v)
{
	if (wire_wr_need(wr, 4)) {
		wr->pos[0] = (uint8_t)(v >> 24);
		wr->pos[1] = (uint8_t)(v >> 16);
		wr->pos[2] = (uint8_t)(v >> 8);
		wr->pos[3] = (uint8_t)v;
		wr->pos += 4;
	}
}

static inline void wire_wr_bytes(struct wire_wr *wr, const void *src, size_t n)
{
	if (n > 0 && wire_wr_need(wr, n)) {
		memcpy(wr->pos, src, n);
		wr->pos += n;
	}
}

static inline size_t wire_wr_len(const struct wire_wr *wr)
{
	return (size_t)(wr->pos - wr->start);
}

#endif
