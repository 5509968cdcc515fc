/* SPDX-License-Identifier: MIT */
/* xfrd/tools/zonefollow.c -- zx-follow, the reference zone builder, and the guide to
 * integrating one.
 *
 * ---------------------------------------------------------------------------
 * Integrating a zone builder
 * ---------------------------------------------------------------------------
 * xfrd keeps every zone it transfers in its LMDB store and, after each commit,
 * publishes a ZoneUpdated event to kafka.updates-topic (default xfr.updates).
 * A zone builder (anything that needs the zones: an authoritative server's
 * loader, a DNSSEC signer, a search index) follows them like this:
 *
 *  1. Consume kafka.updates-topic in a consumer group of its own (every
 *     builder gets every event; xfrd's own group is kafka.group). The message
 *     key is the zone's canonical name ("example.com."), so the events of one
 *     zone come in order, from one partition.
 *  2. Decode the value as zx.events.ZoneUpdated (proto/events.proto, protobuf 3;
 *     any protobuf library works). The fields a builder needs:
 *        zone        canonical name, the same as the key
 *        kind        COMMITTED (a new serial is in the store), FAILED (a
 *                    transfer failed for good; the old zone is kept), EXPIRED
 *                    (the zone passed its SOA expire without a refresh)
 *        new_serial  the serial now in the store (the kept one on FAILED)
 *        old_serial  the one before (has_old_serial false: first transfer)
 *        method      AXFR or IXFR: how xfrd got it (not how you must fetch it)
 *        records     RRs in the zone now; changes: RRs deleted + added
 *        replica     the xfrd replica that holds the zone (with several
 *                    replicas, each holds the zones of its partitions)
 *        state       FRESH, FAILED or EXPIRED after this event
 *        committed_us, duration_ms, primary, error: for logs and dashboards
 *     Readers ignore fields they do not know; fields are only ever added.
 *  3. For a COMMITTED event whose new_serial is newer (RFC 1982) than the copy
 *     held, fetch the change:
 *       - over DNS from xfrd's endpoint (xfrd.listen, default 127.0.0.1@5354):
 *         IXFR from the serial held (RFC 1995), which xfrd answers from its
 *         journal, or with the whole zone (AXFR-style) when the journal does not
 *         reach back; AXFR for a zone not held yet. TSIG when the zone's
 *         serve.keys asks for it; the source must be in serve.allow.
 *       - or, on the machine that holds the store, read it directly: a
 *         read-only zdb_open() of xfrd.store, zdb_iter_journal() since the
 *         serial held (ZX_ENOTFOUND when the journal does not reach back:
 *         zdb_iter_zone() then). Readers never block xfrd, and one snapshot
 *         never shows half a transfer.
 *     With several xfrd replicas, ask the one the event's `replica` names (its
 *     xfrd.replica); zx-follow maps names to endpoints with -r NAME=ADDR@PORT
 *     and falls back to the others when one answers NOTAUTH.
 *  4. Treat the events as hints, not as the data: they may be repeated (the
 *     topic is at-least-once), skipped (a builder that was down, a topic
 *     retention that expired), or arrive before a given replica has the serial.
 *     Compare serials, fetch what is newer, and at start-up fetch every zone
 *     once (IXFR from the serial held is cheap when nothing changed).
 *
 * zx-follow does exactly that, and writes each zone to DIR/ZONE.zone
 * atomically (a temporary file, fsync, rename), so a loader never reads half a
 * zone. Usage: see the usage text below and zx-follow(1).
 *
 * Exit: 0 stopped by SIGINT/SIGTERM (or --once and every zone fetched), 1 --once
 * and a zone failed, 2 usage, 3 configuration, directory or store error, 4 Kafka.
 *
 * Threading: one thread; fetches block (bounded by --timeout).
 */
#include "common/clock.h"
#include "common/acl.h"
#include "common/cfg/cfg.h"
#include "common/dname.h"
#include "common/kafka/kafka.h"
#include "common/log.h"
#include "common/serial.h"
#include "common/tsig/tsig.h"
#include "common/store/zdb.h"
#include "proto/events.h"
#include "xfrd/tools/zonecopy.h"
#include "xfrd/tools/zonefetch.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <limits.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_SETUP = 3,
	EXIT_KAFKA = 4,
};

