/* SPDX-License-Identifier: MIT */
/* xfrd/tools/zonecopy.c -- a zone builder's copy of one zone (see zonecopy.h).
 *
 * An answer is applied to a working array `w` that starts as the held array
 * `v`; each IXFR change set is merged into a new array in one pass (deletions
 * removed, additions inserted, both sorted first). Records allocated for the
 * answer are listed in `born`, records it removed in `dead`: a commit frees
 * the dead ones, an abort the born ones, so a record is freed exactly once
 * whatever happened to it in between.
 */
#include "xfrd/tools/zonecopy.h"

#include "common/dnsmsg.h"
#include "common/serial.h"

#include <errno.h>
#include <fcntl.h>
#include <ldns/ldns.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct zonecopy_rec {
	uint32_t ttl;
	uint16_t type, rclass, rdlen;
	uint8_t owner_len;
	uint8_t data[]; /* owner (lowercase wire), then rdata */
};

/* ---------------------------------------------------------------- records */

static struct zonecopy_rec *rec_new(const struct xfrstream_rr *rr)
{
	if (rr->owner_len == 0 || rr->owner_len > DNAME_MAXLEN || rr->rdlen > 65535) {
		return NULL;
	}
	struct zonecopy_rec *r = malloc(sizeof(*r) + rr->owner_len + rr->rdlen);
	if (r == NULL) {
		return NULL;
	}
	r->ttl = rr->ttl;
	r->type = rr->type;
	r->rclass = rr->rclass;
	r->rdlen = (uint16_t)rr->rdlen;
	r->owner_len = (uint8_t)rr->owner_len;
	memcpy(r->data, rr->owner, rr->owner_len);
	dname_lower(r->data);
	memcpy(r->data + rr->owner_len, rr->rdata, rr->rdlen);
	return r;
}

static const uint8_t *rec_rdata(const struct zonecopy_rec *r)
{
	return r->data + r->owner_len;
}

/* Canonical order: owner (RFC 4034 6.1), type, class, RDATA octets. */
static int rec_cmp(const struct zonecopy_rec *a, const struct zonecopy_rec *b)
{
	int c = dname_canonical_cmp(a->data, b->data);
	if (c != 0) {
		return c;
	}
	if (a->type != b->type) {
		return a->type < b->type ? -1 : 1;
	}
	if (a->rclass != b->rclass) {
		return a->rclass < b->rclass ? -1 : 1;
	}
	size_t n = a->rdlen < b->rdlen ? a->rdlen : b->rdlen;
	c = memcmp(rec_rdata(a), rec_rdata(b), n);
	if (c != 0) {
		return c;
	}
	return a->rdlen == b->rdlen ? 0 : a->rdlen < b->rdlen ? -1 : 1;
}

static int rec_qcmp(const void *a, const void *b)
{
	return rec_cmp(*(struct zonecopy_rec *const *)a, *(struct zonecopy_rec *const *)b);
}

static void sort_recs(struct zonecopy_rec **v, size_t n)
{
	if (n > 1) {
		qsort(v, n, sizeof(*v), rec_qcmp);
	}
}

/* Append @p r to a growing array. */
static int push(struct zonecopy_rec ***v, size_t *n, size_t *cap, struct zonecopy_rec *r)
{
	if (*n == *cap) {
		size_t nc = *cap != 0 ? *cap * 2 : 256;
		struct zonecopy_rec **nv = realloc(*v, nc * sizeof(**v));
		if (nv == NULL) {
			return ZX_ENOMEM;
		}
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = r;
	return 0;
}

static uint32_t soa_serial(const struct zonecopy_rec *soa)
{
	struct dns_soa s = {0};
	if (dnsmsg_soa_parse(rec_rdata(soa), soa->rdlen, &s) != 0) {
		return 0;
	}
	return s.serial;
}

/* ---------------------------------------------------------------- life */

int zonecopy_init(struct zonecopy *c, const uint8_t *zone)
{
	int len = dname_wire_len(zone, DNAME_MAXLEN);
	if (len < 0) {
		return ZX_EINVAL;
	}
	memset(c, 0, sizeof(*c));
	memcpy(c->zone, zone, (size_t)len);
	dname_lower(c->zone);
	if (dname_to_text(c->zone, c->zone_text, sizeof(c->zone_text)) != 0) {
		return ZX_EINVAL;
	}
	return 0;
}

static void clear_held(struct zonecopy *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i]);
	}
	free(c->v);
	free(c->soa);
	c->v = NULL;
	c->soa = NULL;
	c->n = 0;
	c->loaded = false;
	c->serial = 0;
	c->records = 0;
}

