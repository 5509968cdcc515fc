/* SPDX-License-Identifier: MIT */
/* common/cfg/cfg_yaml.c -- YAML text to a compact node tree, with libyaml's event API.
 *
 * Why not libyaml's document API: for a 100k-zone file it holds about 200 MB
 * (a 96-byte node, a copied tag and a heap string per scalar) and spends half
 * the load time in malloc and free. Here a node is 32 bytes, nodes and strings
 * live in one arena freed in one go, and children are gathered on one shared
 * stack then copied once. Aliases point at the anchored node (not copies). */
#include "common/arena.h"
#include "common/cfg/cfg_internal.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct anchor {
	const char *name; /* in the arena */
	struct cfg_node *node;
};

/* An open sequence or mapping: its children are pending[first..npending). */
struct frame {
	struct cfg_node *node;
	size_t first;
};

struct builder {
	struct cfg_parse *p;
	struct arena *mem;
	struct frame *frames;
	size_t nframes, framecap;
	struct cfg_node **pending;
	size_t npending, pendcap;
	struct anchor *anchors;
	size_t nanchors, anchorcap;
	struct cfg_node *root;
};

/* Grow *v (elements of @p size) to hold one more than *n. */
static bool grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap) {
		return true;
	}
	size_t c = *cap ? *cap * 2 : 64;
	void *nv = realloc(*v, c * size);
	if (nv == NULL) {
		return false;
	}
	*v = nv;
	*cap = c;
	return true;
}

static bool attach(struct builder *b, struct cfg_node *n)
{
	if (b->nframes == 0) {
		b->root = n;
		return true;
	}
	if (!grow((void **)&b->pending, &b->pendcap, b->npending, sizeof(*b->pending))) {
		return false;
	}
	b->pending[b->npending++] = n;
	return true;
}

static struct cfg_node *node_new(struct builder *b, enum cfg_ntype type, const yaml_mark_t *m)
{
	struct cfg_node *n = arena_alloc_zero(b->mem, sizeof(*n));
	if (n != NULL) {
		n->type = type;
		n->line = (unsigned)m->line + 1;
		n->col = (unsigned)m->column + 1;
	}
	return n;
}

static bool anchor_add(struct builder *b, const yaml_char_t *name, struct cfg_node *n)
{
	if (name == NULL) {
		return true;
	}
	if (!grow((void **)&b->anchors, &b->anchorcap, b->nanchors, sizeof(*b->anchors))) {
		return false;
	}
	const char *copy = arena_strdup(b->mem, (const char *)name);
	if (copy == NULL) {
		return false;
	}
	b->anchors[b->nanchors++] = (struct anchor){copy, n};
	return true;
}

/* The latest node anchored as @p name (YAML lets a later anchor shadow an earlier one). */
static struct cfg_node *anchor_find(const struct builder *b, const char *name)
{
	for (size_t i = b->nanchors; i > 0; i--) {
		if (strcmp(b->anchors[i - 1].name, name) == 0) {
			return b->anchors[i - 1].node;
		}
	}
	return NULL;
}

static bool on_scalar(struct builder *b, const yaml_event_t *e)
{
	struct cfg_node *n = node_new(b, CFG_N_SCALAR, &e->start_mark);
	char *s = n ? arena_alloc(b->mem, e->data.scalar.length + 1) : NULL;
	if (s == NULL) {
		return false;
	}
	memcpy(s, e->data.scalar.value, e->data.scalar.length);
	s[e->data.scalar.length] = '\0';
	n->str = s;
	n->n = e->data.scalar.length;
	n->plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	return anchor_add(b, e->data.scalar.anchor, n) && attach(b, n);
}

static bool on_open(struct builder *b, const yaml_event_t *e, enum cfg_ntype type)
{
	struct cfg_node *n = node_new(b, type, &e->start_mark);
	const yaml_char_t *anchor = type == CFG_N_MAP ? e->data.mapping_start.anchor
	                                              : e->data.sequence_start.anchor;
	if (n == NULL || !anchor_add(b, anchor, n) ||
	    !grow((void **)&b->frames, &b->framecap, b->nframes, sizeof(*b->frames))) {
		return false;
	}
	b->frames[b->nframes++] = (struct frame){n, b->npending};
	return true;
}

