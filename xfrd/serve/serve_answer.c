/* SPDX-License-Identifier: MIT */
/* xfrd/serve/serve_answer.c -- one-message answers of xfrd's DNS endpoint: the message
 * helpers, and any name and type of a stored zone answered as an authoritative server
 * does (RFC 1034 4.3.2, RFC 2308, RFC 4592), from the store's point lookups
 * (common/store/zdb.h, zdb_view_*). Knot DNS 3.2 is the reference for the choices the
 * RFCs leave open (tests/integration/serve/dig.sh compares the two answer by answer):
 *
 *   find(name): walk from the apex down, one seek per label
 *     ├─ a name on the way (not the apex) holds NS ── referral (DS at the cut itself
 *     │                                                excepted: answered from here)
 *     ├─ a label missing ── *.<closest encloser> holds RRsets ── synthesise from it
 *     │                   └─ else ─────────────────────────── NXDOMAIN
 *     ├─ the name has no RRsets (empty non-terminal) ─────── NODATA
 *     └─ the name's RRsets
 *          ├─ a CNAME (qtype not CNAME, ANY) ── the CNAME, then find(target) within
 *          │                                    the zone (5 at most, no name twice)
 *          ├─ ANY ── its first RRset (RFC 8482 minimal answer, as Knot)
 *          ├─ the qtype ── the RRset
 *          └─ else ── NODATA
 *   authority: NXDOMAIN/NODATA the SOA with the negative TTL (min of its TTL and
 *   MINIMUM); a referral the cut's NS. AA unless the query's own name is a referral.
 *   additional: A and AAAA of the in-zone targets of every NS, MX and SRV in the answer
 *   and authority (the target's own, else its wildcard's, glue below cuts included).
 */
#include "xfrd/serve/serve.h"

#include "common/dnsmsg.h"
#include "common/log.h"
#include "common/metrics.h"
#include "xfrd/serve/serve_internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

enum { T_DS = 43 };

/* ------------------------------------------------------------ one-message answers */

int serve_single_begin(struct serve_reply *r, const struct serve_verdict *v, struct serve_msg *m)
{
	size_t reserve = (r->opt ? 11 : 0) + (v->sign ? serve_tsig_reserve(&v->treq) : 0);
	r->single = malloc(r->max_len + reserve);
	if (r->single == NULL) {
		return ZX_ENOMEM;
	}
	r->flags = (uint16_t)(v->aa ? r->flags | DNS_FLAG_AA : r->flags & ~DNS_FLAG_AA);
	size_t cap = r->max_len > reserve + DNS_HDR_LEN ? r->max_len - reserve : DNS_HDR_LEN;
	serve_msg_start(m, r, r->single, cap, v->rcode & 0xf);
	return 0;
}

void serve_single_rr(struct serve_msg *m, struct serve_reply *r, const struct zdb_rr *rr,
                     enum serve_sec sec)
{
	if (m->trunc) {
		return;
	}
	if (serve_msg_rr(m, r, rr) != 0) {
		m->trunc = true;
		m->len = m->qend;
		m->ancount = m->nscount = m->arcount = 0;
		return;
	}
	if (sec == SS_ANSWER) {
		m->ancount++;
	} else if (sec == SS_AUTHORITY) {
		m->nscount++;
	} else {
		m->arcount++;
	}
}

int serve_single_end(struct serve_reply *r, const struct serve_verdict *v, struct serve_msg *m,
                     uint64_t now)
{
	if (m->trunc) {
		r->single[2] |= (uint8_t)(DNS_FLAG_TC >> 8);
		if (r->sv->o.metrics != NULL) {
			metrics_add(r->sv->m.udp_truncated, 1);
		}
	}
	serve_msg_finish(m);
	if (r->opt) {
		uint8_t ext = v->rcode == SERVE_RC_BADVERS ? 1 : 0;
		uint8_t opt[11] = {0, 0, DNS_T_OPT, (uint8_t)(r->sv->o.udp_size >> 8),
		                   (uint8_t)r->sv->o.udp_size, ext, 0, 0, 0, 0, 0};
		memcpy(r->single + m->len, opt, sizeof(opt));
		m->len += sizeof(opt);
		m->arcount++;
		serve_msg_finish(m);
	}
	r->single_len = m->len;
	r->rcode = v->rcode & 0xf;
	if (v->sign) {
		size_t cap = r->single_len + serve_tsig_reserve(&v->treq);
		int rc = tsig_sign_reply(&v->treq, r->single, &r->single_len, cap, now);
		assert(rc != ZX_ELIMIT && rc != ZX_EFORMAT); /* room reserved, header written */
		if (rc != 0) {
			return rc;
		}
	}
	serve_count(r->sv, r->qtype, v->rcode, v->rcode == SERVE_RC_BADVERS);
	return 0;
}