void zonecopy_deinit(struct zonecopy *c)
{
	zonecopy_abort(c);
	clear_held(c);
	free(c->dels);
	free(c->adds);
	free(c->born);
	free(c->dead);
	c->dels = c->adds = c->born = c->dead = NULL;
	c->cdels = c->cadds = c->cborn = c->cdead = 0;
}

int zonecopy_soa(const struct zonecopy *c, const uint8_t **rdata, size_t *rdlen)
{
	if (!c->loaded) {
		return ZX_ENOENT;
	}
	*rdata = rec_rdata(c->soa);
	*rdlen = c->soa->rdlen;
	return 0;
}

/* ---------------------------------------------------------------- applying */

void zonecopy_abort(struct zonecopy *c)
{
	for (size_t i = 0; i < c->nborn; i++) {
		free(c->born[i]);
	}
	for (size_t i = 0; i < c->ndels; i++) {
		free(c->dels[i]);
	}
	if (c->w_owned) {
		free(c->w);
	}
	c->w = NULL;
	c->w_owned = false;
	c->wn = 0;
	c->new_soa = NULL; /* it is in born */
	c->ndels = c->nadds = c->nborn = c->ndead = 0;
	c->kind = 0;
}

/* Merge the pending change set (c->dels, c->adds) into the working array. */
static int merge_changeset(struct zonecopy *c)
{
	sort_recs(c->dels, c->ndels);
	sort_recs(c->adds, c->nadds);
	struct zonecopy_rec **out = malloc((c->wn + c->nadds + 1) * sizeof(*out));
	size_t n = 0, i = 0, d = 0, a = 0;
	int rc = out == NULL ? ZX_ENOMEM : 0;
	while (rc == 0 && (i < c->wn || a < c->nadds)) {
		struct zonecopy_rec *cur = i < c->wn ? c->w[i] : NULL;
		if (cur != NULL && d < c->ndels && rec_cmp(c->dels[d], cur) <= 0) {
			if (rec_cmp(c->dels[d], cur) < 0) {
				rc = ZX_EDIFF; /* deleting a record we do not hold */
				break;
			}
			rc = push(&c->dead, &c->ndead, &c->cdead, cur);
			i++, d++;
			continue;
		}
		int k = cur == NULL ? 1 : a >= c->nadds ? -1 : rec_cmp(cur, c->adds[a]);
		if (k < 0) {
			out[n++] = cur;
			i++;
		} else if (k == 0) { /* same record added again: the new TTL wins */
			rc = push(&c->dead, &c->ndead, &c->cdead, cur);
			i++;
		} else if (n > 0 && rec_cmp(out[n - 1], c->adds[a]) == 0) {
			rc = push(&c->dead, &c->ndead, &c->cdead, out[n - 1]);
			out[n - 1] = c->adds[a++];
		} else {
			out[n++] = c->adds[a++];
		}
	}
	if (rc == 0 && d < c->ndels) {
		rc = ZX_EDIFF;
	}
	for (size_t k = 0; k < c->ndels; k++) {
		free(c->dels[k]);
	}
	c->ndels = c->nadds = 0;
	if (rc != 0) {
		free(out);
		return rc;
	}
	if (c->w_owned) {
		free(c->w);
	}
	c->w = out;
	c->wn = n;
	c->w_owned = true;
	return 0;
}

