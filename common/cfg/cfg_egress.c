/* SPDX-License-Identifier: MIT */
/* common/cfg/cfg_egress.c -- the egress keys: `source` and `proxy` (xfrd, zone-defaults,
 * a zone, one primary) and the primaries list whose entries may be mappings
 * { address, source, proxy }; then each primary's egress in force, resolved once the
 * zone's own keys are known. */
#include "common/arena.h"
#include "common/cfg/cfg_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* SOCKS5: the port a proxy listens on when none is given (RFC 1928 section 3), and the
 * longest user name and password (RFC 1929). */
#define SOCKS_DEFAULT_PORT 1080
#define SOCKS_CRED_MAX 255

#define END {NULL, CFG_FT_STR, 0, 0, 0, NULL, NULL}
#define F(k, t, o, lo, hi) {k, t, o, lo, hi, NULL, NULL}
#define FN(k, o, fn) {k, CFG_FT_FUNC, o, 0, 0, NULL, fn}

/* A proxy given as a mapping. */
struct proxyent {
	const char *address, *user, *password_file;
};

enum { PF_ADDRESS, PF_USER, PF_PASSWORD_FILE };

static const struct cfg_field proxy_fields[] = {
	[PF_ADDRESS] = F("address", CFG_FT_STR, offsetof(struct proxyent, address), 0, 0),
	[PF_USER] = F("user", CFG_FT_STR, offsetof(struct proxyent, user), 0, 0),
	[PF_PASSWORD_FILE] = F("password-file", CFG_FT_STR,
	                       offsetof(struct proxyent, password_file), 0, 0),
	END,
};

/* A primary given as a mapping: its address and its own egress (parsed into the
 * struct cfg_egress of primaryent; "not given" is told by found[]). */
struct primaryent {
	const char *address;
	struct cfg_egress egress;
};

enum { RF_ADDRESS, RF_SOURCE, RF_PROXY, RF_TLS };

/* XFR over TLS (RFC 9103): the port a primary's TLS listens on when none is given. */
#define XOT_DEFAULT_PORT 853

static const struct cfg_field primary_fields[] = {
	[RF_ADDRESS] = F("address", CFG_FT_STR, offsetof(struct primaryent, address), 0, 0),
	[RF_SOURCE] = FN("source", offsetof(struct primaryent, egress), cfg_source_fn),
	[RF_PROXY] = FN("proxy", offsetof(struct primaryent, egress), cfg_proxy_fn),
	[RF_TLS] = FN("tls", offsetof(struct primaryent, egress) + offsetof(struct cfg_egress, tls),
	              cfg_tls_fn),
	END,
};

/* The port of @p ss (AF_INET or AF_INET6). */
static uint16_t port_of(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
	                                      : ((const struct sockaddr_in6 *)ss)->sin6_port);
}

void cfg_source_fn(struct cfg_parse *p, struct cfg_node *v, void *dst, const char *what)
{
	struct cfg_egress *e = dst;
	if (cfg_is_null(v)) {
		memset(&e->source, 0, sizeof(e->source)); /* none: the kernel's choice */
		return;
	}
	const char *s = cfg_scalar(p, v, what);
	if (s == NULL) {
		return;
	}
	struct cfg_endpoint ep;
	memset(&ep, 0, sizeof(ep));
	if (acl_endpoint_parse(s, 0, &ep.addr, &ep.len) != 0) {
		cfg_error(p, v, "bad source \"%s\" for %s; expected an IPv4 or IPv6 address of this "
		          "host, optionally with @port", s, what);
		return;
	}
	e->source = ep;
}

/* The first line of a password file (relative to the config's directory), in the arena. */
static const char *read_password(struct cfg_parse *p, struct cfg_node *at, const char *file)
{
	char path[4096], line[SOCKS_CRED_MAX + 3];
	if (file[0] == '/' || p->dir[0] == '\0') {
		snprintf(path, sizeof(path), "%s", file);
	} else {
		snprintf(path, sizeof(path), "%s%s", p->dir, file);
	}
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		cfg_error(p, at, "cannot read password-file \"%s\": %s; expected a readable file "
		          "whose first line is the proxy's password", path, strerror(errno));
		return NULL;
	}
	bool got = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	size_t n = got ? strcspn(line, "\r\n") : 0;
	bool whole = got && line[n] != '\0'; /* the line ended within the buffer */
	line[n] = '\0';
	if (n == 0 || (!whole && strlen(line) > SOCKS_CRED_MAX)) {
		cfg_error(p, at, "password-file \"%s\": %s; expected a first line of 1..%d bytes "
		          "(RFC 1929)", path, n == 0 ? "empty first line" : "first line too long",
		          SOCKS_CRED_MAX);
		return NULL;
	}
	const char *pw = arena_strdup(p->mem, line);
	explicit_bzero(line, sizeof(line));
	if (pw == NULL) {
		cfg_nomem(p);
	}
	return pw;
}

