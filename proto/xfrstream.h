/* SPDX-License-Identifier: MIT */
/* proto/xfrstream.h -- the IXFR/AXFR response stream as a pure state machine.
 *
 * Feed it the DNS messages of one transfer answer, in order, as they come off
 * the TCP stream (without the 2-byte length); it checks each message (ID, QR,
 * opcode, rcode, question) and each record (class, inside the zone, SOA
 * placement and serials) and turns the answer into events through one
 * callback:
 *
 *   AXFR (RFC 5936), or an AXFR-style answer to an IXFR:
 *       BEGIN_AXFR(soa)  ADD(rr)...  END(soa)
 *   IXFR (RFC 1995), one or more change sets:
 *       BEGIN_IXFR(new soa)
 *         { DEL_SOA(from soa)  DEL(rr)...  ADD_SOA(to soa)  ADD(rr)... } ...
 *       END(new soa)
 *   IXFR answered with the single SOA of a serial not newer than ours:
 *       UPTODATE(soa)
 *
 * No socket, no clock and no allocation: every record handed to the callback
 * points into the stream's own buffers and is valid only during the call. It is
 * what the fuzzer and the unit tests drive. TSIG is checked by the caller
 * before a message is fed (TSIG and OPT records in the additional section are
 * skipped here); TCP framing is the caller's too.
 *
 * What it does not judge: whether a diff applies to the zone we hold (the store
 * answers ZX_EDIFF for that), nor each RDATA field by field (the store does,
 * common/rdata.h). The limits bound the work one answer can cause: every record
 * of the answer but the closing SOA counts against max_records and its bytes
 * against max_bytes (for an AXFR that is the zone; for an IXFR every deletion,
 * addition and changeset SOA), and the message bytes received count against
 * max_bytes as well (an answer of many empty messages is not free either).
 *
 * Threading: a stream belongs to one thread.
 */
#ifndef ZX_XFRD_XFRSTREAM_H
#define ZX_XFRD_XFRSTREAM_H

#include "common/dname.h"
#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

/** Biggest decompressed RDATA: 65535 bytes of wire plus names that were pointers. */
#define XFRSTREAM_RDATA_MAX (65535 + 2 * DNAME_MAXLEN)

enum xfrstream_ev {
	XFRSTREAM_BEGIN_AXFR = 1, /**< a full zone follows; rr = its SOA (store it) */
	XFRSTREAM_BEGIN_IXFR,     /**< change sets follow; rr = the SOA they end at */
	XFRSTREAM_UPTODATE,       /**< nothing newer; rr = the primary's SOA; stream done */
	XFRSTREAM_DEL_SOA,        /**< a change set starts; rr = the SOA it starts from */
	XFRSTREAM_DEL,            /**< rr is deleted */
	XFRSTREAM_ADD_SOA,        /**< additions of this change set; rr = the SOA it leads to */
	XFRSTREAM_ADD,            /**< rr is added (every non-SOA record of an AXFR) */
	XFRSTREAM_END,            /**< complete; rr = the closing SOA; stream done */
};

/** One record as the callback sees it; everything is valid only during the call. */
struct xfrstream_rr {
	const uint8_t *owner; /**< uncompressed wire name, lowercased */
	size_t owner_len;
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	const uint8_t *rdata; /**< uncompressed (names inside expanded, case kept) */
	size_t rdlen;
	uint32_t serial;      /**< for SOA records: the serial; 0 otherwise */
};

/**
 * Receives the events. A non-zero return stops the stream: xfrstream_feed()
 * returns that code and the stream is failed.
 */
typedef int (*xfrstream_cb)(void *arg, enum xfrstream_ev ev, const struct xfrstream_rr *rr);

/** What the stream checks against; copied by xfrstream_init(). */
struct xfrstream_cfg {
	const uint8_t *zone;   /**< wire name of the zone; borrowed only during init */
	uint16_t qtype;        /**< DNS_T_AXFR or DNS_T_IXFR (what we asked) */
	uint16_t id;           /**< the query's ID; every message must carry it */
	uint32_t our_serial;   /**< IXFR: the serial we asked from */
	uint64_t max_records;  /**< 0: no limit */
	uint64_t max_bytes;    /**< uncompressed record bytes; 0: no limit */
	xfrstream_cb cb;
	void *arg;             /**< passed to @c cb; borrowed */
};

