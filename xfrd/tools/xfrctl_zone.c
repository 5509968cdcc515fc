/* SPDX-License-Identifier: MIT */
/* xfrd/tools/xfrctl_zone.c -- xfrctl zone ...: the registry through xfrd's REST API. */
#include "xfrd/tools/xfrctl_zone.h"

#include "common/acl.h"
#include "common/cfg/cfg.h"
#include "common/dname.h"
#include "xfrd/tools/apiclient.h"

#include <getopt.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CONFIG "/etc/zx/zx.yaml"

struct zctl {
	struct xfrctl_zone_opts o;
	const char *cmd;
	const char *zone;           /* as given */
	char path[DNAME_TEXTLEN * 3 + 64]; /* /v1/zones/NAME, escaped */
	const char *primaries[64];
	size_t nprimaries;
	const char *key;
	const char *json_in;        /* --json FILE|- (add, set) */
	const char *if_match;
	const char *state, *source; /* list */
	char **pairs;               /* set KEY=VALUE */
	int npairs;
	bool confirm;               /* purge --confirm */
	struct apiclient *api;
};

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("xfrctl zone: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nusage: xfrctl [--api URL] [--token-file FILE] [--json] zone add NAME --primary A@P... "
	      "[--key K] [--json FILE|-]\n"
	      "       xfrctl ... zone set NAME KEY=VALUE... | --json FILE|-  [--if-match ETAG]\n"
	      "       xfrctl ... zone rm NAME [--if-match ETAG]\n"
	      "       xfrctl ... zone list [--state S] [--source file|registry]\n"
	      "       xfrctl ... zone status NAME\n"
	      "       xfrctl ... status [NAME] | expire NAME | purge --confirm NAME | notify NAME\n",
	      stderr);
	return XFRCTL_USAGE;
}

/* ---- the API's answers ------------------------------------------------------- */

static int exit_of(long status)
{
	if (status >= 200 && status < 300) {
		return XFRCTL_OK;
	}
	if (status == 404) {
		return XFRCTL_NOZONE;
	}
	return status >= 400 && status < 500 ? XFRCTL_REFUSED : XFRCTL_API;
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s != NULL ? s : "";
}

static void print_json(const json_t *j)
{
	if (json_dumpf(j, stdout, JSON_INDENT(2)) == 0) {
		fputc('\n', stdout);
	}
}

/* The problem of a failed answer on stderr (and, with --json, the document on stdout). */
static int failed(const struct zctl *z, const struct apiclient_reply *r)
{
	const json_t *p = r->body;
	fprintf(stderr, "xfrctl: zone %s%s%s: %ld %s%s%s\n", z->cmd, z->zone ? " " : "",
	        z->zone ? z->zone : "", r->status, str(p, "title"), p != NULL ? ": " : "",
	        str(p, "detail"));
	size_t i;
	const json_t *item;
	json_array_foreach(json_object_get(p, "invalid-params"), i, item) {
		const char *name = str(item, "name");
		fprintf(stderr, "  %s%s%s\n", name, name[0] ? ": " : "", str(item, "reason"));
	}
	if (r->status == 412 && strcmp(z->cmd, "add") == 0) {
		fprintf(stderr, "  (the zone exists: change it with xfrctl zone set)\n");
	}
	if (z->o.json && p != NULL) {
		print_json(p);
	}
	return exit_of(r->status);
}

/* One call; the exit status when it could not be made or did not succeed (reply kept). */
static int call(struct zctl *z, const char *method, const char *path, const json_t *body,
                const char *ctype, const char *const *hdr, struct apiclient_reply *r)
{
	int rc = apiclient_call(z->api, method, path, body, ctype, hdr, r);
	if (rc != 0) {
		fprintf(stderr, "xfrctl: zone %s: the API did not answer: %s\n", z->cmd,
		        rc == ZX_ENOMEM ? "out of memory" : r->error);
		return XFRCTL_API;
	}
	return r->status >= 200 && r->status < 300 ? XFRCTL_OK : failed(z, r);
}

/* ---- add, set, rm --------------------------------------------------------------- */

