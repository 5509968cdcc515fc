/* SPDX-License-Identifier: MIT */
/* notifyd/server.c -- the per-message pipeline, answers after delivery, metrics, signals. */
#include "notifyd/server.h"

#include "common/clock.h"
#include "common/acl.h"
#include "common/cfg/cfg.h"
#include "common/dname.h"
#include "common/kafka/kafka.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/ops/opshttp.h"
#include "common/tsig/tsig.h"
#include "common/tsig/tsig_replay.h"
#include "notifyd/listener.h"
#include "notifyd/notify.h"
#include "notifyd/publish.h"
#include "notifyd/ratelimit.h"
#include "proto/events.h"
#include "proto/regmirror.h"
#include "proto/reqtopic.h"

#include <event2/event.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define RL_SLOTS 65536

enum unanswered {
	UNANS_KAFKA_TIMEOUT,
	UNANS_KAFKA_ERROR,
	UNANS_QUEUE_FULL,
	UNANS_SHUTDOWN,
	UNANS_CONN_GONE,
	UNANS_OVERSIZE,
	UNANS_COUNT
};
static const char *const unans_names[UNANS_COUNT] = {
	"kafka_timeout", "kafka_error", "queue_full", "shutdown", "conn_gone", "oversize",
};

struct server {
	struct event_base *base;
	struct cfg *cfg;
	const char *path;
	struct listener *lis;
	struct publish *pub;
	struct notify_env env;
	struct regmirror *reg;      /**< the zone registry; NULL when the config has none */
	struct tsig_replay *replay; /**< kept across reloads (env.replay points here) */
	uint64_t replay_evicted;    /**< evictions already added to the metric */
	uint64_t seed;
	struct opshttp *http;
	struct event *sig[3];
	struct event *summary;
	struct event *drain;
	struct event *expire;
	uint64_t drain_deadline_ms;
	size_t pending; /**< in the list: waiting and not expired */
	struct pending *head, *tail;
	/* metrics */
	struct metrics *m;
	struct metrics_val *req[2][NOTIFY_OUTCOME_COUNT];
	struct metrics_val *drops[LISTENER_DROP_COUNT];
	struct metrics_val *unans[UNANS_COUNT];
	struct metrics_val *tsig_fail[NOTIFY_OUTCOME_COUNT]; /**< only the TSIG outcomes */
	struct metrics_val *answered;
	struct metrics_val *reloads;
	struct metrics_val *send_errors;
	struct metrics_val *kafka_errors;
	struct metrics_val *replay_evictions;
	struct metrics_hist *latency;
	/* logging budget */
	uint64_t log_sec;
	unsigned log_lines;
	uint64_t log_suppressed;
	struct kafka_errlog kerrlog; /* Kafka errors, each logged once */
	uint64_t summary_seen;  /* messages + drops + log_suppressed at the last summary */
	uint64_t last_kafka_error_ms;
	uint64_t last_delivery_ms;
	uint64_t topic_missing_ms;  /**< when a delivery last failed for a missing topic */
	char topic_missing[300];    /**< its reason, naming the topic */
};

/* An accepted NOTIFY waiting for its delivery report. It sits in the server's
 * list (oldest first, as every one gets the same timeout) until the report comes
 * or its deadline passes, whichever is first; past the deadline it is "expired":
 * out of the list, never answered, freed when librdkafka hands it back. */
struct pending {
	struct server *s;
	struct pending *prev, *next;
	uint64_t deadline_us;
	bool expired;
	struct listener_dest dest;
	uint64_t t0_ms_x1000; /**< monotonic µs when received */
	enum listener_transport tp;
	bool has_serial;
	uint32_t serial;
	struct sockaddr_storage src; /**< the real source, formatted only when logged */
	bool replay_held;             /**< signed: in the replay memory, pending */
	struct tsig_replay_id replay_id;
	size_t reply_len; /**< 0: no answer fits (oversize) */
	char *zone;       /**< into data, after the reply */
	uint8_t data[];
};

static const char *tp_name(enum listener_transport tp)
{
	return tp == LISTENER_TCP ? "tcp" : "udp";
}

/* True when one more line fits in this second's budget. */
static bool log_budget(struct server *s)
{
	uint64_t sec = clock_mono_us() / 1000000u;
	if (sec != s->log_sec) {
		s->log_sec = sec;
		s->log_lines = 0;
	}
	if (s->log_lines >= SERVER_LOG_PER_SEC) {
		s->log_suppressed++;
		return false;
	}
	s->log_lines++;
	return true;
}