int serve_answer_rcode(struct serve_reply *r, struct serve_verdict *v, int rcode, uint64_t now)
{
	struct serve_msg m;
	v->rcode = rcode;
	v->aa = false;
	int rc = serve_single_begin(r, v, &m);
	return rc != 0 ? rc : serve_single_end(r, v, &m, now);
}

int serve_answer_soa(struct serve_reply *r, struct serve_verdict *v, uint64_t now)
{
	struct serve_msg m;
	v->aa = true;
	int rc = serve_single_begin(r, v, &m);
	if (rc != 0) {
		return rc;
	}
	struct zdb_rr soa = serve_reply_soa(r);
	serve_single_rr(&m, r, &soa, SS_ANSWER);
	return serve_single_end(r, v, &m, now);
}

/* ------------------------------------------------------------ lookups */

/** CNAMEs followed at most in one answer (Knot's CNAME_CHAIN_MAX). */
#define CHAIN_MAX 5
/** Target names (of NS, MX, SRV) whose addresses the additional section may carry; the
 *  addresses of more are left out (a UDP answer holds far fewer). */
#define TARGETS_MAX 256

/** Where find() ended. */
enum found {
	F_DATA,     /**< the name has RRsets (at src: the name, or the wildcard) */
	F_EMPTY,    /**< the name exists without RRsets (or its wildcard does): NODATA */
	F_MISS,     /**< no such name: NXDOMAIN */
	F_DELEG,    /**< at or below a zone cut (src: the cut): referral */
	F_OUTSIDE,  /**< not in the zone (a CNAME target elsewhere) */
};

/** Outcome of resolving the answer section. */
enum state { S_HIT, S_NODATA, S_MISS, S_DELEG };

struct target {
	const uint8_t *name; /**< in the RDATA: in the snapshot */
	bool glue; /**< in-bailiwick glue of a referral: required, truncate when it does not fit */
};

struct lookup {
	struct serve_reply *r;
	struct zdb_view *v;
	struct serve_msg *m;
	uint16_t qtype;
	uint8_t src[DNAME_MAXLEN];  /**< where find() found the RRsets (name, *.encloser, cut) */
	size_t src_len;
	uint8_t seen[CHAIN_MAX + 1][DNAME_MAXLEN]; /**< the names answered for: qname, targets */
	int nseen;
	int cnames;                 /**< CNAMEs in the answer */
	struct target t[TARGETS_MAX];
	int nt;
	uint8_t cut[DNAME_MAXLEN];  /**< the zone cut of a referral */
};

static size_t wlen(const uint8_t *name)
{
	return (size_t)dname_wire_len(name, DNAME_MAXLEN);
}

/* *.<encloser> into @p out; false when it would be too long. */
static bool wildcard_of(const uint8_t *encloser, uint8_t *out)
{
	size_t n = wlen(encloser);
	if (n + 2 > DNAME_MAXLEN) {
		return false;
	}
	out[0] = 1;
	out[1] = '*';
	memcpy(out + 2, encloser, n);
	return true;
}

static void set_src(struct lookup *l, const uint8_t *name)
{
	l->src_len = wlen(name);
	memcpy(l->src, name, l->src_len);
}

