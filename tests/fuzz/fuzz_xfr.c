/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_xfr.c -- libFuzzer target for the IXFR/AXFR answer stream.
 *
 * Input: byte 0 picks the query (even: AXFR, odd: IXFR from serial 2), bytes
 * 1-2 the query ID, then a TCP stream: 2-byte lengths and messages, fed to
 * xfrstream for zone "example.com." until it ends or fails. Besides "no crash,
 * no overread", it checks the stream's promises: events come in a legal order
 * (BEGIN first, END or UPTODATE last and only once), every record is inside
 * the zone with an uncompressed owner, and nothing follows the end.
 */
#include "common/dname.h"
#include "common/dnsmsg.h"
#include "proto/xfrstream.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t zone[] = "\x07" "example" "\x03" "com";

struct seen {
	int begun, ended;
	uint64_t events;
};

static int check(void *arg, enum xfrstream_ev ev, const struct xfrstream_rr *rr)
{
	struct seen *s = arg;
	if (s->ended || dname_wire_len(rr->owner, rr->owner_len) != (int)rr->owner_len ||
	    !dname_is_subdomain(rr->owner, zone)) {
		abort();
	}
	switch (ev) {
	case XFRSTREAM_BEGIN_AXFR:
	case XFRSTREAM_BEGIN_IXFR:
		if (s->begun) {
			abort();
		}
		s->begun = 1;
		break;
	case XFRSTREAM_UPTODATE:
		if (s->begun) {
			abort();
		}
		s->ended = 1;
		break;
	case XFRSTREAM_END:
		s->ended = 1;
		/* fall through */
	default:
		if (!s->begun) {
			abort();
		}
	}
	s->events++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xfrstream st;
	struct seen s = {0};
	if (size < 3) {
		return 0;
	}
	struct xfrstream_cfg cfg = {
		.zone = zone, .qtype = (data[0] & 1) ? DNS_T_IXFR : DNS_T_AXFR,
		.id = (uint16_t)(data[1] << 8 | data[2]), .our_serial = 2, .max_records = 100000,
		.cb = check, .arg = &s,
	};
	if (xfrstream_init(&st, &cfg) != 0) {
		abort();
	}
	size_t pos = 3;
	int rc = 0;
	while (rc == 0 && size - pos >= 2) {
		size_t len = (size_t)data[pos] << 8 | data[pos + 1];
		pos += 2;
		if (len > size - pos) {
			break;
		}
		rc = xfrstream_feed(&st, data + pos, len);
		pos += len;
	}
	/* done means ended; an end followed by junk is an error, never "more" */
	if ((rc == 1 && !s.ended) || (rc == 0 && s.ended) ||
	    (rc == 1 && xfrstream_feed(&st, data, 0) != ZX_EXFR)) {
		abort();
	}
	return 0;
}
