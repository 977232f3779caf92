/*
 * floor.c: the parts of the floors that have nothing to do with what goes
 * over the wire. One epoll loop, level-triggered, that hands each ready fd
 * to the floor's own function.
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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "floor.h"

#define MAX_EVENTS	256
#define NONE		(-1)

struct link {
	int		 prev, next;	/* by fd */
	uint64_t	 last_rx;	/* ns */
};

static struct link	*links;
static int		 head = NONE, tail = NONE;
static uint64_t		 timeout_ns;
static uint64_t		 now;		/* ns, when epoll_wait returned */
static int		 epfd;

static int	expire(void (*)(int));

void
floor_die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what,
	    strerror(errno));
	exit(1);
}

/* The -t argument, in ns; exits with a usage error if it is not one. */
uint64_t
floor_seconds(const char *arg)
{
	char	*end;
	double	 t;

	t = strtod(arg, &end);
	if (*end != '\0' || end == arg || t <= 0 || t > 86400) {
		fprintf(stderr, "%s: -t: bad number of seconds \"%s\"\n",
		    program_invocation_short_name, arg);
		exit(2);
	}
	return ((uint64_t)(t * 1e9));
}

/*
 * Raises the fd limit to the hard one, ignores SIGPIPE, makes the epoll
 * set and the timeout list (none for timeout 0). Returns the fd limit, at
 * most 2^20: every fd the floor will see is below it.
 */
int
floor_init(uint64_t timeout)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		floor_die("getrlimit");
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		floor_die("setrlimit");
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1048576)
		rl.rlim_cur = 1048576;
	timeout_ns = timeout;
	if (timeout_ns > 0 &&
	    (links = calloc(rl.rlim_cur, sizeof(*links))) == NULL)
		floor_die("calloc");
	signal(SIGPIPE, SIG_IGN);
	if ((epfd = epoll_create1(0)) == -1)
		floor_die("epoll_create1");
	return ((int)rl.rlim_cur);
}

/* epoll_ctl(op) of fd for events, tagged with the fd; dies on failure. */
void
floor_watch(int op, int fd, uint32_t events)
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
floor_listen(uint16_t port)
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
	floor_watch(EPOLL_CTL_ADD, fd, EPOLLIN);
	return (fd);
}

/*
 * Calls on_event for each ready fd, and close_fd, which must tlist_remove()
 * it, for each connection silent for the timeout. Never returns.
 */
void
floor_loop(void (*on_event)(int), void (*close_fd)(int))
{
	struct epoll_event	 ev[MAX_EVENTS];
	struct timespec		 ts;
	int			 i, n, wait = -1;

	for (;;) {
		if ((n = epoll_wait(epfd, ev, MAX_EVENTS, wait)) == -1) {
			if (errno == EINTR)
				continue;
			floor_die("epoll_wait");
		}
		if (timeout_ns > 0) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			now = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
		}
		for (i = 0; i < n; i++)
			on_event(ev[i].data.fd);
		wait = expire(close_fd);
	}
}

/* Puts fd, which is not in the list, at its tail, read just now. */
void
tlist_add(int fd)
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

/* fd was read just now: it moves to the tail. */
void
tlist_touch(int fd)
{
	if (timeout_ns == 0)
		return;
	tlist_remove(fd);
	tlist_add(fd);
}

/* Closes the due connections; returns ms until the next deadline, or -1. */
static int
expire(void (*close_fd)(int))
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