/* One entry of a proxy list: "addr@port" or { address, user, password-file }. */
static bool proxy_entry(struct cfg_parse *p, struct cfg_node *item, const char *what,
                        struct cfg_proxy *out)
{
	struct proxyent pe = {0};
	struct cfg_node *found[CFG_FIELDS_MAX] = {0};
	struct cfg_node *addr_node = item;
	memset(out, 0, sizeof(*out));
	if (item->type == CFG_N_MAP) {
		size_t before = p->nmsg;
		if (!cfg_walk(p, item, what, proxy_fields, &pe, found) || p->nmsg != before) {
			return false;
		}
		if (found[PF_ADDRESS] == NULL) {
			cfg_error(p, item, "a proxy without an address in %s; expected { address: "
			          "\"addr@port\", user, password-file }", what);
			return false;
		}
		if ((found[PF_USER] == NULL) != (found[PF_PASSWORD_FILE] == NULL)) {
			cfg_error(p, item, "a proxy with %s but no %s in %s; expected both user and "
			          "password-file (RFC 1929) or neither", found[PF_USER] ? "user" :
			          "password-file", found[PF_USER] ? "password-file" : "user", what);
			return false;
		}
		addr_node = found[PF_ADDRESS];
	} else {
		pe.address = cfg_scalar(p, item, what);
		if (pe.address == NULL) {
			return false;
		}
	}
	if (acl_endpoint_parse(pe.address, SOCKS_DEFAULT_PORT, &out->ep.addr, &out->ep.len) != 0 ||
	    port_of(&out->ep.addr) == 0) {
		cfg_error(p, addr_node, "bad proxy \"%s\" for %s; expected \"addr@port\", "
		          "\"[v6]:port\" or an address (port %d)", pe.address, what,
		          SOCKS_DEFAULT_PORT);
		return false;
	}
	if (pe.user != NULL && strlen(pe.user) > SOCKS_CRED_MAX) {
		cfg_error(p, found[PF_USER], "user of proxy \"%s\" is longer than %d bytes (RFC 1929)",
		          pe.address, SOCKS_CRED_MAX);
		return false;
	}
	if (pe.user != NULL) {
		out->user = pe.user; /* set_str copied it into the arena */
		out->password = read_password(p, found[PF_PASSWORD_FILE], pe.password_file);
		return out->password != NULL;
	}
	return true;
}

void cfg_proxy_fn(struct cfg_parse *p, struct cfg_node *v, void *dst, const char *what)
{
	struct cfg_egress *e = dst;
	size_t n = 0;
	if (!cfg_list(p, v, what, &n)) {
		return;
	}
	if (n > CFG_PROXIES_MAX) {
		cfg_error(p, v, "%zu proxies in %s; expected at most %d", n, what, CFG_PROXIES_MAX);
		return;
	}
	/* never NULL, even for "proxy: []": a primary's empty list overrides the zone's */
	struct cfg_proxy *px = arena_alloc_array(p->mem, n ? n : 1, sizeof(*px));
	if (px == NULL) {
		cfg_nomem(p);
		return;
	}
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		ok &= proxy_entry(p, v->kids[i], what, &px[i]);
	}
	if (ok) {
		e->proxies = px;
		e->proxy_count = n;
	}
}

/* A primary as a mapping: { address, source, proxy, tls }. */
static bool primary_map(struct cfg_parse *p, struct cfg_node *item, const char *what,
                        struct cfg_endpoint *ep, struct cfg_egress *eg)
{
	struct primaryent pe = {0};
	struct cfg_node *found[CFG_FIELDS_MAX] = {0};
	size_t before = p->nmsg;
	if (!cfg_walk(p, item, what, primary_fields, &pe, found) || p->nmsg != before) {
		return false;
	}
	if (found[RF_ADDRESS] == NULL) {
		cfg_error(p, item, "a primary without an address in %s; expected { address: "
		          "\"addr@port\", source, proxy, tls }", what);
		return false;
	}
	uint16_t port = found[RF_TLS] != NULL ? XOT_DEFAULT_PORT : 53;
	if (acl_endpoint_parse(pe.address, port, &ep->addr, &ep->len) != 0 ||
	    port_of(&ep->addr) == 0) {
		cfg_error(p, found[RF_ADDRESS], "bad endpoint \"%s\" for %s; expected \"addr@port\", "
		          "\"addr:port\" or \"[v6]:port\" or an address", pe.address, what);
		return false;
	}
	*eg = pe.egress; /* source.len 0 / proxies NULL: not given, the zone's apply */
	return true;
}

