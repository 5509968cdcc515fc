/* SPDX-License-Identifier: MIT */
/* common/cfg/cfg.h -- the one configuration file notifyd, xfrd and xfrctl read.
 *
 * The file is YAML (parsed with libyaml). cfg_load() checks it completely and
 * returns a typed, immutable struct cfg: durations in milliseconds, sizes in
 * bytes, ACLs as struct acl, endpoints as socket addresses, the TSIG keyring
 * built, and the zones with zone-defaults and the xfrd-wide settings merged in,
 * findable by wire name in O(1) with cfg_zone_find().
 *
 * Errors: unknown keys, wrong types, values out of range, bad addresses, bad
 * zone names, undefined key references, duplicate zones, keys or mapping keys,
 * YAML syntax errors and key-file errors are all reported, sorted by position,
 * one per line and at most CFG_MAX_ERRORS of them, each as
 *   zx.yaml:14:7: unknown key "primarys" in zone; expected one of name, ...
 * (1-based line and column of the offending node).
 *
 * Not here: acting on the values (the daemons do), reloading (load a new cfg,
 * swap the pointer, free the old one once no thread uses it).
 *
 * The format, every key, its default and its unit: docker/zx.example.yaml.
 * Durations are integer seconds or numbers with units ("500ms", "10s", "1h30m";
 * units ms s m h d w). Sizes are bytes or numbers with K, M, G, T (powers of
 * 1024). Percentages are "10%" or a plain number. Endpoints are "addr@port",
 * "addr:port" or "[v6]:port".
 *
 * Egress (xfrd, zone-defaults, a zone, one primary; the innermost wins, key by key):
 * `source: ADDR[@PORT]` binds outgoing SOA queries and transfers; `proxy:` is a list
 * of SOCKS5 proxies, each "addr@port" (default port 1080) or { address, user,
 * password-file }; `proxy: []` means direct. A primary is "addr@port" or { address,
 * source, proxy, tls }.
 *
 * XFR over TLS (RFC 9103), per primary: `tls: { mode: strict|pin|opportunistic,
 * ca-file, auth-name, pin-sha256: [...], cert-file, key-file }` (struct cfg_tls); the
 * primary's port then defaults to 853. Files are checked readable at load.
 *
 * Threading: cfg_load() may run on any thread; a loaded cfg is read-only and
 * may be shared by every thread until cfg_free().
 */
#ifndef ZX_COMMON_CFG_H
#define ZX_COMMON_CFG_H

#include "common/acl.h"
#include "common/err.h"
#include "common/log.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct tsig_key;
struct tsig_keyring;
struct arena;

/** At most this many error lines are written to the caller's buffer. */
#define CFG_MAX_ERRORS 20

/** A socket address from an "addr@port" text. */
struct cfg_endpoint {
	struct sockaddr_storage addr;
	socklen_t len; /**< sizeof(struct sockaddr_in) or sizeof(struct sockaddr_in6) */
};

/** A list of endpoints (arrays are owned by the cfg). */
struct cfg_endpoints {
	const struct cfg_endpoint *v;
	size_t count;
};

/**
 * A SOCKS5 proxy (RFC 1928) that carries xfrd's egress, with optional username and
 * password (RFC 1929; the password read from its file at load).
 */
struct cfg_proxy {
	struct cfg_endpoint ep;
	const char *user;     /**< NULL: no authentication offered */
	const char *password; /**< with user: the password-file's first line; else NULL */
};

/**
 * How xfrd reaches a primary (SOA queries and transfers): from a source address,
 * through SOCKS5 proxies tried in order, both (the proxies are then reached from
 * the source), or neither (the kernel's choice, direct).
 */
/** How a primary's TLS is authenticated (RFC 9103 section 9.3, RFC 8310). */
enum cfg_tls_mode {
	CFG_TLS_STRICT = 1,    /**< the chain against ca-file (else the system's store) and
	                            the certificate's name against auth-name; pins, when
	                            given, must match too */
	CFG_TLS_PIN,           /**< the server's SPKI SHA-256 must be one of the pins
	                            (RFC 7858 section 4.2); no chain; notAfter still checked */
	CFG_TLS_OPPORTUNISTIC, /**< encrypted, not authenticated (only when written) */
};

/** Most pins one primary may list. */
#define CFG_TLS_PINS_MAX 8

