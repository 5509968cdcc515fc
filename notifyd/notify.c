/* SPDX-License-Identifier: MIT */
/* notifyd/notify.c -- RFC 1996 NOTIFY + RFC 8945 TSIG decision (see notify.h for the table). */
#include "notifyd/notify.h"

#include "proto/regmirror.h"

#include "common/acl.h"
#include "common/cfg/cfg.h"
#include "common/dnsmsg.h"
#include "common/tsig/tsig.h"
#include "notifyd/ratelimit.h"

#include <netinet/in.h>
#include <string.h>

static const char *const outcome_names[NOTIFY_OUTCOME_COUNT] = {
	[NOTIFY_ACCEPTED] = "accepted",
	[NOTIFY_SILENT] = "silent",
	[NOTIFY_RESPONSE] = "response",
	[NOTIFY_RATE_SOURCE] = "rate_source",
	[NOTIFY_RATE_ZONE] = "rate_zone",
	[NOTIFY_NOTIMP] = "notimp",
	[NOTIFY_FORMERR] = "formerr",
	[NOTIFY_BADKEY] = "badkey",
	[NOTIFY_BADSIG] = "badsig",
	[NOTIFY_BADTIME] = "badtime",
	[NOTIFY_BADTRUNC] = "badtrunc",
	[NOTIFY_UNKNOWN_ZONE] = "unknown_zone",
	[NOTIFY_REFUSED_ACL] = "refused_acl",
	[NOTIFY_REFUSED_UNSIGNED] = "refused_unsigned",
	[NOTIFY_REFUSED_KEY] = "refused_key",
	[NOTIFY_REPLAY] = "replay",
	[NOTIFY_INFLIGHT] = "in_flight",
};

const char *notify_outcome_name(enum notify_outcome o)
{
	return (unsigned)o < NOTIFY_OUTCOME_COUNT ? outcome_names[o] : "unknown";
}

/* Everything the steps share for one message. */
struct job {
	const struct notify_env *env;
	const struct notify_in *in;
	struct notify_out *out;
	uint8_t *buf;
	size_t cap;
	struct dns_hdr hdr;
	size_t q_end; /**< offset just past the question; 0 when unread */
	bool tsig_present;
	struct tsig_request treq;
};

/* Header (+ question when @p with_q) of a reply with @p rcode; returns its length. */
static size_t put_header(struct job *j, uint8_t rcode, bool with_q)
{
	struct dns_hdr h = {
		.id = j->hdr.id,
		.flags = (uint16_t)(DNS_FLAG_QR | (j->hdr.flags & (0xfu << 11 | DNS_FLAG_RD)) |
		                    (rcode == DNS_RC_NOERROR ? DNS_FLAG_AA : 0) | rcode),
		.qdcount = with_q ? 1 : 0,
	};
	dnsmsg_hdr_write(j->buf, &h);
	if (!with_q) {
		return DNS_HDR_LEN;
	}
	memcpy(j->buf + DNS_HDR_LEN, j->in->msg + DNS_HDR_LEN, j->q_end - DNS_HDR_LEN);
	return j->q_end;
}

/* Build the reply (signed when the request's TSIG allows), trimming as notify.h says. */
static int reply(struct job *j, enum notify_outcome o, uint8_t rcode, bool sign)
{
	struct notify_out *out = j->out;
	out->outcome = o;
	out->rcode = rcode;
	bool with_q = j->q_end > 0 && rcode != DNS_RC_FORMERR && rcode != DNS_RC_NOTIMP;
	for (int pass = 0; pass < 2; pass++) {
		size_t len = put_header(j, rcode, with_q);
		if (sign) {
			int rc = tsig_sign_reply(&j->treq, j->buf, &len, j->cap, j->in->now_s);
			if (rc == ZX_ENOMEM) {
				return rc;
			}
			if (rc != 0) {
				break; /* cannot happen with cap >= NOTIFY_REPLY_MAX; answer nothing */
			}
		}
		if (j->in->tcp || len <= j->in->len) {
			out->reply = true;
			out->reply_len = len;
			return 0;
		}
		with_q = false;
	}
	out->oversize = true;
	return 0;
}

