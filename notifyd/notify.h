/* SPDX-License-Identifier: MIT */
/* notifyd/notify.h -- the NOTIFY decision: bytes and a source in, verdict and reply out.
 *
 * notify_decide() is pure: no sockets, no clock (times are arguments), no
 * logging, no Kafka. The listener calls it for every DNS message and acts on
 * the result; the unit tests drive every RFC 1996 and RFC 8945 case through it.
 *
 * The pipeline, in order (each step may end it):
 *
 *   header     shorter than 12 bytes ............ SILENT (no answer possible)
 *              QR=1 (a response) ................ RESPONSE (dropped: never answer one)
 *   per-source rate limit ....................... RATE_SOURCE (dropped; before any
 *              HMAC work, so a flood from one source cannot buy CPU). A source is
 *              its network: rate-limit.ipv4-prefix (/32) and ipv6-prefix (/64, what
 *              one site gets, so hopping addresses inside it buys nothing)
 *   opcode     not NOTIFY ....................... NOTIMP
 *   message    not one question SOA/IN, or a bad
 *              record anywhere .................. FORMERR
 *   TSIG       malformed ........................ FORMERR (unsigned)
 *              unknown key / wrong algorithm .... NOTAUTH + BADKEY (unsigned TSIG)
 *              MAC wrong ........................ NOTAUTH + BADSIG (unsigned TSIG)
 *              time off by more than the fudge .. NOTAUTH + BADTIME (signed, server time)
 *              truncated MAC .................... NOTAUTH + BADTRUNC (signed)
 *   zone       not configured ................... NOTAUTH if signed, else REFUSED
 *   ACL        real source not in notify-from ... REFUSED
 *   keys       zone has notify-keys, unsigned ... REFUSED
 *              signed with a key not in them .... REFUSED (signed)
 *   replay     signed, and the same (key, time
 *              signed, MAC) already accepted .... REPLAY: REFUSED (signed), not published
 *              a copy still waiting for Kafka ... INFLIGHT (dropped)
 *   per-zone rate limit ......................... RATE_ZONE (dropped)
 *   otherwise ................................... ACCEPTED: NOERROR, AA, the question
 *
 * Replays (env->replay, common/tsig/tsig_replay.h): TSIG proves who signed a NOTIFY
 * and when, not that it is new, so a captured signed NOTIFY would verify again
 * from any allowed source while its time signed is within the fudge (capped by
 * the keyring's max fudge, tsig.max-fudge). An ACCEPTED signed NOTIFY is held in
 * the replay memory as pending (out->replay_held, out->replay_id); the caller
 * confirms it once Kafka stored its event, or forgets it when Kafka did not, so
 * the memory only ever records NOTIFYs that were really accepted. Then:
 *   - a repeat of an accepted one is answered REFUSED, signed, and not
 *     published. Its event is already in Kafka, so nothing is lost: a primary
 *     that sends the same bytes again because our NOERROR got lost learns that
 *     its NOTIFY was not needed, and a replay by anyone else costs us one HMAC
 *     and costs the primary no SOA query or transfer;
 *   - a repeat while the first copy waits for Kafka is dropped unanswered, as
 *     the first copy has no answer yet either;
 *   - a NOTIFY that was never accepted (Kafka down: no answer) is not in the
 *     memory, so the primary's retransmission of the same bytes is accepted;
 *   - a NOTIFY signed at or before the horizon of a full memory is REPLAY too
 *     (see tsig_replay.h: a full memory refuses rather than forgets).
 *
 * Replies to signed requests are signed (with the request's key, MAC, fudge
 * and Original ID); the header ID is the one received, so a proxy that
 * rewrote it (dnsdist) matches its own. Error replies other than NOTIMP and
 * FORMERR carry the question; NOTIMP and FORMERR replies are a bare header.
 *
 * No amplification over UDP: a reply is never longer than the request. The
 * only replies that can come out longer are signed ones whose TSIG grew (BADTIME
 * adds 6 bytes of server time; BADTRUNC answers a truncated MAC with a full one;
 * a request that compressed its key name into the question). Then the reply is
 * rebuilt without the question section (QDCOUNT 0, as RFC 1035 permits for error
 * answers) and signed again; if that is still longer, nothing is sent and
 * out->oversize is set. Over TCP (notify_in.tcp) the handshake has proved the
 * source address, so there is nothing to amplify: every reply is sent whole,
 * and a BADTRUNC answer (RFC 8945 5.2.4) always reaches its sender.
 *
 * An OPT record in the request is accepted and not echoed (a NOTIFY answer
 * carries no EDNS data we would use, and it keeps the reply small).
 *
 * Threading: notify_decide() touches only @p env's rate limiters and replay
 * memory (one thread).
 */
#ifndef ZX_NOTIFYD_NOTIFY_H
#define ZX_NOTIFYD_NOTIFY_H

#include "common/dname.h"
#include "common/err.h"

#include "common/tsig/tsig_replay.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct cfg;
struct cfg_zone;
struct ratelimit;
struct tsig_key;

