/* SPDX-License-Identifier: MIT */
/* xfrd/xfr/commitq.c -- store commits off the workers' event loops: a FIFO and a few threads. */
#include "xfrd/xfr/commitq.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct commitq {
	pthread_mutex_t mu;
	pthread_cond_t work_cv; /* a job was queued, or stopping */
	pthread_cond_t done_cv; /* a job finished */
	struct commitq_job *head, *tail;
	bool stopping;
	unsigned nthreads;
	pthread_t *threads;
};

static void *run(void *arg)
{
	struct commitq *q = arg;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		struct commitq_job *j = q->head;
		if (j == NULL) {
			if (q->stopping) {
				break;
			}
			pthread_cond_wait(&q->work_cv, &q->mu);
			continue;
		}
		q->head = j->next;
		if (q->head == NULL) {
			q->tail = NULL;
		}
		pthread_mutex_unlock(&q->mu);
		int rc = j->ops->commit(j->txn, j->now, j->primary, j->res);
		j->txn = NULL;
		if (rc != 0 && j->errtext != NULL && j->errtext_size > 0) {
			/* the store's own text is this thread's: take it while it is there */
			const char *e = j->ops->error != NULL ? j->ops->error() : "";
			snprintf(j->errtext, j->errtext_size, "%s", e != NULL ? e : "");
		}
		pthread_mutex_lock(&q->mu);
		/* done() is the last touch of j: its owner may free j as soon as done()
		   has told it (xfr frees from the event done() activates) */
		j->finished = true;
		j->done(j, rc);
		pthread_cond_broadcast(&q->done_cv);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

int commitq_new(unsigned threads, struct commitq **out)
{
	if (threads == 0) {
		return ZX_EINVAL;
	}
	struct commitq *q = calloc(1, sizeof(*q));
	if (q == NULL) {
		return ZX_ENOMEM;
	}
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->work_cv, NULL);
	pthread_cond_init(&q->done_cv, NULL);
	q->threads = calloc(threads, sizeof(*q->threads));
	if (q->threads == NULL) {
		commitq_free(q);
		return ZX_ENOMEM;
	}
	for (; q->nthreads < threads; q->nthreads++) {
		if (pthread_create(&q->threads[q->nthreads], NULL, run, q) != 0) {
			commitq_free(q);
			return ZX_ENOMEM;
		}
	}
	*out = q;
	return 0;
}

void commitq_submit(struct commitq *q, struct commitq_job *j)
{
	j->next = NULL;
	j->finished = false;
	pthread_mutex_lock(&q->mu);
	*(q->tail != NULL ? &q->tail->next : &q->head) = j;
	q->tail = j;
	pthread_cond_signal(&q->work_cv);
	pthread_mutex_unlock(&q->mu);
}

void commitq_wait(struct commitq *q, struct commitq_job *j)
{
	pthread_mutex_lock(&q->mu);
	while (!j->finished) {
		pthread_cond_wait(&q->done_cv, &q->mu);
	}
	pthread_mutex_unlock(&q->mu);
}

void commitq_free(struct commitq *q)
{
	if (q == NULL) {
		return;
	}
	pthread_mutex_lock(&q->mu);
	q->stopping = true;
	pthread_cond_broadcast(&q->work_cv);
	pthread_mutex_unlock(&q->mu);
	for (unsigned i = 0; i < q->nthreads; i++) {
		pthread_join(q->threads[i], NULL);
	}
	free(q->threads);
	pthread_cond_destroy(&q->done_cv);
	pthread_cond_destroy(&q->work_cv);
	pthread_mutex_destroy(&q->mu);
	free(q);
}
