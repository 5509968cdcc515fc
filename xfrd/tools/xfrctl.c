/* SPDX-License-Identifier: MIT */
/* xfrd/tools/xfrctl.c -- the admin's tool: list zones, show one, dump one; ask for a
 * refresh or a full retransfer; change the zone registry (zone ...: xfrctl_zone.c).
 *
 * zones/show/dump open the LMDB store read-only and read everything of a
 * command from one snapshot, so xfrctl runs beside xfrd without stopping it and
 * never sees half a transfer. Records are printed through ldns' presentation code.
 *
 * A zone whose refresh fell due and could not be asked for (xfrd: Kafka did not take
 * the refresh request; zdb_zone_info.refresh_due) shows its state with "(refresh
 * overdue D)", D the time since it fell due, until its next attempt is recorded;
 * --json gives refresh_overdue_since and refresh_overdue_s (null when not).
 *
 * A zone a reader of xfrd found corrupt shows as state "corrupt"; dump checks
 * the records it prints against the zone's count and checksum and exits 3 with
 * a message when they differ (the output is then not the zone).
 *
 * refresh/retransfer never touch the store: they publish one TransferRequest
 * (origin OPERATOR or RETRANSFER, retransfer --force sets force) to
 * kafka.requests-topic, keyed by the zone's
 * canonical name and partitioned as notifyd does (murmur2_random), with an
 * idempotent producer and acks=all, and wait for Kafka's delivery report. The
 * request so takes the path a NOTIFY takes, to the replica that owns the zone.
 * With --wait they then wait for the transfer's outcome (xfrd/tools/xfrctl_wait.h).
 *
 * status, expire, purge and notify go to xfrd's REST API (xfrctl_zone.c).
 */
#include "common/cfg/cfg.h"
#include "common/clock.h"
#include "common/dname.h"
#include "common/err.h"
#include "common/store/zdb.h"
#include "proto/events.h"
#include "proto/reqtopic.h"

#include "xfrd/tools/xfrctl_wait.h"
#include "xfrd/tools/xfrctl_zone.h"

#include <getopt.h>
#include <jansson.h>
#include <ldns/ldns.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* the exit statuses (xfrd/tools/xfrctl_zone.h has them all, 5 and 6 are zone's) */
enum {
	EXIT_OK = XFRCTL_OK,
	EXIT_NOZONE = XFRCTL_NOZONE,
	EXIT_USAGE = XFRCTL_USAGE,
	EXIT_STORE = XFRCTL_STORE,
	EXIT_KAFKA = XFRCTL_KAFKA,
	EXIT_FAILED = XFRCTL_FAILED,
	EXIT_WAIT = XFRCTL_WAIT,
};

/* --wait without a value: at most this long */
#define WAIT_DEFAULT_S 60

#define DEFAULT_CONFIG "/etc/zx/zx.yaml"

