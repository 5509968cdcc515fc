/* SPDX-License-Identifier: MIT */
/* tests/unit/testutil/msgbuild.c -- DNS responses from text, through ldns. */
#include "tests/unit/testutil/msgbuild.h"

#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "msgbuild: %s: %s\n", what, detail);
	abort();
}

size_t msgbuild(uint8_t *buf, size_t size, uint16_t id, uint8_t rcode, const char *qname,
                uint16_t qtype, int with_question, const char *const *rrs)
{
	ldns_pkt *pkt = ldns_pkt_new();
	if (pkt == NULL) {
		die("ldns_pkt_new", "out of memory");
	}
	ldns_pkt_set_id(pkt, id);
	ldns_pkt_set_qr(pkt, true);
	ldns_pkt_set_aa(pkt, true);
	ldns_pkt_set_rcode(pkt, rcode);
	if (with_question) {
		ldns_rr *q = ldns_rr_new();
		ldns_rdf *name = ldns_dname_new_frm_str(qname);
		if (q == NULL || name == NULL) {
			die("question", qname);
		}
		ldns_rr_set_owner(q, name);
		ldns_rr_set_type(q, qtype);
		ldns_rr_set_class(q, LDNS_RR_CLASS_IN);
		ldns_rr_set_question(q, true);
		ldns_pkt_push_rr(pkt, LDNS_SECTION_QUESTION, q);
	}
	for (size_t i = 0; rrs != NULL && rrs[i] != NULL; i++) {
		ldns_rr *rr = NULL;
		if (ldns_rr_new_frm_str(&rr, rrs[i], 3600, NULL, NULL) != LDNS_STATUS_OK) {
			die("bad record", rrs[i]);
		}
		ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, rr);
	}
	uint8_t *wire = NULL;
	size_t len = 0;
	if (ldns_pkt2wire(&wire, pkt, &len) != LDNS_STATUS_OK || len > size) {
		die("ldns_pkt2wire", "failed or too big");
	}
	memcpy(buf, wire, len);
	free(wire);
	ldns_pkt_free(pkt);
	return len;
}
