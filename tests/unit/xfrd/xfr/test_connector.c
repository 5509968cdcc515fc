/* tests/unit/xfrd/xfr/test_connector.c -- the egress connector against a scripted
 * SOCKS5 proxy (a thread on a loopback socket with a kernel-chosen port): each
 * documented outcome, replies that arrive a byte at a time, and the promise that the
 * handshake never reads past the proxy's reply into the target's bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "xfrd/xfr/connector.h"

#include "common/acl.h"
#include "common/cfg/cfg.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* One exchange of the script: read `expect` bytes (checked when `want` is set), then
 * send `reply` (a byte at a time when `drip`). */
struct step {
	size_t expect;
	const char *want;
	const char *reply;
	size_t reply_len;
	bool drip;
};

struct fake {
	int lfd;
	struct cfg_endpoint ep;
	const struct step *steps;
	size_t nsteps;
	bool close_after;
	bool mismatch;
	pthread_t th;
};

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	int c = accept(f->lfd, NULL, NULL);
	if (c < 0) {
		return NULL;
	}
	for (size_t i = 0; i < f->nsteps; i++) {
		const struct step *s = &f->steps[i];
		uint8_t buf[600];
		size_t have = 0;
		while (have < s->expect) {
			ssize_t n = read(c, buf + have, s->expect - have);
			if (n <= 0) {
				goto out;
			}
			have += (size_t)n;
		}
		if (s->want != NULL && memcmp(buf, s->want, s->expect) != 0) {
			f->mismatch = true;
		}
		for (size_t k = 0; k < s->reply_len; k += s->drip ? 1 : s->reply_len) {
			size_t len = s->drip ? 1 : s->reply_len;
			if (write(c, s->reply + k, len) != (ssize_t)len) {
				goto out;
			}
			if (s->drip) {
				nanosleep(&(struct timespec){0, 2000000}, NULL);
			}
		}
	}
	if (!f->close_after) {
		nanosleep(&(struct timespec){0, 250000000}, NULL); /* open for the client's checks */
	}
out:
	close(c);
	return NULL;
}

static void fake_start(struct fake *f, const struct step *steps, size_t n, bool close_after)
{
	memset(f, 0, sizeof(*f));
	f->close_after = close_after;
	f->steps = steps;
	f->nsteps = n;
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
	socklen_t len = sizeof(sa);
	assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&sa, &len), 0);
	memcpy(&f->ep.addr, &sa, sizeof(sa));
	f->ep.len = sizeof(sa);
	assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
	shutdown(f->lfd, SHUT_RDWR);
	pthread_join(f->th, NULL);
	close(f->lfd);
	assert_false(f->mismatch);
}

struct outcome {
	bool done;
	int rc;
	struct connector_out out;
	struct connector_fail fail;
};

static void on_done(void *arg, int rc, const struct connector_out *out,
                    const struct connector_fail *f)
{
	struct outcome *o = arg;
	o->done = true;
	o->rc = rc;
	if (out != NULL) {
		o->out = *out;
	}
	if (f != NULL) {
		o->fail = *f;
	}
}

static struct outcome run_to(const struct cfg_proxy *px, const struct cfg_endpoint *source,
                             const struct cfg_endpoint *to, enum connector_mode mode, uint64_t ms)
{
	struct event_base *base = event_base_new();
	struct connector c;
	connector_init(&c);
	struct sockaddr_in target = {.sin_family = AF_INET, .sin_port = htons(53)};
	inet_pton(AF_INET, "192.0.2.1", &target.sin_addr);
	if (to != NULL) {
		memcpy(&target, &to->addr, sizeof(target));
	}
	struct connector_path path = {.proxy = px, .source = source};
	struct outcome o = {0};
	assert_int_equal(connector_start(&c, base, mode, (struct sockaddr *)&target, sizeof(target),
	                                 &path, ms, on_done, &o),
	                 0);
	assert_true(connector_busy(&c));
	assert_false(o.done); /* never from within the start */
	while (!o.done) {
		event_base_loop(base, EVLOOP_ONCE);
	}
	assert_false(connector_busy(&c));
	connector_cancel(&c);
	event_base_free(base);
	return o;
}

static struct outcome run(const struct cfg_proxy *px, enum connector_mode mode, uint64_t ms)
{
	return run_to(px, NULL, NULL, mode, ms);
}

#define S(x) x, sizeof(x) - 1
/* CONNECT 192.0.2.1:53 as the client sends it */
#define CONNECT_REQ "\x05\x01\x00\x01\xc0\x00\x02\x01\x00\x35"