enum xfrstream_state {
	XFRSTREAM_ST_FIRST = 0, /* expect the first SOA */
	XFRSTREAM_ST_SECOND,    /* IXFR: the second record tells IXFR from AXFR-style */
	XFRSTREAM_ST_AXFR,
	XFRSTREAM_ST_DEL,
	XFRSTREAM_ST_ADD,
	XFRSTREAM_ST_DONE,
	XFRSTREAM_ST_FAILED,
};

/** The stream. Fields up to @c why are read by callers; the rest is private. */
struct xfrstream {
	enum xfrstream_state state;
	int kind;           /**< 0 until known; then XFRSTREAM_BEGIN_AXFR, _BEGIN_IXFR or _UPTODATE */
	uint8_t rcode;      /**< on ZX_ERCODE: the rcode the primary answered */
	uint32_t serial;    /**< the primary's serial (the first SOA); valid once kind != 0 */
	uint64_t messages;  /**< messages fed */
	uint64_t records;   /**< answer records seen */
	uint64_t changesets;/**< IXFR change sets seen */
	uint64_t added;     /**< records added (AXFR records, IXFR additions; SOA excluded) */
	uint64_t deleted;   /**< records deleted (SOA excluded) */
	uint64_t wire_bytes;/**< message bytes fed */
	const char *why;    /**< after a failure: a short static reason for logs */
	char detail[DNAME_TEXTLEN + 48]; /**< after a failure caused by one record: its
	                                      owner and type ("owner www.example.com. type MX");
	                                      "" otherwise */

	struct xfrstream_cfg cfg;
	uint8_t zone[DNAME_MAXLEN];
	uint32_t from, to;  /* serials of the change set being read */
	uint64_t rec_count; /* records counted against max_records (SOA included) */
	uint64_t rec_bytes; /* record bytes counted against max_bytes */
	/* the first SOA, kept until the second record decides what the answer is */
	uint8_t first_owner[DNAME_MAXLEN];
	size_t first_owner_len;
	uint16_t first_rdlen;
	uint32_t first_ttl;
	uint8_t first_rdata[2 * DNAME_MAXLEN + 20];
	uint8_t owner[DNAME_MAXLEN];
	uint8_t rdata[XFRSTREAM_RDATA_MAX];
};

/**
 * Start a stream.
 * @param[out] s   the stream (about 66 KiB; put it in the job's arena)
 * @param[in]  cfg copied; cfg->zone copied
 * @return 0; ZX_EINVAL when the zone name is not a valid wire name, the qtype is
 *         neither AXFR nor IXFR, or cb is NULL (@p s then untouched)
 */
ZX_MUSTCHECK int xfrstream_init(struct xfrstream *s, const struct xfrstream_cfg *cfg);

/**
 * Feed the next message of the answer.
 * @param[in] msg borrowed; only read during the call
 * @return 0 more messages are needed; 1 the stream is complete (END or UPTODATE
 *         was emitted: stop reading);
 *         ZX_ERCODE the message has a non-zero rcode (in s->rcode);
 *         ZX_EXFR the answer breaks the transfer protocol (wrong ID or question,
 *         not a response, TC set, first record not the zone's SOA, a record
 *         outside the zone or of another class, an SOA off the apex, closing SOA
 *         with another serial, records after the closing SOA, IXFR change sets
 *         that do not chain from our serial, a single newer SOA to an IXFR (the
 *         primary wants AXFR), a message after the end);
 *         ZX_EFORMAT / ZX_ETRUNC the message itself is malformed (a record's RDATA
 *         that does not decompress: @c detail names it);
 *         ZX_ELIMIT max_records or max_bytes exceeded;
 *         any non-zero code the callback returned (why: "store write"; @c detail
 *         names the record).
 *         After any error the stream is failed and returns ZX_EXFR from then on.
 */
ZX_MUSTCHECK int xfrstream_feed(struct xfrstream *s, const uint8_t *msg, size_t len);

/** The name of an event, for logs and tests ("add", "del_soa", ...). */
const char *xfrstream_ev_str(enum xfrstream_ev ev);

#endif
