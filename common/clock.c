/* SPDX-License-Identifier: MIT */
/* common/clock.c -- clock_gettime() in the units the modules use. */
#include "common/clock.h"

#include <time.h>

static struct timespec now(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts;
}

int64_t clock_mono_ms(void)
{
	struct timespec ts = now(CLOCK_MONOTONIC);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t clock_mono_us(void)
{
	struct timespec ts = now(CLOCK_MONOTONIC);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int64_t clock_wall_s(void)
{
	return (int64_t)now(CLOCK_REALTIME).tv_sec;
}

int64_t clock_wall_ms(void)
{
	struct timespec ts = now(CLOCK_REALTIME);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t clock_wall_us(void)
{
	struct timespec ts = now(CLOCK_REALTIME);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