static json_t *read_json(const char *file)
{
	json_error_t e;
	json_t *j = strcmp(file, "-") == 0 ? json_loadf(stdin, 0, &e) : json_load_file(file, 0, &e);
	if (j == NULL) {
		fprintf(stderr, "xfrctl: %s:%d:%d: %s\n", strcmp(file, "-") == 0 ? "stdin" : file,
		        e.line, e.column, e.text);
	}
	return j;
}

static int done_line(const struct zctl *z, const struct apiclient_reply *r, const char *what)
{
	if (z->o.json && r->body != NULL) {
		print_json(r->body);
	} else {
		printf("zone %s %s%s%s\n", z->zone, what, r->etag[0] ? " etag=" : "", r->etag);
	}
	return fflush(stdout) == 0 ? XFRCTL_OK : XFRCTL_API;
}

static int cmd_add(struct zctl *z)
{
	json_t *b = z->json_in != NULL ? read_json(z->json_in) : json_object();
	if (b == NULL || !json_is_object(b)) {
		json_decref(b);
		return b == NULL && z->json_in != NULL ? XFRCTL_USAGE : usage("%s", "--json: an object");
	}
	if (z->nprimaries > 0) {
		json_t *a = json_array();
		for (size_t i = 0; a != NULL && i < z->nprimaries; i++) {
			json_array_append_new(a, json_string(z->primaries[i]));
		}
		json_object_set_new(b, "primaries", a);
	}
	if (z->key != NULL) {
		json_object_set_new(b, "key", json_string(z->key));
	}
	static const char *const create[] = {"If-None-Match: *", NULL};
	struct apiclient_reply r;
	int ex = call(z, "PUT", z->path, b, NULL, create, &r);
	json_decref(b);
	if (ex == XFRCTL_OK) {
		ex = done_line(z, &r, "added");
	}
	apiclient_reply_clear(&r);
	return ex;
}

static bool list_key(const char *k)
{
	static const char *const lists[] = {"primaries", "notify-keys", "notify-from", "notify",
	                                    "serve.allow", "serve.keys", NULL};
	for (size_t i = 0; lists[i] != NULL; i++) {
		if (strcmp(k, lists[i]) == 0) {
			return true;
		}
	}
	return false;
}

static json_t *value_of(const char *key, const char *v)
{
	if (v[0] == '\0') {
		return json_null();
	}
	if (!list_key(key)) {
		return json_string(v);
	}
	json_t *a = json_array();
	if (strcmp(v, "[]") == 0) {
		return a;
	}
	for (const char *p = v; a != NULL;) {
		size_t n = strcspn(p, ",");
		json_array_append_new(a, json_stringn(p, n));
		if (p[n] == '\0') {
			break;
		}
		p += n + 1;
	}
	return a;
}

/* KEY=VALUE... as a merge patch. NULL: a bad pair (said). */
static json_t *patch_of(struct zctl *z)
{
	json_t *p = json_object();
	for (int i = 0; p != NULL && i < z->npairs; i++) {
		char key[200];
		const char *eq = strchr(z->pairs[i], '=');
		size_t kl = eq != NULL ? (size_t)(eq - z->pairs[i]) : 0;
		if (kl == 0 || kl >= sizeof(key)) {
			json_decref(p);
			usage("\"%s\": expected KEY=VALUE", z->pairs[i]);
			return NULL;
		}
		memcpy(key, z->pairs[i], kl);
		key[kl] = '\0';
		json_t *obj = p, *v = value_of(key, eq + 1);
		char *dot = strchr(key, '.');
		if (dot != NULL) {
			*dot = '\0';
			obj = json_object_get(p, key);
			if (!json_is_object(obj)) {
				obj = json_object();
				json_object_set_new(p, key, obj);
			}
			*dot = '.';
		}
		json_object_set_new(obj, dot != NULL ? dot + 1 : key, v);
	}
	return p;
}

static int cmd_set(struct zctl *z)
{
	if ((z->json_in == NULL) == (z->npairs == 0)) {
		return usage("%s", "set takes KEY=VALUE pairs or --json FILE (one of them)");
	}
	json_t *p = z->json_in != NULL ? read_json(z->json_in) : patch_of(z);
	if (p == NULL) {
		return XFRCTL_USAGE;
	}
	char im[200];
	snprintf(im, sizeof(im), "If-Match: %s", z->if_match != NULL ? z->if_match : "");
	const char *const hdr[] = {z->if_match != NULL ? im : NULL, NULL};
	struct apiclient_reply r;
	int ex = call(z, "PATCH", z->path, p, "application/merge-patch+json", hdr, &r);
	json_decref(p);
	if (ex == XFRCTL_OK) {
		ex = done_line(z, &r, "changed");
	}
	apiclient_reply_clear(&r);
	return ex;
}

