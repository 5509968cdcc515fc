/* SPDX-License-Identifier: MIT */
/* common/tsig.c -- TSIG algorithms, and the TSIG processing of DNS messages (RFC 8945). */
#include "common/tsig.h"

#include <strings.h>
#include <string.h>

struct alg_info {
	const char *name;     /**< short name, as in config files */
	const uint8_t *wire;  /**< the algorithm name in a TSIG record (canonical) */
	size_t wire_len;
	size_t mac_len;
};

#define WIRE(s) (const uint8_t *)(s), sizeof(s)

static const struct alg_info algs[] = {
	[TSIG_HMAC_MD5] = {"hmac-md5", WIRE("\x08hmac-md5\x07sig-alg\x03reg\x03int"), 16},
	[TSIG_HMAC_SHA1] = {"hmac-sha1", WIRE("\x09hmac-sha1"), 20},
	[TSIG_HMAC_SHA224] = {"hmac-sha224", WIRE("\x0bhmac-sha224"), 28},
	[TSIG_HMAC_SHA256] = {"hmac-sha256", WIRE("\x0bhmac-sha256"), 32},
	[TSIG_HMAC_SHA384] = {"hmac-sha384", WIRE("\x0bhmac-sha384"), 48},
	[TSIG_HMAC_SHA512] = {"hmac-sha512", WIRE("\x0bhmac-sha512"), 64},
};

#define NALGS (sizeof(algs) / sizeof(algs[0]))

int tsig_alg_from_name(const char *text, enum tsig_alg *out)
{
	size_t n = strlen(text);
	if (n > 0 && text[n - 1] == '.') {
		n--;
	}
	for (size_t i = 0; i < NALGS; i++) {
		size_t m = strlen(algs[i].name);
		if (n == m && strncasecmp(text, algs[i].name, n) == 0) {
			*out = (enum tsig_alg)i;
			return 0;
		}
	}
	if (n == strlen("hmac-md5.sig-alg.reg.int") &&
	    strncasecmp(text, "hmac-md5.sig-alg.reg.int", n) == 0) {
		*out = TSIG_HMAC_MD5;
		return 0;
	}
	return ZX_ENOENT;
}

const char *tsig_alg_name(enum tsig_alg alg)
{
	return (size_t)alg < NALGS ? algs[alg].name : "unknown";
}

size_t tsig_alg_mac_len(enum tsig_alg alg)
{
	return (size_t)alg < NALGS ? algs[alg].mac_len : 0;
}