/** XFR over TLS to one primary (strings owned by the cfg). */
struct cfg_tls {
	enum cfg_tls_mode mode;
	const char *ca_file;    /**< strict: PEM CA bundle; NULL: the system's default store */
	const char *auth_name;  /**< strict: the name the certificate must carry (required) */
	const char *const *pins; /**< base64 SHA-256 of the SubjectPublicKeyInfo (44 chars) */
	size_t pin_count;       /**< pin: >= 1; strict: 0 or more */
	const char *cert_file;  /**< client certificate (mutual TLS), PEM; NULL: none */
	const char *key_file;   /**< its key, PEM; given together with cert_file */
};

struct cfg_egress {
	struct cfg_endpoint source;      /**< len 0: no bind; port 0: any port */
	const struct cfg_proxy *proxies; /**< owned by the cfg; tried in order */
	size_t proxy_count;              /**< 0: direct; at most CFG_PROXIES_MAX */
	const struct cfg_tls *tls;       /**< XFR over TLS (a primary's own setting only);
	                                      NULL: plain TCP/UDP */
};

/** Most SOCKS5 proxies one egress may list. */
#define CFG_PROXIES_MAX 16

/** A list of TSIG keys, each borrowed from cfg->keys. */
struct cfg_keys {
	const struct tsig_key *const *v;
	size_t count;
};

/** One librdkafka property passed through as is. */
struct cfg_kv {
	const char *name;
	const char *value;
};

/** Clamp for an SOA timer (refresh, retry, expire). */
struct cfg_clamp {
	uint64_t min_ms;
	uint64_t max_ms;
};

/** Per-zone size bound. */
struct cfg_limits {
	uint64_t records; /**< resource records in the zone */
	uint64_t bytes;   /**< wire bytes of the zone's records */
};

/** Who may query xfrd's DNS endpoint (SOA, AXFR, IXFR). */
/** What transport a zone's AXFR/IXFR on xfrd's endpoint must come over. */
enum cfg_serve_tls_req {
	CFG_SERVE_TLS_NO = 0,       /**< any (UDP, TCP, TLS) */
	CFG_SERVE_TLS_YES,          /**< TLS (xfrd.serve.tls); plain TCP: REFUSED */
	CFG_SERVE_TLS_CLIENT_CERT,  /**< TLS with a client certificate that verified against
	                                 xfrd.serve.tls.ca-file (mutual TLS) */
};

struct cfg_serve {
	struct acl allow;     /**< source networks; empty: nobody */
	struct cfg_keys keys; /**< when not empty, queries must be signed with one of them */
	enum cfg_serve_tls_req require_tls; /**< `require-tls: no|yes|client-cert` */
};

struct cfg_kafka {
	const char *brokers;        /**< bootstrap list, librdkafka syntax */
	const char *requests_topic; /**< transfer requests (notifyd, xfrctl, scheduler -> xfrd) */
	const char *updates_topic;  /**< "zone updated" events (xfrd -> zone builders, and the
	                               replicas that follow the zone's owner) */
	const char *replicas_topic; /**< the replica directory (proto/replicas.proto), compacted */
	const char *group;          /**< xfrd consumer group id */
	uint64_t delivery_timeout_ms; /**< notifyd: a NOTIFY whose event is not stored by then
	                                 gets no answer */
	const struct cfg_kv *settings; /**< extra librdkafka properties */
	size_t settings_count;
};

struct cfg_rate_limit {
	uint32_t per_source; /**< NOTIFYs per second per real source address; 0: unlimited */
	uint32_t per_zone;   /**< NOTIFYs per second per zone; 0: unlimited */
	uint32_t burst;      /**< bucket size as a multiple of the rate (>= 1) */
	uint32_t ipv4_prefix; /**< per-source: IPv4 sources grouped by this prefix (0..32) */
	uint32_t ipv6_prefix; /**< per-source: IPv6 sources grouped by this prefix (0..128) */
};

struct cfg_notifyd {
	const char *instance;          /**< name in events and logs */
	struct cfg_endpoints listen;   /**< UDP and TCP DNS sockets */
	struct cfg_endpoint http;      /**< metrics and health */
	struct cfg_rate_limit rate_limit;
	uint32_t replay_cache;         /**< signed NOTIFYs remembered to refuse replays (entries,
	                                  common/tsig/tsig_replay.h); 0: no replay check */
	uint32_t tcp_max_connections;
	uint32_t tcp_max_per_source;     /**< TCP connections at once from one source (grouped
	                                    as rate_limit.ipv4_prefix / ipv6_prefix) */
	uint64_t tcp_idle_timeout_ms;    /**< a TCP connection with no query for this long is closed */
	uint64_t tcp_message_timeout_ms; /**< a started TCP message must be complete within this */
	uint64_t udp_receive_buffer;     /**< SO_RCVBUF bytes */
};