static void test_connector_connect_userpass_dripped_and_no_overread(void **state)
{
	(void)state;
	const struct step steps[] = {
		{4, "\x05\x02\x00\x02", S("\x05\x02"), false},
		{1 + 1 + 3 + 1 + 2, "\x01\x03xfr\x02pw", S("\x01\x00"), true},
		/* the reply a byte at a time, then the target's first bytes in the same write */
		{10, CONNECT_REQ, S("\x05\x00\x00\x01\x7f\x00\x00\x02\x12\x34"), true},
		{0, NULL, S("DNS!"), false},
	};
	struct fake f;
	fake_start(&f, steps, 4, false);
	struct cfg_proxy px = {.ep = f.ep, .user = "xfr", .password = "pw"};
	struct outcome o = run(&px, CONNECTOR_STREAM, 5000);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.out.ctl_fd, -1);
	char buf[8] = {0};
	struct timespec t = {0, 50000000};
	nanosleep(&t, NULL);
	assert_int_equal(recv(o.out.fd, buf, sizeof(buf), MSG_DONTWAIT), 4);
	assert_memory_equal(buf, "DNS!", 4); /* nothing of the target's stream was eaten */
	close(o.out.fd);
	fake_stop(&f);
}

static void test_connector_reply_with_domain_and_udp_associate(void **state)
{
	(void)state;
	/* UDP ASSOCIATE: the relay 0.0.0.0:4660 means the proxy's own address */
	const struct step steps[] = {
		{3, "\x05\x01\x00", S("\x05\x00"), false},
		{10, "\x05\x03\x00\x01\x00\x00\x00\x00\x00\x00", S("\x05\x00\x00\x01\x00\x00\x00\x00\x12\x34"),
		 false},
	};
	struct fake f;
	fake_start(&f, steps, 2, false);
	struct cfg_proxy px = {.ep = f.ep};
	struct outcome o = run(&px, CONNECTOR_DGRAM, 5000);
	assert_int_equal(o.rc, 0);
	assert_true(o.out.ctl_fd >= 0);
	assert_int_equal(o.out.hdr_len, 10);
	assert_memory_equal(o.out.hdr, "\x00\x00\x00\x01\xc0\x00\x02\x01\x00\x35", 10);
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	assert_int_equal(getpeername(o.out.fd, (struct sockaddr *)&peer, &len), 0);
	char s[ACL_ADDRSTRLEN];
	assert_string_equal(acl_addr_str((struct sockaddr *)&peer, true, s, sizeof(s)),
	                    "127.0.0.1@4660");
	close(o.out.fd);
	close(o.out.ctl_fd);
	fake_stop(&f);
}

static void test_connector_failures_say_whose(void **state)
{
	(void)state;
	static const struct {
		struct step steps[3];
		size_t n;
		int rc;
		bool at_proxy;
		uint8_t rep;
		const char *step;
	} cases[] = {
		/* every method refused */
		{{{3, NULL, S("\x05\xff"), false}}, 1, ZX_ESOCKS_AUTH, true, 0, "proxy greeting"},
		/* credentials refused */
		{{{4, NULL, S("\x05\x02"), false}, {8, NULL, S("\x01\x01"), false}}, 2, ZX_ESOCKS_AUTH,
		 true, 0, "proxy auth"},
		/* not SOCKS5 at all: an HTTP proxy */
		{{{3, NULL, S("HTTP/1.1 400 Bad"), false}}, 1, ZX_ESOCKS, true, 0, "proxy greeting"},
		/* CONNECT refused by the ruleset; host unreachable (the target's side) */
		{{{3, NULL, S("\x05\x00"), false},
		  {10, NULL, S("\x05\x02\x00\x01\x00\x00\x00\x00\x00\x00"), false}},
		 2, ZX_ESOCKS_REFUSED, true, 2, "proxy request"},
		{{{3, NULL, S("\x05\x00"), false},
		  {10, NULL, S("\x05\x04\x00\x03\x04host\x00\x00"), true}},
		 2, ZX_ESOCKS_UNREACHABLE, false, 4, "proxy request"},
		/* a reply with a bad address type; the proxy closing mid-handshake */
		{{{3, NULL, S("\x05\x00"), false}, {10, NULL, S("\x05\x00\x00\x09\x00"), false}}, 2,
		 ZX_ESOCKS, true, 0, "proxy request"},
		{{{3, NULL, S("\x05"), false}}, 1, ZX_ECONNRESET, true, 0, "proxy greeting"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake f;
		fake_start(&f, cases[i].steps, cases[i].n, true);
		bool userpass = cases[i].steps[0].expect == 4;
		struct cfg_proxy px = {.ep = f.ep, .user = userpass ? "u" : NULL,
		                       .password = userpass ? "pass" : NULL};
		struct outcome o = run(&px, CONNECTOR_STREAM, 5000);
		print_message("case %zu: rc %d step %s\n", i, o.rc, o.fail.step);
		assert_int_equal(o.rc, cases[i].rc);
		assert_int_equal(o.fail.at_proxy, cases[i].at_proxy);
		assert_int_equal(o.fail.rep, cases[i].rep);
		assert_string_equal(o.fail.step, cases[i].step);
		fake_stop(&f);
	}
}

static void test_connector_proxy_down_and_timeout(void **state)
{
	(void)state;
	/* a port nobody listens on: the kernel's own choice, closed again */
	struct fake f;
	fake_start(&f, NULL, 0, true);
	struct cfg_proxy px = {.ep = f.ep};
	shutdown(f.lfd, SHUT_RDWR);
	pthread_join(f.th, NULL);
	close(f.lfd);
	struct outcome o = run(&px, CONNECTOR_STREAM, 2000);
	assert_int_equal(o.rc, ZX_ECONNREFUSED);
	assert_true(o.fail.at_proxy);
	assert_string_equal(o.fail.step, "proxy connect");
	/* a proxy that accepts and never answers */
	const struct step silent[] = {{3, NULL, NULL, 0, false}};
	fake_start(&f, silent, 1, false);
	px.ep = f.ep;
	o = run(&px, CONNECTOR_STREAM, 200);
	assert_int_equal(o.rc, ZX_ETIMEDOUT);
	assert_true(o.fail.at_proxy);
	assert_string_equal(o.fail.step, "proxy greeting");
	fake_stop(&f);
}

static void test_connector_rejects_bad_input(void **state)
{
	(void)state;
	struct event_base *base = event_base_new();
	struct connector c;
	connector_init(&c);
	struct sockaddr_storage un = {.ss_family = AF_UNIX};
	struct connector_path path = {0};
	struct outcome o = {0};
	assert_int_equal(connector_start(&c, base, CONNECTOR_STREAM, (struct sockaddr *)&un,
	                                 sizeof(un), &path, 0, on_done, &o),
	                 ZX_EINVAL);
	struct sockaddr_in t = {.sin_family = AF_INET, .sin_port = htons(53)};
	struct cfg_proxy px = {.user = "u", .password = ""};
	px.ep.len = sizeof(t);
	memcpy(&px.ep.addr, &t, sizeof(t));
	path.proxy = &px;
	assert_int_equal(connector_start(&c, base, CONNECTOR_STREAM, (struct sockaddr *)&t,
	                                 sizeof(t), &path, 0, on_done, &o),
	                 ZX_EINVAL);
	assert_false(connector_busy(&c));
	/* a source of the other family */
	struct cfg_endpoint src;
	memset(&src, 0, sizeof(src));
	assert_int_equal(acl_endpoint_parse("::1@0", 0, &src.addr, &src.len), 0);
	assert_int_equal(connector_socket(AF_INET, SOCK_STREAM, &src), ZX_EINVAL);
	connector_cancel(&c);
	event_base_free(base);
	assert_false(o.done);
}


static struct cfg_endpoint endpoint(const char *text)
{
	struct cfg_endpoint ep;
	memset(&ep, 0, sizeof(ep));
	assert_int_equal(acl_endpoint_parse(text, 0, &ep.addr, &ep.len), 0);
	return ep;
}

static const char *local_of(int fd, char *buf)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	return acl_addr_str((struct sockaddr *)&ss, false, buf, ACL_ADDRSTRLEN);
}