/* The serial hint of a log line: the number, or "-" when the NOTIFY carried none. */
static const char *serial_text(bool has, uint32_t serial, char buf[16])
{
	if (!has) {
		return "-";
	}
	snprintf(buf, 16, "%" PRIu32, serial);
	return buf;
}

/* ---- metrics ----------------------------------------------------------- */

static double gauge_pending(void *arg)
{
	return (double)((struct server *)arg)->pending;
}

static double gauge_queue(void *arg)
{
	struct server *s = arg;
	return s->pub != NULL ? (double)publish_queued(s->pub) : 0;
}

static double gauge_tcp(void *arg)
{
	struct server *s = arg;
	return s->lis != NULL ? (double)listener_tcp_count(s->lis) : 0;
}

static int metrics_setup(struct server *s)
{
	char lb[128];
	struct metrics *m = s->m = metrics_new();
	if (m == NULL) {
		return ZX_ENOMEM;
	}
	for (int t = 0; t < 2; t++) {
		for (int o = 0; o < NOTIFY_OUTCOME_COUNT; o++) {
			snprintf(lb, sizeof(lb), "transport=\"%s\",outcome=\"%s\"",
			         tp_name((enum listener_transport)t),
			         notify_outcome_name((enum notify_outcome)o));
			s->req[t][o] = metrics_counter(m, "notifyd_requests_total", lb,
			                               "DNS messages by transport and outcome.");
		}
	}
	static const enum notify_outcome tsig_kinds[] = {NOTIFY_BADKEY, NOTIFY_BADSIG, NOTIFY_BADTIME,
	                                                 NOTIFY_BADTRUNC, NOTIFY_REFUSED_KEY,
	                                                 NOTIFY_REFUSED_UNSIGNED, NOTIFY_REPLAY,
	                                                 NOTIFY_INFLIGHT};
	for (size_t k = 0; k < sizeof(tsig_kinds) / sizeof(tsig_kinds[0]); k++) {
		snprintf(lb, sizeof(lb), "kind=\"%s\"", notify_outcome_name(tsig_kinds[k]));
		s->tsig_fail[tsig_kinds[k]] = metrics_counter(
			m, "notifyd_tsig_failures_total", lb,
			"NOTIFYs failing TSIG: bad key/MAC/time/truncation, key not allowed, unsigned, "
			"replayed (accepted before, or still waiting for Kafka).");
	}
	for (int d = 0; d < LISTENER_DROP_COUNT; d++) {
		snprintf(lb, sizeof(lb), "reason=\"%s\"", listener_drop_name((enum listener_drop)d));
		s->drops[d] = metrics_counter(m, "notifyd_drops_total", lb,
		                              "Messages or connections dropped before DNS processing.");
	}
	for (int u = 0; u < UNANS_COUNT; u++) {
		snprintf(lb, sizeof(lb), "reason=\"%s\"", unans_names[u]);
		s->unans[u] = metrics_counter(m, "notifyd_unanswered_total", lb,
		                              "Accepted NOTIFYs left unanswered (the primary retries).");
	}
	s->answered = metrics_counter(m, "notifyd_answered_total", NULL,
	                              "Accepted NOTIFYs answered after Kafka stored their event.");
	s->reloads = metrics_counter(m, "notifyd_config_reloads_total", NULL, "Config reloads.");
	s->send_errors = metrics_counter(m, "notifyd_send_errors_total", NULL,
	                                 "Immediate answers that could not be sent.");
	s->kafka_errors = metrics_counter(m, "notifyd_kafka_errors_total", NULL,
	                                  "Kafka client errors (brokers down, ...).");
	s->replay_evictions = metrics_counter(
		m, "notifyd_replay_evictions_total", NULL,
		"Accepted signed NOTIFYs dropped from the full replay memory (its horizon rose).");
	static const double b[] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
	                           0.1,    0.25,  0.5,   1,     2.5,  5,    10};
	s->latency = metrics_histogram(m, "notifyd_kafka_delivery_seconds", NULL,
	                               "NOTIFY received to Kafka delivery report.", b,
	                               sizeof(b) / sizeof(b[0]));
	if (s->latency == NULL || s->answered == NULL || s->kafka_errors == NULL ||
	    s->replay_evictions == NULL ||
	    s->send_errors == NULL || s->reloads == NULL ||
	    metrics_gauge_cb(m, "notifyd_pending_answers", NULL,
	                     "Accepted NOTIFYs waiting for Kafka.", gauge_pending, s) != 0 ||
	    metrics_gauge_cb(m, "notifyd_kafka_queue_depth", NULL,
	                     "Messages queued or in flight in librdkafka.", gauge_queue, s) != 0 ||
	    metrics_gauge_cb(m, "notifyd_tcp_connections", NULL, "Open TCP connections.",
	                     gauge_tcp, s) != 0) {
		return ZX_ENOMEM;
	}
	return 0;
}

