/* SPDX-License-Identifier: MIT */
/* tests/bed/zonegen.c -- see zonegen.h. */
#include "tests/bed/zonegen.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

/* Item kinds; weights are RR shares divided by RRs per item, times 4. */
enum kind { K_A1, K_A3, K_AAAA, K_TXT, K_MX, K_CNAME, K_DELEG, K_SRV, K_N };
static const unsigned kind_weight[K_N] = {76, 24, 64, 40, 16, 36, 15, 16};
static const unsigned kind_rrs[K_N] = {1, 3, 1, 1, 2, 1, 4, 1};
static const char *const prefixes[] = {"www", "mail", "host", "api", "app", "web",
                                       "db",  "cdn",  "vpn",  "shop", "dev", "static"};

struct gen {
	const struct zonegen_opts *o;
	FILE *out;
	char origin[256];
	struct zonegen_stats st;
	uint64_t a_total; /* editable A records in the body */
	uint64_t a_seen;
	uint64_t sel_left;  /* edits still to pick (change + del) */
	uint64_t chg_left;  /* of which changes */
	uint64_t edit_rng;  /* state for picking */
	bool fail;
};

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t item_hash(uint64_t seed, uint64_t i)
{
	return mix(seed * 0x2545f4914f6cdd1dull ^ mix(i));
}

/* The kind of item @p i, given the body records already written. */
static enum kind item_kind(uint64_t seed, uint64_t i, uint64_t done, uint64_t want)
{
	unsigned total = 0;
	for (int k = 0; k < K_N; k++) {
		total += kind_weight[k];
	}
	unsigned r = (unsigned)(item_hash(seed, i) % total);
	enum kind k = K_A1;
	while (r >= kind_weight[k]) {
		r -= kind_weight[k];
		k++;
	}
	return done + kind_rrs[k] > want ? K_A1 : k;
}

static uint32_t ttl_of(uint64_t h)
{
	static const uint32_t ttls[] = {3600, 3600, 3600, 300, 86400};
	return ttls[(h >> 40) % 5];
}

static void rr(struct gen *g, const char *owner, uint32_t ttl, const char *type,
               const char *rdata)
{
	if (fprintf(g->out, "%s%s %" PRIu32 " IN %s %s\n", owner, g->origin, ttl, type, rdata) < 0) {
		g->fail = true;
	}
	g->st.total++;
}

static void ipv4(char *buf, size_t size, uint32_t base, uint32_t bits, uint64_t n)
{
	uint32_t v = base | (uint32_t)(n & ((1u << bits) - 1u));
	snprintf(buf, size, "%u.%u.%u.%u", v >> 24, (v >> 16) & 255u, (v >> 8) & 255u, v & 255u);
}

/* One editable A record: kept, changed or deleted, as the selection says. */
static void a_record(struct gen *g, const char *owner, uint32_t ttl)
{
	uint64_t j = g->a_seen++;
	char addr[32];
	bool picked = false;
	if (g->sel_left > 0) {
		g->edit_rng = mix(g->edit_rng);
		picked = g->edit_rng % (g->a_total - j) < g->sel_left; /* Knuth's algorithm S */
	}
	if (!picked) {
		/* j * odd mod 2^24 is a bijection: addresses unique within the body. */
		ipv4(addr, sizeof(addr), 0x0a000000u, 24, j * 2654435761u + g->o->seed);
		rr(g, owner, ttl, "A", addr);
		g->st.a++;
		return;
	}
	g->edit_rng = mix(g->edit_rng);
	bool change = g->edit_rng % g->sel_left < g->chg_left;
	g->sel_left--;
	if (change) {
		g->chg_left--;
		ipv4(addr, sizeof(addr), 0xac100000u, 20, j * 2654435761u + g->o->edit_seed);
		rr(g, owner, ttl, "A", addr);
		g->st.a++;
		g->st.changed++;
	} else {
		g->st.deleted++;
	}
}

