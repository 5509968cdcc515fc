/* SPDX-License-Identifier: MIT */
/* common/serial.h -- RFC 1982 serial number arithmetic (SERIAL_BITS = 32).
 *
 * SOA serials wrap: 1 is "newer" than 4294967295. Two serials exactly 2^31
 * apart are not comparable (RFC 1982 3.2 leaves it undefined); serial_cmp()
 * reports them as SERIAL_UNDEF and serial_newer() treats that as "not newer",
 * so a forged NOTIFY cannot make us transfer.
 *
 * Threading: pure functions.
 */
#ifndef ZX_COMMON_SERIAL_H
#define ZX_COMMON_SERIAL_H

#include <stdint.h>

enum serial_order { SERIAL_LT = -1, SERIAL_EQ = 0, SERIAL_GT = 1, SERIAL_UNDEF = 2 };

/** Compare @p a to @p b: SERIAL_GT when @p a is newer. */
enum serial_order serial_cmp(uint32_t a, uint32_t b);

/** True when @p a is strictly newer than @p b (SERIAL_UNDEF is false). */
static inline int serial_newer(uint32_t a, uint32_t b)
{
	return serial_cmp(a, b) == SERIAL_GT;
}

/**
 * RFC 1982 addition: @p s + @p n where n is in [0, 2^31 - 1].
 * @return the sum modulo 2^32; an @p n out of range is clamped to 2^31 - 1
 */
uint32_t serial_add(uint32_t s, uint32_t n);

#endif