static int cmd_rm(struct zctl *z)
{
	char im[200];
	snprintf(im, sizeof(im), "If-Match: %s", z->if_match != NULL ? z->if_match : "");
	const char *const hdr[] = {z->if_match != NULL ? im : NULL, NULL};
	struct apiclient_reply r;
	int ex = call(z, "DELETE", z->path, NULL, NULL, hdr, &r);
	if (ex == XFRCTL_OK) {
		if (z->o.json) {
			json_t *j = json_pack("{s:s, s:b}", "name", z->zone, "removed", 1);
			print_json(j);
			json_decref(j);
		} else {
			printf("zone %s removed\n", z->zone);
		}
	}
	apiclient_reply_clear(&r);
	return ex;
}

/* ---- list, status ---------------------------------------------------------------- */

static void list_line(const json_t *it)
{
	char serial[16] = "-";
	const json_t *s = json_object_get(it, "serial");
	if (json_is_integer(s)) {
		snprintf(serial, sizeof(serial), "%lld", (long long)json_integer_value(s));
	}
	const char *src = str(it, "source"), *prob = str(it, "problem");
	const char *next = str(it, "next-refresh"), *exp = str(it, "expire-at");
	printf("%-30s %-9s %-8s %10s %-20s %-20s %s\n", str(it, "name"), src[0] ? src : "-",
	       str(it, "state"), serial, next[0] ? next : "-", exp[0] ? exp : "-",
	       prob[0] ? prob : "-");
}

static int cmd_list(struct zctl *z)
{
	json_t *all = json_array();
	char after[DNAME_TEXTLEN] = "";
	int ex = all != NULL ? XFRCTL_OK : XFRCTL_API;
	if (!z->o.json) {
		printf("%-30s %-9s %-8s %10s %-20s %-20s %s\n", "ZONE", "SOURCE", "STATE", "SERIAL",
		       "NEXT-REFRESH", "EXPIRE-AT", "PROBLEM");
	}
	while (ex == XFRCTL_OK) {
		char *a = apiclient_escape(after);
		char path[DNAME_TEXTLEN * 3 + 128];
		snprintf(path, sizeof(path), "/v1/zones?limit=1000%s%s%s%s%s%s",
		         after[0] ? "&after=" : "", after[0] && a ? a : "", z->state ? "&state=" : "",
		         z->state ? z->state : "", z->source ? "&source=" : "", z->source ? z->source : "");
		free(a);
		struct apiclient_reply r;
		ex = call(z, "GET", path, NULL, NULL, NULL, &r);
		size_t i;
		json_t *it;
		json_array_foreach(json_object_get(r.body, "zones"), i, it) {
			if (z->o.json) {
				json_array_append(all, it);
			} else {
				list_line(it);
			}
		}
		const char *next = json_string_value(json_object_get(r.body, "next"));
		bool more = ex == XFRCTL_OK && next != NULL && strlen(next) < sizeof(after);
		if (more) {
			snprintf(after, sizeof(after), "%s", next);
		}
		apiclient_reply_clear(&r);
		if (!more) {
			break;
		}
	}
	if (ex == XFRCTL_OK && z->o.json) {
		print_json(all);
	}
	json_decref(all);
	return ex == XFRCTL_OK && fflush(stdout) != 0 ? XFRCTL_API : ex;
}

