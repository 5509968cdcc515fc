/* SPDX-License-Identifier: MIT */
/* tests/bed/kafka_mock.c -- librdkafka's mock cluster as a process of its own.
 *
 * The test bed's stand-in for Apache Kafka where Java or Maven is missing
 * (tests/bed/kafka.sh starts it). librdkafka 2.0.2 picks a random port, so the
 * bootstrap address is printed on stdout and, with --addr-file, written to a
 * file (atomically: a temp file renamed). Runs until SIGTERM or SIGINT.
 * Nothing survives its exit; about 5 MiB are kept per partition.
 *
 * Usage: kafka_mock [--brokers N] [--addr-file PATH]
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int write_addr(const char *path, const char *addr)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		return -1;
	}
	FILE *f = fopen(tmp, "w");
	if (f == NULL) {
		return -1;
	}
	int bad = fprintf(f, "%s\n", addr) < 0;
	bad |= fclose(f) != 0;
	if (bad || rename(tmp, path) != 0) {
		return -1;
	}
	return 0;
}

static rd_kafka_t *make_handle(void)
{
	char err[256];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	/* The handle only hosts the cluster; keep it quiet. */
	if (rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err)) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "kafka_mock: %s\n", err);
	}
	rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (rk == NULL) {
		fprintf(stderr, "kafka_mock: rd_kafka_new: %s\n", err);
		rd_kafka_conf_destroy(conf);
	}
	return rk;
}

int main(int argc, char **argv)
{
	const char *addr_file = NULL;
	int brokers = 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--addr-file") == 0 && i + 1 < argc) {
			addr_file = argv[++i];
		} else if (strcmp(argv[i], "--brokers") == 0 && i + 1 < argc) {
			brokers = atoi(argv[++i]);
		} else {
			fprintf(stderr, "usage: kafka_mock [--brokers N] [--addr-file PATH]\n");
			return 2;
		}
	}
	/* Block the stop signals before librdkafka starts threads: they inherit the
	 * mask, and the main thread takes the signal with sigwait(). */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);

	int rc = 1;
	rd_kafka_t *rk = make_handle();
	if (rk == NULL) {
		return 1;
	}
	rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers < 1 ? 1 : brokers);
	if (mc == NULL) {
		fprintf(stderr, "kafka_mock: rd_kafka_mock_cluster_new failed\n");
		goto out_rk;
	}
	const char *boot = rd_kafka_mock_cluster_bootstraps(mc);
	printf("MOCK kafka cluster (librdkafka %s) bootstrap=%s\n", rd_kafka_version_str(), boot);
	fflush(stdout);
	if (addr_file != NULL && write_addr(addr_file, boot) != 0) {
		perror("kafka_mock: addr file");
		goto out_mc;
	}
	int sig = 0;
	sigwait(&stop, &sig);
	printf("kafka_mock: signal %d, stopping\n", sig);
	rc = 0;
out_mc:
	rd_kafka_mock_cluster_destroy(mc);
out_rk:
	rd_kafka_destroy(rk);
	return rc;
}