/* The name is missing below @p encloser (which exists): its wildcard, if any. */
static int find_wildcard(struct lookup *l, const uint8_t *encloser, enum found *f)
{
	enum zdb_name_kind k = ZDB_NAME_NONE;
	uint8_t w[DNAME_MAXLEN];
	*f = F_MISS;
	if (!wildcard_of(encloser, w)) {
		return 0;
	}
	int rc = zdb_view_name(l->v, w, wlen(w), &k);
	if (rc == 0 && k != ZDB_NAME_NONE) {
		set_src(l, w); /* the view is on the wildcard's RRsets */
		*f = k == ZDB_NAME_DATA ? F_DATA : F_EMPTY;
	}
	return rc;
}

/* RFC 1034 4.3.2 step 3 for @p name: one seek per label below the apex, each name on
 * the way checked for a zone cut (zdb_view_rrset() does not move the view, so on F_DATA
 * the view walks the RRsets at l->src). */
static int find(struct lookup *l, const uint8_t *name, enum found *f)
{
	const uint8_t *apex = l->r->apex;
	enum zdb_name_kind kind = ZDB_NAME_NONE;
	if (!dname_is_subdomain(name, apex)) {
		*f = F_OUTSIDE;
		return 0;
	}
	int below = dname_labels(name) - dname_labels(apex);
	for (int k = below > 0 ? below - 1 : 0; k >= 0; k--) { /* the apex exists */
		const uint8_t *n = name;
		for (int i = 0; i < k; i++) {
			n += n[0] + 1;
		}
		struct zdb_rrset ns;
		int rc = zdb_view_name(l->v, n, wlen(n), &kind);
		if (rc != 0) {
			return rc;
		}
		if (kind == ZDB_NAME_NONE) {
			/* the apex always exists, so n has a parent here: the closest encloser */
			return k == below ? ZX_ECORRUPT : find_wildcard(l, n + n[0] + 1, f);
		}
		/* a cut: NS at a name below the apex (DS at the cut itself is the parent's) */
		if (kind == ZDB_NAME_DATA && k < below && (k > 0 || l->qtype != T_DS)) {
			rc = zdb_view_rrset(l->v, n, wlen(n), DNS_T_NS, &ns);
			if (rc == 0) {
				set_src(l, n);
				*f = F_DELEG;
				return 0;
			}
			if (rc != ZX_ENOTFOUND) {
				return rc;
			}
		}
	}
	set_src(l, name);
	*f = kind == ZDB_NAME_DATA ? F_DATA : F_EMPTY;
	return 0;
}

/* The name an NS, MX or SRV RR points to (NULL for other types or bad RDATA). */
static const uint8_t *target_of(const struct zdb_rr *rr)
{
	size_t off;
	switch (rr->type) {
	case DNS_T_NS:
		off = 0;
		break;
	case DNS_T_MX:
		off = 2;
		break;
	case DNS_T_SRV:
		off = 6;
		break;
	default:
		return NULL;
	}
	if (rr->rdlen <= off || dname_wire_len(rr->rdata + off, rr->rdlen - off) < 0) {
		return NULL;
	}
	return rr->rdata + off;
}

static void note_target(struct lookup *l, const uint8_t *name, bool glue)
{
	for (int i = 0; i < l->nt; i++) {
		if (dname_equal(l->t[i].name, name)) {
			l->t[i].glue = l->t[i].glue || glue;
			return;
		}
	}
	if (l->nt < TARGETS_MAX) {
		l->t[l->nt].name = name;
		l->t[l->nt++].glue = glue;
	}
}

/* Every RR of @p set into section @p sec, owned by @p owner. */
static int put_set(struct lookup *l, const struct zdb_rrset *set, const uint8_t *owner,
                   enum serve_sec sec)
{
	struct zdb_rr rr;
	size_t off = 0;
	int rc;
	while ((rc = zdb_rrset_next(set, &off, &rr)) == 1) {
		rr.owner = owner;
		rr.owner_len = wlen(owner);
		serve_single_rr(l->m, l->r, &rr, sec);
		const uint8_t *t = target_of(&rr);
		if (t != NULL) {
			note_target(l, t, sec == SS_AUTHORITY && dname_is_subdomain(t, l->cut));
		}
	}
	return rc;
}