#define FOLLOW_MAX_SETTINGS 64
#define FOLLOW_MAX_REPLICAS 32
#define FOLLOW_BACKOFF_MIN_MS 1000
#define FOLLOW_BACKOFF_MAX_MS 60000

static const char usage_text[] =
	"usage: zx-follow [-c FILE] [-b BROKERS] [-t TOPIC] [-g GROUP]\n"
	"                 [-s ADDR@PORT | --store DIR] [-r NAME=ADDR@PORT]...\n"
	"                 [-y ALG:NAME:SECRET] [-d DIR]\n"
	"                 [-z ZONE]... [--all] [-X PROP=VALUE]... [--timeout SECONDS]\n"
	"                 [--once] [--log-level LEVEL]\n"
	"\n"
	"Follows xfrd's \"zone updated\" events and keeps a copy of each zone in\n"
	"DIR/ZONE.zone, fetched by IXFR (AXFR when needed) from xfrd's DNS endpoint,\n"
	"or read from xfrd's store on the same machine (--store). Every zone is\n"
	"fetched once at start, then again for each committed event with a newer serial.\n"
	"Endpoints are tried in turn: the replica the zone's last event named (-r), the\n"
	"one that served the zone last, --server, the other replicas.\n"
	"\n"
	"options:\n"
	"  -c, --config FILE      zx's configuration: kafka.brokers, kafka.updates-topic,\n"
	"                         kafka.settings, the first xfrd.listen as the server, the\n"
	"                         zones (when no -z), each zone's first serve key for TSIG\n"
	"  -b, --brokers LIST     Kafka bootstrap servers (default kafka.brokers)\n"
	"  -t, --topic TOPIC      the updates topic (default kafka.updates-topic, else\n"
	"                         xfr.updates)\n"
	"  -g, --group GROUP      this follower's consumer group (default zx-follow)\n"
	"  -s, --server ADDR@PORT xfrd's DNS endpoint (default the first xfrd.listen,\n"
	"                         else 127.0.0.1@5354)\n"
	"      --store DIR        read xfrd's LMDB store DIR instead of asking over DNS\n"
	"  -r, --replica NAME=ADDR@PORT  the DNS endpoint of xfrd replica NAME: a zone\n"
	"                         whose event names NAME is asked there first (repeat)\n"
	"  -y, --tsig ALG:NAME:SECRET  TSIG key for the queries (kdig -y form)\n"
	"  -d, --dir DIR          where the zone files go (default .)\n"
	"  -z, --zone ZONE        follow ZONE (repeat for more)\n"
	"      --all              follow every zone an event names\n"
	"  -X PROP=VALUE          a librdkafka property for the consumer (repeat)\n"
	"      --timeout SECONDS  connect and read timeout (default 10; a transfer\n"
	"                         gets 20 times that)\n"
	"      --once             fetch every zone once, then exit (no Kafka)\n"
	"      --log-level LEVEL  debug, info, warn or error (default info)\n"
	"  -h, --help             this text\n"
	"  -V, --version          the version\n"
	"\n"
	"exit status: 0 stopped by SIGINT/SIGTERM, or --once and every zone fetched;\n"
	"1 --once and a zone failed; 2 usage; 3 configuration, directory or store\n"
	"error; 4 Kafka error.\n";

struct followed {
	struct zonecopy copy;
	char path[PATH_MAX];
	const struct tsig_key *key; /* borrowed from the cfg or the -y ring */
	bool dirty;                 /* a fetch is owed (failed, or behind an event) */
	uint32_t want;              /* the serial an event announced (when dirty) */
	int64_t retry_ms;
	uint32_t backoff_ms;
	int hint;                   /* the replica the last event named (-r index); -1 none */
	struct sockaddr_storage ep; /* the endpoint that served the zone last */
	socklen_t ep_len;           /* 0: none yet */
};