/* Direct: a TCP stream and a UDP socket connected to the target, bound to the source;
 * a refused connect is the target's failure, a source not on this host ours. */
static void test_connector_direct_from_a_source(void **state)
{
	(void)state;
	struct fake f;
	const struct step none[] = {{0, NULL, NULL, 0, false}};
	fake_start(&f, none, 1, false);
	struct cfg_endpoint src = endpoint("127.0.0.2@0");
	char b[ACL_ADDRSTRLEN];
	struct outcome o = run_to(NULL, &src, &f.ep, CONNECTOR_STREAM, 2000);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.out.ctl_fd, -1);
	assert_string_equal(local_of(o.out.fd, b), "127.0.0.2");
	close(o.out.fd);
	o = run_to(NULL, &src, &f.ep, CONNECTOR_DGRAM, 2000);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.out.hdr_len, 0);
	assert_int_equal(o.out.ctl_fd, -1);
	assert_string_equal(local_of(o.out.fd, b), "127.0.0.2");
	close(o.out.fd);
	fake_stop(&f);

	struct cfg_endpoint closed = f.ep; /* nobody listens there any more */
	o = run_to(NULL, NULL, &closed, CONNECTOR_STREAM, 2000);
	assert_int_equal(o.rc, ZX_ECONNREFUSED);
	assert_false(o.fail.at_proxy);
	assert_string_equal(o.fail.step, "connect");
	struct cfg_endpoint foreign = endpoint("192.0.2.77@0"); /* not this host's */
	o = run_to(NULL, &foreign, &closed, CONNECTOR_STREAM, 2000);
	assert_int_equal(o.rc, ZX_EIO);
	assert_false(o.fail.at_proxy);
	assert_string_equal(o.fail.step, "bind source");
	struct cfg_proxy px = {.ep = closed};
	o = run_to(&px, &foreign, NULL, CONNECTOR_STREAM, 2000);
	assert_false(o.fail.at_proxy); /* our source, not the proxy */
	assert_string_equal(o.fail.step, "bind source");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connector_connect_userpass_dripped_and_no_overread),
		cmocka_unit_test(test_connector_reply_with_domain_and_udp_associate),
		cmocka_unit_test(test_connector_failures_say_whose),
		cmocka_unit_test(test_connector_proxy_down_and_timeout),
		cmocka_unit_test(test_connector_rejects_bad_input),
		cmocka_unit_test(test_connector_direct_from_a_source),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
