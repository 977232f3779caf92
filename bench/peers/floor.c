/*
 * floor.c: the parts of the floors that have nothing to do with what goes
 * over the wire.
 *
 * The timeout list is the cheapest exact way we know to close connections
 * silent for T: every connection has the same timeout, so a list ordered by
 * last read is also ordered by deadline. A read moves its connection to the
 * tail (O(1)), the loop closes from the head while the head is due, and
 * epoll_wait sleeps until the head's deadline, rounded up to the
 * millisecond. One clock read per wake-up stamps every read of that batch:
 * the bytes arrived before epoll_wait returned, so nobody is closed early.
 * No timer per connection, no sweep over all of them.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE		/* program_invocation_short_name */
#endif

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "floor.h"

#define NONE		(-1)

struct link {
	int		 prev, next;	/* by fd */
	uint64_t	 last_rx;	/* ns */
};

static struct link	*links;
static int		 head = NONE, tail = NONE;
static uint64_t		 timeout_ns;

void
floor_die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what,
	    strerror(errno));
	exit(1);
}

uint64_t
floor_mono_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

/* Raises the fd limit to the hard one; returns it, at most 2^20. */
int
floor_fd_limit(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		floor_die("getrlimit");
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		floor_die("setrlimit");
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1048576)
		rl.rlim_cur = 1048576;
	return ((int)rl.rlim_cur);
}

/* epoll_ctl(op) of fd for events, tagged with the fd; dies on failure. */
void
floor_watch(int epfd, int op, int fd, uint32_t events)
{
	struct epoll_event	 ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.fd = fd;
	if (epoll_ctl(epfd, op, fd, &ev) == -1)
		floor_die("epoll_ctl");
}

/* A non-blocking listener on 127.0.0.1:port, in the epoll set. */
int
floor_listen(int epfd, uint16_t port)
{
	struct sockaddr_in	 sin;
	int			 fd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		floor_die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		floor_die("bind");
	if (listen(fd, 4096) == -1)
		floor_die("listen");
	floor_watch(epfd, EPOLL_CTL_ADD, fd, EPOLLIN);
	return (fd);
}

/* Room for fds below nfd; timeout 0 turns every tlist_ call into a no-op. */
void
tlist_init(int nfd, uint64_t timeout)
{
	timeout_ns = timeout;
	if (timeout_ns > 0 && (links = calloc(nfd, sizeof(*links))) == NULL)
		floor_die("calloc");
}

/* Whether connections time out, i.e. whether the loop needs the clock. */
int
tlist_on(void)
{
	return (timeout_ns > 0);
}

/* Puts fd, which is not in the list, at its tail, read at now. */
void
tlist_add(int fd, uint64_t now)
{
	struct link	*l;

	if (timeout_ns == 0)
		return;
	l = &links[fd];
	l->last_rx = now;
	l->prev = tail;
	l->next = NONE;
	if (tail != NONE)
		links[tail].next = fd;
	else
		head = fd;
	tail = fd;
}

void
tlist_remove(int fd)
{
	struct link	*l;

	if (timeout_ns == 0)
		return;
	l = &links[fd];
	if (l->prev != NONE)
		links[l->prev].next = l->next;
	else
		head = l->next;
	if (l->next != NONE)
		links[l->next].prev = l->prev;
	else
		tail = l->prev;
	l->prev = l->next = NONE;
}

/* fd was read at now: it moves to the tail. */
void
tlist_touch(int fd, uint64_t now)
{
	if (timeout_ns == 0)
		return;
	tlist_remove(fd);
	tlist_add(fd, now);
}

/*
 * Calls close_fd, which must tlist_remove() it, for each connection due at
 * now; returns the ms until the next deadline, or -1 for none.
 */
int
tlist_expire(uint64_t now, void (*close_fd)(int))
{
	uint64_t	 due;

	while (head != NONE) {
		due = links[head].last_rx + timeout_ns;
		if (due > now)
			return ((int)((due - now + 999999) / 1000000));
		close_fd(head);
	}
	return (-1);
}