static void commit(struct zonecopy *c)
{
	for (size_t i = 0; i < c->ndead; i++) {
		free(c->dead[i]);
	}
	for (size_t i = 0; c->kind == XFRSTREAM_BEGIN_AXFR && i < c->n; i++) {
		free(c->v[i]); /* an AXFR replaces every record held */
	}
	if (c->v != c->w) {
		free(c->v);
	}
	free(c->soa);
	c->v = c->w;
	c->n = c->wn;
	c->soa = c->new_soa;
	c->serial = soa_serial(c->soa);
	c->records = c->n + 1;
	c->loaded = true;
	c->w = NULL;
	c->w_owned = false;
	c->wn = 0;
	c->new_soa = NULL;
	c->nborn = c->ndead = 0;
	c->kind = 0;
}

/* A new record of the answer, listed in born. */
static int born(struct zonecopy *c, const struct xfrstream_rr *rr, struct zonecopy_rec **out)
{
	if (!dname_is_subdomain(rr->owner, c->zone)) {
		return ZX_EINVAL;
	}
	struct zonecopy_rec *r = rec_new(rr);
	if (r == NULL) {
		return ZX_ENOMEM;
	}
	if (push(&c->born, &c->nborn, &c->cborn, r) != 0) {
		free(r);
		return ZX_ENOMEM;
	}
	*out = r;
	return 0;
}

static int begin(struct zonecopy *c, enum xfrstream_ev ev, const struct xfrstream_rr *rr)
{
	if (c->kind != 0) {
		return ZX_EINVAL;
	}
	if (ev == XFRSTREAM_BEGIN_IXFR && !c->loaded) {
		return ZX_EDIFF;
	}
	int rc = born(c, rr, &c->new_soa);
	if (rc != 0) {
		return rc;
	}
	c->kind = ev;
	c->at = c->serial;
	c->w = ev == XFRSTREAM_BEGIN_IXFR ? c->v : NULL;
	c->wn = ev == XFRSTREAM_BEGIN_IXFR ? c->n : 0;
	c->w_owned = false;
	return 0;
}

/* An AXFR's records: kept in adds, sorted and deduplicated at the end. */
static int end_axfr(struct zonecopy *c)
{
	sort_recs(c->adds, c->nadds);
	size_t n = 0;
	for (size_t i = 0; i < c->nadds; i++) {
		if (n > 0 && rec_cmp(c->adds[n - 1], c->adds[i]) == 0) {
			int rc = push(&c->dead, &c->ndead, &c->cdead, c->adds[n - 1]);
			if (rc != 0) {
				return rc;
			}
			c->adds[n - 1] = c->adds[i];
			continue;
		}
		c->adds[n++] = c->adds[i];
	}
	c->w = c->adds;
	c->wn = n;
	c->w_owned = true;
	c->adds = NULL;
	c->cadds = c->nadds = 0;
	return 0;
}

