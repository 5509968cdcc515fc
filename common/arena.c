/* SPDX-License-Identifier: MIT */
/* common/arena.c -- chunked region allocator. */
#include "common/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK (64 * 1024)
#define ARENA_ALIGN alignof(max_align_t)

struct chunk {
	struct chunk *next;
	size_t size; /* usable bytes after the header */
	size_t used;
	alignas(max_align_t) unsigned char data[];
};

struct arena {
	struct chunk *head; /* current chunk; the first chunk is at the end of the list */
	size_t cap;
	size_t used;
};

struct arena *arena_new(size_t cap)
{
	struct arena *a = calloc(1, sizeof(*a));
	if (a != NULL) {
		a->cap = cap;
	}
	return a;
}

static void free_chunks(struct chunk *c, struct chunk *keep)
{
	while (c != NULL && c != keep) {
		struct chunk *next = c->next;
		free(c);
		c = next;
	}
}

void arena_destroy(struct arena *a)
{
	if (a == NULL) {
		return;
	}
	free_chunks(a->head, NULL);
	free(a);
}

void arena_reset(struct arena *a)
{
	struct chunk *first = a->head;
	while (first != NULL && first->next != NULL) {
		first = first->next;
	}
#ifdef ZX_ARENA_MALLOC
	free_chunks(a->head, NULL);
	a->head = NULL;
#else
	free_chunks(a->head, first);
	a->head = first;
	if (first != NULL) {
		first->used = 0;
	}
#endif
	a->used = 0;
}

static struct chunk *chunk_new(size_t min)
{
#ifdef ZX_ARENA_MALLOC
	size_t size = min;
#else
	size_t size = min > ARENA_CHUNK ? min : ARENA_CHUNK;
#endif
	struct chunk *c = malloc(sizeof(*c) + size);
	if (c != NULL) {
		c->size = size;
		c->used = 0;
		c->next = NULL;
	}
	return c;
}

void *arena_alloc(struct arena *a, size_t size)
{
	size_t rounded = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (rounded < size || (a->cap != 0 && a->used + rounded > a->cap)) {
		return NULL;
	}
	struct chunk *c = a->head;
#ifdef ZX_ARENA_MALLOC
	c = NULL; /* one malloc per allocation */
#endif
	if (c == NULL || c->size - c->used < rounded) {
		struct chunk *n = chunk_new(rounded == 0 ? ARENA_ALIGN : rounded);
		if (n == NULL) {
			return NULL;
		}
		n->next = a->head;
		a->head = n;
		c = n;
	}
	void *p = c->data + c->used;
	c->used += rounded;
	a->used += rounded;
	return p;
}

void *arena_alloc_zero(struct arena *a, size_t size)
{
	void *p = arena_alloc(a, size);
	if (p != NULL) {
		memset(p, 0, size);
	}
	return p;
}

void *arena_alloc_array(struct arena *a, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size) {
		return NULL;
	}
	return arena_alloc(a, n * size);
}

void *arena_memdup(struct arena *a, const void *src, size_t len)
{
	void *p = arena_alloc(a, len);
	if (p != NULL && len > 0) {
		memcpy(p, src, len);
	}
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_memdup(a, s, strlen(s) + 1);
}

size_t arena_used(const struct arena *a)
{
	return a->used;
}