/* ---- the pipeline ------------------------------------------------------ */

static void log_outcome(struct server *s, const struct listener_msg *m,
                        const struct notify_out *o, const char *extra)
{
	if (!log_budget(s)) {
		return;
	}
	char src[ACL_ADDRSTRLEN], zone[DNAME_TEXTLEN], peer[ACL_ADDRSTRLEN];
	if (o->qname_len == 0 || dname_to_text(o->qname, zone, sizeof(zone)) != 0) {
		snprintf(zone, sizeof(zone), "-");
	}
	char zq[64], serial[16], named[DNAME_TEXTLEN] = "-", nq[DNAME_TEXTLEN + 8];
	if (o->key == NULL && o->key_named_len > 0 &&
	    dname_to_text(o->key_named, named, sizeof(named)) != 0) {
		snprintf(named, sizeof(named), "?");
	}
	log_write(o->outcome == NOTIFY_ACCEPTED ? LOG_LVL_INFO : LOG_LVL_WARN, "notify",
	          "zone=%s serial=%s source=%s transport=%s proxy=%s outcome=%s "
	          "rcode=%u key=%s id=%u%s",
	          log_quote(zone, zq, sizeof(zq)), serial_text(o->has_serial, o->serial, serial),
	          acl_addr_str(m->src, true, src, sizeof(src)),
	          tp_name(m->transport),
	          m->via_proxy ? acl_addr_str(m->peer, false, peer, sizeof(peer)) : "-",
	          notify_outcome_name(o->outcome), o->reply ? o->rcode : 0,
	          o->key != NULL ? o->key->name_text : log_quote(named, nq, sizeof(nq)), o->orig_id,
	          extra);
}

static int make_event(struct server *s, const struct listener_msg *m, const struct notify_out *o,
                      uint8_t **buf, size_t *len)
{
	char src[ACL_ADDRSTRLEN], peer[ACL_ADDRSTRLEN];
	Zx__Events__TransferRequest ev;
	reqtopic_request_init(&ev, o->zone->name_text, ZX__EVENTS__ORIGIN__ORIGIN_NOTIFY,
	                      s->cfg->notifyd.instance);
	ev.has_serial = o->has_serial;
	ev.serial = o->serial;
	ev.source_addr = (char *)acl_addr_str(m->src, false, src, sizeof(src));
	ev.source_port = ntohs(m->src->sa_family == AF_INET
	                               ? ((const struct sockaddr_in *)m->src)->sin_port
	                               : ((const struct sockaddr_in6 *)m->src)->sin6_port);
	ev.transport = m->transport == LISTENER_TCP ? ZX__EVENTS__TRANSPORT__TRANSPORT_TCP
	                                            : ZX__EVENTS__TRANSPORT__TRANSPORT_UDP;
	ev.via_proxy = m->via_proxy;
	ev.proxy_addr = m->via_proxy ? (char *)acl_addr_str(m->peer, false, peer, sizeof(peer))
	                             : (char *)"";
	ev.tsig_key = o->key != NULL ? o->key->name_text : (char *)"";
	ev.dns_id = o->orig_id;
	return reqtopic_pack(&ev, buf, len);
}

static struct pending *pending_new(struct server *s, const struct listener_msg *m,
                                   const struct notify_out *o, const uint8_t *reply)
{
	size_t zl = strlen(o->zone->name_text) + 1;
	size_t rl = o->reply ? o->reply_len : 0;
	struct pending *p = malloc(sizeof(*p) + rl + zl);
	if (p == NULL) {
		return NULL;
	}
	p->s = s;
	p->expired = false;
	p->dest = m->dest;
	p->t0_ms_x1000 = clock_mono_us();
	p->tp = m->transport;
	p->has_serial = o->has_serial;
	p->serial = o->serial;
	p->replay_held = o->replay_held;
	p->replay_id = o->replay_id;
	memcpy(&p->src, m->src, m->src->sa_family == AF_INET ? sizeof(struct sockaddr_in)
	                                                     : sizeof(struct sockaddr_in6));
	p->reply_len = rl;
	memcpy(p->data, reply, rl);
	p->zone = (char *)p->data + rl;
	memcpy(p->zone, o->zone->name_text, zl);
	return p;
}