/** The zone registry (proto/registry.proto): zones beyond the file's, on a compacted topic. */
struct cfg_registry {
	bool enabled;            /**< the file has a registry section: follow the topic */
	const char *topic;       /**< the compacted topic; default xfr.zones */
	uint64_t purge_after_ms; /**< a removed zone's data and journal stay this long, so
	                            that re-adding it keeps them; then they are purged */
};

/** xfrd's REST API (xfrd/api/api.h). Off unless tokens is set (and the registry on). */
struct cfg_api {
	const char *tokens;  /**< file of bearer tokens ("name scope token" lines); NULL: off */
	struct acl allow;    /**< sources the API answers; others get 403 */
};

/** xfrd.serve.tls: XFR over TLS on xfrd's DNS endpoint (files checked at load, loaded
    by xfrd, again on SIGHUP). */
struct cfg_serve_tls {
	struct cfg_endpoints listen; /**< default port 853; count 0: no TLS listener */
	const char *cert_file;       /**< PEM chain (required with listen) */
	const char *key_file;        /**< PEM key (required with listen) */
	const char *ca_file;         /**< CAs client certificates are verified against
	                                  (require-tls: client-cert); NULL: none verify */
};

struct cfg_xfrd {
	const char *replica;         /**< name in events and logs */
	const char *store;           /**< LMDB environment directory */
	uint64_t store_size;         /**< LMDB map size in bytes */
	struct cfg_endpoints listen; /**< DNS endpoint serving SOA/AXFR/IXFR of stored zones */
	struct cfg_endpoint http;    /**< metrics and health */
	struct cfg_serve serve;      /**< default for every zone */
	uint32_t serve_transfers;       /**< outgoing AXFR/IXFR streams at once; more: REFUSED */
	uint32_t serve_transfers_per_source; /**< of which from one source (IPv4 /32, IPv6 /64) */
	uint64_t serve_snapshot_hold_ms; /**< a transfer waiting this long for its client lets go
	                                    of its store snapshot (0: at once) */
	uint64_t serve_snapshot_max_ms;  /**< no transfer reads one snapshot longer than this */
	struct cfg_serve_tls serve_tls;  /**< xfrd.serve.tls: the XoT listener (RFC 9103) */
	uint32_t transfers_max;         /**< transfers running at once */
	uint32_t transfers_per_primary; /**< transfers talking to one primary at once (an AXFR
	                                     waiting for its commit counts only in max) */
	uint64_t timeout_connect_ms;
	uint64_t timeout_read_ms;     /**< each read of a transfer or SOA answer */
	uint64_t timeout_transfer_ms; /**< a whole transfer */
	uint64_t timeout_soa_ms;      /**< an SOA query (UDP try and TCP retry together) */
	struct cfg_clamp refresh;     /**< defaults for every zone */
	struct cfg_clamp retry;
	struct cfg_clamp expire;
	uint32_t jitter_pct;          /**< each timer is shortened by up to this percentage */
	struct cfg_limits limits;     /**< default for every zone */
	uint32_t journal_changes;     /**< IXFR journal: change sets kept per zone */
	uint64_t journal_bytes;       /**< IXFR journal: bytes kept per zone */
	uint64_t health_commit_stall_ms; /**< liveness fails when a partition holds requests
	                                    read and none finished for this long */
	uint32_t metrics_per_zone_limit; /**< per-zone series (xfrd_zone_*) while this replica
	                                    runs at most this many zones; 0 never */
	struct cfg_api api;           /**< the REST API on xfrd.http (xfrd/api) */
	struct cfg_egress egress;     /**< xfrd.source, xfrd.proxy: default for every zone */
	struct cfg_endpoint advertise; /**< where the other replicas reach this one's DNS
	                                  endpoint to copy zones; len 0: the first listen
	                                  address when it is not a wildcard, else none */
	const struct tsig_key *peer_key; /**< signs a follower's queries and transfers to the
	                                    owner replica; NULL: unsigned */
};