/** What happened to one message. The names are the metrics' outcome labels. */
enum notify_outcome {
	NOTIFY_ACCEPTED = 0,     /**< publish, then answer NOERROR */
	NOTIFY_SILENT,           /**< unreadable header: no answer */
	NOTIFY_RESPONSE,         /**< QR=1: dropped */
	NOTIFY_RATE_SOURCE,      /**< per-source rate limit: dropped */
	NOTIFY_RATE_ZONE,        /**< per-zone rate limit: dropped */
	NOTIFY_NOTIMP,           /**< opcode not NOTIFY */
	NOTIFY_FORMERR,          /**< malformed message or TSIG record */
	NOTIFY_BADKEY,           /**< TSIG BADKEY */
	NOTIFY_BADSIG,           /**< TSIG BADSIG */
	NOTIFY_BADTIME,          /**< TSIG BADTIME */
	NOTIFY_BADTRUNC,         /**< TSIG BADTRUNC */
	NOTIFY_UNKNOWN_ZONE,     /**< not our zone (NOTAUTH signed / REFUSED unsigned) */
	NOTIFY_REFUSED_ACL,      /**< source not in the zone's notify-from */
	NOTIFY_REFUSED_UNSIGNED, /**< zone requires a key; none used */
	NOTIFY_REFUSED_KEY,      /**< signed with a key the zone does not list */
	NOTIFY_REPLAY,           /**< a signed NOTIFY accepted before: REFUSED, not published */
	NOTIFY_INFLIGHT,         /**< a copy of a signed NOTIFY still waiting for Kafka: dropped */
	NOTIFY_OUTCOME_COUNT
};

/** Snake-case name of @p o ("accepted", "badsig", ...); "unknown" outside the enum. */
const char *notify_outcome_name(enum notify_outcome o);

/** Long-lived inputs, owned by the caller. */
struct regmirror;

struct notify_env {
	const struct cfg *cfg;         /**< zones, keys; borrowed */
	const struct regmirror *reg;   /**< the registry's zones (after the file's); borrowed;
	                                  NULL: none */
	struct ratelimit *per_source;  /**< NULL: unlimited */
	struct ratelimit *per_zone;    /**< NULL: unlimited */
	struct tsig_replay *replay;    /**< accepted signed NOTIFYs; NULL: no replay check */
};

/** One received message. */
struct notify_in {
	const uint8_t *msg;         /**< the DNS message (no PROXY header, no TCP length); borrowed */
	size_t len;
	const struct sockaddr *src; /**< the real source (from PROXY when proxied); borrowed */
	uint64_t now_s;             /**< wall clock, seconds since the epoch (TSIG) */
	uint64_t now_ms;            /**< monotonic milliseconds (rate limits) */
	bool tcp;                   /**< came over TCP: replies may be longer than @ref len */
};

/** Largest reply notify_decide() builds before trimming: header, question, TSIG. */
#define NOTIFY_REPLY_MAX (12 + DNAME_MAXLEN + 4 + 2 * DNAME_MAXLEN + 10 + 16 + 64 + 6)

struct notify_out {
	enum notify_outcome outcome;
	bool reply;      /**< reply_len bytes at the caller's buffer are the answer */
	bool oversize;   /**< an answer was due but would have been longer than the request */
	bool is_signed;  /**< the request carried a TSIG record that verified (or BADTIME/BADTRUNC) */
	size_t reply_len;
	uint8_t rcode;   /**< header rcode of the reply */
	uint16_t id;     /**< the request's header ID */
	uint16_t orig_id; /**< the Original ID when signed, else @ref id */
	const struct cfg_zone *zone; /**< borrowed from the cfg; NULL when not found (yet) */
	const struct tsig_key *key;  /**< the verified key; NULL when unsigned or not verified */
	uint8_t key_named[DNAME_MAXLEN]; /**< the key name the TSIG record gave (lowercase wire),
	                                    verified or not (BADKEY, BADSIG, BADTIME, BADTRUNC:
	                                    for the log); key_named_len 0 when none */
	size_t key_named_len;
	bool has_serial;  /**< the answer section carried the zone's SOA */
	uint32_t serial;
	uint8_t qname[DNAME_MAXLEN]; /**< the question's name (case as received); qname_len 0 if none */
	size_t qname_len;
	bool replay_held;             /**< ACCEPTED and signed: held pending in env->replay; the
	                                 caller must tsig_replay_confirm() or _forget() it */
	struct tsig_replay_id replay_id; /**< valid when replay_held */
};

/**
 * Decide what to do with one message and build the reply.
 * @param[in]  env    borrowed; its rate limiters are updated
 * @param[in]  in     borrowed
 * @param[out] reply  room for @p cap bytes; on 0 with out->reply, the answer
 * @param[in]  cap    at least NOTIFY_REPLY_MAX
 * @param[out] out    the verdict; filled on 0, untouched on error
 * @return 0 (every network input is an outcome, not an error); ZX_EINVAL @p cap
 *         below NOTIFY_REPLY_MAX; ZX_ENOMEM OpenSSL could not allocate
 */
ZX_MUSTCHECK int notify_decide(const struct notify_env *env, const struct notify_in *in,
                               uint8_t *reply, size_t cap, struct notify_out *out);

#endif