static const char usage_text[] =
	"usage: xfrctl [-c FILE | --store DIR] [--json] COMMAND [--force] [ZONE]\n"
	"       xfrctl [-c FILE] [--api URL] [--token-file FILE] [--json] zone SUBCOMMAND ...\n"
	"\n"
	"Reads xfrd's zone store (read-only; xfrd keeps running), asks xfrd for a\n"
	"transfer through Kafka, or changes the zone registry through xfrd's REST API.\n"
	"\n"
	"commands:\n"
	"  zones            one line per zone: name, state, serial, last success, records,\n"
	"                   primary, last error; a state \"(refresh overdue D)\" had its\n"
	"                   refresh due D ago and xfrd could not ask for it (Kafka\n"
	"                   away): not refreshed since\n"
	"  show ZONE        all of a zone's metadata, the journal's range included\n"
	"  dump ZONE        the zone in zone-file format, SOA first, canonical order;\n"
	"                   checked against the zone's record count and checksum\n"
	"  refresh ZONE     publish a transfer request (origin operator) to\n"
	"                   kafka.requests-topic: xfrd checks the primary's SOA and\n"
	"                   transfers when it is newer; waits until Kafka stored it\n"
	"                   (at most kafka.delivery-timeout); needs the configuration\n"
	"  retransfer ZONE  as refresh, but xfrd does a full AXFR even when up to date\n"
	"                   (the same serial may be stored again: a corrupt zone is\n"
	"                   fetched anew); with --force the primary's serial is stored\n"
	"                   even when it is older than the one held (logged by xfrd)\n"
	"                   refresh and retransfer --wait[=SECONDS] (default 60): wait for\n"
	"                   the outcome xfrd publishes (exit 0 at a new or the current\n"
	"                   serial, 7 the transfer failed, 8 no outcome in time)\n"
	"  status [ZONE]    ZONE: serial, state, owner, last success, last error, next\n"
	"                   refresh or retry, expiry (xfrd's REST API, as zone status);\n"
	"                   none: xfrd itself: version, uptime, partitions, zones by state,\n"
	"                   Kafka\n"
	"  expire ZONE      stop serving the zone now (EXPIRED; retried on its retry timer)\n"
	"  purge --confirm ZONE  delete the zone's data and journal (it is transferred anew)\n"
	"  notify ZONE      send the zone's downstream NOTIFYs again\n"
	"                   (status, expire, purge and notify go to the REST API of the\n"
	"                   replica that runs the zone, with a token as zone commands)\n"
	"  zone add NAME --primary A@P... [--key K] [--json FILE|-]\n"
	"                   register a zone (PUT /v1/zones/NAME, create only)\n"
	"  zone set NAME KEY=VALUE... | --json FILE|-  [--if-match ETAG]\n"
	"                   change a registry zone (a JSON merge patch): primaries=A@P,A@P\n"
	"                   key=K refresh.min=5m notify-from=10.0.0.0/8; KEY= removes KEY\n"
	"  zone rm NAME [--if-match ETAG]   remove a registry zone\n"
	"  zone list [--state fresh|following|behind|failed|expired|removed|pending] [--source file|registry]\n"
	"  zone status NAME serial, state, times, next refresh, owner of a zone\n"
	"\n"
	"options:\n"
	"  -c, --config FILE  the configuration (xfrd.store names the store);\n"
	"                     default " DEFAULT_CONFIG "\n"
	"  -s, --store DIR    the store directory itself (no configuration read)\n"
	"  -j, --json         JSON output for zones, show, refresh, retransfer and zone\n"
	"  -f, --force        retransfer only: allow an older serial\n"
	"  -w, --wait[=SECS]  refresh, retransfer: wait for the transfer's outcome\n"
	"      --api URL      zone: xfrd's REST API; default http://ADDR:PORT of xfrd.http\n"
	"      --token-file F zone: the bearer token (one line); default $ZX_API_TOKEN\n"
	"  -h, --help         this text\n"
	"  -V, --version      the version\n"
	"\n"
	"exit status:\n"
	"  0  success\n"
	"  1  the zone is not in the store (or, for dump, has no data yet; for\n"
	"     refresh and retransfer, not in the configuration)\n"
	"  2  usage error (unknown command or option, bad zone name)\n"
	"  3  the store or the configuration could not be read, or the zone's data is\n"
	"     corrupt (dump)\n"
	"  4  Kafka did not store the request (broker down, timeout, refused)\n"
	"  5  zone: the API refused the request (bad settings, no or a read-only token,\n"
	"     a zone of the config file, a changed ETag); its problem is printed\n"
	"  6  zone: the API could not be reached, or failed (503: try again)\n"
	"  7  --wait: the transfer failed (the error is printed)\n"
	"  8  --wait: no outcome within the time given\n";

struct ctl {
	const char *config;
	const char *store;
	bool json;
	bool force;
	int wait_s; /* --wait: seconds; 0 do not wait */
	const char *cmd;
	bool request; /* refresh or retransfer: Kafka, not the store */
	const char *zone_text;
	uint8_t zone[DNAME_MAXLEN];
};

static const char *zone_state(const struct zdb_zone_info *zi);

static const char *state_name(enum zdb_state s)
{
	switch (s) {
	case ZDB_STATE_FRESH:
		return "fresh";
	case ZDB_STATE_FAILED:
		return "failed";
	case ZDB_STATE_EXPIRED:
		return "expired";
	case ZDB_STATE_REMOVED:
		return "removed";
	case ZDB_STATE_FOLLOWING:
		return "following";
	case ZDB_STATE_BEHIND:
		return "behind";
	}
	return "unknown";
}

/* A zone's state as shown: "corrupt" over the recorded one when a reader found it so. */
static const char *zone_state(const struct zdb_zone_info *zi)
{
	return zi->corrupt ? "corrupt" : state_name(zi->state);
}