/* The answer from the RRsets at l->src for @p owner (the name, or what a wildcard
 * stands for). On a CNAME: its target into @p next, or, when CHAIN_MAX CNAMEs are in
 * the answer already, nothing more (as Knot: the chain ends there, without SOA). */
static int answer_set(struct lookup *l, const uint8_t *owner, enum state *st, uint8_t *next)
{
	struct zdb_rrset set, hit, cname;
	bool have_hit = false, have_cname = false;
	int rc;
	while ((rc = zdb_view_next(l->v, &set)) == 1) {
		if (l->qtype == DNS_T_ANY || set.type == l->qtype) {
			hit = set;
			have_hit = true;
			if (l->qtype == DNS_T_ANY) {
				break;
			}
		}
		if (set.type == DNS_T_CNAME) {
			cname = set;
			have_cname = true;
		}
	}
	if (rc < 0) {
		return rc;
	}
	*st = S_HIT;
	if (have_cname && l->qtype != DNS_T_CNAME && l->qtype != DNS_T_ANY) {
		struct zdb_rr rr;
		size_t off = 0;
		if (l->cnames == CHAIN_MAX) {
			return 0;
		}
		l->cnames++;
		rc = zdb_rrset_next(&cname, &off, &rr);
		if (rc == 1 && dname_wire_len(rr.rdata, rr.rdlen) == (int)rr.rdlen) {
			memcpy(next, rr.rdata, rr.rdlen);
		}
		return rc < 0 ? rc : put_set(l, &cname, owner, SS_ANSWER);
	}
	if (!have_hit) {
		*st = S_NODATA;
		return 0;
	}
	return put_set(l, &hit, owner, SS_ANSWER);
}

static bool seen(const struct lookup *l, const uint8_t *name)
{
	for (int i = 0; i < l->nseen; i++) {
		if (dname_equal(l->seen[i], name)) {
			return true;
		}
	}
	return false;
}

/* The answer section, following CNAMEs; *aa false when the query's own name is a
 * referral. */
static int resolve(struct lookup *l, enum state *st, bool *aa)
{
	uint8_t name[DNAME_MAXLEN], next[DNAME_MAXLEN];
	memcpy(name, l->r->qname, l->r->qname_len);
	*aa = true;
	for (int depth = 0;; depth++) {
		enum found f;
		int rc = find(l, name, &f);
		if (rc != 0) {
			return rc;
		}
		memcpy(l->seen[l->nseen++], name, wlen(name));
		switch (f) {
		case F_OUTSIDE:
			*st = S_HIT;
			return 0;
		case F_MISS:
			*st = S_MISS;
			return 0;
		case F_EMPTY:
			*st = S_NODATA;
			return 0;
		case F_DELEG:
			*aa = depth > 0;
			memcpy(l->cut, l->src, l->src_len);
			*st = S_DELEG;
			return 0;
		case F_DATA:
			break;
		}
		next[0] = 0xff; /* no target */
		rc = answer_set(l, name, st, next);
		if (rc != 0 || next[0] == 0xff || seen(l, next)) {
			return rc; /* done, or a loop: the answer ends (as Knot) */
		}
		memcpy(name, next, wlen(next));
	}
}

/* The SOA, its TTL the negative-caching TTL (RFC 2308 3: min of TTL and MINIMUM). */
static void put_negative_soa(struct lookup *l)
{
	struct zdb_rr soa = serve_reply_soa(l->r);
	struct dns_soa f;
	if (dnsmsg_soa_parse(soa.rdata, soa.rdlen, &f) == 0 && f.minimum < soa.ttl) {
		soa.ttl = f.minimum;
	}
	serve_single_rr(l->m, l->r, &soa, SS_AUTHORITY);
}

/* An RRset of the additional section: left out whole when it does not fit, unless it
 * is required glue (then the answer is truncated). */
static int put_extra(struct lookup *l, const struct zdb_rrset *set, const uint8_t *owner,
                     bool glue)
{
	struct serve_msg save = *l->m;
	int rc = put_set(l, set, owner, SS_ADDITIONAL);
	if (rc == 0 && l->m->trunc && !glue) {
		*l->m = save;
	}
	return rc;
}