static bool on_close(struct builder *b)
{
	struct frame f = b->frames[--b->nframes];
	size_t count = b->npending - f.first;
	struct cfg_node **kids = arena_alloc_array(b->mem, count ? count : 1, sizeof(*kids));
	if (kids == NULL) {
		return false;
	}
	if (count > 0) { /* an empty {} or [] first: nothing pending yet, b->pending NULL */
		memcpy(kids, b->pending + f.first, count * sizeof(*kids));
	}
	b->npending = f.first;
	f.node->kids = kids;
	f.node->n = f.node->type == CFG_N_MAP ? count / 2 : count;
	return attach(b, f.node);
}

/* An alias names an earlier anchor; libyaml's event API leaves that check to us. */
static bool alias_known(struct builder *b, const yaml_event_t *e)
{
	const char *name = (const char *)e->data.alias.anchor;
	if (anchor_find(b, name) != NULL) {
		return true;
	}
	struct cfg_node at = {.line = (unsigned)e->start_mark.line + 1,
	                      .col = (unsigned)e->start_mark.column + 1};
	cfg_error(b->p, &at, "undefined alias *%s; expected an anchor &%s before it", name, name);
	return false;
}

static void syntax_error(struct cfg_parse *p, const yaml_parser_t *parser)
{
	struct cfg_node at = {.line = (unsigned)parser->problem_mark.line + 1,
	                      .col = (unsigned)parser->problem_mark.column + 1};
	const char *problem = parser->problem ? parser->problem : "error";
	if (parser->context != NULL) {
		cfg_error(p, &at, "YAML syntax error: %s %s (line %zu); expected valid YAML",
		          problem, parser->context, parser->context_mark.line + 1);
	} else {
		cfg_error(p, &at, "YAML syntax error: %s; expected valid YAML", problem);
	}
}

/* One event into the tree. @return false to stop (error reported or out of memory) */
static bool on_event(struct builder *b, const yaml_event_t *e, int *docs)
{
	bool ok = true;
	switch (e->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++*docs > 1) {
			struct cfg_node at = {.line = (unsigned)e->start_mark.line + 1,
			                      .col = (unsigned)e->start_mark.column + 1};
			cfg_error(b->p, &at, "a second YAML document; expected one document");
			return false;
		}
		break;
	case YAML_SCALAR_EVENT:
		ok = on_scalar(b, e);
		break;
	case YAML_SEQUENCE_START_EVENT:
		ok = on_open(b, e, CFG_N_SEQ);
		break;
	case YAML_MAPPING_START_EVENT:
		ok = on_open(b, e, CFG_N_MAP);
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		ok = on_close(b);
		break;
	case YAML_ALIAS_EVENT:
		if (!alias_known(b, e)) {
			return false;
		}
		ok = attach(b, anchor_find(b, (const char *)e->data.alias.anchor));
		break;
	default:
		break;
	}
	if (!ok) {
		cfg_nomem(b->p); /* the handlers fail only when out of memory */
	}
	return ok;
}

bool cfg_yaml_parse(struct cfg_parse *p, const char *text, struct arena *mem,
                    struct cfg_node **root)
{
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser)) {
		cfg_nomem(p);
		return false;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
	struct builder b = {.p = p, .mem = mem};
	bool ok = true, end = false;
	int docs = 0;
	while (ok && !end) {
		yaml_event_t e;
		if (!yaml_parser_parse(&parser, &e)) {
			if (parser.error == YAML_MEMORY_ERROR) {
				cfg_nomem(p);
			} else {
				syntax_error(p, &parser);
			}
			ok = false;
			break;
		}
		end = e.type == YAML_STREAM_END_EVENT;
		ok = on_event(&b, &e, &docs);
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&parser);
	free(b.frames);
	free(b.pending);
	free(b.anchors);
	if (ok) {
		*root = b.root;
	}
	return ok;
}