int zonecopy_apply(void *arg, enum xfrstream_ev ev, const struct xfrstream_rr *rr)
{
	struct zonecopy *c = arg;
	struct zonecopy_rec *r = NULL;
	int rc = 0;
	switch (ev) {
	case XFRSTREAM_BEGIN_AXFR:
	case XFRSTREAM_BEGIN_IXFR:
		return begin(c, ev, rr);
	case XFRSTREAM_UPTODATE:
		return c->kind == 0 ? 0 : ZX_EINVAL;
	case XFRSTREAM_DEL_SOA:
		if (c->kind != XFRSTREAM_BEGIN_IXFR) {
			return ZX_EINVAL;
		}
		if (rr->serial != c->at) {
			return ZX_EDIFF; /* change sets must chain from our serial */
		}
		return c->nadds > 0 || c->ndels > 0 ? merge_changeset(c) : 0;
	case XFRSTREAM_ADD_SOA:
		if (c->kind != XFRSTREAM_BEGIN_IXFR) {
			return ZX_EINVAL;
		}
		c->at = rr->serial;
		return 0;
	case XFRSTREAM_DEL:
		if (c->kind != XFRSTREAM_BEGIN_IXFR) {
			return ZX_EINVAL;
		}
		if (!dname_is_subdomain(rr->owner, c->zone)) {
			return ZX_EINVAL;
		}
		r = rec_new(rr);
		if (r == NULL || push(&c->dels, &c->ndels, &c->cdels, r) != 0) {
			free(r);
			return ZX_ENOMEM;
		}
		return 0;
	case XFRSTREAM_ADD:
		if (c->kind == 0) {
			return ZX_EINVAL;
		}
		rc = born(c, rr, &r);
		return rc != 0 ? rc : push(&c->adds, &c->nadds, &c->cadds, r);
	case XFRSTREAM_END:
		if (c->kind == XFRSTREAM_BEGIN_AXFR) {
			rc = end_axfr(c);
		} else if (c->kind == XFRSTREAM_BEGIN_IXFR) {
			rc = c->at != soa_serial(c->new_soa) ? ZX_EDIFF
			     : c->nadds > 0 || c->ndels > 0 ? merge_changeset(c) : 0;
		} else {
			rc = ZX_EINVAL;
		}
		if (rc == 0) {
			commit(c);
		}
		return rc;
	}
	return ZX_EINVAL;
}

/* ---------------------------------------------------------------- files */

/* An ldns RR from a record. */
static ldns_rr *to_ldns(const struct zonecopy_rec *r)
{
	size_t n = r->owner_len, len = n + 10 + r->rdlen, pos = 0;
	uint8_t *buf = malloc(len);
	ldns_rr *out = NULL;
	if (buf == NULL) {
		return NULL;
	}
	memcpy(buf, r->data, n);
	uint8_t f[10] = {(uint8_t)(r->type >> 8), (uint8_t)r->type, (uint8_t)(r->rclass >> 8),
	                 (uint8_t)r->rclass, (uint8_t)(r->ttl >> 24), (uint8_t)(r->ttl >> 16),
	                 (uint8_t)(r->ttl >> 8), (uint8_t)r->ttl, (uint8_t)(r->rdlen >> 8),
	                 (uint8_t)r->rdlen};
	memcpy(buf + n, f, sizeof(f));
	memcpy(buf + n + 10, rec_rdata(r), r->rdlen);
	if (ldns_wire2rr(&out, buf, len, &pos, LDNS_SECTION_ANSWER) != LDNS_STATUS_OK) {
		out = NULL;
	}
	free(buf);
	return out;
}

static int print_rec(FILE *f, const struct zonecopy_rec *r)
{
	ldns_rr *l = to_ldns(r);
	if (l == NULL) {
		return ZX_EFORMAT;
	}
	ldns_rr_print(f, l);
	ldns_rr_free(l);
	return 0;
}

/* fsync the directory holding @p path, so the rename survives a crash. */
static int sync_dir(const char *path)
{
	char *copy = strdup(path);
	if (copy == NULL) {
		return ZX_ENOMEM;
	}
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = fd >= 0 && fsync(fd) == 0 ? 0 : ZX_EIO;
	if (fd >= 0) {
		close(fd);
	}
	free(copy);
	return rc;
}

int zonecopy_write(const struct zonecopy *c, const char *path, const char *comment)
{
	if (!c->loaded) {
		return ZX_EINVAL;
	}
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= (int)sizeof(tmp)) {
		return ZX_EINVAL;
	}
	int fd = mkstemp(tmp);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (f == NULL) {
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return ZX_EIO;
	}
	if (comment != NULL) {
		fprintf(f, "; %s\n", comment);
	}
	int rc = print_rec(f, c->soa);
	for (size_t i = 0; rc == 0 && i < c->n; i++) {
		rc = print_rec(f, c->v[i]);
	}
	if (rc == 0 && (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0)) {
		rc = ZX_EIO;
	}
	if (fclose(f) != 0 && rc == 0) {
		rc = ZX_EIO;
	}
	if (rc == 0 && (chmod(tmp, 0644) != 0 || rename(tmp, path) != 0)) {
		rc = ZX_EIO;
	}
	if (rc != 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return rc;
	}
	return sync_dir(path);
}