static void item(struct gen *g, uint64_t i, enum kind k)
{
	uint64_t h = item_hash(g->o->seed, i);
	uint32_t ttl = ttl_of(h);
	char own[96];
	char rd[512];
	snprintf(own, sizeof(own), "%s%" PRIu64 ".", prefixes[(h >> 8) % 12], i);
	switch (k) {
	case K_A1:
	case K_A3:
		for (unsigned n = 0; n < kind_rrs[k]; n++) {
			a_record(g, own, ttl);
		}
		break;
	case K_AAAA:
		/* the item number spread over two groups: one group holds only 16 bits */
		snprintf(rd, sizeof(rd), "2001:db8:%x:%x::%x:%x", (unsigned)(h >> 48),
		         (unsigned)((h >> 32) & 0xffff), (unsigned)((i >> 16) & 0xffff),
		         (unsigned)(i & 0xffff));
		rr(g, own, ttl, "AAAA", rd);
		g->st.aaaa++;
		break;
	case K_TXT:
		snprintf(rd, sizeof(rd), "\"v=zonegen1 item=%" PRIu64 " token=%016" PRIx64 "\"", i, h);
		rr(g, own, ttl, "TXT", rd);
		g->st.txt++;
		break;
	case K_MX:
		snprintf(rd, sizeof(rd), "10 mx1.%s%s", own, g->origin);
		rr(g, own, ttl, "MX", rd);
		snprintf(rd, sizeof(rd), "20 mx2.%s%s", own, g->origin);
		rr(g, own, ttl, "MX", rd);
		g->st.mx += 2;
		break;
	case K_CNAME:
		if (i == 0) {
			snprintf(rd, sizeof(rd), "ns1.%s", g->origin);
		} else {
			/* An earlier item's owner name (absent when that item is a delegation or SRV). */
			uint64_t j = (h >> 16) % i;
			snprintf(rd, sizeof(rd), "%s%" PRIu64 ".%s",
			         prefixes[(item_hash(g->o->seed, j) >> 8) % 12], j, g->origin);
		}
		rr(g, own, ttl, "CNAME", rd);
		g->st.cname++;
		break;
	case K_DELEG:
		snprintf(own, sizeof(own), "d%" PRIu64 ".", i);
		for (unsigned n = 1; n <= 2; n++) {
			snprintf(rd, sizeof(rd), "ns%u.d%" PRIu64 ".%s", n, i, g->origin);
			rr(g, own, 86400, "NS", rd);
		}
		for (unsigned n = 1; n <= 2; n++) {
			char glue[96];
			snprintf(glue, sizeof(glue), "ns%u.d%" PRIu64 ".", n, i);
			ipv4(rd, sizeof(rd), 0x64400000u, 22, i * 2 + n);
			rr(g, glue, 86400, "A", rd);
		}
		g->st.ns += 2;
		g->st.a += 2;
		break;
	case K_SRV:
		snprintf(own, sizeof(own), "_sip._tcp.s%" PRIu64 ".", i);
		snprintf(rd, sizeof(rd), "%u %u 5060 host%" PRIu64 ".%s", (unsigned)(h % 20),
		         (unsigned)((h >> 8) % 100), i, g->origin);
		rr(g, own, ttl, "SRV", rd);
		g->st.srv++;
		break;
	case K_N:
		break;
	}
}

static void apex(struct gen *g)
{
	char rd[600];
	snprintf(rd, sizeof(rd), "ns1.%s hostmaster.%s %" PRIu32 " 3600 900 1209600 300", g->origin,
	         g->origin, g->o->serial);
	if (fprintf(g->out, "$ORIGIN %s\n$TTL 3600\n", g->origin) < 0) {
		g->fail = true;
	}
	rr(g, "", 3600, "SOA", rd);
	for (unsigned n = 1; n <= 2; n++) {
		snprintf(rd, sizeof(rd), "ns%u.%s", n, g->origin);
		rr(g, "", 3600, "NS", rd);
		g->st.ns++;
	}
	for (unsigned n = 1; n <= 2; n++) {
		char own[16];
		snprintf(own, sizeof(own), "ns%u.", n);
		snprintf(rd, sizeof(rd), "192.0.2.%u", n);
		rr(g, own, 3600, "A", rd);
		g->st.a++;
	}
}

/* Editable A records in the body: the same walk without output. */
static uint64_t count_a(const struct zonegen_opts *o)
{
	uint64_t done = 0;
	uint64_t a = 0;
	for (uint64_t i = 0; done < o->records; i++) {
		enum kind k = item_kind(o->seed, i, done, o->records);
		a += k == K_A1 || k == K_A3 ? kind_rrs[k] : 0;
		done += kind_rrs[k];
	}
	return a;
}

static void added(struct gen *g)
{
	char own[96];
	char rd[32];
	for (uint64_t n = 0; n < g->o->add; n++) {
		snprintf(own, sizeof(own), "added%" PRIu64 "-%" PRIu64 ".", n, g->o->edit_seed);
		ipv4(rd, sizeof(rd), 0xc6120000u, 15, n);
		rr(g, own, 3600, "A", rd);
		g->st.a++;
		g->st.added++;
	}
}

int zonegen_write(const struct zonegen_opts *o, FILE *out, struct zonegen_stats *st)
{
	size_t olen = o->origin != NULL ? strlen(o->origin) : 0;
	if (olen == 0 || olen > 200) {
		return ZX_EINVAL;
	}
	struct gen g = {.o = o, .out = out};
	snprintf(g.origin, sizeof(g.origin), "%s%s", o->origin,
	         o->origin[olen - 1] == '.' ? "" : ".");
	if (o->change + o->del > 0) {
		g.a_total = count_a(o);
		if (o->change + o->del > g.a_total) {
			return ZX_EINVAL;
		}
		g.sel_left = o->change + o->del;
		g.chg_left = o->change;
		g.edit_rng = mix(o->edit_seed ^ 0x5eed5eed5eed5eedull);
	}
	apex(&g);
	uint64_t done = 0;
	for (uint64_t i = 0; done < o->records; i++) {
		enum kind k = item_kind(o->seed, i, done, o->records);
		item(&g, i, k);
		done += kind_rrs[k];
	}
	added(&g);
	if (g.fail || fflush(out) != 0 || ferror(out)) {
		return ZX_EIO;
	}
	if (st != NULL) {
		*st = g.st;
	}
	return 0;
}