/* A and AAAA of one target: its own, or (a missing name) its closest encloser's
 * wildcard's, owned by the target. */
static int put_addresses(struct lookup *l, const struct target *t)
{
	static const uint16_t types[] = {DNS_T_A, DNS_T_AAAA};
	const uint8_t *src = t->name;
	uint8_t w[DNAME_MAXLEN];
	enum zdb_name_kind k;
	if (!dname_is_subdomain(t->name, l->r->apex)) {
		return 0;
	}
	int rc = zdb_view_name(l->v, t->name, wlen(t->name), &k);
	for (const uint8_t *p = t->name; rc == 0 && k == ZDB_NAME_NONE;) {
		p += p[0] + 1; /* up to the closest encloser (the apex exists) */
		rc = zdb_view_name(l->v, p, wlen(p), &k);
		if (rc == 0 && k != ZDB_NAME_NONE) {
			if (!wildcard_of(p, w)) {
				return 0;
			}
			src = w;
		}
	}
	for (size_t i = 0; rc == 0 && i < 2; i++) {
		struct zdb_rrset set;
		rc = zdb_view_rrset(l->v, src, wlen(src), types[i], &set);
		if (rc == 0) {
			rc = put_extra(l, &set, t->name, t->glue);
		}
		rc = rc == ZX_ENOTFOUND ? 0 : rc;
	}
	return rc;
}

static int authority_and_additional(struct lookup *l, enum state st)
{
	struct zdb_rrset ns;
	int rc = 0;
	if (st == S_MISS || st == S_NODATA) {
		put_negative_soa(l);
	} else if (st == S_DELEG) {
		rc = zdb_view_rrset(l->v, l->cut, wlen(l->cut), DNS_T_NS, &ns);
		if (rc == 0) {
			rc = put_set(l, &ns, l->cut, SS_AUTHORITY);
		}
	}
	for (int i = 0; rc == 0 && i < l->nt; i++) {
		rc = put_addresses(l, &l->t[i]);
	}
	return rc;
}

/* The header's AA and RCODE, known once the answer is resolved. */
static void set_header(struct serve_reply *r, const struct serve_verdict *v)
{
	r->flags = (uint16_t)(v->aa ? r->flags | DNS_FLAG_AA : r->flags & ~DNS_FLAG_AA);
	r->single[2] = (uint8_t)((r->single[2] & ~(DNS_FLAG_AA >> 8)) |
	                         (v->aa ? DNS_FLAG_AA >> 8 : 0));
	r->single[3] = (uint8_t)((r->single[3] & 0xf0) | (v->rcode & 0xf));
}

int serve_answer_name(struct serve_reply *r, struct serve_verdict *v, struct zdb_snap *snap,
                      uint64_t now)
{
	struct serve_msg m;
	struct lookup *l = calloc(1, sizeof(*l));
	if (l == NULL) {
		return ZX_ENOMEM;
	}
	l->r = r;
	l->m = &m;
	l->qtype = r->qtype;
	enum state st = S_HIT;
	bool aa = true;
	int rc = zdb_view_open(snap, r->apex, &l->v);
	if (rc == 0) {
		v->rcode = DNS_RC_NOERROR;
		v->aa = true;
		rc = serve_single_begin(r, v, &m);
	}
	if (rc == 0) {
		rc = resolve(l, &st, &aa);
	}
	if (rc == 0) {
		rc = authority_and_additional(l, st);
	}
	zdb_view_free(l->v);
	free(l);
	if (rc == ZX_ENOMEM) {
		return rc;
	}
	if (rc != 0) {
		log_warn("serve_store_error", "zone=%s error=%s why=\"%s\" client=%s", r->zone_text,
		         zx_strerror(rc), zdb_last_error(), r->client);
		free(r->single);
		r->single = NULL;
		return serve_answer_rcode(r, v, DNS_RC_SERVFAIL, now);
	}
	v->aa = aa;
	v->rcode = st == S_MISS ? DNS_RC_NXDOMAIN : DNS_RC_NOERROR;
	set_header(r, v);
	return serve_single_end(r, v, &m, now);
}
