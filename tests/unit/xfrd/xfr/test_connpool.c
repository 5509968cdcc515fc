/* tests/unit/xfrd/xfr/test_connpool.c -- idle connections kept per primary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "xfrd/xfr/connpool.h"

#include "common/acl.h"
#include "common/cfg/cfg.h"
#include "xfrd/xfr/connector.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <string.h>
#include <unistd.h>

static struct sockaddr_in peer(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	return sa;
}

/* A connected pair: [0] goes to the pool, [1] plays the primary. */
static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
}

static bool is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

static void put(struct connpool *p, uint16_t port, int fd)
{
	struct sockaddr_in sa = peer(port);
	connpool_put(p, (const struct sockaddr *)&sa, sizeof(sa), NULL, fd);
}

static int take(struct connpool *p, uint16_t port)
{
	struct sockaddr_in sa = peer(port);
	return connpool_take(p, (const struct sockaddr *)&sa, NULL);
}

static void test_connpool_rejects_bad_options(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	struct connpool *p = (struct connpool *)0x1;
	assert_int_equal(connpool_new(NULL, 1, 1000, &p), ZX_EINVAL);
	assert_int_equal(connpool_new(base, 0, 1000, &p), ZX_EINVAL);
	assert_int_equal(connpool_new(base, 1, 0, &p), ZX_EINVAL);
	assert_ptr_equal(p, (struct connpool *)0x1);
	connpool_free(NULL);
	event_base_free(base);
}

static void test_connpool_take_by_primary(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	struct connpool *p = NULL;
	assert_int_equal(connpool_new(base, 2, 10000, &p), 0);
	int a[2], b[2];
	pair(a);
	pair(b);
	assert_int_equal(take(p, 53), -1);
	put(p, 53, a[0]);
	put(p, 5353, b[0]);
	assert_int_equal(connpool_idle(p), 2);
	assert_int_equal(take(p, 54), -1);
	assert_int_equal(take(p, 5353), b[0]);
	assert_int_equal(take(p, 53), a[0]);
	assert_int_equal(take(p, 53), -1);
	assert_int_equal(connpool_idle(p), 0);
	connpool_free(p);
	assert_true(is_open(a[0])); /* taken: the caller's */
	for (int i = 0; i < 2; i++) {
		close(a[i]);
		close(b[i]);
	}
	event_base_free(base);
}

static void test_connpool_caps_per_primary(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	struct connpool *p = NULL;
	assert_int_equal(connpool_new(base, 2, 10000, &p), 0);
	int s[3][2];
	for (int i = 0; i < 3; i++) {
		pair(s[i]);
		put(p, 53, s[i][0]);
	}
	assert_int_equal(connpool_idle(p), 2);
	assert_false(is_open(s[2][0])); /* over the cap: closed */
	assert_int_equal(take(p, 53), s[1][0]); /* the warmest first */
	close(s[1][0]);
	connpool_free(p); /* closes what it still holds */
	assert_false(is_open(s[0][0]));
	for (int i = 0; i < 3; i++) {
		close(s[i][1]);
	}
	event_base_free(base);
}

static void test_connpool_drops_closed_and_idle(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	struct connpool *p = NULL;
	assert_int_equal(connpool_new(base, 4, 100, &p), 0);
	int closed[2], quiet[2];
	pair(closed);
	pair(quiet);
	put(p, 53, closed[0]);
	put(p, 53, quiet[0]);
	close(closed[1]); /* the primary closes one while it is idle */
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(connpool_idle(p), 1);
	assert_false(is_open(closed[0]));
	struct timeval later = {.tv_sec = 0, .tv_usec = 300000};
	event_base_loopexit(base, &later);
	event_base_dispatch(base); /* the other one is idle too long */
	assert_int_equal(connpool_idle(p), 0);
	assert_false(is_open(quiet[0]));
	close(quiet[1]);
	connpool_free(p);
	event_base_free(base);
}


static struct cfg_endpoint endpoint(const char *text)
{
	struct cfg_endpoint ep;
	memset(&ep, 0, sizeof(ep));
	assert_int_equal(acl_endpoint_parse(text, 0, &ep.addr, &ep.len), 0);
	return ep;
}

/* A kept connection is taken only for the same primary by the same path: a direct
 * one never serves a proxied transfer, nor one through another proxy or user, nor one
 * from another source address; a plain one never serves a TLS transfer, nor one in
 * TLS of another setting (XFR over TLS). */
static void test_connpool_keyed_by_egress_path(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	struct connpool *p = NULL;
	assert_int_equal(connpool_new(base, 16, 60000, &p), 0);
	struct cfg_endpoint src = endpoint("127.0.0.2@0"), src2 = endpoint("127.0.0.3@0");
	struct cfg_proxy px = {.ep = endpoint("127.0.0.1@1080")};
	struct cfg_proxy px_user = {.ep = endpoint("127.0.0.1@1080"), .user = "a", .password = "p"};
	struct cfg_proxy px_user2 = {.ep = endpoint("127.0.0.1@1080"), .user = "b", .password = "p"};
	struct cfg_proxy px_other = {.ep = endpoint("127.0.0.1@1081")};
	int tls_a, tls_b; /* two TLS contexts: only their identity matters to the pool */
	const struct xot_client *ta = (const void *)&tls_a, *tb = (const void *)&tls_b;
	const struct connector_path paths[] = {
		{NULL, NULL, NULL}, {&src, NULL, NULL}, {&src2, NULL, NULL}, {NULL, &px, NULL},
		{NULL, &px_user, NULL}, {NULL, &px_user2, NULL}, {NULL, &px_other, NULL},
		{&src, &px, NULL}, {NULL, NULL, ta}, {NULL, NULL, tb}, {NULL, &px, ta},
	};
	const size_t n = sizeof(paths) / sizeof(paths[0]);
	int fds[11][2];
	struct sockaddr_in sa = peer(53);
	for (size_t i = 0; i < n; i++) {
		pair(fds[i]);
		connpool_put(p, (const struct sockaddr *)&sa, sizeof(sa), &paths[i], fds[i][0]);
	}
	assert_int_equal(connpool_idle(p), n);
	/* each path takes its own socket back, in any order */
	for (size_t k = 0; k < n; k++) {
		size_t i = (k * 5 + 3) % n;
		struct cfg_proxy copy; /* the same proxy from other settings: equal by value */
		struct connector_path via = paths[i];
		if (via.proxy != NULL) {
			copy = *via.proxy;
			via.proxy = &copy;
		}
		assert_int_equal(connpool_take(p, (const struct sockaddr *)&sa, &via), fds[i][0]);
		assert_int_equal(connpool_take(p, (const struct sockaddr *)&sa, &via), -1);
	}
	assert_int_equal(connpool_idle(p), 0);
	for (size_t i = 0; i < n; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
	}
	connpool_free(p);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connpool_rejects_bad_options),
		cmocka_unit_test(test_connpool_take_by_primary),
		cmocka_unit_test(test_connpool_keyed_by_egress_path),
		cmocka_unit_test(test_connpool_caps_per_primary),
		cmocka_unit_test(test_connpool_drops_closed_and_idle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