static int drop(struct job *j, enum notify_outcome o)
{
	j->out->outcome = o;
	return 0;
}

/* Question (exactly one, SOA/IN) and every RR; picks up the SOA serial hint. */
static int parse(struct job *j)
{
	struct dns_walk w;
	struct dns_question q;
	if (dnsmsg_walk_init(&w, j->in->msg, j->in->len) != 0 || j->hdr.qdcount != 1 ||
	    dnsmsg_walk_question(&w, &q) != 1) {
		return ZX_EFORMAT;
	}
	j->q_end = w.pos;
	memcpy(j->out->qname, q.name, q.name_len);
	j->out->qname_len = q.name_len;
	if (q.qtype != DNS_T_SOA || q.qclass != DNS_C_IN) {
		return ZX_EFORMAT;
	}
	struct dns_rr rr;
	int rc;
	while ((rc = dnsmsg_walk_rr(&w, &rr)) == 1) {
		if (rr.type == DNS_T_TSIG) {
			j->tsig_present = true;
		}
		if (rr.section != DNS_SEC_ANSWER || rr.type != DNS_T_SOA || j->out->has_serial ||
		    !dname_equal(rr.owner, q.name)) {
			continue;
		}
		uint8_t rd[2 * DNAME_MAXLEN + 20];
		struct dns_soa soa;
		int n = dnsmsg_rdata_unpack(&w, &rr, rd, sizeof(rd));
		if (n < 0 || dnsmsg_soa_parse(rd, (size_t)n, &soa) != 0) {
			return ZX_EFORMAT;
		}
		j->out->has_serial = true;
		j->out->serial = soa.serial;
	}
	return rc;
}

/* TSIG step. Returns 1 when the pipeline goes on, 0 when a reply was built, <0 error. */
static int check_tsig(struct job *j)
{
	if (!j->tsig_present) {
		return 1;
	}
	int rc = tsig_verify(j->env->cfg->keys, j->in->msg, j->in->len, j->in->now_s, &j->treq);
	bool named = rc == 0 || rc == ZX_ETSIG_BADKEY || rc == ZX_ETSIG_BADSIG ||
	             rc == ZX_ETSIG_BADTIME || rc == ZX_ETSIG_BADTRUNC; /* the record was read */
	if (named && j->treq.key_name_len <= sizeof(j->out->key_named)) {
		memcpy(j->out->key_named, j->treq.key_name, j->treq.key_name_len);
		j->out->key_named_len = j->treq.key_name_len;
	}
	switch (rc) {
	case 0:
		j->out->is_signed = true;
		j->out->key = j->treq.key;
		j->out->orig_id = j->treq.orig_id;
		return 1;
	case ZX_EFORMAT:
		return reply(j, NOTIFY_FORMERR, DNS_RC_FORMERR, false);
	case ZX_ETSIG_BADKEY:
		return reply(j, NOTIFY_BADKEY, DNS_RC_NOTAUTH, true);
	case ZX_ETSIG_BADSIG:
		return reply(j, NOTIFY_BADSIG, DNS_RC_NOTAUTH, true);
	case ZX_ETSIG_BADTIME:
		j->out->is_signed = true;
		return reply(j, NOTIFY_BADTIME, DNS_RC_NOTAUTH, true);
	case ZX_ETSIG_BADTRUNC:
		j->out->is_signed = true;
		return reply(j, NOTIFY_BADTRUNC, DNS_RC_NOTAUTH, true);
	case ZX_ENOTSIG:
		return 1;
	default:
		return rc;
	}
}

/* Not accepted after all: the held replay entry goes, so a retry is new. */
static void release(struct job *j)
{
	if (j->out->replay_held) {
		tsig_replay_forget(j->env->replay, &j->out->replay_id);
		j->out->replay_held = false;
	}
}

static bool zone_lists_key(const struct cfg_zone *z, const struct tsig_key *key)
{
	for (size_t i = 0; i < z->notify_keys.count; i++) {
		if (z->notify_keys.v[i] == key) {
			return true;
		}
	}
	return false;
}