/* primaries: [ "addr@port" | { address, source, proxy } ... ]. Each primary's own
 * egress is kept unresolved (zone_egress() merges it with the zone's). */
void cfg_primaries_fn(struct cfg_parse *p, struct cfg_node *v, void *dst, const char *what)
{
	struct cfg_zone *z = dst;
	size_t n = 0;
	if (!cfg_list(p, v, what, &n)) {
		return;
	}
	struct cfg_endpoint *eps = arena_alloc_array(p->mem, n ? n : 1, sizeof(*eps));
	struct cfg_egress *egs = arena_alloc_array(p->mem, n ? n : 1, sizeof(*egs));
	if (eps == NULL || egs == NULL) {
		cfg_nomem(p);
		return;
	}
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		struct cfg_node *item = v->kids[i];
		memset(&eps[i], 0, sizeof(eps[i]));
		memset(&egs[i], 0, sizeof(egs[i]));
		if (item->type == CFG_N_MAP) {
			ok &= primary_map(p, item, what, &eps[i], &egs[i]);
			continue;
		}
		const char *s = cfg_scalar(p, item, what);
		if (s == NULL) {
			ok = false;
		} else if (acl_endpoint_parse(s, 53, &eps[i].addr, &eps[i].len) != 0 ||
		           port_of(&eps[i].addr) == 0) {
			cfg_error(p, item, "bad endpoint \"%s\" for %s; expected \"addr@port\", "
			          "\"addr:port\" or \"[v6]:port\" or an address, or { address, "
			          "source, proxy, tls }", s, what);
			ok = false;
		}
	}
	if (ok) {
		z->primaries = (struct cfg_endpoints){eps, n};
		z->primary_egress = egs;
	}
}

/* Each primary's egress in force: its own source and proxy, else the zone's. A new
 * array: the unresolved one may be zone-defaults', shared by other zones. A source
 * must be of the family of what it connects to: the proxies, else the primary. */
void cfg_zone_egress(struct cfg_parse *p, struct cfg_zone *z, const struct cfg_node *at)
{
	size_t n = z->primaries.count;
	struct cfg_egress *egs = arena_alloc_array(p->mem, n ? n : 1, sizeof(*egs));
	if (egs == NULL) {
		cfg_nomem(p);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct cfg_egress *own = &z->primary_egress[i];
		egs[i] = z->egress;
		egs[i].tls = own->tls; /* a primary's own only: TLS is about that server */
		if (own->source.len != 0) {
			egs[i].source = own->source;
		}
		if (own->proxies != NULL) {
			egs[i].proxies = own->proxies;
			egs[i].proxy_count = own->proxy_count;
		}
		const struct cfg_endpoint *to = egs[i].proxy_count > 0 ? &egs[i].proxies[0].ep
		                                                       : &z->primaries.v[i];
		for (size_t k = 0; k < egs[i].proxy_count && to->addr.ss_family ==
		                                               egs[i].source.addr.ss_family; k++) {
			to = &egs[i].proxies[k].ep;
		}
		if (egs[i].source.len != 0 && to->addr.ss_family != egs[i].source.addr.ss_family) {
			char a[ACL_ADDRSTRLEN], b[ACL_ADDRSTRLEN];
			acl_addr_str((const struct sockaddr *)&egs[i].source.addr, false, a, sizeof(a));
			acl_addr_str((const struct sockaddr *)&to->addr, true, b, sizeof(b));
			cfg_error(p, at, "zone \"%s\": source %s cannot reach %s %s (another address "
			          "family); expected a source of the same family as the %s",
			          z->name_text, a, egs[i].proxy_count > 0 ? "proxy" : "primary", b,
			          egs[i].proxy_count > 0 ? "proxies" : "primary");
			break;
		}
	}
	z->primary_egress = egs;
}
