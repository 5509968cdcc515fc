/* SPDX-License-Identifier: MIT */
/* common/dname.c -- wire names: validation, case, order; text via ldns. */
#include "common/dname.h"

#include <ldns/ldns.h>
#include <string.h>

int dname_wire_len(const uint8_t *wire, size_t max)
{
	size_t pos = 0;
	for (;;) {
		if (pos >= max) {
			return ZX_ETRUNC;
		}
		uint8_t l = wire[pos];
		if (l > 63) {
			return ZX_EFORMAT; /* compression pointer or reserved label type */
		}
		pos += 1 + (size_t)l;
		if (pos > DNAME_MAXLEN) {
			return ZX_EFORMAT;
		}
		if (l == 0) {
			return (int)pos;
		}
	}
}

static inline uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

void dname_lower(uint8_t *wire)
{
	while (*wire != 0) {
		uint8_t l = *wire++;
		for (uint8_t i = 0; i < l; i++, wire++) {
			*wire = lower(*wire);
		}
	}
}

int dname_from_text(const char *text, uint8_t *wire)
{
	ldns_rdf *rdf = NULL;
	if (ldns_str2rdf_dname(&rdf, text) != LDNS_STATUS_OK || rdf == NULL) {
		return ZX_EFORMAT;
	}
	size_t len = ldns_rdf_size(rdf);
	int rc = ZX_EFORMAT;
	if (len >= 1 && len <= DNAME_MAXLEN && dname_wire_len(ldns_rdf_data(rdf), len) == (int)len) {
		memcpy(wire, ldns_rdf_data(rdf), len);
		dname_lower(wire);
		rc = (int)len;
	}
	ldns_rdf_deep_free(rdf);
	return rc;
}

int dname_to_text(const uint8_t *wire, char *buf, size_t size)
{
	int len = dname_wire_len(wire, DNAME_MAXLEN);
	if (len < 0) {
		return ZX_EFORMAT;
	}
	ldns_rdf *rdf = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, (size_t)len, wire);
	if (rdf == NULL) {
		return ZX_ENOMEM;
	}
	char *s = ldns_rdf2str(rdf);
	ldns_rdf_deep_free(rdf);
	if (s == NULL) {
		return ZX_ENOMEM;
	}
	size_t n = strlen(s);
	int rc = 0;
	if (n + 1 > size) {
		rc = ZX_ELIMIT;
	} else {
		memcpy(buf, s, n + 1);
	}
	free(s);
	return rc;
}

bool dname_equal(const uint8_t *a, const uint8_t *b)
{
	for (;;) {
		if (*a != *b) {
			return false;
		}
		uint8_t l = *a;
		if (l == 0) {
			return true;
		}
		a++;
		b++;
		for (uint8_t i = 0; i < l; i++) {
			if (lower(a[i]) != lower(b[i])) {
				return false;
			}
		}
		a += l;
		b += l;
	}
}

/* Offsets of each label in @p wire, at most 128; returns the count. */
static int label_offsets(const uint8_t *wire, uint8_t off[128])
{
	int n = 0;
	size_t pos = 0;
	while (wire[pos] != 0 && n < 128) {
		off[n++] = (uint8_t)pos;
		pos += 1 + (size_t)wire[pos];
	}
	return n;
}

int dname_labels(const uint8_t *wire)
{
	uint8_t off[128];
	return label_offsets(wire, off);
}

bool dname_is_subdomain(const uint8_t *name, const uint8_t *zone)
{
	uint8_t noff[128], zoff[128];
	int nl = label_offsets(name, noff);
	int zl = label_offsets(zone, zoff);
	if (zl > nl) {
		return false;
	}
	if (zl == 0) {
		return true; /* everything is below the root */
	}
	return dname_equal(name + noff[nl - zl], zone);
}

int dname_canonical_cmp(const uint8_t *a, const uint8_t *b)
{
	uint8_t aoff[128], boff[128];
	int al = label_offsets(a, aoff);
	int bl = label_offsets(b, boff);
	while (al > 0 && bl > 0) {
		const uint8_t *la = a + aoff[--al];
		const uint8_t *lb = b + boff[--bl];
		uint8_t na = la[0], nb = lb[0];
		uint8_t n = na < nb ? na : nb;
		for (uint8_t i = 1; i <= n; i++) {
			int d = (int)lower(la[i]) - (int)lower(lb[i]);
			if (d != 0) {
				return d;
			}
		}
		if (na != nb) {
			return (int)na - (int)nb;
		}
	}
	return al - bl;
}