static void list_add(struct server *s, struct pending *p)
{
	p->next = NULL;
	p->prev = s->tail;
	if (s->tail != NULL) {
		s->tail->next = p;
	} else {
		s->head = p;
	}
	s->tail = p;
	s->pending++;
}

static void list_del(struct server *s, struct pending *p)
{
	if (p->prev != NULL) {
		p->prev->next = p->next;
	} else {
		s->head = p->next;
	}
	if (p->next != NULL) {
		p->next->prev = p->prev;
	} else {
		s->tail = p->prev;
	}
	s->pending--;
}

static void log_answer(struct server *s, const struct pending *p, enum unanswered why,
                       uint64_t us);

/* Evictions from the replay memory since the last look, added to their counter. */
static void replay_count_evictions(struct server *s)
{
	uint64_t ev = tsig_replay_stats(s->replay).evicted;
	metrics_add(s->replay_evictions, ev - s->replay_evicted);
	s->replay_evicted = ev;
}

/* A held signed NOTIFY's fate: Kafka stored its event (remember it as accepted, so
 * copies are refused) or did not (forget it, so the primary's retry is accepted). */
static void replay_settle(struct server *s, bool held, struct tsig_replay_id *id,
                          bool stored)
{
	if (!held || s->replay == NULL) {
		return;
	}
	if (stored) {
		tsig_replay_confirm(s->replay, id, clock_wall_us() / 1000000u);
		replay_count_evictions(s);
	} else {
		tsig_replay_forget(s->replay, id);
	}
}

/* Our own bound on the wait, exact to the timer's 20 ms: librdkafka's
 * message.timeout.ms is checked only now and then (seconds late with the broker down). */
static void on_expire(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct server *s = arg;
	uint64_t now = clock_mono_us();
	while (s->head != NULL && s->head->deadline_us <= now) {
		struct pending *p = s->head;
		list_del(s, p);
		p->expired = true;
		s->last_kafka_error_ms = now / 1000u; /* not ready until a delivery succeeds */
		metrics_add(s->unans[UNANS_KAFKA_TIMEOUT], 1);
		log_answer(s, p, UNANS_KAFKA_TIMEOUT, now - p->t0_ms_x1000);
		listener_dest_release(&p->dest);
		/* unanswered: the primary sends it again, and that copy must get through */
		replay_settle(s, p->replay_held, &p->replay_id, false);
	}
}

static void accept_notify(struct server *s, const struct listener_msg *m,
                          const struct notify_out *o, const uint8_t *reply)
{
	uint8_t *ev = NULL;
	size_t evlen = 0;
	struct pending *p = NULL;
	enum unanswered why = UNANS_KAFKA_ERROR;
	if (make_event(s, m, o, &ev, &evlen) != 0 || (p = pending_new(s, m, o, reply)) == NULL) {
		goto fail;
	}
	listener_dest_hold(&p->dest);
	int rc = publish_send(s->pub, o->zone->name_text, ev, evlen, p);
	if (rc != 0) {
		why = rc == ZX_EAGAIN ? UNANS_QUEUE_FULL : UNANS_KAFKA_ERROR;
		s->last_kafka_error_ms = clock_mono_us() / 1000u; /* not ready either */
		listener_dest_release(&p->dest);
		goto fail;
	}
	p->deadline_us = p->t0_ms_x1000 + s->cfg->kafka.delivery_timeout_ms * 1000u;
	list_add(s, p);
	return;
fail:
	free(ev);
	free(p);
	struct tsig_replay_id rid = o->replay_id;
	replay_settle(s, o->replay_held, &rid, false);
	metrics_add(s->unans[why], 1);
	log_outcome(s, m, o, why == UNANS_QUEUE_FULL ? " answer=none why=queue_full"
	                                             : " answer=none why=kafka_error");
}

/* A TCP connection whose NOTIFY was refused (or malformed, or over its source's
 * rate) is closed once the answer is out, so it holds no slot: a client that
 * cannot get a NOTIFY in cannot keep connections either. Accepted ones stay (a
 * primary may send more), and so do connections whose NOTIFY only met the zone's
 * rate limit or duplicated one still waiting for Kafka. */
static bool closes_connection(enum notify_outcome o)
{
	return o != NOTIFY_ACCEPTED && o != NOTIFY_RATE_ZONE && o != NOTIFY_INFLIGHT;
}

