/*
 * epoll_floor: the floor of bench/run, a PING -> PONG server with nothing
 * else. One epoll loop, level-triggered, one read per event; every line
 * that starts with "PING" is answered "PONG\n" (no payload, no other
 * command, no output queue: a write the kernel does not take whole closes
 * the connection, which never happens at the benchmark's rates).
 *
 * With -t SECONDS a connection silent that long is closed, without a word,
 * by floor.c's list: O(1) a read, no timer per connection.
 *
 * With -a ADMINPORT it also takes "BROADCAST <message>" lines there (each
 * whole in one read) and writes "<message>\n" to every client with one
 * write each, then answers "OK <n>": the floor for hbbench fanout.
 *
 * usage: epoll_floor [-t SECONDS] [-a ADMINPORT] PORT   (on 127.0.0.1)
 */

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "floor.h"

#define READ_SIZE	16384

struct conn {
	uint8_t		 open;
	uint8_t		 pos;		/* bytes of the line so far, up to 5 */
	uint8_t		 ping;		/* the line so far matches "PING" */
	uint8_t		 admin;		/* an admin session */
	int		 idx;		/* in clients[] */
};

static struct conn	*conns;
static int		*clients;	/* the client fds, for BROADCAST */
static int		 nclients;
static int		 lfd, afd = -1;	/* the listeners */

static void	usage(void) __attribute__((__noreturn__));
static void	conn_close(int);
static void	on_event(int);
static void	on_accept(int, int);
static void	on_read(int);
static void	on_admin(int);

static void
usage(void)
{
	fprintf(stderr, "usage: epoll_floor [-t SECONDS] [-a ADMINPORT] PORT\n");
	exit(2);
}

static void
conn_close(int fd)
{
	struct conn	*c = &conns[fd];

	if (!c->admin) {
		tlist_remove(fd);
		clients[c->idx] = clients[--nclients];
		conns[clients[c->idx]].idx = c->idx;
	}
	c->open = 0;
	close(fd);
}

static void
on_event(int fd)
{
	if (fd == lfd || fd == afd)
		on_accept(fd, fd == afd);
	else if (conns[fd].open && conns[fd].admin)
		on_admin(fd);
	else if (conns[fd].open)
		on_read(fd);
}

static void
on_accept(int listener, int admin)
{
	int	 fd;

	while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) != -1) {
		floor_watch(EPOLL_CTL_ADD, fd, EPOLLIN);
		memset(&conns[fd], 0, sizeof(conns[fd]));
		conns[fd].open = 1;
		conns[fd].admin = admin;
		if (admin)
			continue;
		conns[fd].idx = nclients;
		clients[nclients++] = fd;
		tlist_add(fd);
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
	tlist_touch(fd);
}

int
main(int argc, char *argv[])
{
	char		*end;
	uint64_t	 timeout = 0;
	long		 aport = 0;
	int		 ch, nfd;

	while ((ch = getopt(argc, argv, "a:t:")) != -1) {
		switch (ch) {
		case 'a':
			aport = strtol(optarg, &end, 10);
			if (*end != '\0' || aport < 1 || aport > 65535)
				usage();
			break;
		case 't':
			timeout = floor_seconds(optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	nfd = floor_init(timeout);
	if ((conns = calloc(nfd, sizeof(*conns))) == NULL ||
	    (clients = calloc(nfd, sizeof(*clients))) == NULL)
		floor_die("calloc");
	lfd = floor_listen((uint16_t)strtol(argv[optind], NULL, 10));
	if (aport != 0)
		afd = floor_listen((uint16_t)aport);
	floor_loop(on_event, conn_close);
}
