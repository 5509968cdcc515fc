/* SPDX-License-Identifier: MIT */
/* xfrd/xfr/xfr_soa.c -- the SOA check of a refresh (xfr.c's diagram, SOA_UDP and SOA_TCP):
 * the query over UDP, direct or through a SOCKS5 proxy's UDP relay (each datagram after
 * the relay's header), then over TCP when the answer is truncated, lost or refused; the
 * decision (transfer only when the primary's serial is newer, RFC 1982). */
#include "xfrd/xfr/xfr_internal.h"

#include "common/acl.h"
#include "common/dnsmsg.h"
#include "common/serial.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void soa_decide(struct xfr *x, uint32_t serial)
{
	x->res.primary_serial = serial;
	x->res.soa_us = since_us(x->t0_us);
	if (!serial_newer(serial, x->held.serial)) {
		x->res.outcome = XFR_UPTODATE;
		xfr_schedule(x, ACT_FINISH);
		return;
	}
	xfr_schedule(x, ACT_IXFR);
}

/* A verified-or-unsigned SOA answer. Returns 1 when it settled the SOA step. */
static int soa_answer(struct xfr *x, const uint8_t *msg, size_t len)
{
	struct query_soa a;
	struct dns_hdr h;
	if (x->st == ST_SOA_UDP && dnsmsg_hdr_parse(msg, len, &h) == 0 &&
	    (h.flags & DNS_FLAG_TC) != 0) {
		xfr_schedule(x, ACT_SOA_TCP); /* truncated: TSIG may not even be there */
		return 1;
	}
	int rc = xfr_verify(x, msg, len);
	if (rc == 0 && x->tsig_on) {
		rc = tsig_session_finish(&x->tsig);
	}
	if (rc != 0) {
		xfr_fail(x, rc, "SOA answer TSIG");
		return 1;
	}
	rc = query_soa_answer(msg, len, x->id, x->zone, &a);
	if (rc == ZX_ERCODE) {
		x->res.rcode = a.rcode;
		xfr_fail(x, rc, "SOA query refused");
	} else if (rc != 0) {
		xfr_fail(x, rc, "SOA answer");
	} else if (a.truncated && x->st == ST_SOA_UDP) {
		xfr_schedule(x, ACT_SOA_TCP);
	} else if (a.truncated) {
		xfr_fail(x, ZX_EXFR, "SOA answer truncated over TCP");
	} else {
		soa_decide(x, a.serial);
	}
	return 1;
}

/* A datagram from the relay: its header must name the primary; @p off is where the
 * DNS message starts. */
static bool relay_payload(struct xfr *x, size_t n, size_t *off)
{
	struct sockaddr_storage from;
	if (socks5_udp_parse(x->rbuf, n, &from, off) != 0) {
		return false;
	}
	return acl_endpoint_equal((const struct sockaddr *)&from,
	                          (const struct sockaddr *)&x->primary);
}

static void on_udp(evutil_socket_t fd, short what, void *arg)
{
	struct xfr *x = arg;
	if (what & EV_TIMEOUT) {
		event_del(x->udp_ev); /* persistent: it would fire again */
		xfr_schedule(x, ACT_SOA_TCP); /* lost: ask over TCP */
		return;
	}
	ssize_t n = recv(fd, x->rbuf, 65535, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return;
	}
	if (n < 0) {
		event_del(x->udp_ev);
		xfr_schedule(x, ACT_SOA_TCP); /* ICMP unreachable and the like */
		return;
	}
	size_t off = 0;
	if (x->udp_hdr_len > 0 && !relay_payload(x, (size_t)n, &off)) {
		return; /* not from the primary through the relay: keep waiting */
	}
	struct dns_hdr h;
	if (dnsmsg_hdr_parse(x->rbuf + off, (size_t)n - off, &h) != 0 || h.id != x->id) {
		return; /* not the answer to our query: keep waiting */
	}
	event_del(x->udp_ev);
	x->res.soa_udp_proxy = x->udp_hdr_len > 0; /* answered through the relay */
	(void)soa_answer(x, x->rbuf + off, (size_t)n - off);
}

