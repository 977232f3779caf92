/*
 * epoll_floor: the floor of bench/run, a PING -> PONG server with nothing
 * else. One epoll loop, level-triggered, one read per event; every line
 * that starts with "PING" is answered "PONG\n" (no payload, no other
 * command, no output queue: a write the kernel does not take whole closes
 * the connection, which never happens at the benchmark's rates).
 *
 * With -t SECONDS a connection silent that long is closed, without a word.
 * This is done the cheapest exact way we know: every connection has the
 * same timeout, so a list ordered by last read is also ordered by
 * deadline. A read moves its connection to the tail (O(1)), the loop
 * closes from the head while the head is due, and epoll_wait sleeps until
 * the head's deadline, rounded up to the millisecond. One clock read per
 * wake-up stamps every read of that batch: the bytes arrived before
 * epoll_wait returned, so nobody is closed early. No timer per connection,
 * no sweep over all of them.
 *
 * With -a ADMINPORT it also takes "BROADCAST <message>" lines there (each
 * whole in one read) and writes "<message>\n" to every client with one
 * write each, then answers "OK <n>": the floor for hbbench fanout.
 *
 * usage: epoll_floor [-t SECONDS] [-a ADMINPORT] PORT   (on 127.0.0.1)
 */

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS	256
#define READ_SIZE	16384
#define NONE		(-1)

struct conn {
	int		 prev, next;	/* the timeout list, by fd */
	uint64_t	 last_rx;	/* ns */
	uint8_t		 open;
	uint8_t		 pos;		/* bytes of the line so far, up to 5 */
	uint8_t		 ping;		/* the line so far matches "PING" */
	uint8_t		 admin;		/* an admin session */
	int		 idx;		/* in clients[] */
};

static struct conn	*conns;
static int		*clients;	/* the client fds, for BROADCAST */
static int		 nclients;
static int		 head = NONE, tail = NONE;
static int		 epfd;
static uint64_t		 timeout_ns;
static uint64_t		 now;

static void	usage(void) __attribute__((__noreturn__));
static void	die(const char *) __attribute__((__noreturn__));
static uint64_t	mono_ns(void);
static void	list_remove(int);
static void	list_append(int);
static void	conn_close(int);
static int	listen_on(uint16_t);
static void	on_accept(int, int);
static void	on_read(int);
static void	on_admin(int);
static int	expire(void);

static void
usage(void)
{
	fprintf(stderr, "usage: epoll_floor [-t SECONDS] [-a ADMINPORT] PORT\n");
	exit(2);
}

static void
die(const char *what)
{
	fprintf(stderr, "epoll_floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t
mono_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

static void
list_remove(int fd)
{
	struct conn	*c = &conns[fd];

	if (c->prev != NONE)
		conns[c->prev].next = c->next;
	else
		head = c->next;
	if (c->next != NONE)
		conns[c->next].prev = c->prev;
	else
		tail = c->prev;
	c->prev = c->next = NONE;
}

static void
list_append(int fd)
{
	struct conn	*c = &conns[fd];

	c->prev = tail;
	c->next = NONE;
	if (tail != NONE)
		conns[tail].next = fd;
	else
		head = fd;
	tail = fd;
}

static void
conn_close(int fd)
{
	struct conn	*c = &conns[fd];

	if (!c->admin) {
		if (timeout_ns > 0)
			list_remove(fd);
		clients[c->idx] = clients[--nclients];
		conns[clients[c->idx]].idx = c->idx;
	}
	c->open = 0;
	close(fd);
}

static int
listen_on(uint16_t port)
{
	struct sockaddr_in	 sin;
	struct epoll_event	 ev;
	int			 fd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		die("bind");
	if (listen(fd, 4096) == -1)
		die("listen");
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = fd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		die("epoll_ctl");
	return (fd);
}

static void
on_accept(int lfd, int admin)
{
	struct epoll_event	 ev;
	int			 fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) != -1) {
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
			die("epoll_ctl");
		memset(&conns[fd], 0, sizeof(conns[fd]));
		conns[fd].open = 1;
		conns[fd].admin = admin;
		if (admin)
			continue;
		conns[fd].idx = nclients;
		clients[nclients++] = fd;
		if (timeout_ns > 0) {
			conns[fd].last_rx = now;
			list_append(fd);
		}
	}
}