/* An xfrd replica's DNS endpoint (-r NAME=ADDR@PORT). */
struct replica {
	const char *name;
	struct sockaddr_storage addr;
	socklen_t len;
};

struct follow {
	struct cfg *cfg;
	const char *cfg_path;
	const char *brokers, *topic, *group, *server, *store_dir, *tsig, *dir;
	const char *zones[256];
	size_t nzones;
	bool all, once;
	struct cfg_kv settings[FOLLOW_MAX_SETTINGS];
	size_t nsettings;
	struct replica replicas[FOLLOW_MAX_REPLICAS];
	size_t nreplicas;
	uint32_t timeout_ms;
	enum log_level level;
	struct tsig_keyring *ring; /* the -y key */
	const struct tsig_key *ykey;
	struct zonefetch_src src;
	struct zdb *db;
	struct followed *z;
	size_t n, cap;
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int64_t now_ms(void)
{
	return clock_mono_ms();
}

/* ---------------------------------------------------------------- zones */

/* DIR/NAME.zone, NAME without the trailing dot ("root" for the root), '/' as '_'. */
static void zone_path(const struct follow *f, const char *name, char *out, size_t size)
{
	char base[DNAME_TEXTLEN];
	snprintf(base, sizeof(base), "%s", strcmp(name, ".") == 0 ? "root." : name);
	base[strlen(base) - 1] = '\0';
	for (char *p = base; *p != '\0'; p++) {
		*p = *p == '/' ? '_' : *p;
	}
	snprintf(out, size, "%s/%s.zone", f->dir, base);
}

static struct followed *find_zone(struct follow *f, const uint8_t *wire)
{
	for (size_t i = 0; i < f->n; i++) {
		if (dname_equal(f->z[i].copy.zone, wire)) {
			return &f->z[i];
		}
	}
	return NULL;
}

/* Start following @p wire: the copy from its file when there is one. */
static struct followed *add_zone(struct follow *f, const uint8_t *wire)
{
	if (f->n == f->cap) {
		size_t nc = f->cap ? f->cap * 2 : 16;
		struct followed *nz = realloc(f->z, nc * sizeof(*nz));
		if (nz == NULL) {
			return NULL;
		}
		f->z = nz;
		f->cap = nc;
	}
	struct followed *z = &f->z[f->n];
	memset(z, 0, sizeof(*z));
	z->hint = -1;
	if (zonecopy_init(&z->copy, wire) != 0) {
		return NULL;
	}
	f->n++;
	zone_path(f, z->copy.zone_text, z->path, sizeof(z->path));
	const struct cfg_zone *cz = f->cfg != NULL ? cfg_zone_find(f->cfg, wire) : NULL;
	z->key = f->ykey != NULL ? f->ykey
	         : cz != NULL && cz->serve.keys.count > 0 ? cz->serve.keys.v[0] : NULL;
	int rc = zonecopy_load(&z->copy, z->path);
	if (rc == 0) {
		log_info("zone_loaded", "zone=%s serial=%u records=%zu file=%s", z->copy.zone_text,
		         z->copy.serial, z->copy.records, z->path);
	} else if (rc != ZX_ENOENT) {
		log_warn("zone_file_unusable", "zone=%s file=%s error=%s action=axfr",
		         z->copy.zone_text, z->path, zx_strerror(rc));
	}
	return z;
}

/* ---------------------------------------------------------------- fetching */

static void owe(struct followed *z, uint32_t want)
{
	int64_t now = now_ms();
	if (!z->dirty || serial_newer(want, z->want)) {
		z->want = want;
	}
	z->backoff_ms = !z->dirty ? FOLLOW_BACKOFF_MIN_MS
	                : z->backoff_ms * 2 > FOLLOW_BACKOFF_MAX_MS ? FOLLOW_BACKOFF_MAX_MS
	                                                            : z->backoff_ms * 2;
	z->dirty = true;
	z->retry_ms = now + z->backoff_ms;
}

/* Add @p addr to the candidates unless it is there already. */
static void cand_add(struct zonefetch_src *v, size_t *n, const struct zonefetch_src *base,
                     const struct sockaddr_storage *addr, socklen_t len)
{
	for (size_t i = 0; i < *n; i++) {
		if (v[i].addr_len == len && memcmp(&v[i].addr, addr, len) == 0) {
			return;
		}
	}
	v[*n] = *base;
	memcpy(&v[*n].addr, addr, len);
	v[*n].addr_len = len;
	(*n)++;
}

/* Where to ask for @p z, best first: the replica its last event named, the
 * endpoint that served it last, --server, the other replicas. One entry (the
 * store) with --store. */
static size_t candidates(const struct follow *f, const struct followed *z,
                         struct zonefetch_src *v)
{
	struct zonefetch_src base = f->src;
	size_t n = 0;
	base.key = z->key;
	if (f->db != NULL) {
		v[0] = base;
		return 1;
	}
	if (z->hint >= 0) {
		const struct replica *r = &f->replicas[z->hint];
		cand_add(v, &n, &base, &r->addr, r->len);
	}
	if (z->ep_len > 0) {
		cand_add(v, &n, &base, &z->ep, z->ep_len);
	}
	cand_add(v, &n, &base, &f->src.addr, f->src.addr_len);
	for (size_t i = 0; i < f->nreplicas; i++) {
		cand_add(v, &n, &base, &f->replicas[i].addr, f->replicas[i].len);
	}
	return n;
}

/* Failures another endpoint may not have: it does not hold the zone, or is down. */
static bool try_next(int rc)
{
	return rc == ZX_ERCODE || rc == ZX_ECONNREFUSED || rc == ZX_ETIMEDOUT ||
	       rc == ZX_ECONNRESET || rc == ZX_EIO;
}

/* Fetch from the candidates in turn; @p used: the one that answered last. */
static int fetch_any(struct follow *f, struct followed *z, struct zonefetch_result *res,
                     char *used, size_t size)
{
	struct zonefetch_src v[FOLLOW_MAX_REPLICAS + 3];
	size_t n = candidates(f, z, v);
	int rc = ZX_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (f->db != NULL) {
			snprintf(used, size, "store");
		} else {
			acl_addr_str((const struct sockaddr *)&v[i].addr, true, used, size);
		}
		rc = zonefetch(&z->copy, &v[i], res);
		if (rc == 0 && f->db == NULL) {
			memcpy(&z->ep, &v[i].addr, v[i].addr_len);
			z->ep_len = v[i].addr_len;
		}
		if (rc == 0 || !try_next(rc)) {
			break;
		}
	}
	return rc;
}

