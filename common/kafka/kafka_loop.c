/* SPDX-License-Identifier: MIT */
/* common/kafka/kafka_loop.c -- a librdkafka main queue served on a libevent loop. */
#include "common/kafka/kafka_loop.h"

#include <event2/event.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

struct kafka_loop {
	rd_kafka_t *rk;
	rd_kafka_queue_t *mainq;
	int pipe[2];
	struct event *pipe_ev, *tick;
};

static void on_pipe(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct kafka_loop *l = arg;
	char buf[256];
	while (read(fd, buf, sizeof(buf)) > 0) {
	}
	rd_kafka_poll(l->rk, 0);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct kafka_loop *l = arg;
	rd_kafka_poll(l->rk, 0);
}

int kafka_loop_new(rd_kafka_t *rk, struct event_base *base, struct kafka_loop **out)
{
	struct kafka_loop *l = calloc(1, sizeof(*l));
	if (l == NULL) {
		return ZX_ENOMEM;
	}
	l->rk = rk;
	if (pipe2(l->pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
		free(l);
		return ZX_EIO;
	}
	l->mainq = rd_kafka_queue_get_main(rk);
	rd_kafka_queue_io_event_enable(l->mainq, l->pipe[1], "1", 1);
	l->pipe_ev = event_new(base, l->pipe[0], EV_READ | EV_PERSIST, on_pipe, l);
	l->tick = event_new(base, -1, EV_PERSIST, on_tick, l);
	struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
	if (l->pipe_ev == NULL || l->tick == NULL || event_add(l->pipe_ev, NULL) != 0 ||
	    event_add(l->tick, &tv) != 0) {
		kafka_loop_free(l);
		return ZX_ENOMEM;
	}
	*out = l;
	return 0;
}

void kafka_loop_free(struct kafka_loop *l)
{
	if (l == NULL) {
		return;
	}
	if (l->pipe_ev != NULL) {
		event_free(l->pipe_ev);
	}
	if (l->tick != NULL) {
		event_free(l->tick);
	}
	rd_kafka_queue_io_event_enable(l->mainq, -1, NULL, 0);
	rd_kafka_queue_destroy(l->mainq);
	close(l->pipe[0]);
	close(l->pipe[1]);
	free(l);
}