/* BROADCAST lines: one write of the message to each client, then OK n. */
static void
on_admin(int fd)
{
	static char	 in[READ_SIZE];
	char		 reply[32], *p, *nl, *end;
	ssize_t		 n;
	size_t		 len;
	int		 i, sent;

	if ((n = read(fd, in, sizeof(in))) <= 0) {
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		conn_close(fd);
		return;
	}
	for (p = in, end = in + n; (nl = memchr(p, '\n', end - p)) != NULL;
	    p = nl + 1) {
		if (nl - p < 11 || memcmp(p, "BROADCAST ", 10) != 0)
			continue;
		p += 10;
		len = nl + 1 - p;
		for (sent = 0, i = 0; i < nclients; i++)
			sent += write(clients[i], p, len) == (ssize_t)len;
		len = snprintf(reply, sizeof(reply), "OK %d\n", sent);
		if (write(fd, reply, len) != (ssize_t)len) {
			conn_close(fd);
			return;
		}
	}
}

/* One read; a PONG for each line that starts with PING, in one write. */
static void
on_read(int fd)
{
	static char	 in[READ_SIZE], out[READ_SIZE];
	struct conn	*c = &conns[fd];
	ssize_t		 n, i;
	size_t		 o = 0;

	if ((n = read(fd, in, sizeof(in))) <= 0) {
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		conn_close(fd);
		return;
	}
	for (i = 0; i < n; i++) {
		if (in[i] == '\n') {
			if (c->ping && c->pos >= 4) {
				memcpy(out + o, "PONG\n", 5);
				o += 5;
			}
			c->pos = 0;
			continue;
		}
		if (c->pos == 0)
			c->ping = 1;
		if (c->pos < 4 && in[i] != "PING"[c->pos])
			c->ping = 0;
		if (c->pos < 5)
			c->pos++;
	}
	if (o > 0 && write(fd, out, o) != (ssize_t)o) {
		conn_close(fd);
		return;
	}
	if (timeout_ns > 0) {
		c->last_rx = now;
		list_remove(fd);
		list_append(fd);
	}
}

/* Closes the due connections; returns ms until the next deadline, or -1. */
static int
expire(void)
{
	uint64_t	 due;

	while (head != NONE) {
		due = conns[head].last_rx + timeout_ns;
		if (due > now)
			return ((int)((due - now + 999999) / 1000000));
		conn_close(head);
	}
	return (-1);
}

int
main(int argc, char *argv[])
{
	struct epoll_event	 ev[MAX_EVENTS];
	struct rlimit		 rl;
	char			*end;
	double			 t;
	long			 aport = 0;
	int			 ch, lfd, afd = -1, fd, i, n, wait = -1;

	while ((ch = getopt(argc, argv, "a:t:")) != -1) {
		switch (ch) {
		case 'a':
			aport = strtol(optarg, &end, 10);
			if (*end != '\0' || aport < 1 || aport > 65535)
				usage();
			break;
		case 't':
			t = strtod(optarg, &end);
			if (*end != '\0' || t <= 0 || t > 86400)
				usage();
			timeout_ns = (uint64_t)(t * 1e9);
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		die("getrlimit");
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		die("setrlimit");
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1048576)
		rl.rlim_cur = 1048576;
	if ((conns = calloc(rl.rlim_cur, sizeof(*conns))) == NULL ||
	    (clients = calloc(rl.rlim_cur, sizeof(*clients))) == NULL)
		die("calloc");
	signal(SIGPIPE, SIG_IGN);

	if ((epfd = epoll_create1(0)) == -1)
		die("epoll_create1");
	lfd = listen_on((uint16_t)strtol(argv[optind], NULL, 10));
	if (aport != 0)
		afd = listen_on((uint16_t)aport);

	for (;;) {
		if ((n = epoll_wait(epfd, ev, MAX_EVENTS, wait)) == -1) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		if (timeout_ns > 0)
			now = mono_ns();
		for (i = 0; i < n; i++) {
			fd = ev[i].data.fd;
			if (fd == lfd || fd == afd)
				on_accept(fd, fd == afd);
			else if (conns[fd].open && conns[fd].admin)
				on_admin(fd);
			else if (conns[fd].open)
				on_read(fd);
		}
		if (timeout_ns > 0)
			wait = expire();
	}
}