/* Send the query on x->udp_fd (after the relay's header, through a proxy) and wait. */
static int soa_udp_send(struct xfr *x)
{
	uint8_t dgram[SOCKS5_UDP_HDR_MAX + sizeof(x->query)];
	memcpy(dgram, x->udp_hdr, x->udp_hdr_len);
	memcpy(dgram + x->udp_hdr_len, x->query, x->qlen);
	size_t len = x->udp_hdr_len + x->qlen;
	if (send(x->udp_fd, dgram, len, 0) != (ssize_t)len) {
		return ZX_EIO;
	}
	x->udp_ev = event_new(x->base, x->udp_fd, EV_READ | EV_PERSIST, on_udp, x);
	struct timeval tv = ms_tv(x->p.soa_ms);
	if (x->udp_ev == NULL || event_add(x->udp_ev, &tv) != 0) {
		return ZX_ENOMEM;
	}
	return 0;
}

/* The proxy's UDP association is set up, or refused (no UDP relay: ask over TCP). */
static void on_udp_ready(void *arg, int rc, const struct connector_out *out,
                         const struct connector_fail *f)
{
	(void)f;
	struct xfr *x = arg;
	if (rc == 0) {
		x->udp_fd = out->fd;
		x->ctl_fd = out->ctl_fd;
		x->udp_hdr_len = out->hdr_len;
		memcpy(x->udp_hdr, out->hdr, out->hdr_len);
		rc = soa_udp_send(x);
	}
	if (rc != 0) {
		xfr_schedule(x, ACT_SOA_TCP);
	}
}

void xfr_soa_udp(struct xfr *x)
{
	x->st = ST_SOA_UDP;
	int rc = xfr_make_query(x, DNS_T_SOA);
	if (rc != 0) {
		xfr_fail(x, rc, "SOA query");
		return;
	}
	if (x->p.proxy != NULL) {
		rc = connector_start(&x->setup, x->base, CONNECTOR_DGRAM,
		                     (const struct sockaddr *)&x->primary, x->p.primary_len, &x->path,
		                     x->p.connect_ms, on_udp_ready, x);
	} else {
		x->udp_fd = connector_socket(x->primary.ss_family, SOCK_DGRAM, x->p.source);
		rc = x->udp_fd < 0 ? x->udp_fd : 0;
		x->udp_fd = x->udp_fd < 0 ? -1 : x->udp_fd;
		if (rc == 0 && connect(x->udp_fd, (const struct sockaddr *)&x->primary,
		                       x->p.primary_len) != 0) {
			rc = ZX_EIO;
		}
		rc = rc == 0 ? soa_udp_send(x) : rc;
	}
	if (rc != 0) {
		xfr_schedule(x, ACT_SOA_TCP); /* no UDP socket: TCP may still work */
	}
}

static int on_soa_tcp(void *arg, int rc, const uint8_t *msg, size_t len)
{
	struct xfr *x = arg;
	if (rc != 0 && x->res.conn_reused && x->conn.bytes_in == 0) {
		x->fresh = true; /* a kept connection the primary had closed: once more, anew */
		xfr_schedule(x, ACT_SOA_TCP);
		return 1;
	}
	if (rc != 0) {
		rc = xfr_conn_broke(x, rc);
		xfr_fail(x, rc, x->p.tls != NULL ? "SOA query over TLS" : "SOA query over TCP");
		return 1;
	}
	rc = soa_answer(x, msg, len);
	/* answered in full: the connection (its TLS session) may carry the transfer next */
	x->keep = x->p.pool != NULL && x->res.outcome != XFR_FAILED;
	return rc;
}

void xfr_soa_tcp(struct xfr *x)
{
	x->st = ST_SOA_TCP;
	const char *why = x->p.tls != NULL ? "SOA query over TLS" : "SOA query over TCP";
	int rc = xfr_make_query(x, DNS_T_SOA);
	if (rc != 0) {
		xfr_fail(x, rc, why);
		return;
	}
	xfr_exchange(x, on_soa_tcp, why);
}
