/* SPDX-License-Identifier: MIT */
/* common/cfg/cfg_internal.h -- what the parts of the config loader share: cfg.c
 * (loading, errors, the zone index), cfg_yaml.c (YAML to a node tree),
 * cfg_walk.c (value parsers, the table walker) and cfg_schema.c (the tables,
 * keys, zones). Not an API: nothing else includes it.
 *
 * (cfg_egress.c: the egress keys.) Threading: one struct cfg_parse per cfg_load() call.
 */
#ifndef ZX_COMMON_CFG_INTERNAL_H
#define ZX_COMMON_CFG_INTERNAL_H

#include "common/cfg/cfg.h"
#include "common/dname.h"

#include <stdbool.h>

/** Most fields one table (one mapping) may have. */
#define CFG_FIELDS_MAX 32

enum cfg_ntype { CFG_N_SCALAR, CFG_N_SEQ, CFG_N_MAP };

/** A YAML node; the tree lives in the load's scratch arena. */
struct cfg_node {
	enum cfg_ntype type;
	bool plain;             /**< scalar without quotes (only those can be null) */
	unsigned line, col;     /**< 1-based start */
	size_t n;               /**< scalar: length; sequence: items; mapping: pairs */
	const char *str;        /**< scalar: NUL-terminated text */
	struct cfg_node **kids; /**< sequence: n items; mapping: key, value, key, value ... */
};

struct cfg_msg {
	unsigned line, col; /* 1-based */
	size_t seq;         /* order of discovery, to keep the sort stable */
	char *text;         /* malloc'd, without the "file:line:col: " prefix */
	char *path;         /* malloc'd field path ("primaries[1]"), with cfg_parse.paths; or NULL */
};

/** State of one load. */
struct cfg_parse {
	const char *file;   /**< name in messages */
	const char *dir;    /**< directory for relative key files; "" for the cwd */
	struct cfg *cfg;
	struct arena *mem;  /**< == cfg->mem */
	struct cfg_msg *msgs;
	size_t nmsg, msgcap;
	bool nomem;         /**< an allocation failed: the load returns ZX_ENOMEM */
	bool paths;         /**< errors carry the path of their node from @c root */
	const struct cfg_node *root; /**< the document (for paths) */
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
	void (*fn)(struct cfg_parse *p, struct cfg_node *value, void *dst, const char *what);
};

/** Record an error at @p node (which may be NULL: line 1, column 1). */
void cfg_error(struct cfg_parse *p, const struct cfg_node *node, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** Mark the load as out of memory. */
void cfg_nomem(struct cfg_parse *p);

/**
 * Parse @p text into a tree in @p mem; *root is NULL for an empty stream.
 * @return false after reporting a syntax error or marking out-of-memory
 */
bool cfg_yaml_parse(struct cfg_parse *p, const char *text, struct arena *mem,
                    struct cfg_node **root);

/** "a mapping", "a list", "null", "a string", for messages. */
const char *cfg_kind(const struct cfg_node *n);
bool cfg_is_null(const struct cfg_node *n);

/** True and *n = its length when @p v is a list; false (reported) otherwise. */
bool cfg_list(struct cfg_parse *p, struct cfg_node *v, const char *what, size_t *n);

/**
 * The text of a scalar for @p what, or NULL after reporting "expected a string"
 * (nodes of another kind and null).
 */
const char *cfg_scalar(struct cfg_parse *p, const struct cfg_node *n, const char *what);

/**
 * Walk mapping @p map against @p fields (NULL-key terminated): unknown and
 * duplicate keys are reported, every known key is set on @p base in table
 * order (so sections may refer to what earlier entries set). @p found, when
 * not NULL, receives the value node of each field (NULL when absent).
 * @return false when @p map is not a mapping (reported)
 */
bool cfg_walk(struct cfg_parse *p, struct cfg_node *map, const char *path,
              const struct cfg_field *fields, void *base, struct cfg_node **found);

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

/* Egress keys (cfg_egress.c), CFG_FT_FUNC handlers: source and proxy fill the struct
 * cfg_egress at dst; primaries fills the struct cfg_zone at dst (primaries and each
 * one's own, unresolved, egress). */
void cfg_source_fn(struct cfg_parse *p, struct cfg_node *v, void *dst, const char *what);
void cfg_proxy_fn(struct cfg_parse *p, struct cfg_node *v, void *dst, const char *what);
void cfg_primaries_fn(struct cfg_parse *p, struct cfg_node *v, void *dst, const char *what);

/* A primary's `tls:` mapping (cfg_tls.c): a struct cfg_tls in the arena, its pointer
 * stored at dst (a const struct cfg_tls *); NULL left there after an error. */
void cfg_tls_fn(struct cfg_parse *p, struct cfg_node *v, void *dst, const char *what);

/* xfrd.serve.tls (a struct cfg_serve_tls at dst) and `require-tls` (an enum
 * cfg_serve_tls_req at dst), cfg_tls.c. */
void cfg_serve_tls_fn(struct cfg_parse *p, struct cfg_node *v, void *dst, const char *what);
void cfg_require_tls_fn(struct cfg_parse *p, struct cfg_node *v, void *dst, const char *what);

/** Resolve @p file against the config's directory into @p buf; reports at @p at and
    returns false when it cannot be opened for reading. */
bool cfg_readable(struct cfg_parse *p, const struct cfg_node *at, const char *file,
                  const char *what, char *buf, size_t size);

/** Each primary's egress in force: its own source and proxy, else the zone's (a new
    array in the arena); a source of another family than what it connects to is
    reported at @p at (the zone's entry). */
void cfg_zone_egress(struct cfg_parse *p, struct cfg_zone *z, const struct cfg_node *at);

/** Defaults, then every section of @p root (NULL for an empty file). */
void cfg_schema_apply(struct cfg_parse *p, struct cfg_node *root);

/**
 * One zone from @p root, a mapping with the keys of a zone entry, as zone_entry()
 * makes one (the template p->tmpl, every check, notify-keys and notify-from
 * filled in), into @p out; the cfg is not touched.
 */
void cfg_schema_zone(struct cfg_parse *p, struct cfg_node *root, struct cfg_zone *out);

#endif
