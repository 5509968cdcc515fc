/* SPDX-License-Identifier: MIT */
/* tests/bed/kafka_mock.c -- librdkafka's mock cluster as a process of its own.
 *
 * The test bed's stand-in for Apache Kafka where Java or Maven is missing
 * (tests/bed/kafka.sh starts it). librdkafka 2.0.2 picks a random port, so the
 * bootstrap address is printed on stdout and, with --addr-file, written to a
 * file (atomically: a temp file renamed). Runs until SIGTERM or SIGINT.
 * Nothing survives its exit; about 5 MiB are kept per partition.
 *
 * The mock of librdkafka 2.0.2 does not answer the Admin API (CreateTopics,
 * DeleteTopics), and auto-creates unknown topics with 4 partitions. So, with
 * --ctl PATH, a FIFO at PATH takes lines "create TOPIC PARTITIONS REPLYFILE"
 * that call rd_kafka_mock_topic_create() and write its rd_kafka_resp_err_t as a
 * number into REPLYFILE (zxkafka create-topic uses it, found through
 * ZX_KAFKA_MOCK_CTL in the bed's env file). Topics cannot be deleted.
 *
 * Usage: kafka_mock [--brokers N] [--addr-file PATH] [--ctl PATH]
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Write one line to @p path atomically (a temp file renamed). */
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

/* The FIFO reader: one command a line, for the life of the process. */
static void *ctl_loop(void *arg)
{
	rd_kafka_mock_cluster_t *mc = arg;
	const char *path = getenv("ZX_KAFKA_MOCK_CTL_PATH");
	/* Opened read-write: the FIFO never reports end-of-file between writers. */
	FILE *f = path != NULL ? fopen(path, "r+") : NULL;
	char line[512];
	if (f == NULL) {
		perror("kafka_mock: ctl fifo");
		return NULL;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char topic[256];
		char reply[256];
		int parts = 0;
		if (sscanf(line, "create %255s %d %255s", topic, &parts, reply) != 3 || parts < 1) {
			fprintf(stderr, "kafka_mock: bad ctl line: %s", line);
			continue;
		}
		rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, topic, parts, 1);
		printf("kafka_mock: create %s %d: %s\n", topic, parts, rd_kafka_err2str(e));
		fflush(stdout);
		char num[16];
		snprintf(num, sizeof(num), "%d", (int)e);
		if (write_addr(reply, num) != 0) {
			perror("kafka_mock: ctl reply");
		}
	}
	fclose(f);
	return NULL;
}

static int start_ctl(rd_kafka_mock_cluster_t *mc, const char *path)
{
	pthread_t t;
	unlink(path);
	if (mkfifo(path, 0600) != 0 || setenv("ZX_KAFKA_MOCK_CTL_PATH", path, 1) != 0) {
		perror("kafka_mock: mkfifo");
		return -1;
	}
	if (pthread_create(&t, NULL, ctl_loop, mc) != 0) {
		return -1;
	}
	pthread_detach(t);
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
	const char *ctl = NULL;
	int brokers = 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--addr-file") == 0 && i + 1 < argc) {
			addr_file = argv[++i];
		} else if (strcmp(argv[i], "--ctl") == 0 && i + 1 < argc) {
			ctl = argv[++i];
		} else if (strcmp(argv[i], "--brokers") == 0 && i + 1 < argc) {
			brokers = atoi(argv[++i]);
		} else {
			fprintf(stderr, "usage: kafka_mock [--brokers N] [--addr-file PATH] [--ctl PATH]\n");
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
	if (ctl != NULL && start_ctl(mc, ctl) != 0) {
		goto out_mc;
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