/* Fetch what is newer, write the file on a change; one log line per outcome.
 * @p want: the serial an event announced (0 with @p have_want false). */
static int sync_zone(struct follow *f, struct followed *z, const char *trigger, bool have_want,
                     uint32_t want)
{
	struct zonefetch_result res;
	char comment[DNAME_TEXTLEN + 128], why[256], used[128], detail[sizeof(res.detail) + 16];
	int64_t t0 = now_ms();
	int rc = fetch_any(f, z, &res, used, sizeof(used));
	if (rc == 0 && strcmp(res.method, "none") != 0) {
		snprintf(comment, sizeof(comment), "%s serial %u, written by zx-follow (%s)",
		         z->copy.zone_text, z->copy.serial, res.method);
		rc = zonecopy_write(&z->copy, z->path, comment);
		res.why = rc != 0 ? "writing the zone file" : res.why;
	}
	int64_t ms = now_ms() - t0;
	if (rc != 0) {
		owe(z, have_want ? want : z->want);
		log_warn("zone_follow_failed", "zone=%s serial=%u trigger=%s source=%s server=%s "
		         "error=%s why=%s%s%s retry_in_ms=%u", z->copy.zone_text, z->copy.serial,
		         trigger, f->db != NULL ? "store" : "dns", used, zx_strerror(rc),
		         log_quote(res.why, why, sizeof(why)), res.detail[0] != '\0' ? " detail=" : "",
		         res.detail[0] != '\0' ? log_quote(res.detail, detail, sizeof(detail)) : "",
		         z->backoff_ms);
		return rc;
	}
	log_info("zone_followed", "zone=%s serial_from=%u serial_to=%u method=%s source=%s "
	         "records=%zu changes=%llu bytes=%llu duration_ms=%lld trigger=%s server=%s file=%s",
	         z->copy.zone_text, res.from, res.to, res.method, f->db != NULL ? "store" : "dns",
	         z->copy.records, (unsigned long long)res.changes, (unsigned long long)res.bytes,
	         (long long)ms, trigger, used, z->path);
	if (have_want && serial_newer(want, z->copy.serial)) {
		owe(z, want); /* the endpoint is behind the event: ask again later */
		log_warn("zone_behind_event", "zone=%s serial=%u event_serial=%u retry_in_ms=%u",
		         z->copy.zone_text, z->copy.serial, want, z->backoff_ms);
		return 0;
	}
	z->dirty = false;
	return 0;
}

