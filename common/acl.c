/* SPDX-License-Identifier: MIT */
/* common/acl.c -- CIDR matching and endpoint parsing. */
#include "common/acl.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void clear_host_bits(uint8_t *addr, size_t len, unsigned prefix)
{
	for (size_t i = 0; i < len; i++) {
		unsigned bits = i * 8 >= prefix ? 0 : (prefix - i * 8 >= 8 ? 8 : prefix - i * 8);
		addr[i] &= (uint8_t)(0xff00u >> bits);
	}
}

int acl_net_parse(const char *text, struct acl_net *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	size_t len = strlen(text);
	if (len == 0 || len >= sizeof(buf)) {
		return ZX_EFORMAT;
	}
	memcpy(buf, text, len + 1);
	char *slash = strchr(buf, '/');
	long prefix = -1;
	if (slash != NULL) {
		*slash = '\0';
		char *end = NULL;
		if (slash[1] < '0' || slash[1] > '9') {
			return ZX_EFORMAT;
		}
		prefix = strtol(slash + 1, &end, 10);
		if (*end != '\0') {
			return ZX_EFORMAT;
		}
	}
	struct acl_net n = {0};
	if (inet_pton(AF_INET, buf, n.addr) == 1) {
		n.family = AF_INET;
		if (prefix < 0) {
			prefix = 32;
		}
		if (prefix > 32) {
			return ZX_EFORMAT;
		}
		n.prefix = (uint8_t)prefix;
		clear_host_bits(n.addr, 4, n.prefix);
	} else if (inet_pton(AF_INET6, buf, n.addr) == 1) {
		n.family = AF_INET6;
		if (prefix < 0) {
			prefix = 128;
		}
		if (prefix > 128) {
			return ZX_EFORMAT;
		}
		n.prefix = (uint8_t)prefix;
		clear_host_bits(n.addr, 16, n.prefix);
	} else {
		return ZX_EFORMAT;
	}
	*out = n;
	return 0;
}

int acl_add(struct acl *acl, const char *text)
{
	struct acl_net n;
	int rc = acl_net_parse(text, &n);
	if (rc != 0) {
		return rc;
	}
	struct acl_net *nets = realloc(acl->nets, (acl->count + 1) * sizeof(*nets));
	if (nets == NULL) {
		return ZX_ENOMEM;
	}
	nets[acl->count++] = n;
	acl->nets = nets;
	return 0;
}

void acl_clear(struct acl *acl)
{
	free(acl->nets);
	acl->nets = NULL;
	acl->count = 0;
}

static bool prefix_equal(const uint8_t *a, const uint8_t *net, unsigned prefix)
{
	unsigned full = prefix / 8;
	if (memcmp(a, net, full) != 0) {
		return false;
	}
	unsigned rest = prefix % 8;
	if (rest == 0) {
		return true;
	}
	uint8_t mask = (uint8_t)(0xff00u >> rest);
	return (a[full] & mask) == net[full];
}

bool acl_net_match(const struct acl_net *net, const struct sockaddr *sa)
{
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		return net->family == AF_INET &&
		       prefix_equal((const uint8_t *)&in->sin_addr, net->addr, net->prefix);
	}
	if (sa->sa_family == AF_INET6) {
		const uint8_t *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (net->family == AF_INET6) {
			return prefix_equal(a, net->addr, net->prefix);
		}
		if (net->family == AF_INET && memcmp(a, v4mapped, 12) == 0) {
			return prefix_equal(a + 12, net->addr, net->prefix);
		}
	}
	return false;
}

bool acl_match(const struct acl *acl, const struct sockaddr *sa)
{
	for (size_t i = 0; i < acl->count; i++) {
		if (acl_net_match(&acl->nets[i], sa)) {
			return true;
		}
	}
	return false;
}

static int parse_port(const char *s, uint16_t *out)
{
	if (*s < '0' || *s > '9') {
		return ZX_EFORMAT;
	}
	char *end = NULL;
	long p = strtol(s, &end, 10);
	if (*end != '\0' || p < 0 || p > 65535) {
		return ZX_EFORMAT;
	}
	*out = (uint16_t)p;
	return 0;
}

int acl_endpoint_parse(const char *text, uint16_t default_port, struct sockaddr_storage *out,
                       socklen_t *out_len)
{
	char host[INET6_ADDRSTRLEN + 8];
	size_t len = strlen(text);
	if (len == 0 || len >= sizeof(host)) {
		return ZX_EFORMAT;
	}
	memcpy(host, text, len + 1);
	uint16_t port = default_port;
	char *at = strrchr(host, '@');
	if (at != NULL) {
		*at = '\0';
		if (parse_port(at + 1, &port) != 0) {
			return ZX_EFORMAT;
		}
	} else if (host[0] == '[') {
		char *close = strchr(host, ']');
		if (close == NULL) {
			return ZX_EFORMAT;
		}
		*close = '\0';
		if (close[1] == ':') {
			if (parse_port(close + 2, &port) != 0) {
				return ZX_EFORMAT;
			}
		} else if (close[1] != '\0') {
			return ZX_EFORMAT;
		}
		memmove(host, host + 1, strlen(host + 1) + 1);
	} else {
		char *colon = strchr(host, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) { /* v4:port, not bare v6 */
			*colon = '\0';
			if (parse_port(colon + 1, &port) != 0) {
				return ZX_EFORMAT;
			}
		}
	}
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		*out_len = sizeof(*in);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		*out_len = sizeof(*in6);
	} else {
		return ZX_EFORMAT;
	}
	*out = ss;
	return 0;
}

bool acl_endpoint_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family) {
		return false;
	}
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa_family != AF_INET6) {
		return false;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

const char *acl_addr_str(const struct sockaddr *sa, bool with_port, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];
	uint16_t port;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		port = ntohs(in6->sin6_port);
	} else {
		snprintf(buf, size, "?");
		return buf;
	}
	if (with_port) {
		snprintf(buf, size, "%s@%u", a, port);
	} else {
		snprintf(buf, size, "%s", a);
	}
	return buf;
}

/* Clear every bit of @p a (n bytes) past the first @p prefix. */
static void mask_bits(uint8_t *a, size_t n, unsigned prefix)
{
	for (size_t i = 0; i < n; i++) {
		unsigned keep = prefix > 8 * i ? prefix - 8 * (unsigned)i : 0;
		if (keep < 8) {
			a[i] &= (uint8_t)(0xffu << (8 - keep));
		}
	}
}

size_t acl_prefix_key(const struct sockaddr *sa, unsigned v4_prefix, unsigned v6_prefix,
                      uint8_t key[ACL_PREFIX_KEY_MAX])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const uint8_t *a4 = NULL;
	if (sa->sa_family == AF_INET) {
		a4 = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		const uint8_t *a6 = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		if (memcmp(a6, mapped, sizeof(mapped)) != 0) {
			key[0] = 6;
			memcpy(key + 1, a6, 16);
			mask_bits(key + 1, 16, v6_prefix > 128 ? 128 : v6_prefix);
			return 17;
		}
		a4 = a6 + 12;
	} else {
		return 0;
	}
	key[0] = 4;
	memcpy(key + 1, a4, 4);
	mask_bits(key + 1, 4, v4_prefix > 32 ? 32 : v4_prefix);
	return 5;
}
