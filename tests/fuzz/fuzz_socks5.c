/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_socks5.c -- libFuzzer target for the SOCKS5 client's parsers
 * (proto/socks5.c): what a proxy, or anything pretending to be one, answers.
 *
 * The first byte picks the parser: 0 the reply to a request, 1 a UDP relay
 * datagram's header, 2 the method selection, 3 the RFC 1929 status. Besides "no
 * crash, no overread" it checks the parsers' promises: a parsed reply's length is
 * within the input and equals what ZX_ETRUNC asked for; fed in the pieces a
 * non-blocking client reads (5 bytes, then what `need` says), the reply parses to
 * the same result as whole; only documented codes come back; an IP header
 * re-encodes to the same bytes.
 */
#include "proto/socks5.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reply(const uint8_t *d, size_t n)
{
	struct socks5_reply r, again;
	size_t need = 0;
	int rc = socks5_reply_parse(d, n, &r, &need);
	if (rc != 0 && rc != ZX_ETRUNC && rc != ZX_ESOCKS) {
		abort();
	}
	if (rc == 0 && (r.len > n || r.len != need || r.len > SOCKS5_REPLY_MAX)) {
		abort();
	}
	if (rc == ZX_ETRUNC && (need <= n || need > SOCKS5_REPLY_MAX)) {
		abort();
	}
	/* as a client reads it: never more than asked for */
	size_t have = n < 5 ? n : 5;
	int rc2;
	for (;;) {
		size_t need2 = 0;
		rc2 = socks5_reply_parse(d, have, &again, &need2);
		if (rc2 != ZX_ETRUNC || need2 > n) {
			break;
		}
		if (need2 <= have) {
			abort();
		}
		have = need2;
	}
	if ((rc == 0) != (rc2 == 0) || (rc == 0 && (again.len != r.len || again.rep != r.rep ||
	                                             memcmp(&again.bnd, &r.bnd, sizeof(r.bnd)) != 0))) {
		abort();
	}
}

static void check_udp(const uint8_t *d, size_t n)
{
	struct sockaddr_storage from;
	size_t hl = 0;
	int rc = socks5_udp_parse(d, n, &from, &hl);
	if (rc != 0 && rc != ZX_ETRUNC && rc != ZX_ESOCKS) {
		abort();
	}
	if (rc != 0) {
		return;
	}
	if (hl > n || hl < 7) {
		abort();
	}
	if (from.ss_family != AF_UNSPEC) {
		uint8_t b[SOCKS5_UDP_HDR_MAX];
		size_t len = 0;
		if (socks5_udp_hdr(b, (const struct sockaddr *)&from, &len) != 0 || len != hl ||
		    memcmp(b, d, len) != 0) {
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1) {
		return 0;
	}
	const uint8_t *d = data + 1;
	size_t n = size - 1;
	uint8_t m = 0;
	int rc;
	switch (data[0] & 3) {
	case 0:
		check_reply(d, n);
		break;
	case 1:
		check_udp(d, n);
		break;
	case 2:
		rc = socks5_method_parse(d, n, (data[0] & 4) != 0, &m);
		if ((rc != 0 && rc != ZX_ETRUNC && rc != ZX_ESOCKS && rc != ZX_ESOCKS_AUTH) ||
		    (rc == 0 && m != SOCKS5_METHOD_NONE && m != SOCKS5_METHOD_USERPASS)) {
			abort();
		}
		break;
	default:
		rc = socks5_auth_parse(d, n);
		if (rc != 0 && rc != ZX_ETRUNC && rc != ZX_ESOCKS && rc != ZX_ESOCKS_AUTH) {
			abort();
		}
		break;
	}
	return 0;
}