/* @p s seconds as "45s", "5m", "2h3m", "3d4h". */
static const char *span_text(int64_t s, char *buf, size_t size)
{
	if (s < 0) {
		s = 0;
	}
	if (s < 60) {
		snprintf(buf, size, "%llds", (long long)s);
	} else if (s < 3600) {
		snprintf(buf, size, "%lldm", (long long)(s / 60));
	} else if (s < 86400) {
		snprintf(buf, size, "%lldh%lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	} else {
		snprintf(buf, size, "%lldd%lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
	}
	return buf;
}

/* The state with its refresh overdue, as listed: "fresh (refresh overdue 5m)". */
static const char *state_text(const struct zdb_zone_info *zi, char *buf, size_t size)
{
	char d[32];
	if (zi->refresh_due <= 0) {
		return zone_state(zi);
	}
	snprintf(buf, size, "%s (refresh overdue %s)", zone_state(zi),
	         span_text((int64_t)time(NULL) - zi->refresh_due, d, sizeof(d)));
	return buf;
}

/* UTC ISO 8601 of @p t, or "-" for never. */
static const char *time_text(int64_t t, char *buf, size_t size)
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (t <= 0 || gmtime_r(&tt, &tm) == NULL) {
		return "-";
	}
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/* ---------------------------------------------------------------- records */

/* An ldns RR from a store RR (owner, type, class, TTL, RDATA in wire form). */
static ldns_rr *to_ldns(const struct zdb_rr *rr)
{
	static uint8_t buf[DNAME_MAXLEN + 10 + 65535];
	size_t n = rr->owner_len, pos = 0;
	ldns_rr *out = NULL;
	memcpy(buf, rr->owner, n);
	uint8_t f[10] = {(uint8_t)(rr->type >> 8), (uint8_t)rr->type, (uint8_t)(rr->rclass >> 8),
	                 (uint8_t)rr->rclass, (uint8_t)(rr->ttl >> 24), (uint8_t)(rr->ttl >> 16),
	                 (uint8_t)(rr->ttl >> 8), (uint8_t)rr->ttl, (uint8_t)(rr->rdlen >> 8),
	                 (uint8_t)rr->rdlen};
	memcpy(buf + n, f, sizeof(f));
	memcpy(buf + n + 10, rr->rdata, rr->rdlen);
	if (ldns_wire2rr(&out, buf, n + 10 + rr->rdlen, &pos, LDNS_SECTION_ANSWER) !=
	    LDNS_STATUS_OK) {
		return NULL;
	}
	return out;
}

/* The zone's SOA in presentation format, without the newline. */
static char *soa_text(const struct zdb_zone_info *zi)
{
	struct zdb_rr rr = {.owner = zi->name, .owner_len = zi->name_len, .type = LDNS_RR_TYPE_SOA,
	                    .rclass = zi->rclass, .ttl = zi->soa_ttl, .rdlen = zi->soa_rdlen,
	                    .rdata = zi->soa_rdata};
	ldns_rr *l = to_ldns(&rr);
	char *s = l != NULL ? ldns_rr2str(l) : NULL;
	ldns_rr_free(l);
	for (char *p = s; p != NULL && *p != '\0'; p++) {
		*p = *p == '\t' ? ' ' : *p; /* one line, single spaces */
	}
	if (s != NULL) {
		s[strcspn(s, "\n")] = '\0';
	}
	return s;
}

/* ---------------------------------------------------------------- JSON */

static json_t *text_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

static json_t *time_or_null(int64_t t)
{
	char buf[32];
	return t > 0 ? json_string(time_text(t, buf, sizeof(buf))) : json_null();
}

/* One zone as a JSON object; @p full adds what "show" shows. NULL: out of memory. */
static json_t *zone_json(const struct zdb_zone_info *zi, bool full)
{
	char name[DNAME_TEXTLEN];
	if (dname_to_text(zi->name, name, sizeof(name)) != 0) {
		snprintf(name, sizeof(name), "?");
	}
	json_t *j = json_pack("{s:s, s:s, s:b, s:b, s:o, s:o, s:o, s:o, s:o, s:o}", "zone", name,
	                      "state", zone_state(zi), "loaded", zi->loaded, "corrupt", zi->corrupt,
	                      "serial", zi->loaded ? json_integer(zi->serial) : json_null(),
	                      "records",
	                      zi->loaded ? json_integer((json_int_t)zi->records) : json_null(),
	                      "last_success", time_or_null(zi->last_success), "last_attempt",
	                      time_or_null(zi->last_attempt), "last_error",
	                      text_or_null(zi->last_error_text), "primary", text_or_null(zi->primary));
	if (j != NULL) {
		int64_t od = zi->refresh_due > 0 ? (int64_t)time(NULL) - zi->refresh_due : 0;
		if (json_object_set_new(j, "refresh_overdue_since", time_or_null(zi->refresh_due)) != 0 ||
		    json_object_set_new(j, "refresh_overdue_s",
		                        zi->refresh_due > 0 ? json_integer(od > 0 ? od : 0)
		                                            : json_null()) != 0) {
			json_decref(j);
			return NULL;
		}
	}
	if (j == NULL || !full) {
		return j;
	}
	char *soa = zi->loaded ? soa_text(zi) : NULL;
	json_t *journal = json_pack("{s:I, s:I}", "changesets", (json_int_t)zi->journal_count,
	                            "bytes", (json_int_t)zi->journal_bytes);
	if (journal != NULL && zi->journal_count > 0) {
		json_object_set_new(journal, "from_serial", json_integer(zi->journal_first));
		json_object_set_new(journal, "to_serial", json_integer(zi->journal_last));
	}
	if (journal == NULL ||
	    json_object_set_new(j, "last_error_code", json_integer(zi->last_error)) != 0 ||
	    json_object_set_new(j, "version", json_integer(zi->version)) != 0 ||
	    json_object_set_new(j, "soa", text_or_null(soa)) != 0 ||
	    json_object_set_new(j, "journal", journal) != 0) {
		json_decref(j);
		j = NULL;
	}
	free(soa);
	return j;
}

/* Print @p j (taken) on stdout; false when it could not be made or written. */
static bool print_json(json_t *j)
{
	bool ok = j != NULL && json_dumpf(j, stdout, JSON_INDENT(2)) == 0 && fputc('\n', stdout) != EOF;
	json_decref(j);
	if (!ok) {
		fprintf(stderr, "xfrctl: cannot write the JSON output\n");
	}
	return ok;
}

/* ---------------------------------------------------------------- commands */

struct list_state {
	FILE *o;
	json_t *all; /* --json: the array */
	size_t n;
};

static int list_one(const struct zdb_zone_info *zi, void *arg)
{
	struct list_state *ls = arg;
	char name[DNAME_TEXTLEN], t[32], serial[16], records[24], st[64];
	if (ls->all != NULL) {
		ls->n++;
		return json_array_append_new(ls->all, zone_json(zi, false)) == 0 ? 0 : ZX_ENOMEM;
	}
	if (dname_to_text(zi->name, name, sizeof(name)) != 0) {
		snprintf(name, sizeof(name), "?");
	}
	snprintf(serial, sizeof(serial), "%u", zi->serial);
	snprintf(records, sizeof(records), "%llu", (unsigned long long)zi->records);
	fprintf(ls->o, "%-30s %-10s %10s %-20s %10s %-24s %s\n", name,
	        state_text(zi, st, sizeof(st)),
	        zi->loaded ? serial : "-", time_text(zi->last_success, t, sizeof(t)),
	        zi->loaded ? records : "-", zi->primary[0] ? zi->primary : "-",
	        zi->last_error_text[0] ? zi->last_error_text : "-");
	ls->n++;
	return 0;
}

static int cmd_zones(struct zdb_snap *s, bool json)
{
	struct list_state ls = {.o = stdout, .all = json ? json_array() : NULL};
	if (!json) {
		printf("%-30s %-10s %10s %-20s %10s %-24s %s\n", "ZONE", "STATE", "SERIAL",
		       "LAST-SUCCESS", "RECORDS", "PRIMARY", "LAST-ERROR");
	}
	int rc = json && ls.all == NULL ? ZX_ENOMEM : zdb_zone_list(s, list_one, &ls);
	if (json && rc == 0 && !print_json(ls.all)) {
		return EXIT_STORE;
	}
	if (json && rc != 0) {
		json_decref(ls.all);
	}
	if (rc != 0) {
		fprintf(stderr, "xfrctl: reading the zone list: %s (%s)\n", zx_strerror(rc),
		        zdb_last_error());
		return EXIT_STORE;
	}
	return EXIT_OK;
}

/* The zone's metadata, or the exit status when it cannot be had. */
static int get_zone(struct zdb_snap *s, const struct ctl *c, struct zdb_zone_info *zi)
{
	int rc = zdb_zone_get(s, c->zone, zi);
	if (rc == ZX_ENOTFOUND) {
		fprintf(stderr, "xfrctl: zone %s is not in the store\n", c->zone_text);
		return EXIT_NOZONE;
	}
	if (rc != 0) {
		fprintf(stderr, "xfrctl: %s: %s (%s)\n", c->zone_text, zx_strerror(rc),
		        zdb_last_error());
		return EXIT_STORE;
	}
	return EXIT_OK;
}

static void show_text(const struct zdb_zone_info *zi)
{
	char name[DNAME_TEXTLEN], t[32];
	if (dname_to_text(zi->name, name, sizeof(name)) != 0) {
		snprintf(name, sizeof(name), "?");
	}
	printf("zone:          %s\n", name);
	printf("state:         %s\n", zone_state(zi));
	if (zi->refresh_due > 0) {
		char d[32];
		printf("refresh:       overdue %s, since %s (xfrd could not ask for it: Kafka "
		       "did not take the request)\n",
		       span_text((int64_t)time(NULL) - zi->refresh_due, d, sizeof(d)),
		       time_text(zi->refresh_due, t, sizeof(t)));
	}
	printf("loaded:        %s\n", zi->loaded ? "yes" : "no");
	if (zi->loaded) {
		char *soa = soa_text(zi);
		printf("serial:        %u\n", zi->serial);
		printf("records:       %llu\n", (unsigned long long)zi->records);
		printf("soa:           %s\n", soa != NULL ? soa : "(unreadable)");
		printf("version:       %u\n", zi->version);
		free(soa);
	}
	printf("last-success:  %s\n", time_text(zi->last_success, t, sizeof(t)));
	printf("last-attempt:  %s\n", time_text(zi->last_attempt, t, sizeof(t)));
	if (zi->last_error != 0 || zi->last_error_text[0] != '\0') {
		printf("last-error:    %s (%s)\n", zi->last_error_text, zx_strerror(zi->last_error));
	} else {
		printf("last-error:    -\n");
	}
	printf("primary:       %s\n", zi->primary[0] ? zi->primary : "-");
	if (zi->journal_count > 0) {
		printf("journal:       %u changesets, %llu bytes, serials %u to %u\n",
		       zi->journal_count, (unsigned long long)zi->journal_bytes, zi->journal_first,
		       zi->journal_last);
	} else {
		printf("journal:       empty\n");
	}
}

static int cmd_show(struct zdb_snap *s, const struct ctl *c)
{
	struct zdb_zone_info zi;
	int ex = get_zone(s, c, &zi);
	if (ex != EXIT_OK) {
		return ex;
	}
	if (c->json) {
		return print_json(zone_json(&zi, true)) ? EXIT_OK : EXIT_STORE;
	}
	show_text(&zi);
	return EXIT_OK;
}

static int cmd_dump(struct zdb_snap *s, const struct ctl *c)
{
	struct zdb_zone_info zi;
	struct zdb_iter *it;
	struct zdb_rr rr;
	int ex = get_zone(s, c, &zi);
	if (ex != EXIT_OK) {
		return ex;
	}
	if (!zi.loaded) {
		fprintf(stderr, "xfrctl: zone %s has no data yet (state %s%s%s)\n", c->zone_text,
		        state_name(zi.state), zi.last_error_text[0] ? ": " : "", zi.last_error_text);
		return EXIT_NOZONE;
	}
	int rc = zdb_iter_zone(s, c->zone, &it);
	while (rc == 0 && (rc = zdb_iter_next(it, &rr)) == 1) {
		ldns_rr *l = to_ldns(&rr);
		if (l == NULL) {
			rc = ZX_EFORMAT;
			break;
		}
		ldns_rr_print(stdout, l);
		ldns_rr_free(l);
		rc = 0;
	}
	zdb_iter_free(it);
	if (rc != 0) {
		fflush(stdout);
		fprintf(stderr, "xfrctl: dump %s: %s (%s)%s\n", c->zone_text, zx_strerror(rc),
		        zdb_last_error(), rc == ZX_ECORRUPT ? "; what was printed is not the zone; "
		        "xfrctl retransfer fetches it again" : "");
		return EXIT_STORE;
	}
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_STORE;
}

/* ---------------------------------------------------------------- requests */

/* The request for @p z, as notifyd's and the timers' are made (proto/reqtopic.h). */
static void request_make(Zx__Events__TransferRequest *req, const struct cfg_zone *z, bool full,
                         bool force, char *producer, size_t size)
{
	char host[256] = "";
	if (gethostname(host, sizeof(host) - 1) != 0) {
		snprintf(host, sizeof(host), "?");
	}
	snprintf(producer, size, "xfrctl@%s", host);
	reqtopic_request_init(req, z->name_text,
	                      full ? ZX__EVENTS__ORIGIN__ORIGIN_RETRANSFER
	                           : ZX__EVENTS__ORIGIN__ORIGIN_OPERATOR,
	                      producer);
	req->force = full && force;
}

static void request_report(const struct ctl *c, const struct cfg *cfg, const struct cfg_zone *z,
                           const struct reqtopic_stored *d)
{
	const char *origin = strcmp(c->cmd, "retransfer") == 0 ? "retransfer" : "operator";
	if (c->json) {
		(void)print_json(json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:b}", "zone", z->name_text,
		                           "command", c->cmd, "origin", origin, "topic",
		                           cfg->kafka.requests_topic, "partition", (int)d->partition,
		                           "offset", (json_int_t)d->offset, "force", c->force));
		return;
	}
	printf("%s requested: zone=%s origin=%s topic=%s partition=%d offset=%lld%s\n", c->cmd,
	       z->name_text, origin, cfg->kafka.requests_topic, (int)d->partition,
	       (long long)d->offset, c->force ? " force=yes" : "");
}

