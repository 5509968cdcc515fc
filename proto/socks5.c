/* SPDX-License-Identifier: MIT */
/* proto/socks5.c -- SOCKS5 (RFC 1928) and its username/password method (RFC 1929):
 * the client's messages and the proxy's replies, with bounds-checked cursors. */
#include "proto/socks5.h"

#include "common/wire.h"

#include <netinet/in.h>
#include <string.h>

size_t socks5_greeting(uint8_t *buf, bool userpass)
{
	buf[0] = SOCKS5_VERSION;
	buf[1] = userpass ? 2 : 1;
	buf[2] = SOCKS5_METHOD_NONE;
	if (userpass) {
		buf[3] = SOCKS5_METHOD_USERPASS;
		return 4;
	}
	return 3;
}

int socks5_method_parse(const uint8_t *buf, size_t len, bool userpass, uint8_t *method)
{
	if (len < 2) {
		return ZX_ETRUNC;
	}
	if (buf[0] != SOCKS5_VERSION) {
		return ZX_ESOCKS;
	}
	if (buf[1] == SOCKS5_METHOD_NOACCEPT) {
		return ZX_ESOCKS_AUTH;
	}
	if (buf[1] != SOCKS5_METHOD_NONE && !(userpass && buf[1] == SOCKS5_METHOD_USERPASS)) {
		return ZX_ESOCKS; /* a method we never offered */
	}
	*method = buf[1];
	return 0;
}

int socks5_auth_request(uint8_t *buf, const char *user, const char *pass, size_t *len)
{
	size_t ul = strlen(user), pl = strlen(pass);
	if (ul == 0 || ul > SOCKS5_CRED_MAX || pl == 0 || pl > SOCKS5_CRED_MAX) {
		return ZX_EINVAL;
	}
	struct wire_wr wr = wire_wr_init(buf, SOCKS5_AUTH_MAX);
	wire_wr_u8(&wr, SOCKS5_AUTH_VERSION);
	wire_wr_u8(&wr, (uint8_t)ul);
	wire_wr_bytes(&wr, user, ul);
	wire_wr_u8(&wr, (uint8_t)pl);
	wire_wr_bytes(&wr, pass, pl);
	*len = wire_wr_len(&wr);
	return 0;
}

int socks5_auth_parse(const uint8_t *buf, size_t len)
{
	if (len < 2) {
		return ZX_ETRUNC;
	}
	if (buf[0] != SOCKS5_AUTH_VERSION) {
		return ZX_ESOCKS;
	}
	return buf[1] == 0 ? 0 : ZX_ESOCKS_AUTH;
}

/* ATYP, address and port of @p sa. */
static int put_addr(struct wire_wr *wr, const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		wire_wr_u8(wr, SOCKS5_ATYP_IPV4);
		wire_wr_bytes(wr, &in->sin_addr, 4);
		wire_wr_u16(wr, ntohs(in->sin_port));
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		wire_wr_u8(wr, SOCKS5_ATYP_IPV6);
		wire_wr_bytes(wr, &in6->sin6_addr, 16);
		wire_wr_u16(wr, ntohs(in6->sin6_port));
		return 0;
	}
	return ZX_EINVAL;
}

int socks5_request(uint8_t *buf, uint8_t cmd, const struct sockaddr *dst, size_t *len)
{
	if (cmd != SOCKS5_CMD_CONNECT && cmd != SOCKS5_CMD_UDP_ASSOCIATE) {
		return ZX_EINVAL;
	}
	struct wire_wr wr = wire_wr_init(buf, SOCKS5_REQ_MAX);
	wire_wr_u8(&wr, SOCKS5_VERSION);
	wire_wr_u8(&wr, cmd);
	wire_wr_u8(&wr, 0);
	int rc = put_addr(&wr, dst);
	if (rc == 0) {
		*len = wire_wr_len(&wr);
	}
	return rc;
}

/* Bytes an address of type @p atyp takes after the ATYP byte, port included, given
 * the byte after ATYP (@p first: a domain's length). 0: unknown type or empty domain. */
static size_t addr_len(uint8_t atyp, uint8_t first)
{
	switch (atyp) {
	case SOCKS5_ATYP_IPV4:
		return 4 + 2;
	case SOCKS5_ATYP_IPV6:
		return 16 + 2;
	case SOCKS5_ATYP_DOMAIN:
		return first == 0 ? 0 : 1 + (size_t)first + 2;
	default:
		return 0;
	}
}