/* One ldns RR into the working set of a load (an AXFR begun without its SOA):
 * the apex SOA wherever it stands, a second one (an AXFR's closing SOA kept in
 * a dump) skipped. */
static int load_rr(struct zonecopy *c, ldns_rr *l)
{
	uint8_t *wire = NULL;
	size_t len = 0;
	int rc = ZX_EFORMAT;
	if (ldns_rr2wire(&wire, l, LDNS_SECTION_ANSWER, &len) != LDNS_STATUS_OK) {
		return ZX_EFORMAT;
	}
	int on = dname_wire_len(wire, len);
	if (on > 0 && len >= (size_t)on + 10) {
		const uint8_t *p = wire + on;
		struct xfrstream_rr rr = {
			.owner = wire, .owner_len = (size_t)on,
			.type = (uint16_t)(p[0] << 8 | p[1]), .rclass = (uint16_t)(p[2] << 8 | p[3]),
			.ttl = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7],
			.rdlen = (size_t)(p[8] << 8 | p[9]), .rdata = p + 10};
		bool is_soa = rr.type == DNS_T_SOA && dname_equal(rr.owner, c->zone);
		if (rr.rdlen + 10 + (size_t)on != len || !dname_is_subdomain(rr.owner, c->zone)) {
			rc = ZX_EFORMAT;
		} else if (is_soa) {
			rc = c->new_soa != NULL ? 0 : born(c, &rr, &c->new_soa);
		} else {
			rc = zonecopy_apply(c, XFRSTREAM_ADD, &rr);
		}
		rc = rc == ZX_EINVAL ? ZX_EFORMAT : rc;
	}
	free(wire);
	return rc;
}

/* The next record of @p f (directives and blank lines skipped); NULL at the end.
 * One record at a time, so a load never holds the file's text as ldns objects. */
static int next_rr(FILE *f, uint32_t *ttl, ldns_rdf **origin, ldns_rdf **prev, ldns_rr **out)
{
	int line = 0;
	*out = NULL;
	while (!feof(f)) {
		ldns_status st = ldns_rr_new_frm_fp_l(out, f, ttl, origin, prev, &line);
		if (st == LDNS_STATUS_OK) {
			return 0;
		}
		if (st != LDNS_STATUS_SYNTAX_EMPTY && st != LDNS_STATUS_SYNTAX_TTL &&
		    st != LDNS_STATUS_SYNTAX_ORIGIN) {
			return ZX_EFORMAT; /* $INCLUDE too: a copy is one file */
		}
	}
	return 0;
}

int zonecopy_load(struct zonecopy *c, const char *path)
{
	FILE *f = fopen(path, "r");
	ldns_rdf *origin = NULL, *prev = NULL;
	ldns_rr *rr = NULL;
	uint32_t ttl = 3600;
	zonecopy_abort(c);
	clear_held(c);
	if (f == NULL) {
		return errno == ENOENT ? ZX_ENOENT : ZX_EFORMAT;
	}
	int rc;
	c->kind = XFRSTREAM_BEGIN_AXFR; /* the SOA may come anywhere in a file */
	while ((rc = next_rr(f, &ttl, &origin, &prev, &rr)) == 0 && rr != NULL) {
		rc = load_rr(c, rr);
		ldns_rr_free(rr);
		if (rc != 0) {
			break;
		}
	}
	fclose(f);
	ldns_rdf_deep_free(origin);
	ldns_rdf_deep_free(prev);
	if (rc == 0 && c->new_soa == NULL) {
		rc = ZX_EFORMAT; /* no SOA of the zone */
	}
	if (rc == 0) {
		rc = zonecopy_apply(c, XFRSTREAM_END, NULL);
	}
	if (rc != 0) {
		zonecopy_abort(c);
		rc = rc == ZX_ENOMEM ? rc : ZX_EFORMAT;
	}
	return rc;
}