/* --wait: print the outcome; its exit status. */
static int outcome_report(const struct ctl *c, const struct cfg_zone *z,
                          const struct xfrctl_outcome *o)
{
	static const char *const kinds[] = {"uptodate", "committed", "failed"};
	if (c->json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}", "zone", z->name_text,
		                      "command", c->cmd, "outcome", kinds[o->kind], "serial",
		                      o->has_serial ? json_integer(o->serial) : json_null(), "method",
		                      text_or_null(o->method), "primary", text_or_null(o->primary),
		                      "replica", text_or_null(o->replica), "error",
		                      text_or_null(o->error));
		(void)print_json(j);
	} else if (o->kind == XFRCTL_WAIT_COMMITTED) {
		printf("%s done: zone=%s serial=%u method=%s primary=%s replica=%s\n", c->cmd,
		       z->name_text, o->serial, o->method, o->primary, o->replica);
	} else if (o->kind == XFRCTL_WAIT_UPTODATE) {
		printf("%s done: zone=%s up to date (the primary has nothing newer)\n", c->cmd,
		       z->name_text);
	} else {
		fprintf(stderr, "xfrctl: %s %s failed: %s (primary %s, replica %s)\n", c->cmd,
		        z->name_text, o->error[0] ? o->error : "no reason given",
		        o->primary[0] ? o->primary : "-", o->replica[0] ? o->replica : "-");
	}
	if (fflush(stdout) != 0) {
		return EXIT_KAFKA;
	}
	return o->kind == XFRCTL_WAIT_FAILED ? EXIT_FAILED : EXIT_OK;
}

