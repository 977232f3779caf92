/*
 * Listening sockets: the generic listen set that every kind of listener
 * reconciles through on reload, and the client listeners (plain and TLS)
 * with accept, admission against max_clients and max_clients_per_ip, and
 * the pause when the process runs out of file descriptors. A connection
 * that owes a TLS handshake or a PROXY header goes to pending.c first.
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
#include "pending.h"
#include "proto.h"
#include "registry.h"
#include "stats.h"
#include "util.h"
#include "xmalloc.h"

#define LISTEN_BACKLOG		4096
#define ACCEPT_PAUSE_SEC	1
#define ACCEPT_WARN_SEC		60	/* at most one warning this often */

static int	lsock_bind(const struct hb_addr *, char **);
static struct lsock *lset_find(struct lsock_list *, const struct hb_addr *);
static void	lsock_free(struct lset *, struct lsock *);
static void	*client_listener_attach(int);
static void	*tls_listener_attach(int);
static struct evconnlistener *listener_new(int, void *);
static void	client_listener_detach(void *);
static void	listener_accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	listener_error_cb(struct evconnlistener *, void *);
static void	listener_pause_cb(evutil_socket_t, short, void *);
static void	listener_reject(int, const struct sockaddr *,
		    enum hb_reason);
static void	listener_enable_all(int);

/*
 * Every accepting socket of the daemon, of every kind, so that running out
 * of descriptors pauses them all: a waiting connection on any of them
 * would otherwise wake the loop again and again.
 */
struct guard {
	struct evconnlistener	*lev;
	TAILQ_ENTRY(guard)	 entry;
};
static TAILQ_HEAD(, guard)	 guards = TAILQ_HEAD_INITIALIZER(guards);

static struct lset	 clients = {
	"listen", client_listener_attach, client_listener_detach,
	TAILQ_HEAD_INITIALIZER(clients.socks),
	TAILQ_HEAD_INITIALIZER(clients.added), NULL
};
static struct lset	 tls_clients = {
	"tls listen", tls_listener_attach, client_listener_detach,
	TAILQ_HEAD_INITIALIZER(tls_clients.socks),
	TAILQ_HEAD_INITIALIZER(tls_clients.added), NULL
};
static struct event	*pause_ev;
static uint64_t		 pause_warned;	/* mono ns of the last warning */
static uint64_t		 pauses_unwarned;

/*
 * Makes a listening TCP socket. "[::]" is IPv6 only, so that
 * "0.0.0.0:P [::]:P" can listen on both families. Returns the socket, or
 * -1 with *cause naming the address and the error.
 */
static int
lsock_bind(const struct hb_addr *addr, char **cause)
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

static struct lsock *
lset_find(struct lsock_list *list, const struct hb_addr *a)
{
	struct lsock	*ls;

	TAILQ_FOREACH(ls, list, entry) {
		if (addr_equal((struct sockaddr *)&ls->cfg.ss,
		    (const struct sockaddr *)&a->ss))
			return (ls);
	}
	return (NULL);
}

/*
 * Binds a socket for every address in want that the set does not have
 * yet. Returns 0, or -1 with *cause ("listen ADDR: error") and nothing
 * left bound.
 */
int
lset_prepare(struct lset *set, const struct hb_addrlist *want, char **cause)
{
	struct lsock	*ls;
	char		*why;
	size_t		 i;
	int		 fd;

	for (i = 0; i < want->n; i++) {
		if (lset_find(&set->socks, &want->v[i]) != NULL)
			continue;
		if ((fd = lsock_bind(&want->v[i], &why)) == -1) {
			xasprintf(cause, "%s %s", set->label, why);
			free(why);
			lset_abort(set);
			return (-1);
		}
		ls = xcalloc(1, sizeof(*ls));
		ls->cfg = want->v[i];
		ls->fd = fd;
		ls->bound.len = sizeof(ls->bound.ss);
		getsockname(fd, (struct sockaddr *)&ls->bound.ss,
		    &ls->bound.len);
		TAILQ_INSERT_TAIL(&set->added, ls, entry);
	}
	return (0);
}

/* Serves the prepared sockets, then closes those want no longer has. */
void
lset_commit(struct lset *set, const struct hb_addrlist *want)
{
	struct lsock	*ls, *next;

	while ((ls = TAILQ_FIRST(&set->added)) != NULL) {
		TAILQ_REMOVE(&set->added, ls, entry);
		ls->handle = set->attach(ls->fd);
		TAILQ_INSERT_TAIL(&set->socks, ls, entry);
	}
	TAILQ_FOREACH_SAFE(ls, &set->socks, entry, next) {
		if (!addrlist_contains(want, &ls->cfg)) {
			TAILQ_REMOVE(&set->socks, ls, entry);
			lsock_free(set, ls);
		}
	}
}

static void
lsock_free(struct lset *set, struct lsock *ls)
{
	if (ls->handle != NULL)
		set->detach(ls->handle);
	else
		close(ls->fd);
	free(ls);
}

/* Closes the sockets a failed prepare bound. */
void
lset_abort(struct lset *set)
{
	struct lsock	*ls;

	while ((ls = TAILQ_FIRST(&set->added)) != NULL) {
		TAILQ_REMOVE(&set->added, ls, entry);
		lsock_free(set, ls);
	}
}

