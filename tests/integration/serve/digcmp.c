/* SPDX-License-Identifier: MIT */
/* tests/integration/serve/digcmp.c -- ask two authoritative servers the same questions and
 * compare their answers field by field (tests/integration/serve/dig.sh: xfrd's endpoint
 * against knotd serving the same zone).
 *
 *   digcmp ZONEFILE PORT_A PORT_B      (both on 127.0.0.1)
 *
 * The names: every owner of the zone file, every name between an owner and the apex
 * (empty non-terminals), and for every owner "zz-nx.OWNER" (absent: NXDOMAIN, a
 * wildcard's, or below a cut). The types: A AAAA TXT MX NS SRV CNAME SOA DS ANY.
 * Each query goes over UDP with EDNS (1232), over TCP when truncated (ldns fallback).
 * Compared: RCODE, AA, TC, and the answer, authority and additional sections as sets
 * of RRs (canonical text: owner, TTL, class, type, RDATA; the OPT aside).
 * ANY (RFC 8482): each server answers one RRset of the name, the first of its own
 * order; when the two chose different types, B is asked for A's type and A's answer
 * must equal that (counted as any_choice). Prints the differences (the first 20) and
 * a summary line; exit 0 when none, 1 otherwise, 2 on usage or setup errors.
 */
#include <ldns/ldns.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const ldns_rr_type types[] = {
	LDNS_RR_TYPE_A,     LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_TXT, LDNS_RR_TYPE_MX,
	LDNS_RR_TYPE_NS,    LDNS_RR_TYPE_SRV,  LDNS_RR_TYPE_CNAME, LDNS_RR_TYPE_SOA,
	LDNS_RR_TYPE_DS,    LDNS_RR_TYPE_ANY,
};
#define NTYPES (sizeof(types) / sizeof(types[0]))

/* One answer as compared: header bits and three sections of sorted canonical text. */
struct ans {
	int rcode;
	bool aa, tc;
	char *sec[3];
	ldns_rr_type first_type; /* of the answer section's first RR; 0 none */
	size_t an_rrsets;        /* distinct (owner, type) in the answer section */
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *section(ldns_rr_list *l, size_t *rrsets)
{
	size_t n = ldns_rr_list_rr_count(l), len = 1, k = 0;
	char **v = calloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_OPT) {
			continue;
		}
		ldns_rr2canonical(rr);
		char *t = ldns_rr2str(rr);
		t[strcspn(t, "\n")] = '\0';
		len += strlen(t) + 3;
		v[k++] = t;
	}
	qsort(v, k, sizeof(*v), cmp_str);
	char *out = calloc(1, len);
	for (size_t i = 0; i < k; i++) {
		strcat(out, "\n  ");
		strcat(out, v[i]);
		free(v[i]);
	}
	free(v);
	if (rrsets != NULL) {
		ldns_rr_list *sorted = ldns_rr_list_clone(l);
		ldns_rr_list_sort(sorted);
		*rrsets = 0;
		for (size_t i = 0; i < ldns_rr_list_rr_count(sorted); i++) {
			ldns_rr *a = ldns_rr_list_rr(sorted, i);
			ldns_rr *b = i > 0 ? ldns_rr_list_rr(sorted, i - 1) : NULL;
			if (b == NULL || ldns_rr_get_type(a) != ldns_rr_get_type(b) ||
			    ldns_dname_compare(ldns_rr_owner(a), ldns_rr_owner(b)) != 0) {
				(*rrsets)++;
			}
		}
		ldns_rr_list_deep_free(sorted);
	}
	return out;
}

static ldns_resolver *resolver(int port)
{
	ldns_resolver *r = ldns_resolver_new();
	ldns_rdf *ip = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, "127.0.0.1");
	if (r == NULL || ip == NULL || ldns_resolver_push_nameserver(r, ip) != LDNS_STATUS_OK) {
		fprintf(stderr, "digcmp: cannot make a resolver\n");
		exit(2);
	}
	ldns_rdf_deep_free(ip);
	ldns_resolver_set_port(r, (uint16_t)port);
	ldns_resolver_set_recursive(r, false);
	ldns_resolver_set_dnssec(r, false);
	ldns_resolver_set_edns_udp_size(r, 1232);
	ldns_resolver_set_fallback(r, true);
	ldns_resolver_set_retry(r, 2);
	ldns_resolver_set_timeout(r, (struct timeval){2, 0});
	ldns_resolver_set_random(r, false);
	return r;
}

static bool ask(ldns_resolver *r, const ldns_rdf *name, ldns_rr_type t, struct ans *a)
{
	ldns_pkt *p = NULL;
	memset(a, 0, sizeof(*a));
	if (ldns_resolver_send(&p, r, name, t, LDNS_RR_CLASS_IN, 0) != LDNS_STATUS_OK ||
	    p == NULL) {
		return false;
	}
	a->rcode = ldns_pkt_get_rcode(p);
	a->aa = ldns_pkt_aa(p);
	a->tc = ldns_pkt_tc(p);
	a->sec[0] = section(ldns_pkt_answer(p), &a->an_rrsets);
	a->sec[1] = section(ldns_pkt_authority(p), NULL);
	a->sec[2] = section(ldns_pkt_additional(p), NULL);
	if (ldns_rr_list_rr_count(ldns_pkt_answer(p)) > 0) {
		a->first_type = ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(p), 0));
	}
	ldns_pkt_free(p);
	return true;
}

static void ans_free(struct ans *a)
{
	for (int i = 0; i < 3; i++) {
		free(a->sec[i]);
	}
}