/* --wait: the outcome of the request stored at @p d. */
static int wait_outcome(const struct ctl *c, struct xfrctl_wait *w, const struct cfg_zone *z,
                        const struct reqtopic_stored *d, int64_t deadline)
{
	struct xfrctl_outcome o;
	char err[512] = "";
	int rc = xfrctl_wait_for(w, d->partition, d->offset, deadline, &o, err, sizeof(err));
	if (rc == ZX_ETIMEDOUT) {
		fprintf(stderr, "xfrctl: %s %s: no outcome within %d s: %s\n", c->cmd, z->name_text,
		        c->wait_s, err);
		return EXIT_WAIT;
	}
	if (rc != 0) {
		fprintf(stderr, "xfrctl: %s %s: waiting for the outcome: %s\n", c->cmd, z->name_text,
		        err);
		return EXIT_KAFKA;
	}
	return outcome_report(c, z, &o);
}

static int cmd_request(const struct cfg *cfg, const struct ctl *c)
{
	const struct cfg_zone *z = cfg_zone_find(cfg, c->zone);
	if (z == NULL) {
		fprintf(stderr, "xfrctl: zone %s is not in the configuration %s\n", c->zone_text,
		        cfg->path);
		return EXIT_NOZONE;
	}
	int64_t deadline = clock_mono_ms() + (int64_t)c->wait_s * 1000;
	struct xfrctl_wait *w = NULL;
	char err[512] = "";
	int rc = c->wait_s > 0 ? xfrctl_wait_new(cfg, z->name_text,
	                                         (int)cfg->kafka.delivery_timeout_ms, &w, err,
	                                         sizeof(err))
	                       : 0;
	if (rc != 0) {
		fprintf(stderr, "xfrctl: %s %s --wait: %s\n", c->cmd, z->name_text, err);
		return rc == ZX_ECONFIG ? EXIT_STORE : EXIT_KAFKA;
	}
	Zx__Events__TransferRequest req;
	char producer[300];
	request_make(&req, z, strcmp(c->cmd, "retransfer") == 0, c->force, producer,
	             sizeof(producer));
	struct reqtopic_stored d;
	rc = reqtopic_send_once(&cfg->kafka, &req, (int)cfg->kafka.delivery_timeout_ms, &d);
	int ex = EXIT_OK;
	if (rc == ZX_ECONFIG) {
		fprintf(stderr, "xfrctl: %s\n", d.error);
		ex = EXIT_STORE;
	} else if (rc != 0) {
		fprintf(stderr, "xfrctl: %s %s: Kafka (%s, topic %s) did not store the request: %s\n",
		        c->cmd, z->name_text, cfg->kafka.brokers, cfg->kafka.requests_topic, d.error);
		ex = EXIT_KAFKA;
	} else if (w != NULL) {
		ex = wait_outcome(c, w, z, &d, deadline);
	} else {
		request_report(c, cfg, z, &d);
		ex = fflush(stdout) == 0 ? EXIT_OK : EXIT_KAFKA;
	}
	xfrctl_wait_free(w);
	return ex;
}