/* The address at rd (type already read) into @p out (AF_UNSPEC for a domain). */
static void get_addr(struct wire_rd *rd, uint8_t atyp, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (atyp == SOCKS5_ATYP_IPV4) {
		struct sockaddr_in *in = (struct sockaddr_in *)out;
		in->sin_family = AF_INET;
		const uint8_t *a = wire_rd_bytes(rd, 4);
		if (a != NULL) {
			memcpy(&in->sin_addr, a, 4);
		}
		in->sin_port = htons(wire_rd_u16(rd));
	} else if (atyp == SOCKS5_ATYP_IPV6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
		in6->sin6_family = AF_INET6;
		const uint8_t *a = wire_rd_bytes(rd, 16);
		if (a != NULL) {
			memcpy(&in6->sin6_addr, a, 16);
		}
		in6->sin6_port = htons(wire_rd_u16(rd));
	} else {
		out->ss_family = AF_UNSPEC;
		wire_rd_skip(rd, wire_rd_u8(rd));
		(void)wire_rd_u16(rd);
	}
}

int socks5_reply_parse(const uint8_t *buf, size_t len, struct socks5_reply *out, size_t *need)
{
	/* VER REP RSV ATYP, then at least one byte of the address */
	if (len >= 1 && buf[0] != SOCKS5_VERSION) {
		return ZX_ESOCKS;
	}
	if (len >= 3 && buf[2] != 0) {
		return ZX_ESOCKS;
	}
	if (len < 5) {
		if (len >= 4 && addr_len(buf[3], 1) == 0) {
			return ZX_ESOCKS;
		}
		*need = 5;
		return ZX_ETRUNC;
	}
	size_t al = addr_len(buf[3], buf[4]);
	if (al == 0) {
		return ZX_ESOCKS;
	}
	size_t total = 4 + al;
	*need = total;
	if (len < total) {
		return ZX_ETRUNC;
	}
	struct wire_rd rd = wire_rd_init(buf + 4, al);
	out->rep = buf[1];
	out->atyp = buf[3];
	get_addr(&rd, buf[3], &out->bnd);
	out->len = total;
	return rd.err; /* 0: al bytes were there */
}

int socks5_rep_error(uint8_t rep)
{
	switch (rep) {
	case SOCKS5_REP_OK:
		return 0;
	case SOCKS5_REP_NET_UNREACH:
	case SOCKS5_REP_HOST_UNREACH:
	case SOCKS5_REP_CONN_REFUSED:
	case SOCKS5_REP_TTL_EXPIRED:
		return ZX_ESOCKS_UNREACHABLE;
	default:
		return ZX_ESOCKS_REFUSED;
	}
}

const char *socks5_rep_str(uint8_t rep)
{
	static const char *const text[] = {
		"succeeded", "general SOCKS server failure", "connection not allowed by ruleset",
		"network unreachable", "host unreachable", "connection refused", "TTL expired",
		"command not supported", "address type not supported",
	};
	return rep < sizeof(text) / sizeof(text[0]) ? text[rep] : "unassigned";
}

int socks5_udp_hdr(uint8_t *buf, const struct sockaddr *dst, size_t *len)
{
	struct wire_wr wr = wire_wr_init(buf, SOCKS5_UDP_HDR_MAX);
	wire_wr_u16(&wr, 0); /* RSV */
	wire_wr_u8(&wr, 0);  /* FRAG: a whole datagram */
	int rc = put_addr(&wr, dst);
	if (rc == 0) {
		*len = wire_wr_len(&wr);
	}
	return rc;
}

int socks5_udp_parse(const uint8_t *buf, size_t len, struct sockaddr_storage *from,
                     size_t *hdrlen)
{
	if (len < 5) {
		return ZX_ETRUNC;
	}
	if (buf[0] != 0 || buf[1] != 0 || buf[2] != 0) {
		return ZX_ESOCKS;
	}
	size_t al = addr_len(buf[3], buf[4]);
	if (al == 0) {
		return ZX_ESOCKS;
	}
	if (len < 4 + al) {
		return ZX_ETRUNC;
	}
	struct wire_rd rd = wire_rd_init(buf + 4, al);
	struct sockaddr_storage ss;
	get_addr(&rd, buf[3], &ss);
	if (rd.err != 0) {
		return rd.err;
	}
	*from = ss;
	*hdrlen = 4 + al;
	return 0;
}
