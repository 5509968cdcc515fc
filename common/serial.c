/* SPDX-License-Identifier: MIT */
/* common/serial.c -- RFC 1982 comparison and addition. */
#include "common/serial.h"

enum serial_order serial_cmp(uint32_t a, uint32_t b)
{
	if (a == b) {
		return SERIAL_EQ;
	}
	uint32_t d = a - b; /* modulo 2^32 */
	if (d == 0x80000000u) {
		return SERIAL_UNDEF;
	}
	return d < 0x80000000u ? SERIAL_GT : SERIAL_LT;
}

uint32_t serial_add(uint32_t s, uint32_t n)
{
	if (n > 0x7fffffffu) {
		n = 0x7fffffffu;
	}
	return s + n;
}
