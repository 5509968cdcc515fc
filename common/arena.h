/* SPDX-License-Identifier: MIT */
/* common/arena.h -- region allocator for per-request and per-message memory.
 *
 * Allocations come from chunks and are released all at once by arena_reset()
 * (which keeps the first chunk, so a steady workload stops calling malloc) or
 * arena_destroy(). Memory from an arena is never freed one object at a time.
 * A byte cap makes an oversized request fail with NULL (the caller reports
 * ZX_ELIMIT) instead of exhausting memory.
 *
 * Built with -DZX_ARENA_MALLOC=ON every allocation is its own malloc, tracked
 * and freed on reset, so AddressSanitizer sees overruns and use after reset.
 *
 * Threading: an arena belongs to one thread at a time.
 */
#ifndef ZX_COMMON_ARENA_H
#define ZX_COMMON_ARENA_H

#include <stddef.h>

struct arena;

/**
 * Create an arena.
 * @param cap most bytes it may hand out between resets; 0 means no cap
 * @return the arena, owned by the caller (arena_destroy()); NULL when out of memory
 */
struct arena *arena_new(size_t cap);

/** Free every chunk and the arena. arena_destroy(NULL) does nothing. */
void arena_destroy(struct arena *a);

/**
 * Release every allocation; keeps the first chunk for reuse. All pointers from
 * @p a are invalid afterwards.
 */
void arena_reset(struct arena *a);

/**
 * @return @p size bytes aligned for any type, valid until the next reset or
 *         destroy; NULL when out of memory or past the cap
 */
void *arena_alloc(struct arena *a, size_t size);

/** As arena_alloc(), zeroed. */
void *arena_alloc_zero(struct arena *a, size_t size);

/** As arena_alloc() for @p n elements of @p size; NULL also on overflow. */
void *arena_alloc_array(struct arena *a, size_t n, size_t size);

/** A copy of @p len bytes at @p src. */
void *arena_memdup(struct arena *a, const void *src, size_t len);

/** A NUL-terminated copy of @p s. */
char *arena_strdup(struct arena *a, const char *s);

/** Bytes handed out since the last reset. */
size_t arena_used(const struct arena *a);

#endif