static void status_line(const json_t *j, const char *key)
{
	const json_t *v = json_object_get(j, key);
	char label[40];
	snprintf(label, sizeof(label), "%s:", key);
	if (json_is_string(v)) {
		printf("%-16s %s\n", label, json_string_value(v));
	} else if (json_is_integer(v)) {
		printf("%-16s %lld\n", label, (long long)json_integer_value(v));
	} else if (json_is_boolean(v)) {
		printf("%-16s %s\n", label, json_is_true(v) ? "yes" : "no");
	} else if (json_is_object(v)) {
		printf("%-16s %lld changesets, %lld bytes", label,
		       (long long)json_integer_value(json_object_get(v, "changesets")),
		       (long long)json_integer_value(json_object_get(v, "bytes")));
		if (json_object_get(v, "from-serial") != NULL) {
			printf(", serials %lld to %lld",
			       (long long)json_integer_value(json_object_get(v, "from-serial")),
			       (long long)json_integer_value(json_object_get(v, "to-serial")));
		}
		printf("\n");
	} else if (v != NULL) {
		printf("%-16s -\n", label);
	}
}

/* "in 1h2m3s" / "4m ago" of @p s seconds from now (negative: past). */
static const char *rel(long long s, char *buf, size_t size)
{
	long long a = s < 0 ? -s : s;
	char t[48];
	if (a >= 86400) {
		snprintf(t, sizeof(t), "%lldd%lldh", a / 86400, a % 86400 / 3600);
	} else if (a >= 3600) {
		snprintf(t, sizeof(t), "%lldh%lldm", a / 3600, a % 3600 / 60);
	} else if (a >= 60) {
		snprintf(t, sizeof(t), "%lldm%llds", a / 60, a % 60);
	} else {
		snprintf(t, sizeof(t), "%llds", a);
	}
	snprintf(buf, size, s < 0 ? "%s ago" : "in %s", t);
	return buf;
}

/* A time member and, when @p in_key is given, its distance: "2026-...Z (in 59m)". */
static void time_line(const json_t *j, const char *label, const char *key, const char *in_key,
                      const char *more)
{
	const char *t = json_string_value(json_object_get(j, key));
	const json_t *in = in_key != NULL ? json_object_get(j, in_key) : NULL;
	char r[64];
	printf("%-14s %s", label, t != NULL ? t : "-");
	if (t != NULL && json_is_integer(in)) {
		printf(" (%s)", rel((long long)json_integer_value(in), r, sizeof(r)));
	}
	printf("%s\n", more != NULL ? more : "");
}

static long long num(const json_t *j, const char *key)
{
	return (long long)json_integer_value(json_object_get(j, key));
}

/* The zone's status as knotc zone-status shows it, one item a line. */
static void status_text(const json_t *j)
{
	char buf[256];
	const json_t *serial = json_object_get(j, "serial");
	const char *src = str(j, "source"), *err = str(j, "last-error"), *prob = str(j, "problem");
	printf("%-14s %s%s%s\n", "zone:", str(j, "name"), src[0] ? " source=" : "", src);
	printf("%-14s %s%s%s\n", "state:", str(j, "state"),
	       json_is_true(json_object_get(j, "corrupt")) ? " (corrupt)" : "",
	       json_is_true(json_object_get(j, "running")) ? ", transfer running" : "");
	if (json_is_integer(serial)) {
		printf("%-14s %lld (%lld records)\n", "serial:", (long long)json_integer_value(serial),
		       num(j, "records"));
	} else {
		printf("%-14s -\n", "serial:");
	}
	const json_t *part = json_object_get(j, "partition");
	snprintf(buf, sizeof(buf), json_is_integer(part) ? "partition %lld" : "partition -",
	         (long long)json_integer_value(part));
	printf("%-14s %s, %s (asked replica %s)\n", "owner:",
	       json_is_true(json_object_get(j, "owned")) ? "this replica" : "another replica", buf,
	       str(j, "replica"));
	time_line(j, "last-success:", "last-success", NULL, NULL);
	if (err[0] != '\0') {
		printf("%-14s %s at %s from primary %s\n", "last-error:", err, str(j, "last-attempt"),
		       str(j, "primary")[0] ? str(j, "primary") : "-");
	} else {
		printf("%-14s -\n", "last-error:");
	}
	const char *kind = str(j, "next-refresh-kind");
	if (json_object_get(j, "refresh-interval") != NULL) {
		snprintf(buf, sizeof(buf), " %s; refresh %llds, retry %llds", kind[0] ? kind : "-",
		         num(j, "refresh-interval"), num(j, "retry-interval"));
	} else {
		buf[0] = '\0';
	}
	time_line(j, "next-refresh:", "next-refresh", "next-refresh-in", buf);
	if (json_object_get(j, "expire-interval") != NULL) {
		snprintf(buf, sizeof(buf), " expire %llds", num(j, "expire-interval"));
	} else {
		buf[0] = '\0';
	}
	time_line(j, "expire-at:", "expire-at", "expire-in", buf);
	status_line(j, "journal");
	if (json_string_value(json_object_get(j, "removed-at")) != NULL) {
		time_line(j, "removed-at:", "removed-at", NULL, NULL);
	}
	if (prob[0] != '\0') {
		printf("%-14s %s\n", "problem:", prob);
	}
}

