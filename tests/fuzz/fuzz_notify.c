/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_notify.c -- libFuzzer target for notifyd's NOTIFY decision.
 *
 * Input: byte 0 picks the real source (inside or outside the zones' notify-from,
 * IPv4 or IPv6) and the clock (see fuzz_now(): a signed seed's MAC verifies), the
 * rest is the DNS message as notify_decide() gets it from the listener. Besides
 * "no crash, no overread", it checks the decision's promises: a reply is never
 * longer than the request (no amplification), carries the request's ID and QR,
 * an accepted NOTIFY names a configured zone and is answered NOERROR, and
 * nothing is answered to a message without a readable header or to a response.
 */
#include "notifyd/notify.h"

#include "common/acl.h"
#include "common/cfg/cfg.h"
#include "common/dnsmsg.h"
#include "tests/fuzz/fuzz_util.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the keys of tests/fuzz/gen_corpus.py */
static const char yaml[] =
	"keys:\n"
	"  - { name: k1, algorithm: hmac-sha256, secret: \"c2VjcmV0LW9uZS1zZWNyZXQtb25lLXNlY3JldC1vbmU=\" }\n"
	"  - { name: k2, algorithm: hmac-sha1, secret: \"dHdvLXR3by10d28tdHdvLXR3bw==\" }\n"
	"  - { name: k5, algorithm: hmac-md5, secret: \"Zml2ZS1maXZlLWZpdmU=\" }\n"
	"zone-defaults:\n"
	"  primaries: [ \"192.0.2.1@53\" ]\n"
	"  notify-from: [ \"192.0.2.0/24\", \"2001:db8::/32\" ]\n"
	"zones:\n"
	"  - { name: example.com, key: k1 }\n"
	"  - { name: open.test }\n"
	"  - { name: two.test, notify-keys: [ k1, k2 ] }\n"
	"  - { name: md5.test, notify-keys: [ k5 ] }\n";

static const char *const sources[] = {"192.0.2.53@5300", "198.51.100.7@53", "2001:db8::5@53",
                                      "::1@53"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cfg *cfg;
	static struct sockaddr_storage src[4];
	if (cfg == NULL) {
		cfg = fuzz_cfg(yaml);
		for (size_t i = 0; i < 4; i++) {
			socklen_t sl;
			if (acl_endpoint_parse(sources[i], 53, &src[i], &sl) != 0) {
				abort();
			}
		}
	}
	if (size < 1) {
		return 0;
	}
	struct fuzz_in in = {data, size};
	uint8_t sel = fuzz_u8(&in);
	struct notify_env env = {.cfg = cfg};
	struct notify_in req = {.msg = in.p, .len = in.n, .src = (struct sockaddr *)&src[sel & 3],
	                        .now_s = fuzz_now(in.p, in.n, (uint8_t)(sel >> 2)), .now_ms = 1000};
	uint8_t reply[NOTIFY_REPLY_MAX];
	struct notify_out out;
	if (notify_decide(&env, &req, reply, sizeof(reply), &out) != 0) {
		abort(); /* only a bad cap or OpenSSL out of memory may fail */
	}
	if (out.outcome >= NOTIFY_OUTCOME_COUNT) {
		abort();
	}
	if (!out.reply) {
		return 0;
	}
	struct dns_hdr h;
	if (out.reply_len > in.n || out.reply_len > sizeof(reply) || in.n < 12 ||
	    dnsmsg_hdr_parse(reply, out.reply_len, &h) != 0 || h.id != out.id ||
	    (h.flags & DNS_FLAG_QR) == 0 || out.outcome == NOTIFY_SILENT ||
	    out.outcome == NOTIFY_RESPONSE || (in.p[2] & 0x80) != 0) {
		abort();
	}
	if (out.outcome == NOTIFY_ACCEPTED &&
	    (out.zone == NULL || (h.flags & 0xf) != DNS_RC_NOERROR ||
	     cfg_zone_find(cfg, out.zone->name) != out.zone)) {
		abort();
	}
	return 0;
}
