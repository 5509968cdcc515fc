/* SPDX-License-Identifier: MIT */
/* common/cfg_internal.h -- what cfg.c (YAML, errors, value parsers, the table
 * walker, the zone index) and cfg_schema.c (the tables, keys, zones) share.
 * Not an API: nothing outside those two files includes it.
 *
 * Threading: one struct cfg_parse per cfg_load() call.
 */
#ifndef ZX_COMMON_CFG_INTERNAL_H
#define ZX_COMMON_CFG_INTERNAL_H

#include "common/cfg.h"
#include "common/dname.h"

#include <stdbool.h>
#include <yaml.h>

/** Most fields one table (one mapping) may have. */
#define CFG_FIELDS_MAX 32

struct cfg_msg {
	unsigned line, col; /* 1-based */
	size_t seq;         /* order of discovery, to keep the sort stable */
	char *text;         /* malloc'd, without the "file:line:col: " prefix */
};

/** State of one load. */
struct cfg_parse {
	const char *file;   /**< name in messages */
	const char *dir;    /**< directory for relative key files; "" for the cwd */
	yaml_document_t *doc;
	struct cfg *cfg;
	struct arena *mem;  /**< == cfg->mem */
	struct cfg_msg *msgs;
	size_t nmsg, msgcap;
	bool nomem;         /**< an allocation failed: the load returns ZX_ENOMEM */
	/* schema state */
	struct cfg_zone tmpl;       /**< xfrd settings + zone-defaults, copied into each zone */
	bool tmpl_notify_keys_set;  /**< zone-defaults gave notify-keys */
	struct cfg_keyline *keylines; /**< where each inline key was defined, for duplicates */
	size_t nkeylines;
	const char *last_key_text;      /**< the last key reference resolved (in the document) */
	const struct tsig_key *last_key;
};

struct cfg_keyline {
	uint8_t name[DNAME_MAXLEN];
	unsigned line;
};

enum cfg_ftype {
	CFG_FT_STR,       /**< const char * */
	CFG_FT_U32,       /**< uint32_t within [min, max] */
	CFG_FT_U64,       /**< uint64_t within [min, max] */
	CFG_FT_DURATION,  /**< uint64_t milliseconds within [min, max] */
	CFG_FT_SIZE,      /**< uint64_t bytes within [min, max] */
	CFG_FT_PERCENT,   /**< uint32_t 0..100 */
	CFG_FT_LEVEL,     /**< enum log_level */
	CFG_FT_ENDPOINT,  /**< struct cfg_endpoint; min = default port (0: port required) */
	CFG_FT_ENDPOINTS, /**< struct cfg_endpoints; min as for CFG_FT_ENDPOINT */
	CFG_FT_ACL,       /**< struct acl, nets in the arena */
	CFG_FT_KEYREF,    /**< const struct tsig_key *; null allowed */
	CFG_FT_KEYREFS,   /**< struct cfg_keys */
	CFG_FT_MAP,       /**< nested mapping: sub walked with base + off */
	CFG_FT_FUNC,      /**< fn(p, value, base + off, path); fn NULL: only collected */
};

struct cfg_field {
	const char *key;
	enum cfg_ftype type;
	size_t off;
	uint64_t min, max;
	const struct cfg_field *sub; /**< CFG_FT_MAP, terminated by a NULL key */
	void (*fn)(struct cfg_parse *p, yaml_node_t *value, void *dst, const char *what);
};

/** Record an error at @p node (which may be NULL: line 1, column 1). */
void cfg_error(struct cfg_parse *p, const yaml_node_t *node, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** Mark the load as out of memory. */
void cfg_nomem(struct cfg_parse *p);

/** Node by index, "a mapping", "a list", "null", "a string" ... for messages. */
yaml_node_t *cfg_node(struct cfg_parse *p, int index);
const char *cfg_kind(const yaml_node_t *n);
bool cfg_is_null(const yaml_node_t *n);

/** Item @p i of sequence @p list. */
yaml_node_t *cfg_item(struct cfg_parse *p, const yaml_node_t *list, size_t i);

/** True and *n = its length when @p v is a list; false (reported) otherwise. */
bool cfg_list(struct cfg_parse *p, yaml_node_t *v, const char *what, size_t *n);

/**
 * The text of a scalar for @p what, or NULL after reporting "expected a string"
 * (nodes of another kind and null).
 */
const char *cfg_scalar(struct cfg_parse *p, const yaml_node_t *n, const char *what);

/**
 * Walk mapping @p map against @p fields (NULL-key terminated): unknown and
 * duplicate keys are reported, every known key is set on @p base in table
 * order (so sections may refer to what earlier entries set). @p found, when
 * not NULL, receives the value node of each field (NULL when absent).
 * @return false when @p map is not a mapping (reported)
 */
bool cfg_walk(struct cfg_parse *p, yaml_node_t *map, const char *path,
              const struct cfg_field *fields, void *base, yaml_node_t **found);

/** Value parsers: 0 or ZX_EFORMAT / ZX_ERANGE. */
ZX_MUSTCHECK int cfg_parse_u64(const char *s, uint64_t *out);
ZX_MUSTCHECK int cfg_parse_duration(const char *s, uint64_t *ms);
ZX_MUSTCHECK int cfg_parse_size(const char *s, uint64_t *bytes);

/** Human forms for messages ("90s", "4G"). */
void cfg_fmt_duration(uint64_t ms, char *buf, size_t size);
void cfg_fmt_size(uint64_t bytes, char *buf, size_t size);

/** Prepare an index for @p n zones. @return 0; ZX_ENOMEM */
ZX_MUSTCHECK int cfg_index_init(struct cfg *cfg, size_t n);

/**
 * Add zones[i] to the index.
 * @return NULL when added; the zone already there under the same name
 */
const struct cfg_zone *cfg_index_add(struct cfg *cfg, const struct cfg_zone *zones, size_t i);

/** Defaults, then every section of @p root (NULL for an empty file). */
void cfg_schema_apply(struct cfg_parse *p, yaml_node_t *root);

#endif