static void on_msg(const struct listener_msg *m, void *arg)
{
	struct server *s = arg;
	uint8_t reply[NOTIFY_REPLY_MAX];
	struct notify_out o;
	struct notify_in in = {.msg = m->msg, .len = m->len, .src = m->src,
	                       .now_s = (uint64_t)clock_wall_s(), .now_ms = (uint64_t)clock_mono_ms(),
	                       .tcp = m->transport == LISTENER_TCP};
	if (notify_decide(&s->env, &in, reply, sizeof(reply), &o) != 0) {
		return; /* OpenSSL out of memory: nothing sensible to answer */
	}
	metrics_add(s->req[m->transport][o.outcome], 1);
	if (s->tsig_fail[o.outcome] != NULL) {
		metrics_add(s->tsig_fail[o.outcome], 1);
	}
	if (o.outcome == NOTIFY_ACCEPTED) {
		if (o.replay_held) {
			replay_count_evictions(s);
		}
		accept_notify(s, m, &o, reply);
		return;
	}
	if (o.reply && listener_send(s->lis, &m->dest, reply, o.reply_len) != 0) {
		metrics_add(s->send_errors, 1);
	}
	if (m->transport == LISTENER_TCP && closes_connection(o.outcome)) {
		listener_close_after(s->lis, &m->dest);
	}
	if (o.outcome != NOTIFY_RATE_SOURCE && o.outcome != NOTIFY_RATE_ZONE) {
		log_outcome(s, m, &o, "");
	}
}

static void log_answer(struct server *s, const struct pending *p, enum unanswered why,
                       uint64_t us)
{
	if (!log_budget(s)) {
		return;
	}
	bool ok = why == UNANS_COUNT;
	char src[ACL_ADDRSTRLEN], serial[16];
	log_write(ok ? LOG_LVL_INFO : LOG_LVL_WARN, "notify_answer",
	          "zone=%s serial=%s source=%s transport=%s answer=%s kafka_ms=%.3f%s%s",
	          p->zone, serial_text(p->has_serial, p->serial, serial),
	          acl_addr_str((const struct sockaddr *)&p->src, true, src, sizeof(src)),
	          tp_name(p->tp), ok ? "noerror" : "none", (double)us / 1000, ok ? "" : " why=",
	          ok ? "" : unans_names[why]);
}

static void on_done(void *opaque, int rc, void *arg)
{
	struct server *s = arg;
	struct pending *p = opaque;
	if (p->expired) {
		/* already counted and given up on; but stored after all: copies are replays */
		replay_settle(s, p->replay_held && rc == 0, &p->replay_id, true);
		free(p);
		return;
	}
	list_del(s, p);
	replay_settle(s, p->replay_held, &p->replay_id, rc == 0);
	enum unanswered why = UNANS_COUNT;
	uint64_t us = clock_mono_us() - p->t0_ms_x1000;
	if (rc == 0) {
		s->last_delivery_ms = clock_mono_us() / 1000u;
		metrics_observe(s->latency, (double)us / 1e6);
		if (p->reply_len == 0) {
			why = UNANS_OVERSIZE;
		} else if (listener_send(s->lis, &p->dest, p->data, p->reply_len) != 0) {
			why = UNANS_CONN_GONE;
		} else {
			metrics_add(s->answered, 1);
		}
	} else {
		if (rc != ZX_ESHUTDOWN) {
			s->last_kafka_error_ms = clock_mono_us() / 1000u;
		}
		why = rc == ZX_ETIMEDOUT ? UNANS_KAFKA_TIMEOUT
		      : rc == ZX_ESHUTDOWN ? UNANS_SHUTDOWN
		                           : UNANS_KAFKA_ERROR;
	}
	if (why != UNANS_COUNT) {
		metrics_add(s->unans[why], 1);
	}
	log_answer(s, p, why, us);
	listener_dest_release(&p->dest);
	free(p);
}

static void on_drop(enum listener_drop d, const struct sockaddr *peer, void *arg)
{
	struct server *s = arg;
	metrics_add(s->drops[d], 1);
	if (log_budget(s)) {
		char a[ACL_ADDRSTRLEN];
		log_warn("drop", "reason=%s peer=%s", listener_drop_name(d),
		         acl_addr_str(peer, true, a, sizeof(a)));
	}
}