/* ---------------------------------------------------------------- main */

static int parse_args(int argc, char **argv, struct ctl *c)
{
	static const struct option longs[] = {
		{"config", required_argument, NULL, 'c'}, {"store", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},         {"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},      {"force", no_argument, NULL, 'f'},
		{"wait", optional_argument, NULL, 'w'},   {NULL, 0, NULL, 0},
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "c:s:jfw::hV", longs, NULL)) != -1) {
		switch (opt) {
		case 'c':
			c->config = optarg;
			break;
		case 's':
			c->store = optarg;
			break;
		case 'j':
			c->json = true;
			break;
		case 'f':
			c->force = true;
			break;
		case 'w': {
			char *end = NULL;
			long v = optarg != NULL ? strtol(optarg, &end, 10) : WAIT_DEFAULT_S;
			if (optarg != NULL && (end == optarg || *end != '\0' || v < 1 || v > 86400)) {
				fprintf(stderr, "xfrctl: --wait=%s: seconds, 1 to 86400\n", optarg);
				return EXIT_USAGE;
			}
			c->wait_s = (int)v;
			break;
		}
		case 'h':
			fputs(usage_text, stdout);
			return -1;
		case 'V':
			puts("xfrctl " ZX_VERSION);
			return -1;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	c->cmd = argv[optind++];
	c->request = strcmp(c->cmd, "refresh") == 0 || strcmp(c->cmd, "retransfer") == 0;
	bool needs_zone = c->request || strcmp(c->cmd, "show") == 0 || strcmp(c->cmd, "dump") == 0;
	if (!needs_zone && strcmp(c->cmd, "zones") != 0) {
		fprintf(stderr, "xfrctl: unknown command \"%s\"\n%s", c->cmd, usage_text);
		return EXIT_USAGE;
	}
	if (c->wait_s > 0 && !c->request) {
		fprintf(stderr, "xfrctl: --wait goes with refresh and retransfer\n");
		return EXIT_USAGE;
	}
	if (c->force && strcmp(c->cmd, "retransfer") != 0) {
		fprintf(stderr, "xfrctl: --force goes with retransfer only\n");
		return EXIT_USAGE;
	}
	if (c->request && c->store != NULL && c->config == NULL) {
		fprintf(stderr, "xfrctl: %s needs the configuration (-c FILE), not --store\n", c->cmd);
		return EXIT_USAGE;
	}
	if (needs_zone != (optind + 1 == argc) || (!needs_zone && optind != argc)) {
		fprintf(stderr, "xfrctl: %s takes %s\n", c->cmd, needs_zone ? "one ZONE" : "no ZONE");
		return EXIT_USAGE;
	}
	if (needs_zone) {
		c->zone_text = argv[optind];
		if (dname_from_text(c->zone_text, c->zone) < 0) {
			fprintf(stderr, "xfrctl: \"%s\" is not a zone name\n", c->zone_text);
			return EXIT_USAGE;
		}
	}
	return EXIT_OK;
}

/* The configuration named by -c (default DEFAULT_CONFIG). */
static int load_cfg(const struct ctl *c, struct cfg **cfg)
{
	char err[4096];
	int rc = cfg_load(c->config != NULL ? c->config : DEFAULT_CONFIG, cfg, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "xfrctl: %s%s", err, err[0] && err[strlen(err) - 1] != '\n' ? "\n" : "");
		return EXIT_STORE;
	}
	return EXIT_OK;
}