/* GET /v1/status: the daemon. */
static void daemon_text(const json_t *j)
{
	char r[64];
	const json_t *p = json_object_get(j, "partitions"), *z = json_object_get(j, "zones"),
		     *k = json_object_get(j, "kafka");
	printf("%-12s %s %s replica=%s\n", "program:", str(j, "program"), str(j, "version"),
	       str(j, "replica"));
	printf("%-12s %s (up %s)\n", "started:", str(j, "started"),
	       rel(num(j, "uptime"), r, sizeof(r)) + 3);
	printf("%-12s %lld of %lld owned\n", "partitions:", num(p, "owned"), num(p, "count"));
	printf("%-12s %lld run here, %lld stored: fresh %lld, failed %lld, expired %lld, "
	       "removed %lld, corrupt %lld; %lld transfers running\n",
	       "zones:", num(z, "configured"), num(z, "stored"), num(z, "fresh"), num(z, "failed"),
	       num(z, "expired"), num(z, "removed"), num(z, "corrupt"), num(z, "running"));
	printf("%-12s %s%s%s\n", "kafka:",
	       json_is_true(json_object_get(k, "ready")) ? "ready" : "not ready: ",
	       json_is_true(json_object_get(k, "ready")) ? "" : str(k, "not-ready"),
	       json_is_true(json_object_get(k, "live")) ? ", live" : ", not live");
	if (!json_is_true(json_object_get(k, "live"))) {
		printf("%-12s %s\n", "stalled:", str(k, "not-live"));
	}
}

static int cmd_status(struct zctl *z)
{
	struct apiclient_reply r;
	int ex = call(z, "GET", z->zone != NULL ? z->path : "/v1/status", NULL, NULL, NULL, &r);
	if (ex == XFRCTL_OK && z->o.json) {
		print_json(r.body);
	} else if (ex == XFRCTL_OK && z->zone == NULL) {
		daemon_text(r.body);
	} else if (ex == XFRCTL_OK) {
		status_text(r.body);
	}
	apiclient_reply_clear(&r);
	return ex == XFRCTL_OK && fflush(stdout) != 0 ? XFRCTL_API : ex;
}

/* expire, purge, notify: POST /v1/zones/NAME/ACTION */
static int cmd_action(struct zctl *z)
{
	if (strcmp(z->cmd, "purge") == 0 && !z->confirm) {
		return usage("purge deletes %s's data and journal: add --confirm", z->zone);
	}
	struct apiclient_reply r;
	int ex = call(z, "POST", z->path, NULL, NULL, NULL, &r);
	if (ex == XFRCTL_OK && z->o.json) {
		print_json(r.body);
	} else if (ex == XFRCTL_OK) {
		printf("zone %s %s on replica %s\n", z->zone,
		       strcmp(z->cmd, "expire") == 0  ? "expired (no longer served)"
		       : strcmp(z->cmd, "purge") == 0 ? "purged (transferred anew)"
		                                      : "notified downstream",
		       str(r.body, "replica"));
	}
	apiclient_reply_clear(&r);
	return ex == XFRCTL_OK && fflush(stdout) != 0 ? XFRCTL_API : ex;
}

/* ---- where and who ------------------------------------------------------------------ */

