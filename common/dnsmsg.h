/* SPDX-License-Identifier: MIT */
/* common/dnsmsg.h -- a small validated walker over DNS messages (RFC 1035 4.1).
 *
 * It reads a message in place: the header, the question(s), then each RR in
 * order with its section, without allocating. Owner names (and, with
 * dnsmsg_rdata_unpack(), the names inside RDATA of the types that may be
 * compressed) are decompressed into caller buffers with a loop guard. It is the
 * hot path of TSIG, NOTIFY handling and zone transfers; ldns stays for
 * presentation format only.
 *
 * It lives in common/ (not proto/) because common/tsig needs it and common/
 * includes nothing outside itself.
 *
 * Threading: a walker belongs to one thread; everything else is pure.
 */
#ifndef ZX_COMMON_DNSMSG_H
#define ZX_COMMON_DNSMSG_H

#include "common/dname.h"
#include "common/err.h"
#include "common/wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HDR_LEN 12

/* Header flag bits (the 16-bit word after the ID). */
#define DNS_FLAG_QR 0x8000u
#define DNS_FLAG_AA 0x0400u
#define DNS_FLAG_TC 0x0200u
#define DNS_FLAG_RD 0x0100u
#define DNS_FLAG_RA 0x0080u
#define DNS_OPCODE(flags) (((flags) >> 11) & 0xfu)
#define DNS_RCODE(flags) ((flags)&0xfu)

enum dns_opcode { DNS_OP_QUERY = 0, DNS_OP_NOTIFY = 4, DNS_OP_UPDATE = 5 };
enum dns_rcode {
	DNS_RC_NOERROR = 0,
	DNS_RC_FORMERR = 1,
	DNS_RC_SERVFAIL = 2,
	DNS_RC_NXDOMAIN = 3,
	DNS_RC_NOTIMP = 4,
	DNS_RC_REFUSED = 5,
	DNS_RC_NOTAUTH = 9,
	/* TSIG error field values (RFC 8945 5.3); not header rcodes */
	DNS_RC_BADSIG = 16,
	DNS_RC_BADKEY = 17,
	DNS_RC_BADTIME = 18,
	DNS_RC_BADTRUNC = 22,
};
enum dns_type {
	DNS_T_A = 1, DNS_T_NS = 2, DNS_T_CNAME = 5, DNS_T_SOA = 6, DNS_T_PTR = 12,
	DNS_T_MX = 15, DNS_T_TXT = 16, DNS_T_AAAA = 28, DNS_T_SRV = 33, DNS_T_OPT = 41,
	DNS_T_TSIG = 250, DNS_T_IXFR = 251, DNS_T_AXFR = 252, DNS_T_ANY = 255,
};
enum dns_class { DNS_C_IN = 1, DNS_C_ANY = 255 };
enum dns_section { DNS_SEC_QUESTION = 0, DNS_SEC_ANSWER, DNS_SEC_AUTHORITY, DNS_SEC_ADDITIONAL };

struct dns_hdr {
	uint16_t id;
	uint16_t flags;
	uint16_t qdcount, ancount, nscount, arcount;
};

/**
 * Read the 12-byte header.
 * @return 0; ZX_ETRUNC when @p len < 12 (@p out untouched)
 */
ZX_MUSTCHECK int dnsmsg_hdr_parse(const uint8_t *msg, size_t len, struct dns_hdr *out);

/** Write @p h as the 12 bytes at @p buf. */
void dnsmsg_hdr_write(uint8_t *buf, const struct dns_hdr *h);

/**
 * Decompress the name at @p *pos into @p out (wire form, case kept) and move
 * @p *pos past the name as it stands in the message (past the first pointer).
 * Pointers must point backwards; at most 127 are followed.
 * @param[out] out at least DNAME_MAXLEN bytes
 * @return the name's length in @p out; ZX_ETRUNC; ZX_EFORMAT (bad label, loop,
 *         forward pointer, name too long). On error @p *pos is untouched.
 */
ZX_MUSTCHECK int dnsmsg_name_unpack(const uint8_t *msg, size_t len, size_t *pos, uint8_t *out);

/** Move @p *pos past the name at it (no decompression); as dnsmsg_name_unpack(). */
ZX_MUSTCHECK int dnsmsg_name_skip(const uint8_t *msg, size_t len, size_t *pos);

struct dns_question {
	uint8_t name[DNAME_MAXLEN];
	size_t name_len;
	uint16_t qtype, qclass;
};

/** One RR, as a view into the message plus its decompressed owner. */
struct dns_rr {
	enum dns_section section;
	uint8_t owner[DNAME_MAXLEN]; /**< decompressed, case as received */
	size_t owner_len;
	uint16_t type, rclass;
	uint32_t ttl;
	uint16_t rdlen;
	const uint8_t *rdata; /**< into the message; may hold compression pointers */
	size_t offset;        /**< where the RR starts in the message (its owner name) */
	size_t rdata_offset;  /**< where its RDATA starts */
};

struct dns_walk {
	const uint8_t *msg;
	size_t len;
	size_t pos;
	struct dns_hdr hdr;
	enum dns_section section;
	uint16_t left; /**< records left in the current section */
};

/**
 * Start walking @p msg (borrowed; must outlive the walker). Reads the header.
 * @return 0; ZX_ETRUNC when shorter than a header
 */
ZX_MUSTCHECK int dnsmsg_walk_init(struct dns_walk *w, const uint8_t *msg, size_t len);

/**
 * Read the next question.
 * @return 1 and @p q filled; 0 when no questions are left; ZX_ETRUNC / ZX_EFORMAT
 */
ZX_MUSTCHECK int dnsmsg_walk_question(struct dns_walk *w, struct dns_question *q);

/**
 * Read the next RR of the answer, authority or additional sections (skipping any
 * questions not yet read).
 * @return 1 and @p rr filled; 0 at the end of the message; ZX_ETRUNC / ZX_EFORMAT
 *         (also when bytes are left after the last counted RR)
 */
ZX_MUSTCHECK int dnsmsg_walk_rr(struct dns_walk *w, struct dns_rr *rr);

/**
 * Copy @p rr's RDATA into @p out with the names in it decompressed, for the
 * types whose RDATA names may be compressed (RFC 3597 4: NS, MD, MF, CNAME,
 * SOA, MB, MG, MR, PTR, MINFO, MX; and, as receivers should, RP, AFSDB, RT,
 * PX, SRV, KX). Other types are copied as they are. Names are not lowercased.
 * @param[out] out  room for @p size bytes
 * @return the RDATA length written; ZX_EFORMAT when the RDATA does not fit its
 *         type (e.g. a short SOA); ZX_ELIMIT when @p size is too small
 */
ZX_MUSTCHECK int dnsmsg_rdata_unpack(const struct dns_walk *w, const struct dns_rr *rr,
                                     uint8_t *out, size_t size);

/** The fixed fields of an SOA's RDATA. */
struct dns_soa {
	uint32_t serial, refresh, retry, expire, minimum;
};

/**
 * Read the SOA's numeric fields from uncompressed RDATA (as dnsmsg_rdata_unpack()
 * writes it).
 * @return 0; ZX_EFORMAT when it is not two names and 20 bytes
 */
ZX_MUSTCHECK int dnsmsg_soa_parse(const uint8_t *rdata, size_t len, struct dns_soa *out);

#endif