static void on_kafka_error(int rc, const char *reason, void *arg)
{
	struct server *s = arg;
	metrics_add(s->kafka_errors, 1);
	s->last_kafka_error_ms = clock_mono_us() / 1000u;
	if (rc == ZX_ENOENT) { /* the requests topic is missing: /ready says so */
		s->topic_missing_ms = s->last_kafka_error_ms;
		snprintf(s->topic_missing, sizeof(s->topic_missing), "%s", reason);
	}
	/* each error once (a broker down is one line, not one per reconnect) */
	(void)kafka_errlog_once(&s->kerrlog, rc == ZX_ENOENT ? "kafka_topic_missing" : "kafka_error",
	                        "producer", rc == ZX_ENOENT ? "" : zx_strerror(rc), reason,
	                        (int64_t)(clock_mono_us() / 1000u));
}

/* ---- rate limits, reload ----------------------------------------------- */

static int limits_setup(struct server *s, const struct cfg *cfg, struct notify_env *env)
{
	const struct cfg_rate_limit *r = &cfg->notifyd.rate_limit;
	uint32_t burst = r->burst > 0 ? r->burst : 1;
	env->cfg = cfg;
	env->reg = s->reg;
	env->per_source = env->per_zone = NULL;
	env->replay = s->replay;
	int rc = ratelimit_new(r->per_source, burst, RL_SLOTS, s->seed, &env->per_source);
	if (rc == 0) {
		rc = ratelimit_new(r->per_zone, burst, RL_SLOTS, s->seed ^ 0x5a5a5a5a5a5a5a5aull,
		                   &env->per_zone);
	}
	if (rc != 0) {
		ratelimit_free(env->per_source);
		env->per_source = NULL;
	}
	return rc;
}

static void reload(struct server *s)
{
	struct cfg *ncfg = NULL;
	char err[4096];
	int rc = cfg_load(s->path, &ncfg, err, sizeof(err));
	if (rc != 0) {
		char q[1024];
		log_error("reload_failed", "path=%s error=%s", s->path, log_quote(err, q, sizeof(q)));
		return;
	}
	struct notify_env env;
	if (limits_setup(s, ncfg, &env) != 0) {
		log_error("reload_failed", "path=%s error=out_of_memory", s->path);
		cfg_free(ncfg);
		return;
	}
	/* Nothing outlives a callback holding cfg pointers, so the old one can go now. */
	ratelimit_free(s->env.per_source);
	ratelimit_free(s->env.per_zone);
	s->env = env;
	if (s->replay != NULL) { /* kept: a reload must not open a window for replays */
		tsig_replay_set_window(s->replay, tsig_keyring_max_fudge(ncfg->keys));
	}
	listener_set_cfg(s->lis, ncfg);
	if (s->reg != NULL) {
		regmirror_set_cfg(s->reg, ncfg); /* its zones point into the keyring */
	}
	if (ncfg->registry.enabled != s->cfg->registry.enabled ||
	    strcmp(ncfg->registry.topic, s->cfg->registry.topic) != 0) {
		log_warn("reload_partial", "field=registry.topic hint=\"read at start only: "
		         "restart notifyd to follow another registry\"");
	}
	cfg_free(s->cfg);
	s->cfg = ncfg;
	log_set_level(ncfg->log_level);
	metrics_add(s->reloads, 1);
	log_info("reloaded", "path=%s zones=%zu keys=%zu", s->path, ncfg->zone_count,
	         tsig_keyring_count(ncfg->keys));
}

/* ---- HTTP -------------------------------------------------------------- */

/* Alive while the loop runs. Kafka is "down" when it reported an error within
 * the last delivery timeout and nothing was delivered since. */
/* Kafka counts as down while its last error (or unanswered NOTIFY) is newer than
 * its last delivery and recent: within a delivery bound, at least 10 s. The window
 * lets readiness come back by itself when no NOTIFY arrives to prove Kafka works. */
#define KAFKA_DOWN_WINDOW_MIN_MS 10000u

static bool kafka_down(const struct server *s)
{
	uint64_t now = clock_mono_us() / 1000u;
	uint64_t window = s->cfg->kafka.delivery_timeout_ms;
	if (window < KAFKA_DOWN_WINDOW_MIN_MS) {
		window = KAFKA_DOWN_WINDOW_MIN_MS;
	}
	return s->last_kafka_error_ms != 0 && s->last_kafka_error_ms >= s->last_delivery_ms &&
	       now - s->last_kafka_error_ms < window;
}