static void retry_due(struct follow *f)
{
	int64_t now = now_ms();
	for (size_t i = 0; i < f->n && !stop_flag; i++) {
		struct followed *z = &f->z[i];
		if (z->dirty && z->retry_ms <= now) {
			(void)sync_zone(f, z, "retry", z->want != 0, z->want);
		}
	}
}

/* ---------------------------------------------------------------- events */

static void on_event(struct follow *f, const rd_kafka_message_t *m)
{
	Zx__Events__ZoneUpdated *up = NULL;
	uint8_t wire[DNAME_MAXLEN];
	char q[256];
	if (events_update_unpack(m->payload, m->len, &up) != 0 ||
	    dname_from_text(up->zone, wire) < 0) {
		log_warn("event_unreadable", "partition=%d offset=%lld bytes=%zu", (int)m->partition,
		         (long long)m->offset, m->len);
		events_update_free(up);
		return;
	}
	struct followed *z = find_zone(f, wire);
	if (z == NULL && f->all) {
		z = add_zone(f, wire);
	}
	if (z == NULL || up->kind != ZX__EVENTS__UPDATE_KIND__UPDATE_KIND_COMMITTED) {
		log_debug("event_skipped", "zone=%s kind=%d followed=%s error=%s", up->zone,
		          (int)up->kind, z != NULL ? "yes" : "no",
		          log_quote(up->error != NULL ? up->error : "", q, sizeof(q)));
		events_update_free(up);
		return;
	}
	for (size_t i = 0; up->replica != NULL && i < f->nreplicas; i++) {
		if (strcmp(up->replica, f->replicas[i].name) == 0) {
			z->hint = (int)i;
		}
	}
	if (z->copy.loaded && !serial_newer(up->new_serial, z->copy.serial)) {
		log_debug("event_uptodate", "zone=%s serial=%u event_serial=%u", up->zone,
		          z->copy.serial, up->new_serial);
	} else {
		(void)sync_zone(f, z, "event", true, up->new_serial);
	}
	events_update_free(up);
}

static int consumer_new(struct follow *f, rd_kafka_t **out)
{
	static const char *const defaults[] = {
		"auto.offset.reset", "earliest", /* a new group misses nothing */
		"enable.auto.commit", "true",
		"enable.partition.eof", "false",
		NULL,
	};
	struct cfg_kafka kc = {0};
	char err[512];
	if (f->cfg != NULL) {
		kc = f->cfg->kafka;
	}
	kc.brokers = f->brokers;
	kc.settings = f->settings;
	kc.settings_count = f->nsettings;
	rd_kafka_conf_t *conf = NULL;
	int rc = kafka_conf_new(&kc, "zx-follow", defaults, &conf, err, sizeof(err));
	rc = rc == 0 ? kafka_conf_set(conf, "group.id", f->group, err, sizeof(err)) : rc;
	if (rc != 0) {
		rd_kafka_conf_destroy(conf);
		fprintf(stderr, "zx-follow: kafka settings: %s\n", err);
		return EXIT_SETUP;
	}
	rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
	if (rk == NULL) {
		rd_kafka_conf_destroy(conf);
		fprintf(stderr, "zx-follow: kafka consumer: %s\n", err);
		return EXIT_KAFKA;
	}
	rd_kafka_poll_set_consumer(rk);
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, f->topic, RD_KAFKA_PARTITION_UA);
	rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, l);
	rd_kafka_topic_partition_list_destroy(l);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "zx-follow: subscribe %s: %s\n", f->topic, rd_kafka_err2str(e));
		rd_kafka_destroy(rk);
		return EXIT_KAFKA;
	}
	*out = rk;
	return EXIT_OK;
}

