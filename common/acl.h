/* SPDX-License-Identifier: MIT */
/* common/acl.h -- socket addresses and CIDR access lists (IPv4 and IPv6).
 *
 * An acl is a list of networks ("192.0.2.0/24", "2001:db8::/32", "127.0.0.1");
 * a source matches when it falls in any of them. IPv4-mapped IPv6 sources
 * (::ffff:192.0.2.1, as a dual-stack socket reports them) match IPv4 networks.
 * Also parses "addr@port" and "addr:port"/"[v6]:port" endpoints, the forms the
 * config uses.
 *
 * Threading: an acl is read-only after it is built; share it freely.
 */
#ifndef ZX_COMMON_ACL_H
#define ZX_COMMON_ACL_H

#include "common/err.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/** One network: family AF_INET or AF_INET6, address bytes, prefix length. */
struct acl_net {
	int family;
	uint8_t addr[16]; /**< 4 bytes used for AF_INET; host bits are zero */
	uint8_t prefix;   /**< 0..32 or 0..128 */
};

struct acl {
	struct acl_net *nets; /**< owned */
	size_t count;
};

/**
 * Parse "addr" or "addr/len" into @p out (host bits are cleared).
 * @param text borrowed
 * @return 0; ZX_EFORMAT when it is not an address or the length is out of range
 *         (@p out untouched)
 */
ZX_MUSTCHECK int acl_net_parse(const char *text, struct acl_net *out);

/**
 * Append one network to @p acl.
 * @return 0; ZX_EFORMAT as acl_net_parse(); ZX_ENOMEM
 */
ZX_MUSTCHECK int acl_add(struct acl *acl, const char *text);

/** Release the list; @p acl becomes empty. acl_clear on an empty acl does nothing. */
void acl_clear(struct acl *acl);

/** True when @p sa (AF_INET or AF_INET6, borrowed) is inside any network of @p acl. */
bool acl_match(const struct acl *acl, const struct sockaddr *sa);

/** True when @p sa is inside @p net. */
bool acl_net_match(const struct acl_net *net, const struct sockaddr *sa);

/**
 * Parse an endpoint: "192.0.2.1@53", "::1@5353", "[::1]:53", "127.0.0.1:53", or a
 * bare address (then @p default_port is used).
 * @param[out] out     the address with its port; untouched on error
 * @param[out] out_len sizeof the sockaddr kind written
 * @return 0; ZX_EFORMAT when the text is not such an endpoint
 */
ZX_MUSTCHECK int acl_endpoint_parse(const char *text, uint16_t default_port,
                                    struct sockaddr_storage *out, socklen_t *out_len);

/**
 * Format @p sa as "addr" (with_port false) or "addr@port" into @p buf.
 * @return @p buf; "?" when the family is unknown
 */
const char *acl_addr_str(const struct sockaddr *sa, bool with_port, char *buf, size_t size);

/** True when @p a and @p b are the same AF_INET/AF_INET6 address and port. */
bool acl_endpoint_equal(const struct sockaddr *a, const struct sockaddr *b);

/** Buffer size that holds any acl_addr_str() result. */
#define ACL_ADDRSTRLEN (INET6_ADDRSTRLEN + 8)

/** Bytes an acl_prefix_key() result may take: a family byte and 16 address bytes. */
#define ACL_PREFIX_KEY_MAX 17

/**
 * The key that groups sources by network, for per-source limits: the family
 * (4 or 6), then the address with every bit past the prefix cleared. An
 * IPv4-mapped IPv6 source counts as the IPv4 address. Port ignored. So with
 * @p v6_prefix 64 every address of one /64 (what one customer, or one attacker,
 * gets) shares one key, and with @p v4_prefix 32 each IPv4 address has its own.
 * @param sa          AF_INET or AF_INET6; borrowed
 * @param v4_prefix   0..32 (larger counts as 32)
 * @param v6_prefix   0..128 (larger counts as 128)
 * @param[out] key    ACL_PREFIX_KEY_MAX bytes of room
 * @return the key's length: 5 (IPv4) or 17 (IPv6); 0 for another family (key untouched)
 */
size_t acl_prefix_key(const struct sockaddr *sa, unsigned v4_prefix, unsigned v6_prefix,
                      uint8_t key[ACL_PREFIX_KEY_MAX]);

#endif