static bool same(const struct ans *a, const struct ans *b, bool answer_only)
{
	if (answer_only) {
		return strcmp(a->sec[0], b->sec[0]) == 0;
	}
	return a->rcode == b->rcode && a->aa == b->aa && a->tc == b->tc &&
	       strcmp(a->sec[0], b->sec[0]) == 0 && strcmp(a->sec[1], b->sec[1]) == 0 &&
	       strcmp(a->sec[2], b->sec[2]) == 0;
}

static void show(const char *who, const struct ans *a)
{
	printf(" %s: rcode=%d aa=%d tc=%d\n  answer:%s\n  authority:%s\n  additional:%s\n", who,
	       a->rcode, a->aa, a->tc, a->sec[0], a->sec[1], a->sec[2]);
}

/* The names to ask: owners, their ancestors below the apex, and one absent name each;
 * sorted canonically, each once. */
struct names {
	ldns_rdf **v;
	size_t n, cap;
};

static void add_name(struct names *s, ldns_rdf *n)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = n;
}

static int cmp_name(const void *a, const void *b)
{
	return ldns_dname_compare(*(ldns_rdf *const *)a, *(ldns_rdf *const *)b);
}

static void names_of(const ldns_zone *z, const ldns_rdf *apex, struct names *s)
{
	ldns_rr_list *rrs = ldns_zone_rrs(z);
	ldns_rdf *nx = ldns_dname_new_frm_str("zz-nx");
	for (size_t i = 0; i <= ldns_rr_list_rr_count(rrs); i++) {
		ldns_rr *rr = i == 0 ? ldns_zone_soa(z) : ldns_rr_list_rr(rrs, i - 1);
		ldns_rdf *n = ldns_rdf_clone(ldns_rr_owner(rr));
		ldns_dname2canonical(n);
		add_name(s, ldns_dname_cat_clone(nx, n));
		while (ldns_dname_is_subdomain(n, apex)) {
			add_name(s, n);
			n = ldns_dname_left_chop(n);
		}
		add_name(s, n); /* the apex */
	}
	ldns_rdf_deep_free(nx);
	qsort(s->v, s->n, sizeof(*s->v), cmp_name);
	size_t k = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (k > 0 && ldns_dname_compare(s->v[k - 1], s->v[i]) == 0) {
			ldns_rdf_deep_free(s->v[i]);
		} else {
			s->v[k++] = s->v[i];
		}
	}
	s->n = k;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: digcmp ZONEFILE PORT_A PORT_B\n");
		return 2;
	}
	FILE *fp = fopen(argv[1], "r");
	ldns_zone *z = NULL;
	int line = 0;
	if (fp == NULL || ldns_zone_new_frm_fp_l(&z, fp, NULL, 3600, LDNS_RR_CLASS_IN, &line) !=
	                          LDNS_STATUS_OK) {
		fprintf(stderr, "digcmp: %s:%d: cannot read the zone\n", argv[1], line);
		return 2;
	}
	fclose(fp);
	ldns_rdf *apex = ldns_rdf_clone(ldns_rr_owner(ldns_zone_soa(z)));
	ldns_dname2canonical(apex);
	struct names names = {0};
	names_of(z, apex, &names);
	ldns_resolver *ra = resolver(atoi(argv[2])), *rb = resolver(atoi(argv[3]));
	unsigned long queries = 0, equal = 0, any_choice = 0, differ = 0, failed = 0;
	unsigned long by_rcode[24] = {0}, referrals = 0;
	for (size_t i = 0; i < names.n; i++) {
		const ldns_rdf *n = names.v[i];
		for (size_t t = 0; t < NTYPES; t++) {
			struct ans a, b, b2;
			queries++;
			if (!ask(ra, n, types[t], &a) || !ask(rb, n, types[t], &b)) {
				failed++;
				continue;
			}
			bool ok = same(&a, &b, false);
			if (!ok && types[t] == LDNS_RR_TYPE_ANY && a.an_rrsets == 1 &&
			    b.an_rrsets == 1 && a.first_type != b.first_type && a.rcode == b.rcode &&
			    a.aa == b.aa && strcmp(a.sec[1], b.sec[1]) == 0) {
				/* each chose another of the name's RRsets: B has A's too */
				if (ask(rb, n, a.first_type, &b2)) {
					ok = same(&a, &b2, true);
					any_choice += ok;
					ans_free(&b2);
				}
			} else if (ok) {
				equal++;
			}
			if (ok) {
				by_rcode[a.rcode & 15]++;
				referrals += !a.aa && a.rcode == 0;
			} else {
				if (differ < 20) {
					char *ns = ldns_rdf2str(n);
					char *ts = ldns_rr_type2str(types[t]);
					printf("DIFFER %s %s\n", ns, ts);
					show("A", &a);
					show("B", &b);
					free(ns);
					free(ts);
				}
				differ++;
			}
			ans_free(&a);
			ans_free(&b);
		}
	}
	printf("digcmp: names=%zu queries=%lu equal=%lu any_choice=%lu differ=%lu failed=%lu "
	       "noerror=%lu nxdomain=%lu referrals=%lu\n", names.n, queries,
	       equal, any_choice, differ, failed, by_rcode[0], by_rcode[3], referrals);
	ldns_resolver_deep_free(ra);
	ldns_resolver_deep_free(rb);
	for (size_t i = 0; i < names.n; i++) {
		ldns_rdf_deep_free(names.v[i]);
	}
	free(names.v);
	ldns_rdf_deep_free(apex);
	ldns_zone_deep_free(z);
	return differ == 0 && failed == 0 ? 0 : 1;
}