/** One zone, with zone-defaults and the xfrd-wide settings merged in. */
struct cfg_zone {
	const uint8_t *name;     /**< canonical (lowercase) wire form */
	const char *name_text;   /**< canonical text with the trailing dot */
	unsigned line;           /**< line of the zone's entry in the file */
	struct cfg_endpoints primaries; /**< tried in order; never empty */
	const struct cfg_egress *primary_egress; /**< primaries.count entries, in the same
	                                    order: the egress in force for each primary (its
	                                    own source/proxy, else the zone's) */
	struct cfg_egress egress;       /**< the zone's source/proxy (else zone-defaults',
	                                   else xfrd's) */
	const struct tsig_key *key;     /**< TSIG for SOA queries and transfers; NULL: none */
	struct cfg_keys notify_keys;    /**< NOTIFY must be signed with one of these; empty:
	                                   unsigned accepted. Default: [key] when key is set */
	struct acl notify_from;  /**< NOTIFY sources; when the file gives none, the
	                            primaries' addresses (host networks) */
	struct cfg_serve serve;  /**< who may query this zone on xfrd's DNS endpoint */
	struct cfg_clamp refresh;
	struct cfg_clamp retry;
	struct cfg_clamp expire;
	struct cfg_limits limits;
	struct cfg_endpoints notify;    /**< downstream secondaries sent a NOTIFY after each new
	                                   serial (RFC 1996, UDP); default port 53; empty: none */
	const struct tsig_key *notify_key; /**< signs those NOTIFYs (and their replies must
	                                      verify); NULL: unsigned. Default: NULL */
	const struct cfg *owner; /**< the cfg whose keyring the keys above live in (a holder
	                            of a copy keeps it with cfg_ref()); NULL: none */
};

/** TSIG policy for every request checked with the keyring (notifyd, xfrd's endpoint). */
struct cfg_tsig {
	uint64_t max_fudge_ms; /**< a request's fudge is capped to this (whole seconds,
	                          tsig_keyring_set_max_fudge(), applied to cfg->keys) */
};

/**
 * A loaded configuration. Every pointer inside is owned by the cfg and lives
 * until cfg_free(); in particular the struct acl members must not be passed to
 * acl_clear().
 */
struct cfg {
	const char *path;          /**< the file name it was loaded from */
	enum log_level log_level;
	struct cfg_kafka kafka;
	struct tsig_keyring *keys; /**< every key of the file; owned; tsig.max_fudge applied */
	struct cfg_tsig tsig;
	struct acl proxy_trusted;  /**< PROXY headers accepted, and required, from these */
	struct cfg_notifyd notifyd;
	struct cfg_xfrd xfrd;
	struct cfg_registry registry;
	const struct cfg_zone *zones; /**< in file order */
	size_t zone_count;
	struct cfg_zone zone_defaults; /**< what a zone starts from: xfrd's settings with
	                                  zone-defaults on top (no name, no primaries unless
	                                  zone-defaults gives them); cfg_zone_parse() */
	bool zone_defaults_notify_keys; /**< zone-defaults set notify-keys */

	/* private */
	atomic_uint refs;     /**< cfg_ref(), cfg_free() */
	struct arena *mem;
	uint32_t *zone_index; /**< open addressing: zone number + 1, 0 empty */
	size_t zone_mask;
};

/**
 * Read and check the file at @p path.
 * @param[in]  path   borrowed; also the name used in messages, and the directory
 *                    relative key-file paths are taken from
 * @param[out] out    on 0, the cfg, returned owned (cfg_free()); untouched otherwise
 * @param[out] err    on ZX_ENOENT and ZX_ECONFIG the messages, one per line
 *                    (cut to @p errlen); "" on 0. May be NULL when @p errlen is 0.
 * @return 0; ZX_ENOENT the file is missing or unreadable ("path: cannot read: why");
 *         ZX_ECONFIG the file has errors (all found, at most CFG_MAX_ERRORS lines);
 *         ZX_ENOMEM
 */
ZX_MUSTCHECK int cfg_load(const char *path, struct cfg **out, char *err, size_t errlen);

/**
 * As cfg_load() with the text in memory.
 * @param[in] name  the name used in messages (and for relative key-file paths); borrowed
 * @param[in] text  NUL-terminated YAML; borrowed
 * @return 0; ZX_ECONFIG; ZX_ENOMEM
 */