/* Open the store named by --store or by the configuration. */
static int open_store(const struct ctl *c, struct zdb **db)
{
	struct cfg *cfg = NULL;
	struct zdb_opts o;
	zdb_opts_init(&o);
	o.readonly = true;
	o.map_size = 0;
	o.path = c->store;
	if (o.path == NULL) {
		if (load_cfg(c, &cfg) != EXIT_OK) {
			return EXIT_STORE;
		}
		o.path = cfg->xfrd.store;
	}
	int rc = zdb_open(&o, db);
	if (rc != 0) {
		fprintf(stderr, "xfrctl: cannot open the store %s: %s (%s)\n", o.path,
		        zx_strerror(rc), zdb_last_error());
	}
	cfg_free(cfg);
	return rc == 0 ? EXIT_OK : EXIT_STORE;
}

/* `xfrctl [options] zone ...`: its options before "zone", then xfrctl_zone_main();
 * `xfrctl [options] status|expire|purge|notify ...` are zone's as well. */
static int zone_main(int argc, char **argv, int at)
{
	static const struct option longs[] = {
		{"config", required_argument, NULL, 'c'}, {"json", no_argument, NULL, 'j'},
		{"api", required_argument, NULL, 'A'},    {"token-file", required_argument, NULL, 'T'},
		{NULL, 0, NULL, 0},
	};
	struct xfrctl_zone_opts o = {0};
	int opt;
	while ((opt = getopt_long(at, argv, "c:j", longs, NULL)) != -1) {
		switch (opt) {
		case 'c':
			o.config = optarg;
			break;
		case 'j':
			o.json = true;
			break;
		case 'A':
			o.api = optarg;
			break;
		case 'T':
			o.token_file = optarg;
			break;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	bool top = strcmp(argv[at], "zone") != 0; /* status ZONE is zone status ZONE */
	return xfrctl_zone_main(&o, argc - at - !top, argv + at + !top);
}

/* Commands of xfrd's REST API (xfrctl_zone.c) besides zone ... */
static bool api_command(const char *w)
{
	static const char *const cmds[] = {"zone", "status", "expire", "purge", "notify", NULL};
	for (size_t i = 0; cmds[i] != NULL; i++) {
		if (strcmp(w, cmds[i]) == 0) {
			return true;
		}
	}
	return false;
}

/* The position of a "zone" command (the first word that is not an option), or 0. */
static int zone_at(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-') {
			return api_command(a) ? i : 0;
		}
		if (strcmp(a, "-c") == 0 || strcmp(a, "-s") == 0 || strcmp(a, "--config") == 0 ||
		    strcmp(a, "--store") == 0 || strcmp(a, "--api") == 0 ||
		    strcmp(a, "--token-file") == 0) {
			i++; /* its argument */
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	int at = zone_at(argc, argv);
	if (at > 0) {
		return zone_main(argc, argv, at);
	}
	struct ctl c = {0};
	struct zdb *db = NULL;
	struct zdb_snap *s = NULL;
	int ex = parse_args(argc, argv, &c);
	if (ex != EXIT_OK) {
		return ex < 0 ? EXIT_OK : ex;
	}
	if (c.request) {
		struct cfg *cfg = NULL;
		ex = load_cfg(&c, &cfg);
		if (ex == EXIT_OK) {
			ex = cmd_request(cfg, &c);
		}
		cfg_free(cfg);
		return ex;
	}
	ex = open_store(&c, &db);
	if (ex != EXIT_OK) {
		return ex;
	}
	int rc = zdb_snap_begin(db, &s);
	if (rc != 0) {
		fprintf(stderr, "xfrctl: %s (%s)\n", zx_strerror(rc), zdb_last_error());
		zdb_close(db);
		return EXIT_STORE;
	}
	if (strcmp(c.cmd, "zones") == 0) {
		ex = cmd_zones(s, c.json);
	} else if (strcmp(c.cmd, "show") == 0) {
		ex = cmd_show(s, &c);
	} else {
		ex = cmd_dump(s, &c);
	}
	zdb_snap_end(s);
	zdb_close(db);
	return ex;
}
