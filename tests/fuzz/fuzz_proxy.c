/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_proxy.c -- libFuzzer target for the PROXY v1/v2 parser.
 *
 * Besides "no crash, no overread", it checks the parser's promises: on success
 * the header length is within the input, TLV iteration stays inside the header,
 * and a parsed PROXY header re-encodes to one that parses to the same source.
 */
#include "proto/proxy.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reencode(const struct proxy_hdr *h)
{
	uint8_t buf[PROXY_V2_FIXLEN + 36];
	struct proxy_hdr again;
	int n = proxy_write_v2((const struct sockaddr *)&h->src, (const struct sockaddr *)&h->dst,
	                       h->transport, NULL, 0, false, buf, sizeof(buf));
	if (n <= 0 || proxy_parse(buf, (size_t)n, &again) != 0 ||
	    memcmp(&again.src, &h->src, sizeof(h->src)) != 0) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_hdr h;
	if (proxy_parse(data, size, &h) != 0) {
		return 0;
	}
	if (h.len == 0 || h.len > size || (h.tlv != NULL && h.tlv + h.tlv_len > data + h.len)) {
		abort();
	}
	size_t pos = 0, seen = 0;
	struct proxy_tlv t;
	while (proxy_tlv_next(&h, &pos, &t) == 1) {
		if (t.value + t.len > h.tlv + h.tlv_len) {
			abort();
		}
		seen++;
	}
	if (!h.local) {
		check_reencode(&h);
	}
	return (int)(seen & 0);
}
