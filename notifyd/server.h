/* SPDX-License-Identifier: MIT */
/* notifyd/server.h -- notifyd put together: listener -> notify_decide -> Kafka -> answer.
 *
 * For each DNS message the listener hands over, the server calls
 * notify_decide(). Refusals and errors are answered at once. An accepted
 * NOTIFY becomes one TransferRequest event (proto/events.h) published with the
 * zone's canonical name as key; its NOERROR answer is kept, with where to send
 * it, until the delivery report: stored -> the answer goes out; failed or past
 * kafka.delivery-timeout -> no answer (the primary retries), counted as
 * unanswered by reason. Nothing is answered that Kafka has not stored.
 *
 * Also here: the Prometheus metrics and /health over HTTP (evhttp), the logs,
 * SIGHUP (reload the config: zones, keys, ACLs, trusted proxies, rate limits,
 * TCP limits; sockets and Kafka settings stay), SIGTERM/SIGINT (stop reading,
 * wait for the owed answers up to the delivery timeout, flush, exit).
 *
 * Logging: one key=value line per outcome (event notify, with zone, serial,
 * source, transport, outcome, key), within a budget of SERVER_LOG_PER_SEC lines
 * per second; past it lines are counted, not written, and a notify_summary line
 * every 10 s gives the totals, while there is traffic (none when nothing came, was
 * dropped or suppressed since the last one). Measured (bench, 30k NOTIFY/s, log to a file): a
 * line per NOTIFY costs about 2 us of loop CPU per NOTIFY, +21% over the ~10 us
 * the whole pipeline takes otherwise; at the 90k/s design load that is a fifth
 * of the core. The budget keeps every outcome visible at low rates and the loop
 * cheap at high ones.
 *
 * Threading: everything on the one event loop thread (librdkafka's threads do
 * only network I/O; see publish.h).
 */
#ifndef ZX_NOTIFYD_SERVER_H
#define ZX_NOTIFYD_SERVER_H

#include "common/err.h"

#include <stddef.h>

struct event_base;
struct cfg;
struct server;

/** Most log lines per second before lines are only counted (a -D can raise it, as
 * the bench does to measure the cost of a line per NOTIFY). */
#ifndef SERVER_LOG_PER_SEC
#define SERVER_LOG_PER_SEC 200
#endif

/**
 * Open sockets, the HTTP endpoint and the producer.
 * @param cfg   TAKEN: the server owns it (and frees it on reload and in server_free())
 * @param path  the config file, re-read on SIGHUP; borrowed (must outlive the server)
 * @param[out] out  returned owned (server_free()); untouched on error (@p cfg is freed)
 * @return 0; ZX_EIO a socket could not be opened (the log says which);
 *         ZX_ECONFIG / ZX_EKAFKA the producer could not be created; ZX_ENOMEM
 */
ZX_MUSTCHECK int server_new(struct event_base *base, struct cfg *cfg, const char *path,
                            struct server **out);

/** Release everything. NULL is ok. */
void server_free(struct server *s);

#endif