/* http://ADDR:PORT of the config's xfrd.http. */
static int api_url(const struct zctl *z, char *buf, size_t size)
{
	if (z->o.api != NULL) {
		snprintf(buf, size, "%s", z->o.api);
		return XFRCTL_OK;
	}
	const char *path = z->o.config != NULL ? z->o.config : DEFAULT_CONFIG;
	struct cfg *cfg = NULL;
	char err[4096];
	if (cfg_load(path, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "xfrctl: %s%s(or give the API's URL with --api)\n", err,
		        err[0] && err[strlen(err) - 1] != '\n' ? "\n" : "");
		return XFRCTL_STORE;
	}
	int ex = XFRCTL_OK;
	struct sockaddr_storage sa = cfg->xfrd.http.addr;
	if (cfg->xfrd.http.len == 0) {
		fprintf(stderr, "xfrctl: %s has no xfrd.http; give the API's URL with --api\n", path);
		ex = XFRCTL_STORE;
	} else if (sa.ss_family == AF_INET &&
	           ((struct sockaddr_in *)&sa)->sin_addr.s_addr == htonl(INADDR_ANY)) {
		((struct sockaddr_in *)&sa)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else if (sa.ss_family == AF_INET6 &&
	           IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&sa)->sin6_addr)) {
		((struct sockaddr_in6 *)&sa)->sin6_addr = in6addr_loopback;
	}
	if (ex == XFRCTL_OK) {
		char a[ACL_ADDRSTRLEN];
		acl_addr_str((const struct sockaddr *)&sa, false, a, sizeof(a));
		uint16_t port = ntohs(sa.ss_family == AF_INET ? ((struct sockaddr_in *)&sa)->sin_port
		                                              : ((struct sockaddr_in6 *)&sa)->sin6_port);
		snprintf(buf, size, sa.ss_family == AF_INET6 ? "http://[%s]:%u" : "http://%s:%u", a,
		         port);
	}
	cfg_free(cfg);
	return ex;
}

/* The token: --token-file's one line, else $ZX_API_TOKEN. */
static int token_of(const struct zctl *z, char *buf, size_t size)
{
	if (z->o.token_file == NULL) {
		const char *env = getenv("ZX_API_TOKEN");
		if (env == NULL || env[0] == '\0') {
			return usage("%s", "no token: give --token-file FILE or set ZX_API_TOKEN");
		}
		snprintf(buf, size, "%s", env);
		return XFRCTL_OK;
	}
	FILE *f = fopen(z->o.token_file, "r");
	char line[1200] = "";
	bool got = false;
	while (f != NULL && !got && fgets(line, sizeof(line), f) != NULL) {
		char *s = line + strspn(line, " \t");
		s[strcspn(s, "\r\n")] = '\0';
		size_t n = strlen(s);
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) {
			s[--n] = '\0';
		}
		if (n > 0 && s[0] != '#') {
			snprintf(buf, size, "%s", s);
			got = true;
		}
	}
	if (f != NULL) {
		fclose(f);
	}
	if (!got || strpbrk(buf, " \t") != NULL) {
		fprintf(stderr, "xfrctl: %s: %s\n", z->o.token_file,
		        f == NULL ? "cannot read it" : !got ? "no token in it" : "one token expected, "
		        "no blanks (not a line of the xfrd.api.tokens file)");
		return XFRCTL_USAGE;
	}
	return XFRCTL_OK;
}

/* ---- the command line ---------------------------------------------------------------- */