static int follow_loop(struct follow *f)
{
	rd_kafka_t *rk = NULL;
	int ex = consumer_new(f, &rk);
	if (ex != EXIT_OK) {
		return ex;
	}
	log_info("following", "topic=%s group=%s brokers=%s zones=%zu%s", f->topic, f->group,
	         f->brokers, f->n, f->all ? " all=yes" : "");
	while (!stop_flag) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
		if (m != NULL && m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
			on_event(f, m);
		} else if (m != NULL) {
			log_warn("kafka_error", "topic=%s error=%s", f->topic, rd_kafka_message_errstr(m));
		}
		if (m != NULL) {
			rd_kafka_message_destroy(m);
		}
		retry_due(f);
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	log_info("stopped", "zones=%zu", f->n);
	return EXIT_OK;
}

/* ---------------------------------------------------------------- setup */

static int add_setting(struct follow *f, char *arg)
{
	char *eq = strchr(arg, '=');
	if (eq == NULL || eq == arg || f->nsettings == FOLLOW_MAX_SETTINGS) {
		fprintf(stderr, "zx-follow: -X wants PROP=VALUE (at most %d)\n", FOLLOW_MAX_SETTINGS);
		return EXIT_USAGE;
	}
	*eq = '\0';
	f->settings[f->nsettings++] = (struct cfg_kv){.name = arg, .value = eq + 1};
	return EXIT_OK;
}

static int add_replica(struct follow *f, char *arg)
{
	char *eq = strchr(arg, '=');
	struct replica *r = &f->replicas[f->nreplicas];
	if (eq == NULL || eq == arg || f->nreplicas == FOLLOW_MAX_REPLICAS) {
		fprintf(stderr, "zx-follow: -r wants NAME=ADDR@PORT (at most %d)\n",
		        FOLLOW_MAX_REPLICAS);
		return EXIT_USAGE;
	}
	*eq = '\0';
	if (acl_endpoint_parse(eq + 1, 5354, &r->addr, &r->len) != 0) {
		fprintf(stderr, "zx-follow: -r %s=%s: not an endpoint (ADDR@PORT)\n", arg, eq + 1);
		return EXIT_USAGE;
	}
	r->name = arg;
	f->nreplicas++;
	return EXIT_OK;
}

