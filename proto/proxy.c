/* SPDX-License-Identifier: MIT */
/* proto/proxy.c -- PROXY protocol v1/v2 decoding and encoding.
 *
 * The parser is strict: a trusted proxy that sends something odd is either
 * misconfigured or not the proxy we think it is, and the address it claims
 * feeds the ACL. So lengths must tile exactly and texts must be canonical.
 */
#include "proto/proxy.h"

#include "common/wire.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static const uint8_t v2_sig[PROXY_SIG_PEEK] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                              0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
static const char v1_sig[] = "PROXY ";
#define V1_SIGLEN 6

#define V2_CMD_LOCAL 0x0
#define V2_CMD_PROXY 0x1
#define V2_FAM_UNSPEC 0x0
#define V2_FAM_INET 0x1
#define V2_FAM_INET6 0x2
#define V2_FAM_UNIX 0x3
#define V2_INET_LEN 12
#define V2_INET6_LEN 36
#define V2_MAXLEN (PROXY_V2_FIXLEN + 65535)

/* Castagnoli polynomial, reflected. A table costs 1 KiB and headers are tiny,
 * so the bitwise form is plenty. */
uint32_t proxy_crc32c(uint32_t crc, const uint8_t *buf, size_t len)
{
	crc = ~crc;
	for (size_t i = 0; i < len; i++) {
		crc ^= buf[i];
		for (int k = 0; k < 8; k++) {
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
		}
	}
	return ~crc;
}

/* ---- v1 ---------------------------------------------------------------- */

/* A decimal port: 1-5 digits, no leading zero (except "0"), <= 65535. */
static int v1_port(const char *s, size_t n, uint16_t *out)
{
	if (n == 0 || n > 5 || (n > 1 && s[0] == '0')) {
		return ZX_EFORMAT;
	}
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return ZX_EFORMAT;
		}
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535) {
		return ZX_EFORMAT;
	}
	*out = (uint16_t)v;
	return 0;
}

/* One address token of family @p af into @p ss (port set later). */
static int v1_addr(int af, const char *s, size_t n, struct sockaddr_storage *ss)
{
	char tmp[INET6_ADDRSTRLEN];
	if (n == 0 || n >= sizeof(tmp)) {
		return ZX_EFORMAT;
	}
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	memset(ss, 0, sizeof(*ss));
	void *dst = af == AF_INET ? (void *)&((struct sockaddr_in *)ss)->sin_addr
	                          : (void *)&((struct sockaddr_in6 *)ss)->sin6_addr;
	if (inet_pton(af, tmp, dst) != 1) {
		return ZX_EFORMAT;
	}
	ss->ss_family = (sa_family_t)af;
	return 0;
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET) {
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	} else {
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	}
}

/* Split "a b c d" (exactly four tokens, single spaces) into pointers/lengths. */
static int v1_tokens(const char *s, size_t n, const char *tok[4], size_t tlen[4])
{
	size_t start = 0;
	int k = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != ' ') {
			continue;
		}
		if (k == 4 || i == start) {
			return ZX_EFORMAT;
		}
		tok[k] = s + start;
		tlen[k++] = i - start;
		start = i + 1;
	}
	return k == 4 ? 0 : ZX_EFORMAT;
}

/* @p line is after "PROXY " and before CRLF. */
static int v1_body(const char *line, size_t n, struct proxy_hdr *h)
{
	if (n >= 7 && memcmp(line, "UNKNOWN", 7) == 0 && (n == 7 || line[7] == ' ')) {
		h->local = true;
		return 0;
	}
	int af;
	if (n > 5 && memcmp(line, "TCP4 ", 5) == 0) {
		af = AF_INET;
	} else if (n > 5 && memcmp(line, "TCP6 ", 5) == 0) {
		af = AF_INET6;
	} else {
		return ZX_EFORMAT;
	}
	const char *tok[4];
	size_t tlen[4];
	uint16_t sport, dport;
	int rc = v1_tokens(line + 5, n - 5, tok, tlen);
	if (rc == 0) {
		rc = v1_addr(af, tok[0], tlen[0], &h->src);
	}
	if (rc == 0) {
		rc = v1_addr(af, tok[1], tlen[1], &h->dst);
	}
	if (rc == 0) {
		rc = v1_port(tok[2], tlen[2], &sport);
	}
	if (rc == 0) {
		rc = v1_port(tok[3], tlen[3], &dport);
	}
	if (rc == 0) {
		set_port(&h->src, sport);
		set_port(&h->dst, dport);
	}
	return rc;
}

static int parse_v1(const uint8_t *buf, size_t len, struct proxy_hdr *out)
{
	size_t lim = len < PROXY_V1_MAXLEN ? len : PROXY_V1_MAXLEN;
	size_t cr = 0;
	while (cr + 1 < lim && !(buf[cr] == '\r' && buf[cr + 1] == '\n')) {
		cr++;
	}
	if (cr + 1 >= lim) {
		return len >= PROXY_V1_MAXLEN ? ZX_EFORMAT : ZX_ETRUNC;
	}
	struct proxy_hdr h = {.version = 1, .transport = PROXY_TRANSPORT_STREAM};
	int rc = v1_body((const char *)buf + V1_SIGLEN, cr - V1_SIGLEN, &h);
	if (rc != 0) {
		return rc;
	}
	h.len = cr + 2;
	*out = h;
	return 0;
}