static int parse(struct zctl *z, int argc, char **argv)
{
	bool input = strcmp(z->cmd, "add") == 0 || strcmp(z->cmd, "set") == 0;
	const struct option longs[] = {
		{"api", required_argument, NULL, 'A'}, {"token-file", required_argument, NULL, 'T'},
		{"json", input ? required_argument : no_argument, NULL, 'j'},
		{"primary", required_argument, NULL, 'p'}, {"key", required_argument, NULL, 'k'},
		{"if-match", required_argument, NULL, 'm'}, {"state", required_argument, NULL, 'S'},
		{"source", required_argument, NULL, 'O'}, {"confirm", no_argument, NULL, 'C'},
		{NULL, 0, NULL, 0},
	};
	int opt;
	optind = 0; /* glibc: start over (main's getopt ran before) */
	while ((opt = getopt_long(argc, argv, input ? "p:k:j:" : "j", longs, NULL)) != -1) {
		switch (opt) {
		case 'A':
			z->o.api = optarg;
			break;
		case 'T':
			z->o.token_file = optarg;
			break;
		case 'j':
			if (input) {
				z->json_in = optarg;
			} else {
				z->o.json = true;
			}
			break;
		case 'p':
			if (strcmp(z->cmd, "add") != 0 || z->nprimaries == 64) {
				return usage("%s", "--primary goes with add (at most 64)");
			}
			z->primaries[z->nprimaries++] = optarg;
			break;
		case 'k':
			z->key = optarg;
			break;
		case 'm':
			z->if_match = optarg;
			break;
		case 'S':
			z->state = optarg;
			break;
		case 'O':
			z->source = optarg;
			break;
		case 'C':
			if (strcmp(z->cmd, "purge") != 0) {
				return usage("%s", "--confirm goes with purge");
			}
			z->confirm = true;
			break;
		default:
			return usage("%s", "unknown option");
		}
	}
	bool list = strcmp(z->cmd, "list") == 0;
	bool daemon = strcmp(z->cmd, "status") == 0 && optind >= argc; /* status: xfrd's own */
	if (!list && !daemon && optind >= argc) {
		return usage("%s needs a zone NAME", z->cmd);
	}
	if (!list && !daemon) {
		z->zone = argv[optind++];
		uint8_t w[DNAME_MAXLEN];
		if (dname_from_text(z->zone, w) < 0) {
			return usage("\"%s\" is not a zone name", z->zone);
		}
		char *e = apiclient_escape(z->zone);
		bool sub = strcmp(z->cmd, "status") == 0 || strcmp(z->cmd, "expire") == 0 ||
		           strcmp(z->cmd, "purge") == 0 || strcmp(z->cmd, "notify") == 0;
		snprintf(z->path, sizeof(z->path), "/v1/zones/%s%s%s%s", e != NULL ? e : "",
		         sub ? "/" : "", sub ? z->cmd : "",
		         strcmp(z->cmd, "purge") == 0 ? "?confirm=true" : "");
		free(e);
	}
	z->pairs = argv + optind;
	z->npairs = argc - optind;
	if (z->npairs > 0 && strcmp(z->cmd, "set") != 0) {
		return usage("unexpected \"%s\"", argv[optind]);
	}
	if ((z->state != NULL || z->source != NULL) && !list) {
		return usage("%s", "--state and --source go with list");
	}
	if (z->key != NULL && strcmp(z->cmd, "add") != 0) {
		return usage("%s", "--key goes with add (set: key=NAME)");
	}
	return XFRCTL_OK;
}

int xfrctl_zone_main(const struct xfrctl_zone_opts *o, int argc, char **argv)
{
	static const char *const cmds[] = {"add",    "set",   "rm",     "list",
	                                   "status", "expire", "purge", "notify", NULL};
	if (argc < 1) {
		return usage("%s", "a subcommand is needed");
	}
	size_t i = 0;
	while (cmds[i] != NULL && strcmp(cmds[i], argv[0]) != 0) {
		i++;
	}
	if (cmds[i] == NULL) {
		return usage("unknown subcommand \"%s\"", argv[0]);
	}
	struct zctl z = {.o = *o, .cmd = argv[0]};
	int ex = parse(&z, argc, argv);
	if (ex == XFRCTL_OK && strcmp(z.cmd, "add") == 0 && z.nprimaries == 0 && z.json_in == NULL) {
		ex = usage("%s", "add needs --primary A@P (or --json FILE)");
	}
	char url[1100], token[1200];
	if (ex == XFRCTL_OK) {
		ex = token_of(&z, token, sizeof(token));
	}
	if (ex == XFRCTL_OK) {
		ex = api_url(&z, url, sizeof(url));
	}
	if (ex == XFRCTL_OK && apiclient_new(url, token, &z.api) != 0) {
		ex = usage("bad --api URL or token (%s)", url);
	}
	if (ex == XFRCTL_OK) {
		switch (i) {
		case 0:
			ex = cmd_add(&z);
			break;
		case 1:
			ex = cmd_set(&z);
			break;
		case 2:
			ex = cmd_rm(&z);
			break;
		case 3:
			ex = cmd_list(&z);
			break;
		case 4:
			ex = cmd_status(&z);
			break;
		default:
			ex = cmd_action(&z);
			break;
		}
	}
	apiclient_free(z.api);
	return ex;
}