/* Kafka is "down" because the requests topic does not exist (not the brokers). */
static bool topic_missing(const struct server *s)
{
	return kafka_down(s) && s->topic_missing_ms != 0 &&
	       s->topic_missing_ms >= s->last_delivery_ms;
}

/* The one line both probes answer: the Kafka state, NOTIFYs waiting, TCP connections. */
static void status_line(const struct server *s, bool ok, struct opshttp_answer *a)
{
	char q[sizeof(s->topic_missing) + 16], why[200] = "", rq[256];
	bool missing = topic_missing(s);
	bool reading = s->reg != NULL && !regmirror_caught_up(s->reg);
	if (reading) {
		regmirror_why_not(s->reg, why, sizeof(why));
	}
	snprintf(a->text, sizeof(a->text), "%s kafka=%s pending=%zu tcp=%zu%s%s%s%s",
	         ok ? "ok" : "not-ready", missing ? "topic-missing" : kafka_down(s) ? "down" : "up",
	         s->pending, listener_tcp_count(s->lis), missing ? " reason=" : "",
	         missing ? log_quote(s->topic_missing, q, sizeof(q)) : "",
	         reading ? " registry=" : "", reading ? log_quote(why, rq, sizeof(rq)) : "");
}

/* Liveness: the loop answers. Kafka being down is no reason to restart notifyd:
 * it recovers by itself, and NOTIFYs meanwhile go unanswered (primaries retry). */
static void probe_live(void *arg, struct opshttp_answer *a)
{
	a->ok = true;
	status_line(arg, true, a);
}

/* Readiness: not while Kafka is down, so a load balancer prefers a notifyd whose
 * NOTIFYs can be stored. */
static void probe_ready(void *arg, struct opshttp_answer *a)
{
	const struct server *s = arg;
	a->ok = !kafka_down(s);
	a->reason = topic_missing(s) ? "Kafka requests topic missing" : "Kafka down";
	if (a->ok && s->reg != NULL && !regmirror_caught_up(s->reg)) {
		/* a NOTIFY for a zone of the registry not read yet would be refused */
		a->ok = false;
		a->reason = "registry not read yet";
	}
	status_line(s, a->ok, a);
}

static int http_setup(struct server *s)
{
	const struct cfg_endpoint *ep = &s->cfg->notifyd.http;
	if (ep->len == 0) {
		return 0;
	}
	struct opshttp_opts o = {.base = s->base, .addr = (const struct sockaddr *)&ep->addr,
	                         .addr_len = ep->len, .m = s->m, .live = probe_live,
	                         .ready = probe_ready, .arg = s, .build_info = "notifyd_build_info"};
	return opshttp_new(&o, &s->http);
}

/* ---- signals, summary, shutdown ---------------------------------------- */

static void on_drain(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct server *s = arg;
	if (s->pending == 0 || clock_mono_us() / 1000u >= s->drain_deadline_ms) {
		event_base_loopexit(s->base, NULL);
	}
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct server *s = arg;
	if (sig == SIGHUP) {
		reload(s);
		return;
	}
	if (s->drain != NULL) {
		event_base_loopexit(s->base, NULL); /* a second signal: go now */
		return;
	}
	log_info("stopping", "signal=%d pending=%zu", (int)sig, s->pending);
	listener_pause(s->lis);
	s->drain_deadline_ms = clock_mono_us() / 1000u + s->cfg->kafka.delivery_timeout_ms + 1000u;
	s->drain = event_new(s->base, -1, EV_PERSIST, on_drain, s);
	struct timeval tv = {.tv_sec = 0, .tv_usec = 20000};
	if (s->drain == NULL || event_add(s->drain, &tv) != 0) {
		event_base_loopexit(s->base, NULL);
	}
}

static uint64_t sum_outcome(const struct server *s, enum notify_outcome o)
{
	return metrics_get(s->req[0][o]) + metrics_get(s->req[1][o]);
}

static void on_summary(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct server *s = arg;
	uint64_t total = 0, unans = 0, drops = 0;
	for (int o = 0; o < NOTIFY_OUTCOME_COUNT; o++) {
		total += sum_outcome(s, (enum notify_outcome)o);
	}
	for (int u = 0; u < UNANS_COUNT; u++) {
		unans += metrics_get(s->unans[u]);
	}
	for (int d = 0; d < LISTENER_DROP_COUNT; d++) {
		drops += metrics_get(s->drops[d]);
	}
	uint64_t seen = total + drops + s->log_suppressed;
	if (seen == s->summary_seen) {
		return; /* no traffic since the last line: say nothing */
	}
	s->summary_seen = seen;
	log_info("notify_summary",
	         "messages=%" PRIu64 " accepted=%" PRIu64 " answered=%" PRIu64
	         " unanswered=%" PRIu64 " drops=%" PRIu64 " pending=%zu log_suppressed=%" PRIu64,
	         total, sum_outcome(s, NOTIFY_ACCEPTED), metrics_get(s->answered), unans, drops,
	         s->pending, s->log_suppressed);
}