/* ---- v2 ---------------------------------------------------------------- */

/* TLVs must tile @p n bytes exactly; a CRC32C TLV must match the header. */
static int v2_tlvs(const uint8_t *hdr, size_t hdr_len, size_t off)
{
	struct wire_rd rd = wire_rd_init(hdr, hdr_len);
	wire_rd_skip(&rd, off);
	while (rd.err == 0 && wire_rd_left(&rd) > 0) {
		uint8_t type = wire_rd_u8(&rd);
		uint16_t vlen = wire_rd_u16(&rd);
		size_t voff = wire_rd_offset(&rd);
		wire_rd_skip(&rd, vlen);
		if (rd.err != 0 || type != PROXY_TLV_CRC32C) {
			continue;
		}
		if (vlen != 4) {
			return ZX_EFORMAT;
		}
		static const uint8_t zero[4] = {0};
		uint32_t crc = proxy_crc32c(0, hdr, voff);
		crc = proxy_crc32c(crc, zero, 4);
		crc = proxy_crc32c(crc, hdr + voff + 4, hdr_len - voff - 4);
		const uint8_t *v = hdr + voff;
		uint32_t got = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
		if (crc != got) {
			return ZX_EFORMAT;
		}
	}
	return rd.err != 0 ? ZX_EFORMAT : 0;
}

static void v2_addrs(int fam, const uint8_t *a, struct proxy_hdr *h)
{
	if (fam == V2_FAM_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&h->src;
		struct sockaddr_in *d = (struct sockaddr_in *)&h->dst;
		s->sin_family = d->sin_family = AF_INET;
		memcpy(&s->sin_addr, a, 4);
		memcpy(&d->sin_addr, a + 4, 4);
		memcpy(&s->sin_port, a + 8, 2);
		memcpy(&d->sin_port, a + 10, 2);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&h->src;
		struct sockaddr_in6 *d = (struct sockaddr_in6 *)&h->dst;
		s->sin6_family = d->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, a, 16);
		memcpy(&d->sin6_addr, a + 16, 16);
		memcpy(&s->sin6_port, a + 32, 2);
		memcpy(&d->sin6_port, a + 34, 2);
	}
}

static int parse_v2(const uint8_t *buf, size_t len, struct proxy_hdr *out)
{
	if (len < PROXY_V2_FIXLEN) {
		return ZX_ETRUNC;
	}
	unsigned ver = buf[12] >> 4, cmd = buf[12] & 0xfu;
	unsigned fam = buf[13] >> 4, tp = buf[13] & 0xfu;
	size_t total = PROXY_V2_FIXLEN + ((size_t)buf[14] << 8 | buf[15]);
	if (ver != 2 || cmd > V2_CMD_PROXY || fam > V2_FAM_UNIX || tp > PROXY_TRANSPORT_DGRAM) {
		return ZX_EFORMAT;
	}
	if (len < total) {
		return ZX_ETRUNC;
	}
	struct proxy_hdr h = {.version = 2, .transport = (enum proxy_transport)tp, .len = total};
	if (cmd == V2_CMD_LOCAL || fam == V2_FAM_UNSPEC) {
		/* The spec says to ignore the whole address block here. */
		h.local = true;
		*out = h;
		return 0;
	}
	if (fam == V2_FAM_UNIX) {
		return ZX_EFORMAT;
	}
	size_t alen = fam == V2_FAM_INET ? V2_INET_LEN : V2_INET6_LEN;
	if (total < PROXY_V2_FIXLEN + alen) {
		return ZX_EFORMAT;
	}
	int rc = v2_tlvs(buf, total, PROXY_V2_FIXLEN + alen);
	if (rc != 0) {
		return rc;
	}
	v2_addrs((int)fam, buf + PROXY_V2_FIXLEN, &h);
	if (total > PROXY_V2_FIXLEN + alen) {
		h.tlv = buf + PROXY_V2_FIXLEN + alen;
		h.tlv_len = total - PROXY_V2_FIXLEN - alen;
	}
	*out = h;
	return 0;
}

int proxy_parse(const uint8_t *buf, size_t len, struct proxy_hdr *out)
{
	size_t n = len < PROXY_SIG_PEEK ? len : PROXY_SIG_PEEK;
	if (len > 0 && memcmp(buf, v2_sig, n) == 0) {
		return len < PROXY_SIG_PEEK ? ZX_ETRUNC : parse_v2(buf, len, out);
	}
	n = len < V1_SIGLEN ? len : V1_SIGLEN;
	if (len > 0 && memcmp(buf, v1_sig, n) == 0) {
		return len < V1_SIGLEN ? ZX_ETRUNC : parse_v1(buf, len, out);
	}
	return ZX_EPROXY;
}

