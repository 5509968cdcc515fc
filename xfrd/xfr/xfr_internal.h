/* SPDX-License-Identifier: MIT */
/* xfrd/xfr/xfr_internal.h -- what xfr.c (the state machine, the transfer) and xfr_soa.c
 * (the SOA check: UDP, through a proxy's relay, TCP) share: the struct of one refresh
 * and the steps both use. Not an API: nothing else includes it.
 *
 * Threading: as for struct xfr (xfrd/xfr/xfr.h): one event base's thread.
 */
#ifndef ZX_XFRD_XFR_INTERNAL_H
#define ZX_XFRD_XFR_INTERNAL_H

#include "xfrd/xfr/xfr.h"

#include "common/clock.h"
#include "common/dname.h"
#include "common/tsig/tsig.h"
#include "proto/query.h"
#include "proto/socks5.h"
#include "xfrd/xfr/commitq.h"
#include "xfrd/xfr/conn.h"
#include "xfrd/xfr/connector.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

enum st { ST_SOA_UDP = 1, ST_SOA_TCP, ST_IXFR, ST_AXFR, ST_DONE };
enum act { ACT_NONE = 0, ACT_SOA_TCP, ACT_IXFR, ACT_AXFR, ACT_COMMIT, ACT_FINISH };

struct xfr {
	struct event_base *base;
	struct xfr_params p;
	struct sockaddr_storage primary;
	uint8_t zone[DNAME_MAXLEN];
	enum st st;
	enum act next;
	struct xfr_result res;
	struct xfr_held held;
	uint16_t id;
	bool tsig_on;
	/* connection reuse (p.pool; res.conn_reused: the conn came from the pool):
	   the exchange ended cleanly, give the socket back; a pooled socket was
	   stale, connect anew */
	bool keep, fresh;
	struct tsig_session tsig;
	struct conn conn;
	/* egress (xfrd/xfr/connector.h): the path, the setup under way, and for an SOA
	   query through a proxy the association's TCP connection and datagram header */
	struct connector_path path;
	struct connector setup;
	struct xot_hs hs;     /* the TLS handshake on what the setup gave (p.tls) */
	conn_cb on_msg;       /* the exchange the setup is for */
	const char *open_why; /* its failure's step text */
	int ctl_fd;
	size_t udp_hdr_len;
	uint8_t udp_hdr[SOCKS5_UDP_HDR_MAX];
	int udp_fd;
	struct event *udp_ev;
	struct event *timer;
	struct event *step;
	void *txn;
	uint64_t t0_us; /* clock_mono_us() at the start */
	/* the commit, when it runs on p.commitq: committing from submit until
	   on_committed() runs on our base (commit_ev) */
	struct event *commit_ev;
	struct commitq_job cjob;
	bool committing;
	bool late; /* the whole-transfer timeout passed while committing */
	int commit_rc;
	uint64_t tc_us; /* at the commit */
	xfr_done_cb cb;
	void *cb_arg;
	size_t qlen;
	/* buffers last: xfr_start() zeroes only what is above them */
	uint8_t query[QUERY_MAX + TSIG_RR_MAX];
	struct xfrstream stream;
	uint8_t rbuf[CONN_BUF];
};

static inline struct timeval ms_tv(uint64_t ms)
{
	return (struct timeval){.tv_sec = (time_t)(ms / 1000),
	                        .tv_usec = (suseconds_t)(ms % 1000) * 1000};
}

static inline uint64_t since_us(uint64_t t0_us)
{
	return clock_mono_us() - t0_us;
}


/* ---- xfr.c ---------------------------------------------------------------- */

/** Run action @p a from the deferred step event (never inside a socket callback). */
void xfr_schedule(struct xfr *x, enum act a);

/** The refresh failed with @p rc (the first failure stands); finish from the step. */
void xfr_fail(struct xfr *x, int rc, const char *why);

/** Build the query for @p qtype with a fresh ID, signed when there is a key.
    @return 0; the query builder's or the signer's code */
int xfr_make_query(struct xfr *x, uint16_t qtype);

/** TSIG check of one answer message (0 without a key). */
int xfr_verify(struct xfr *x, const uint8_t *msg, size_t len);

/** A connector setup failed: whose fault (res.egress_fail, socks_rep) and the detail. */
void xfr_setup_failed(struct xfr *x, int rc, const struct connector_fail *f);

/** The connection of an exchange broke with @p rc: through a proxy, the path's failure;
    over TLS before the first answer byte, the handshake's (ZX_ETLS). @return the code
    to fail with */
int xfr_conn_broke(struct xfr *x, int rc);

/** Send x->query over TCP (in TLS when p.tls) and hand the answer's messages to
    @p on_msg: on a kept connection of the pool when there is one (res.conn_reused)
    and !x->fresh, else on a new one by x->path (connect, TLS handshake). A failure
    to get there fails the refresh with @p why (the detail says where). */
void xfr_exchange(struct xfr *x, conn_cb on_msg, const char *why);

/* ---- xfr_soa.c ------------------------------------------------------------ */

/** The SOA query over UDP: direct (bound to the source), or through the proxy's UDP
    relay; lost, refused or impossible: xfr_soa_tcp() next. */
void xfr_soa_udp(struct xfr *x);

/** The SOA query over TCP (through the proxy: CONNECT). */
void xfr_soa_tcp(struct xfr *x);

#endif