/* Zone, ACL, keys, per-zone limit, then the NOERROR answer. */
static int decide_zone(struct job *j)
{
	struct notify_out *out = j->out;
	bool sign = out->is_signed;
	const struct cfg_zone *z = cfg_zone_find(j->env->cfg, out->qname);
	if (z == NULL && j->env->reg != NULL) {
		z = regmirror_zone(j->env->reg, out->qname);
	}
	if (z == NULL) {
		return reply(j, NOTIFY_UNKNOWN_ZONE, sign ? DNS_RC_NOTAUTH : DNS_RC_REFUSED, sign);
	}
	out->zone = z;
	if (!acl_match(&z->notify_from, j->in->src)) {
		return reply(j, NOTIFY_REFUSED_ACL, DNS_RC_REFUSED, sign);
	}
	if (z->notify_keys.count > 0 && !sign) {
		return reply(j, NOTIFY_REFUSED_UNSIGNED, DNS_RC_REFUSED, false);
	}
	if (z->notify_keys.count > 0 && !zone_lists_key(z, out->key)) {
		return reply(j, NOTIFY_REFUSED_KEY, DNS_RC_REFUSED, true);
	}
	struct tsig_replay *rp = sign ? j->env->replay : NULL;
	if (rp != NULL) {
		out->replay_id = tsig_replay_id(rp, &j->treq);
		enum tsig_replay_seen seen = tsig_replay_admit(rp, &out->replay_id, j->in->now_s);
		if (seen == TSIG_REPLAY_PENDING) {
			return drop(j, NOTIFY_INFLIGHT);
		}
		if (seen != TSIG_REPLAY_NEW) {
			return reply(j, NOTIFY_REPLAY, DNS_RC_REFUSED, true);
		}
		out->replay_held = true; /* held from here on: every return below settles it */
	}
	if (j->env->per_zone != NULL &&
	    ratelimit_take(j->env->per_zone, z->name, (size_t)dname_wire_len(z->name, DNAME_MAXLEN),
	                   j->in->now_ms) != 0) {
		release(j);
		return drop(j, NOTIFY_RATE_ZONE);
	}
	int rc = reply(j, NOTIFY_ACCEPTED, DNS_RC_NOERROR, sign);
	if (rc != 0) {
		release(j);
	}
	return rc;
}

static int run(struct job *j)
{
	const struct notify_in *in = j->in;
	if (dnsmsg_hdr_parse(in->msg, in->len, &j->hdr) != 0) {
		return drop(j, NOTIFY_SILENT);
	}
	j->out->id = j->out->orig_id = j->hdr.id;
	if (j->hdr.flags & DNS_FLAG_QR) {
		return drop(j, NOTIFY_RESPONSE);
	}
	uint8_t key[ACL_PREFIX_KEY_MAX];
	const struct cfg_rate_limit *rl = &j->env->cfg->notifyd.rate_limit;
	if (j->env->per_source != NULL &&
	    ratelimit_take(j->env->per_source, key,
	                   acl_prefix_key(in->src, rl->ipv4_prefix, rl->ipv6_prefix, key),
	                   in->now_ms) != 0) {
		return drop(j, NOTIFY_RATE_SOURCE);
	}
	if (DNS_OPCODE(j->hdr.flags) != DNS_OP_NOTIFY) {
		return reply(j, NOTIFY_NOTIMP, DNS_RC_NOTIMP, false);
	}
	if (parse(j) != 0) {
		return reply(j, NOTIFY_FORMERR, DNS_RC_FORMERR, false);
	}
	int rc = check_tsig(j);
	if (rc <= 0) {
		return rc;
	}
	return decide_zone(j);
}

int notify_decide(const struct notify_env *env, const struct notify_in *in, uint8_t *buf,
                  size_t cap, struct notify_out *out)
{
	if (cap < NOTIFY_REPLY_MAX) {
		return ZX_EINVAL;
	}
	struct notify_out o = {0};
	struct job j = {.env = env, .in = in, .out = &o, .buf = buf, .cap = cap};
	int rc = run(&j);
	if (rc != 0) {
		return rc;
	}
	*out = o;
	return 0;
}
