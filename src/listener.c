/*
 * The client listeners: binding, accepting, admission against max_clients
 * and max_clients_per_ip, and the pause when the process runs out of file
 * descriptors.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "client.h"
#include "daemon.h"
#include "events.h"
#include "listener.h"
#include "log.h"
#include "proto.h"
#include "registry.h"
#include "stats.h"
#include "util.h"
#include "xmalloc.h"

#define LISTEN_BACKLOG		4096
#define ACCEPT_PAUSE_SEC	1

struct listener {
	struct evconnlistener	*lev;
	struct hb_addr		 bound;		/* with the real port */
	TAILQ_ENTRY(listener)	 entry;
};
TAILQ_HEAD(listener_list, listener);

static void	listener_accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	listener_error_cb(struct evconnlistener *, void *);
static void	listener_pause_cb(evutil_socket_t, short, void *);
static void	listener_reject(int, const struct sockaddr *,
		    enum hb_reason);
static void	listener_enable_all(int);

static struct listener_list	 listeners =
    TAILQ_HEAD_INITIALIZER(listeners);
static struct event		*pause_ev;

/*
 * Makes a listening TCP socket for addr. "[::]" is IPv6 only, so that
 * "0.0.0.0:P [::]:P" can listen on both families. Returns the socket, or
 * -1 with *cause naming the address and the error.
 */
int
listener_socket(const struct hb_addr *addr, char **cause)
{
	char	 name[ADDR_STRLEN];
	int	 fd, on = 1;

	fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	if (addr->ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1)
		goto fail;
	if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) == -1 ||
	    listen(fd, LISTEN_BACKLOG) == -1)
		goto fail;
	return (fd);
fail:
	xasprintf(cause, "%s: %s", addr_format((const struct sockaddr *)
	    &addr->ss, name, sizeof(name)), strerror(errno));
	if (fd != -1)
		close(fd);
	return (-1);
}

/* Opens a listener on each address. Returns 0, or -1 with *cause. */
int
listener_open_all(const struct hb_addrlist *addrs, char **cause)
{
	struct listener	*l;
	char		*why;
	size_t		 i;
	int		 fd;

	for (i = 0; i < addrs->n; i++) {
		if ((fd = listener_socket(&addrs->v[i], &why)) == -1) {
			xasprintf(cause, "listen %s", why);
			free(why);
			return (-1);
		}
		l = xcalloc(1, sizeof(*l));
		l->bound.len = sizeof(l->bound.ss);
		getsockname(fd, (struct sockaddr *)&l->bound.ss,
		    &l->bound.len);
		l->lev = evconnlistener_new(hb_base, listener_accept_cb, l,
		    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
		if (l->lev == NULL)
			fatalx("%s: evconnlistener_new", __func__);
		evconnlistener_set_error_cb(l->lev, listener_error_cb);
		TAILQ_INSERT_TAIL(&listeners, l, entry);
	}
	return (0);
}

void
listener_close_all(void)
{
	struct listener	*l;

	while ((l = TAILQ_FIRST(&listeners)) != NULL) {
		TAILQ_REMOVE(&listeners, l, entry);
		evconnlistener_free(l->lev);
		free(l);
	}
	if (pause_ev != NULL) {
		event_free(pause_ev);
		pause_ev = NULL;
	}
}

/* Writes the bound addresses, comma separated, for the start line. */
void
listener_names(char *buf, size_t size)
{
	struct listener	*l;
	char		 name[ADDR_STRLEN];

	buf[0] = '\0';
	TAILQ_FOREACH(l, &listeners, entry) {
		if (buf[0] != '\0')
			strlcat(buf, ",", size);
		strlcat(buf, addr_format((struct sockaddr *)&l->bound.ss,
		    name, sizeof(name)), size);
	}
}

/* Admission is decided before anything is allocated for the client. */
static void
listener_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	uint64_t	 per_ip = hb_conf->max_clients_per_ip;

	if (registry_count() >= hb_conf->max_clients)
		listener_reject(fd, sa, REASON_FULL);
	else if (per_ip != 0 && registry_host_count(sa) >= per_ip)
		listener_reject(fd, sa, REASON_PER_IP);
	else
		client_new(fd, sa, salen);
}

static void
listener_reject(int fd, const struct sockaddr *sa, enum hb_reason reason)
{
	char	 bye[32];
	ssize_t	 n;
	int	 len;

	len = snprintf(bye, sizeof(bye), "BYE %s\n", reason_names[reason]);
	if ((n = send(fd, bye, len, MSG_NOSIGNAL | MSG_DONTWAIT)) > 0)
		stats.bytes_out += n;
	close(fd);
	events_reject(sa, reason);
}

/*
 * accept() failed for a reason other than a vanished peer. Out of file
 * descriptors, the pending connection would wake the loop at once, again
 * and again: accepting pauses for a second, or until a client leaves.
 */
static void
listener_error_cb(struct evconnlistener *lev, void *arg)
{
	struct timeval	 tv = { ACCEPT_PAUSE_SEC, 0 };

	if (errno != EMFILE && errno != ENFILE && errno != ENOBUFS &&
	    errno != ENOMEM) {
		log_warn("%s: accept", __func__);
		return;
	}
	if (pause_ev != NULL && evtimer_pending(pause_ev, NULL))
		return;
	log_warn("accept paused for %d s", ACCEPT_PAUSE_SEC);
	listener_enable_all(0);
	if (pause_ev == NULL &&
	    (pause_ev = evtimer_new(hb_base, listener_pause_cb, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	evtimer_add(pause_ev, &tv);
}

static void
listener_pause_cb(evutil_socket_t fd, short what, void *arg)
{
	listener_enable_all(1);
}

static void
listener_enable_all(int on)
{
	struct listener	*l;

	TAILQ_FOREACH(l, &listeners, entry) {
		if (on)
			evconnlistener_enable(l->lev);
		else
			evconnlistener_disable(l->lev);
	}
}

/* A descriptor was freed: resume accepting now if it was paused. */
void
listener_resume(void)
{
	if (pause_ev == NULL || !evtimer_pending(pause_ev, NULL))
		return;
	evtimer_del(pause_ev);
	listener_enable_all(1);
}