void
lset_close(struct lset *set)
{
	struct lsock	*ls;

	lset_abort(set);
	while ((ls = TAILQ_FIRST(&set->socks)) != NULL) {
		TAILQ_REMOVE(&set->socks, ls, entry);
		lsock_free(set, ls);
	}
}

/* Appends the bound addresses, comma separated and tagged, to buf. */
void
lset_names(const struct lset *set, char *buf, size_t size)
{
	struct lsock	*ls;
	char		 name[ADDR_STRLEN];

	TAILQ_FOREACH(ls, &set->socks, entry) {
		if (buf[0] != '\0')
			strlcat(buf, ",", size);
		if (set->tag != NULL)
			strlcat(buf, set->tag, size);
		strlcat(buf, addr_format((struct sockaddr *)&ls->bound.ss,
		    name, sizeof(name)), size);
	}
}

/* A client listener; arg is non-NULL on a TLS one. */
static struct evconnlistener *
listener_new(int fd, void *arg)
{
	struct evconnlistener	*lev;

	lev = evconnlistener_new(hb_base, listener_accept_cb, arg,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (lev == NULL)
		fatalx("%s: evconnlistener_new", __func__);
	listener_guard(lev);
	return (lev);
}

static void *
client_listener_attach(int fd)
{
	return (listener_new(fd, NULL));
}

static void *
tls_listener_attach(int fd)
{
	return (listener_new(fd, &tls_clients));
}

static void
client_listener_detach(void *handle)
{
	listener_unguard(handle);
	evconnlistener_free(handle);
}

/* Puts lev under the out-of-descriptors pause with every other listener. */
void
listener_guard(struct evconnlistener *lev)
{
	struct guard	*g;

	g = xcalloc(1, sizeof(*g));
	g->lev = lev;
	TAILQ_INSERT_TAIL(&guards, g, entry);
	evconnlistener_set_error_cb(lev, listener_error_cb);
	if (pause_ev != NULL && evtimer_pending(pause_ev, NULL))
		evconnlistener_disable(lev);
}

/* Takes lev out of the pause; call it before freeing lev. */
void
listener_unguard(struct evconnlistener *lev)
{
	struct guard	*g;

	TAILQ_FOREACH(g, &guards, entry) {
		if (g->lev == lev) {
			TAILQ_REMOVE(&guards, g, entry);
			free(g);
			return;
		}
	}
}

int
listener_prepare(const struct hb_config *conf, char **cause)
{
	if (lset_prepare(&clients, &conf->listen, cause) == -1)
		return (-1);
	if (lset_prepare(&tls_clients, &conf->tls_listen, cause) == -1) {
		lset_abort(&clients);
		return (-1);
	}
	return (0);
}

void
listener_commit(const struct hb_config *conf)
{
	lset_commit(&clients, &conf->listen);
	lset_commit(&tls_clients, &conf->tls_listen);
}

void
listener_abort(void)
{
	lset_abort(&clients);
	lset_abort(&tls_clients);
}

void
listener_close_all(void)
{
	lset_close(&clients);
	lset_close(&tls_clients);
	if (pause_ev != NULL) {
		event_free(pause_ev);
		pause_ev = NULL;
	}
}

/* Writes the client listeners' addresses for the start line. */
void
listener_names(char *buf, size_t size)
{
	buf[0] = '\0';
	lset_names(&clients, buf, size);
}

/* The same for the TLS client listeners. */
void
listener_tls_names(char *buf, size_t size)
{
	buf[0] = '\0';
	lset_names(&tls_clients, buf, size);
}

/*
 * Whether a connection from sa may become a client now, pending ones
 * counted. Returns 0, or -1 with *why: full or per-ip.
 */
int
listener_admit(const struct sockaddr *sa, enum hb_reason *why)
{
	uint64_t	 per_ip = hb_conf->max_clients_per_ip;

	if (registry_count() + pending_count() >= hb_conf->max_clients)
		*why = REASON_FULL;
	else if (per_ip != 0 && registry_host_count(sa) >= per_ip)
		*why = REASON_PER_IP;
	else
		return (0);
	return (-1);
}

/*
 * A plain connection is admitted before anything is allocated for it;
 * one that owes a handshake or a PROXY header is admitted once it has
 * its real address.
 */
static void
listener_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct conn	 conn = { fd, NULL };
	enum hb_reason	 why;
	int		 tls = arg != NULL, proxy;

	proxy = cidrlist_contains(&hb_conf->proxy_from, sa);
	if (tls || proxy)
		pending_new(fd, sa, salen, tls, proxy, NULL);
	else if (listener_admit(sa, &why) == -1)
		listener_reject(fd, sa, why);
	else
		client_new(&conn, sa, salen);
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
	stats.accept_pauses++;
	pauses_unwarned++;
	if (pause_warned == 0 ||
	    mono_ns() - pause_warned >= ACCEPT_WARN_SEC * 1000000000ULL) {
		log_warn("accept paused %llu time(s) since the last warning, "
		    "new clients wait", (unsigned long long)pauses_unwarned);
		pause_warned = mono_ns();
		pauses_unwarned = 0;
	}
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
	struct guard	*g;

	TAILQ_FOREACH(g, &guards, entry) {
		if (on)
			evconnlistener_enable(g->lev);
		else
			evconnlistener_disable(g->lev);
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
