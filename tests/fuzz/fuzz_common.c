/*
 * The setup the libFuzzer harnesses share (see fuzz_common.h). Each
 * harness links the daemon's own sources, built with the fuzzer's
 * instrumentation, and plays the network peer over socketpairs.
 */

#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "admin.h"
#include "client.h"
#include "conf.h"
#include "daemon.h"
#include "events.h"
#include "log.h"
#include "push.h"
#include "registry.h"
#include "stats.h"
#include "util.h"
#include "xmalloc.h"

#include "fuzz_common.h"

#define PUMP_MAX	256	/* event loop passes at most per pump */
#define PUMP_SETTLE	1	/* idle passes that end a pump */
#define SEND_STALLS	8	/* full-socket retries before giving up */
#define CLOSE_ROUNDS	16	/* pumps for the daemon to see peers close */

static const size_t chunk_maxes[8] = { 1, 2, 5, 16, 64, 512, 4096, 65536 };

static const char conf_text[] =
    "[server]\n"
    "listen = 127.0.0.1:0\n"
    "[admin]\n"
    "listen =\n"
    "watch_backlog = 64\n"
    "[log]\n"
    "syslog = no\n";

void
fuzz_fail(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	fprintf(stderr, "fuzz: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

char *
fuzz_temp_file(const void *data, size_t len, int *fdp)
{
	char	*path;
	int	 fd;

	if ((fd = memfd_create("heartbeatd-fuzz", MFD_CLOEXEC)) == -1)
		fuzz_fail("memfd_create: %s", strerror(errno));
	fuzz_rewrite(fd, data, len);
	xasprintf(&path, "/proc/self/fd/%d", fd);
	if (fdp != NULL)
		*fdp = fd;
	return (path);
}

void
fuzz_rewrite(int fd, const void *data, size_t len)
{
	if (ftruncate(fd, 0) == -1 ||
	    (len > 0 && pwrite(fd, data, len, 0) != (ssize_t)len))
		fuzz_fail("memfd write: %s", strerror(errno));
}

char *
fuzz_init(void)
{
	char	*path, *cause;

	signal(SIGPIPE, SIG_IGN);
	log_init("heartbeatd-fuzz", 0);
	path = fuzz_temp_file(conf_text, sizeof(conf_text) - 1, NULL);
	if ((hb_conf = config_load(path, &cause)) == NULL)
		fuzz_fail("%s", cause);
	if ((hb_base = event_base_new()) == NULL)
		fuzz_fail("event_base_new");
	log_configure(hb_conf);
	events_configure(hb_conf->watch_backlog);
	if (push_start(&cause) == -1)
		fuzz_fail("%s", cause);
	stats.started = mono_ns();
	return (path);
}

void
fuzz_in_init(struct fuzz_in *in, const uint8_t *data, size_t len)
{
	uint8_t	 seed;

	in->p = data;
	in->len = len;
	seed = fuzz_in_byte(in);
	in->rng = (uint32_t)seed * 2654435761U | 1;
	in->chunk_max = chunk_maxes[seed & 7];
}

uint8_t
fuzz_in_byte(struct fuzz_in *in)
{
	if (in->len == 0)
		return (0);
	in->len--;
	return (*in->p++);
}

/* xorshift32: cheap, and the same input always cuts the same way. */
uint32_t
fuzz_in_rand(struct fuzz_in *in)
{
	in->rng ^= in->rng << 13;
	in->rng ^= in->rng >> 17;
	in->rng ^= in->rng << 5;
	return (in->rng);
}

size_t
fuzz_in_chunk(struct fuzz_in *in, const uint8_t **chunk)
{
	size_t	 n;

	n = 1 + fuzz_in_rand(in) % in->chunk_max;
	if (n > in->len)
		n = in->len;
	*chunk = in->p;
	in->p += n;
	in->len -= n;
	return (n);
}

static void
fuzz_pair(struct fuzz_conn *c)
{
	struct stat	 st;
	int		 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1)
		fuzz_fail("socketpair: %s", strerror(errno));
	if (fstat(sv[0], &st) == -1)
		fuzz_fail("fstat: %s", strerror(errno));
	c->fd = sv[0];
	c->ino = st.st_ino;
	c->peer = sv[1];
	c->id = 0;
}

void
fuzz_client(struct fuzz_conn *c, const char *ip, uint16_t port)
{
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	struct sockaddr		*sa;
	struct conn		 conn = { -1, NULL };
	socklen_t		 len;

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, ip, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		sin.sin_port = htons(port);
		sa = (struct sockaddr *)&sin;
		len = sizeof(sin);
	} else if (inet_pton(AF_INET6, ip, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(port);
		sa = (struct sockaddr *)&sin6;
		len = sizeof(sin6);
	} else
		fuzz_fail("bad address %s", ip);
	fuzz_pair(c);
	conn.fd = c->fd;
	c->id = client_new(&conn, sa, len)->id;
}

void
fuzz_admin(struct fuzz_conn *c, const char *peer, int on_unix)
{
	fuzz_pair(c);
	admin_session_new(c->fd, peer, on_unix);
}

int
fuzz_alive(const struct fuzz_conn *c)
{
	struct stat	 st;
	int		 open;

	open = fstat(c->fd, &st) == 0 && st.st_ino == c->ino;
	if (c->id != 0 && open != (registry_by_id(c->id) != NULL))
		fuzz_fail("client #%llu is %sregistered but its socket is %s",
		    (unsigned long long)c->id, open ? "not " : "",
		    open ? "open" : "closed");
	return (open);
}

void
fuzz_pump(const struct fuzz_conn *c)
{
	int	 i, idle = 0, n, prev = -1;

	for (i = 0; i < PUMP_MAX && idle < PUMP_SETTLE; i++) {
		if (event_base_loop(hb_base, EVLOOP_NONBLOCK) == -1)
			fuzz_fail("event_base_loop failed");
		/*
		 * Once the daemon has closed c the ioctl fails, or at worst
		 * reads another socket: it only decides when to stop. Input
		 * that the daemon does not take (it stopped reading) is as
		 * good as none.
		 */
		if (c == NULL || ioctl(c->fd, FIONREAD, &n) == -1)
			n = 0;
		if (n == 0 || n == prev)
			idle++;
		else
			idle = 0;
		prev = n;
	}
}

int
fuzz_send(struct fuzz_conn *c, const void *data, size_t len)
{
	const char	*p = data;
	ssize_t		 n;
	int		 stalls = 0;

	while (len > 0) {
		if (c->peer == -1 || !fuzz_alive(c))
			return (-1);
		if ((n = send(c->peer, p, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN || ++stalls > SEND_STALLS)
				return (-1);
			fuzz_pump(c);
			continue;
		}
		p += n;
		len -= n;
	}
	fuzz_pump(c);
	return (0);
}

int
fuzz_sends(struct fuzz_conn *c, const char *s)
{
	return (fuzz_send(c, s, strlen(s)));
}

size_t
fuzz_drain(struct fuzz_conn *c)
{
	static char	 buf[65536];
	ssize_t		 n;
	size_t		 total = 0;

	if (c->peer == -1)
		return (0);
	while ((n = recv(c->peer, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		total += n;
	return (total);
}

void
fuzz_close(struct fuzz_conn *c, int half)
{
	if (c->peer == -1)
		return;
	if (half)
		shutdown(c->peer, SHUT_WR);
	else {
		close(c->peer);
		c->peer = -1;
	}
}

void
fuzz_close_clients(struct fuzz_conn *conns, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		fuzz_close(&conns[i], 0);
	for (i = 0; i < CLOSE_ROUNDS && registry_count() > 0; i++)
		fuzz_pump(NULL);
	if (registry_count() != 0)
		fuzz_fail("%zu clients left after every peer closed",
		    registry_count());
	for (i = 0; i < n; i++) {
		if (fuzz_alive(&conns[i]))
			fuzz_fail("a socket outlived its client");
	}
}

void
fuzz_small_sndbuf(struct fuzz_conn *c)
{
	int	 one = 1;

	if (setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &one, sizeof(one)) == -1)
		fuzz_fail("SO_SNDBUF: %s", strerror(errno));
}