int proxy_tlv_next(const struct proxy_hdr *hdr, size_t *pos, struct proxy_tlv *tlv)
{
	if (hdr->tlv == NULL || *pos + 3 > hdr->tlv_len) {
		return 0;
	}
	const uint8_t *p = hdr->tlv + *pos;
	tlv->type = p[0];
	tlv->len = (uint16_t)(p[1] << 8 | p[2]);
	tlv->value = p + 3;
	*pos += 3u + tlv->len;
	return 1;
}

/* ---- writers ----------------------------------------------------------- */

static int ip_pair(const struct sockaddr *src, const struct sockaddr *dst)
{
	if (src->sa_family != dst->sa_family ||
	    (src->sa_family != AF_INET && src->sa_family != AF_INET6)) {
		return ZX_EINVAL;
	}
	return 0;
}

int proxy_write_v1(const struct sockaddr *src, const struct sockaddr *dst, uint8_t *buf,
                   size_t size)
{
	char line[PROXY_V1_MAXLEN + 1];
	int n;
	if (src == NULL || dst == NULL) {
		n = snprintf(line, sizeof(line), "PROXY UNKNOWN\r\n");
	} else if (ip_pair(src, dst) != 0) {
		return ZX_EINVAL;
	} else {
		char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
		bool v4 = src->sa_family == AF_INET;
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)src;
		const struct sockaddr_in *d4 = (const struct sockaddr_in *)dst;
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)src;
		const struct sockaddr_in6 *d6 = (const struct sockaddr_in6 *)dst;
		inet_ntop(src->sa_family, v4 ? (const void *)&s4->sin_addr : &s6->sin6_addr, a,
		          sizeof(a));
		inet_ntop(src->sa_family, v4 ? (const void *)&d4->sin_addr : &d6->sin6_addr, b,
		          sizeof(b));
		n = snprintf(line, sizeof(line), "PROXY TCP%c %s %s %u %u\r\n", v4 ? '4' : '6', a,
		             b, ntohs(v4 ? s4->sin_port : s6->sin6_port),
		             ntohs(v4 ? d4->sin_port : d6->sin6_port));
	}
	if (n < 0 || (size_t)n > size) {
		return ZX_ELIMIT;
	}
	memcpy(buf, line, (size_t)n);
	return n;
}

static void v2_put_addrs(struct wire_wr *wr, const struct sockaddr *src,
                         const struct sockaddr *dst)
{
	if (src->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)src;
		const struct sockaddr_in *d = (const struct sockaddr_in *)dst;
		wire_wr_bytes(wr, &s->sin_addr, 4);
		wire_wr_bytes(wr, &d->sin_addr, 4);
		wire_wr_bytes(wr, &s->sin_port, 2);
		wire_wr_bytes(wr, &d->sin_port, 2);
	} else {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)src;
		const struct sockaddr_in6 *d = (const struct sockaddr_in6 *)dst;
		wire_wr_bytes(wr, &s->sin6_addr, 16);
		wire_wr_bytes(wr, &d->sin6_addr, 16);
		wire_wr_bytes(wr, &s->sin6_port, 2);
		wire_wr_bytes(wr, &d->sin6_port, 2);
	}
}

int proxy_write_v2(const struct sockaddr *src, const struct sockaddr *dst,
                   enum proxy_transport transport, const uint8_t *tlv, size_t tlv_len,
                   bool crc32c, uint8_t *buf, size_t size)
{
	if ((src == NULL) != (dst == NULL) || (src != NULL && ip_pair(src, dst) != 0)) {
		return ZX_EINVAL;
	}
	size_t alen = src == NULL ? 0 : src->sa_family == AF_INET ? V2_INET_LEN : V2_INET6_LEN;
	size_t body = alen + tlv_len + (crc32c ? 7 : 0);
	if (body > 65535) {
		return ZX_ELIMIT;
	}
	unsigned fam = src == NULL ? V2_FAM_UNSPEC
	                           : src->sa_family == AF_INET ? V2_FAM_INET : V2_FAM_INET6;
	struct wire_wr wr = wire_wr_init(buf, size);
	wire_wr_bytes(&wr, v2_sig, sizeof(v2_sig));
	wire_wr_u8(&wr, (uint8_t)(0x20 | (src == NULL ? V2_CMD_LOCAL : V2_CMD_PROXY)));
	wire_wr_u8(&wr, (uint8_t)(fam << 4 | ((unsigned)transport & 0xfu)));
	wire_wr_u16(&wr, (uint16_t)body);
	if (src != NULL) {
		v2_put_addrs(&wr, src, dst);
	}
	wire_wr_bytes(&wr, tlv, tlv_len);
	if (crc32c) {
		wire_wr_u8(&wr, PROXY_TLV_CRC32C);
		wire_wr_u16(&wr, 4);
		wire_wr_u32(&wr, 0);
	}
	if (wr.err != 0) {
		return wr.err;
	}
	size_t n = wire_wr_len(&wr);
	if (crc32c) {
		uint32_t crc = proxy_crc32c(0, buf, n);
		struct wire_wr fix = wire_wr_init(buf + n - 4, 4);
		wire_wr_u32(&fix, crc);
	}
	return (int)n;
}