static int parse_opt(struct follow *f, int opt, char *arg)
{
	char *end = NULL;
	unsigned long secs;
	switch (opt) {
	case 'c':
		f->cfg_path = arg;
		break;
	case 'b':
		f->brokers = arg;
		break;
	case 't':
		f->topic = arg;
		break;
	case 'g':
		f->group = arg;
		break;
	case 's':
		f->server = arg;
		break;
	case 'S':
		f->store_dir = arg;
		break;
	case 'y':
		f->tsig = arg;
		break;
	case 'd':
		f->dir = arg;
		break;
	case 'a':
		f->all = true;
		break;
	case 'o':
		f->once = true;
		break;
	case 'X':
		return add_setting(f, arg);
	case 'r':
		return add_replica(f, arg);
	case 'z':
		if (f->nzones == sizeof(f->zones) / sizeof(f->zones[0])) {
			fprintf(stderr, "zx-follow: too many -z (use --all or the configuration)\n");
			return EXIT_USAGE;
		}
		f->zones[f->nzones++] = arg;
		break;
	case 'T':
		secs = strtoul(arg, &end, 10);
		if (end == arg || *end != '\0' || secs == 0 || secs > 3600) {
			fprintf(stderr, "zx-follow: --timeout wants 1..3600 seconds\n");
			return EXIT_USAGE;
		}
		f->timeout_ms = (uint32_t)secs * 1000;
		break;
	case 'L':
		if (log_level_parse(arg, &f->level) != 0) {
			fprintf(stderr, "zx-follow: --log-level wants debug, info, warn or error\n");
			return EXIT_USAGE;
		}
		break;
	case 'h':
		fputs(usage_text, stdout);
		return -1;
	case 'V':
		puts("zx-follow 0.1.0");
		return -1;
	default:
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int parse_args(int argc, char **argv, struct follow *f)
{
	static const struct option longs[] = {
		{"config", required_argument, NULL, 'c'}, {"brokers", required_argument, NULL, 'b'},
		{"topic", required_argument, NULL, 't'},  {"group", required_argument, NULL, 'g'},
		{"server", required_argument, NULL, 's'}, {"store", required_argument, NULL, 'S'},
		{"tsig", required_argument, NULL, 'y'},   {"dir", required_argument, NULL, 'd'},
		{"replica", required_argument, NULL, 'r'},
		{"zone", required_argument, NULL, 'z'},   {"all", no_argument, NULL, 'a'},
		{"once", no_argument, NULL, 'o'},         {"timeout", required_argument, NULL, 'T'},
		{"log-level", required_argument, NULL, 'L'}, {"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0},
	};
	int opt, ex = EXIT_OK;
	while (ex == EXIT_OK && (opt = getopt_long(argc, argv, "c:b:t:g:s:r:y:d:z:X:hV", longs,
	                                           NULL)) != -1) {
		ex = parse_opt(f, opt, optarg);
	}
	if (ex == EXIT_OK && optind != argc) {
		fprintf(stderr, "zx-follow: unexpected argument \"%s\"\n%s", argv[optind], usage_text);
		ex = EXIT_USAGE;
	}
	if (ex == EXIT_OK && f->server != NULL && f->store_dir != NULL) {
		fprintf(stderr, "zx-follow: --server and --store exclude each other\n");
		ex = EXIT_USAGE;
	}
	return ex;
}

/* "ALG:NAME:SECRET" into a keyring of its own. */
static int tsig_setup(struct follow *f)
{
	char alg[64], name[DNAME_TEXTLEN];
	const char *a = f->tsig, *n = strchr(a, ':'), *s = n != NULL ? strchr(n + 1, ':') : NULL;
	if (s == NULL || (size_t)(n - a) >= sizeof(alg) || (size_t)(s - n - 1) >= sizeof(name)) {
		fprintf(stderr, "zx-follow: -y wants ALG:NAME:SECRET\n");
		return EXIT_USAGE;
	}
	snprintf(alg, sizeof(alg), "%.*s", (int)(n - a), a);
	snprintf(name, sizeof(name), "%.*s", (int)(s - n - 1), n + 1);
	f->ring = tsig_keyring_new();
	int rc = f->ring == NULL ? ZX_ENOMEM : tsig_keyring_add(f->ring, name, alg, s + 1, &f->ykey);
	if (rc != 0) {
		fprintf(stderr, "zx-follow: -y %s:%s:...: %s\n", alg, name, zx_strerror(rc));
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* The endpoint: --server, else the first xfrd.listen (a wildcard as loopback). */
static int server_setup(struct follow *f)
{
	struct zonefetch_src *src = &f->src;
	if (f->server == NULL && f->cfg != NULL && f->cfg->xfrd.listen.count > 0) {
		const struct cfg_endpoint *e = &f->cfg->xfrd.listen.v[0];
		memcpy(&src->addr, &e->addr, e->len);
		src->addr_len = e->len;
		struct sockaddr_in *v4 = (struct sockaddr_in *)&src->addr;
		struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&src->addr;
		if (src->addr.ss_family == AF_INET && v4->sin_addr.s_addr == htonl(INADDR_ANY)) {
			v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		} else if (src->addr.ss_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr)) {
			v6->sin6_addr = in6addr_loopback;
		}
		return EXIT_OK;
	}
	const char *text = f->server != NULL ? f->server : "127.0.0.1@5354";
	if (acl_endpoint_parse(text, 5354, &src->addr, &src->addr_len) != 0) {
		fprintf(stderr, "zx-follow: --server %s: not an endpoint (ADDR@PORT)\n", text);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int store_setup(struct follow *f)
{
	struct zdb_opts o;
	zdb_opts_init(&o);
	o.path = f->store_dir;
	o.readonly = true;
	o.map_size = 0;
	int rc = zdb_open(&o, &f->db);
	if (rc != 0) {
		fprintf(stderr, "zx-follow: cannot open the store %s: %s (%s)\n", f->store_dir,
		        zx_strerror(rc), zdb_last_error());
		return EXIT_SETUP;
	}
	f->src.store = f->db;
	return EXIT_OK;
}

/* Configuration, defaults, the source, the directory, the zones. */
static int setup(struct follow *f)
{
	char err[4096];
	if (f->cfg_path != NULL && cfg_load(f->cfg_path, &f->cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "zx-follow: %s%s", err, strchr(err, '\n') != NULL ? "" : "\n");
		return EXIT_SETUP;
	}
	f->brokers = f->brokers != NULL ? f->brokers : f->cfg != NULL ? f->cfg->kafka.brokers : NULL;
	f->topic = f->topic != NULL ? f->topic : f->cfg != NULL ? f->cfg->kafka.updates_topic
	                                                        : "xfr.updates";
	if (!f->once && f->brokers == NULL) {
		fprintf(stderr, "zx-follow: no Kafka brokers (-b, or -c with kafka.brokers)\n");
		return EXIT_USAGE;
	}
	if (f->nzones == 0 && !f->all && (f->cfg == NULL || f->cfg->zone_count == 0)) {
		fprintf(stderr, "zx-follow: no zones to follow (-z ZONE, --all, or -c)\n");
		return EXIT_USAGE;
	}
	struct stat st;
	if (stat(f->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "zx-follow: %s is not a directory\n", f->dir);
		return EXIT_SETUP;
	}
	int ex = f->tsig != NULL ? tsig_setup(f) : EXIT_OK;
	ex = ex == EXIT_OK ? server_setup(f) : ex;
	ex = ex == EXIT_OK && f->store_dir != NULL ? store_setup(f) : ex;
	f->src.timeout_ms = f->timeout_ms;
	for (size_t i = 0; ex == EXIT_OK && i < f->nzones; i++) {
		uint8_t w[DNAME_MAXLEN];
		if (dname_from_text(f->zones[i], w) < 0) {
			fprintf(stderr, "zx-follow: \"%s\" is not a zone name\n", f->zones[i]);
			ex = EXIT_USAGE;
		} else if (find_zone(f, w) == NULL && add_zone(f, w) == NULL) {
			ex = EXIT_SETUP;
		}
	}
	for (size_t i = 0; ex == EXIT_OK && f->nzones == 0 && f->cfg != NULL &&
	                   i < f->cfg->zone_count; i++) {
		ex = add_zone(f, f->cfg->zones[i].name) != NULL ? EXIT_OK : EXIT_SETUP;
	}
	return ex;
}

static void teardown(struct follow *f)
{
	for (size_t i = 0; i < f->n; i++) {
		zonecopy_deinit(&f->z[i].copy);
	}
	free(f->z);
	zdb_close(f->db);
	tsig_keyring_free(f->ring);
	cfg_free(f->cfg);
}

int main(int argc, char **argv)
{
	struct follow f = {.group = "zx-follow", .dir = ".", .timeout_ms = 10000,
	                   .level = LOG_LVL_INFO};
	log_init("zx-follow", 2);
	int ex = parse_args(argc, argv, &f);
	if (ex != EXIT_OK) {
		return ex < 0 ? EXIT_OK : ex;
	}
	log_set_level(f.level);
	ex = setup(&f);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	size_t failed = 0;
	for (size_t i = 0; ex == EXIT_OK && i < f.n && !stop_flag; i++) {
		failed += sync_zone(&f, &f.z[i], "start", false, 0) != 0;
	}
	if (ex == EXIT_OK && f.once) {
		ex = failed == 0 ? EXIT_OK : EXIT_FAILED;
	} else if (ex == EXIT_OK) {
		ex = follow_loop(&f);
	}
	teardown(&f);
	return ex;
}