static int events_setup(struct server *s)
{
	static const int sigs[3] = {SIGTERM, SIGINT, SIGHUP};
	for (int i = 0; i < 3; i++) {
		s->sig[i] = evsignal_new(s->base, sigs[i], on_signal, s);
		if (s->sig[i] == NULL || event_add(s->sig[i], NULL) != 0) {
			return ZX_ENOMEM;
		}
	}
	s->summary = event_new(s->base, -1, EV_PERSIST, on_summary, s);
	struct timeval tv = {.tv_sec = 10, .tv_usec = 0};
	if (s->summary == NULL || event_add(s->summary, &tv) != 0) {
		return ZX_ENOMEM;
	}
	s->expire = event_new(s->base, -1, EV_PERSIST, on_expire, s);
	struct timeval etv = {.tv_sec = 0, .tv_usec = 20000};
	if (s->expire == NULL || event_add(s->expire, &etv) != 0) {
		return ZX_ENOMEM;
	}
	return 0;
}

int server_new(struct event_base *base, struct cfg *cfg, const char *path, struct server **out)
{
	char err[512] = "";
	struct server *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		cfg_free(cfg);
		return ZX_ENOMEM;
	}
	s->base = base;
	s->cfg = cfg;
	s->path = path;
	if (getrandom(&s->seed, sizeof(s->seed), 0) != sizeof(s->seed)) {
		s->seed = clock_wall_us() ^ (uint64_t)(uintptr_t)s;
	}
	int rc = metrics_setup(s);
	if (rc == 0 && cfg->notifyd.replay_cache > 0) {
		rc = tsig_replay_new(cfg->notifyd.replay_cache, tsig_keyring_max_fudge(cfg->keys),
		                     s->seed ^ 0x7265706c61790000ull, &s->replay);
	}
	if (rc == 0 && cfg->registry.enabled) {
		struct regmirror_opts mo = {.cfg = cfg, .base = base, .m = s->m, .prefix = "notifyd",
		                            .client_id = cfg->notifyd.instance};
		rc = regmirror_new(&mo, &s->reg, err, sizeof(err));
		if (rc != 0) {
			char q[600];
			log_error("registry_failed", "error=%s detail=%s", zx_strerror(rc),
			          log_quote(err, q, sizeof(q)));
		}
	}
	if (rc == 0) {
		rc = limits_setup(s, cfg, &s->env);
	}
	if (rc == 0) {
		rc = publish_new(&cfg->kafka, cfg->notifyd.instance, base, on_done, on_kafka_error, s,
		                 &s->pub, err, sizeof(err));
		if (rc != 0) {
			char q[600];
			log_error("kafka_failed", "error=%s", log_quote(err, q, sizeof(q)));
		}
	}
	if (rc == 0) {
		rc = listener_new(base, cfg, on_msg, on_drop, s, &s->lis, err, sizeof(err));
		if (rc != 0) {
			char q[600];
			log_error("listen_failed", "error=%s", log_quote(err, q, sizeof(q)));
		}
	}
	if (rc == 0) {
		rc = http_setup(s);
	}
	if (rc == 0) {
		rc = events_setup(s);
	}
	if (rc != 0) {
		server_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void server_free(struct server *s)
{
	if (s == NULL) {
		return;
	}
	/* The producer first: purged messages hand their pending answers back. */
	publish_free(s->pub);
	listener_free(s->lis);
	regmirror_free(s->reg);
	opshttp_free(s->http);
	for (int i = 0; i < 3; i++) {
		if (s->sig[i] != NULL) {
			event_free(s->sig[i]);
		}
	}
	if (s->summary != NULL) {
		event_free(s->summary);
	}
	if (s->drain != NULL) {
		event_free(s->drain);
	}
	if (s->expire != NULL) {
		event_free(s->expire);
	}
	ratelimit_free(s->env.per_source);
	ratelimit_free(s->env.per_zone);
	tsig_replay_free(s->replay);
	metrics_free(s->m);
	cfg_free(s->cfg);
	free(s);
}