ZX_MUSTCHECK int cfg_load_string(const char *name, const char *text, struct cfg **out,
                                 char *err, size_t errlen);

/**
 * Drop a reference to @p cfg: the last one frees everything of it. A cfg is made
 * with one reference (its loader's); whoever keeps pointers into it past a reload
 * (zone settings holding its TSIG keys, a transfer being served and signed) takes
 * one with cfg_ref(). cfg_free(NULL) does nothing. Any thread.
 */
void cfg_free(const struct cfg *cfg);

/** One more reference to @p cfg (any thread). @return @p cfg */
const struct cfg *cfg_ref(const struct cfg *cfg);

/**
 * A deep copy of @p src in one calloc'd block: @p head bytes first, with the
 * struct cfg_zone at offset @p zone_off in them (a caller's header may surround
 * it), then every array the zone owns. The TSIG keys stay borrowed from the
 * keyring @p src's came from.
 * @param[out] out    the block, owned by the caller (free()); untouched on error
 * @param[out] bytes  the block's size
 * @return 0; ZX_EINVAL @p src has no valid name, or the zone does not fit in @p head
 *         at @p zone_off; ZX_ENOMEM
 */
ZX_MUSTCHECK int cfg_zone_copy(const struct cfg_zone *src, size_t head, size_t zone_off,
                               void **out, size_t *bytes);

/** One problem of cfg_zone_parse(): where and what. */
struct cfg_problem {
	char path[160];  /**< the field: "primaries[1]", "serve.allow[0]", "" for the zone */
	char text[480];  /**< what is wrong and what was expected */
};

/**
 * One zone from its settings given as text, as if it were an entry of the file's
 * zones: the same keys ("name", "primaries", "key", "notify-keys", "notify-from",
 * "serve", "refresh", "retry", "expire", "limits", "notify", "notify-key"), the
 * same checks and messages, @p cfg's zone-defaults and xfrd settings merged in,
 * keys resolved in cfg->keys. The text is YAML, and so also JSON:
 * {"name": "example.com", "primaries": ["192.0.2.1@53"]}. This is how zones that
 * are not in the file (the registry's, the REST API's) are made and checked.
 * @param[in]  cfg   borrowed; not changed
 * @param[in]  text  @p len bytes; borrowed
 * @param[in]  mem   the zone's arrays are allocated here (the caller frees the arena)
 * @param[out] out   on 0, the zone (pointers into @p mem and cfg->keys); else untouched
 * @param[out] probs on ZX_ECONFIG, up to @p maxprobs problems in document order
 * @param[out] nprobs on ZX_ECONFIG, how many were found (may exceed @p maxprobs)
 * @return 0; ZX_ECONFIG the settings have problems (@p probs); ZX_ENOMEM
 */
ZX_MUSTCHECK int cfg_zone_parse(const struct cfg *cfg, const char *text, size_t len,
                                struct arena *mem, struct cfg_zone *out,
                                struct cfg_problem *probs, size_t maxprobs, size_t *nprobs);

/**
 * The longest one transfer may run before the engine gives up on it, in ms: one
 * primary's SOA query, TCP connect and whole transfer (xfrd.timeouts soa + connect +
 * transfer; each further primary tried adds as much). What xfrd.health.commit-stall
 * must at least allow, or a transfer that merely runs long fails liveness.
 */
uint64_t cfg_xfrd_transfer_bound_ms(const struct cfg_xfrd *x);

/**
 * Settings that load but work against each other; xfrd logs each at start. Today
 * one: xfrd.health.commit-stall below cfg_xfrd_transfer_bound_ms() (xfrd logs it as
 * health_stall_short). The shipped defaults and examples must have none (a test
 * says so).
 * @param[out] out  the first warning as one line of text, "" when none; may be NULL
 *                  when @p len is 0
 * @return the number of warnings
 */
size_t cfg_warnings(const struct cfg *cfg, char *out, size_t len);

/**
 * The zone named @p name_wire, compared case-insensitively; O(1).
 * @param name_wire a valid uncompressed wire name (e.g. a NOTIFY's question, as
 *                  dnsmsg gives it); borrowed
 * @return the zone, borrowed from @p cfg; NULL when the file has no such zone
 */
const struct cfg_zone *cfg_zone_find(const struct cfg *cfg, const uint8_t *name_wire);

#endif
