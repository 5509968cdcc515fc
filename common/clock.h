/* SPDX-License-Identifier: MIT */
/* common/clock.h -- the clocks every module reads, in the units they use.
 *
 * Monotonic time for intervals and timeouts (never jumps); wall time (seconds
 * since the epoch) for what is stored or shown: the store's last success and
 * attempt, SOA timers, event timestamps.
 *
 * Threading: any.
 */
#ifndef ZX_COMMON_CLOCK_H
#define ZX_COMMON_CLOCK_H

#include <stdint.h>

/** Monotonic milliseconds (CLOCK_MONOTONIC), for intervals only. */
int64_t clock_mono_ms(void);

/** Monotonic microseconds, for durations. */
uint64_t clock_mono_us(void);

/** Wall clock, seconds since the epoch. */
int64_t clock_wall_s(void);

/** Wall clock, milliseconds since the epoch. */
int64_t clock_wall_ms(void);

/** Wall clock, microseconds since the epoch (event timestamps). */
uint64_t clock_wall_us(void);

#endif
