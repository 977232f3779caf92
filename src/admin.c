/*
 * The admin port: its listeners (TCP, TLS and a Unix socket), its sessions
 * and AUTH; WATCH is in admin_watch.c, the other commands in admin_cmd.c,
 * and all answer through admin_reply(). Commands are answered in order; a
 * session may pipeline as many as it likes, but stops being read while its
 * unread answers exceed send_buffer_limit, so it can never make the daemon
 * hold more than that for it. A TLS connection, once through its handshake
 * in pending.c, is relayed (relay.c) to a session like any other, over a
 * socketpair.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "admin.h"
#include "admin_session.h"
#include "conn.h"
#include "daemon.h"
#include "listener.h"
#include "log.h"
#include "pending.h"
#include "proto.h"
#include "relay.h"
#include "util.h"
#include "xmalloc.h"

#define ADMIN_LINE_SLACK	1024	/* bytes of command around a message */
#define ADMIN_DRAIN_SEC		10	/* a closing session's last write */
#define ADMIN_HOLDS_MAX		65536	/* answers awaited before reading stops */

/*
 * An answer that comes later (a push being synced, a node asked), with
 * the session's answers to the commands after it, so that they still
 * come out in order. Freed by admin_release() alone, even once its
 * session is gone, so that whoever answers never holds a dangling one.
 */
struct admin_hold {
	struct admin_session		*s;		/* NULL: gone */
	char				*answer;	/* NULL: not yet */
	struct evbuffer			*after;
	TAILQ_ENTRY(admin_hold)		 entry;
};
TAILQ_HEAD(admin_holds, admin_hold);

struct admin_session {
	struct bufferevent		*bev;		/* NULL: admin_exec() */
	struct evbuffer			*answer;	/* admin_exec()'s */
	admin_exec_cb			 done;
	void				*done_arg;
	int				 flags;
#define ADMIN_AUTHED			 0x1
#define ADMIN_UNIX			 0x2
#define ADMIN_CLOSING			 0x4	/* close once output is out */
#define ADMIN_DISCARD			 0x8	/* skip an over-long line */
#define ADMIN_EXEC			 0x10	/* runs for the fleet */
	struct admin_watcher		 watch;
	char				 addr[ADDR_STRLEN];
	struct admin_holds		 holds;		/* oldest first */
	size_t				 nholds;
	TAILQ_ENTRY(admin_session)	 entry;
};
TAILQ_HEAD(admin_sessions, admin_session);

/* The Unix admin socket; a reload may move it to another path. */
struct admin_unix {
	char			*path;		/* NULL: none */
	struct evconnlistener	*lev;
	char			*new_path;	/* between prepare and commit */
	int			 new_fd;
};

static void	admin_accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	admin_tls_accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	admin_tls_done(struct conn *, const struct sockaddr *,
		    socklen_t);
static void	admin_read_cb(struct bufferevent *, void *);
static void	admin_write_cb(struct bufferevent *, void *);
static void	admin_event_cb(struct bufferevent *, short, void *);
static int	admin_next_line(struct admin_session *, struct evbuffer *);
static void	admin_dispatch(struct admin_session *, const char *, size_t);
static void	admin_free(struct admin_session *);
static struct evbuffer *admin_output(struct admin_session *);
static void	admin_exec_end(struct admin_session *);
static void	admin_flush_holds(struct admin_session *);
static void	admin_drop_holds(struct admin_session *);
static size_t	admin_line_max(void);
static void	*admin_tcp_attach(int);
static void	*admin_tls_attach(int);
static void	admin_tcp_detach(void *);
static struct evconnlistener *admin_listen(int, evconnlistener_cb, void *);
static int	admin_unix_path(const char *, char **);
static int	admin_unix_socket(const char *, mode_t, char **);
static void	admin_unix_close(void);
static int	admin_same_path(const char *, const char *);

static struct admin_sessions	 sessions = TAILQ_HEAD_INITIALIZER(sessions);
static struct lset		 tcp = {
	"admin listen", admin_tcp_attach, admin_tcp_detach,
	TAILQ_HEAD_INITIALIZER(tcp.socks), TAILQ_HEAD_INITIALIZER(tcp.added),
	NULL
};
static struct lset		 tls = {
	"admin tls listen", admin_tls_attach, admin_tcp_detach,
	TAILQ_HEAD_INITIALIZER(tls.socks), TAILQ_HEAD_INITIALIZER(tls.added),
	"tls:"
};
static struct admin_unix	 unix_sock = { NULL, NULL, NULL, -1 };

static struct evconnlistener *
admin_listen(int fd, evconnlistener_cb cb, void *arg)
{
	struct evconnlistener	*lev;

	lev = evconnlistener_new(hb_base, cb, arg,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (lev == NULL)
		fatalx("%s: evconnlistener_new", __func__);
	listener_guard(lev);
	return (lev);
}

static void *
admin_tcp_attach(int fd)
{
	return (admin_listen(fd, admin_accept_cb, NULL));
}

static void *
admin_tls_attach(int fd)
{
	return (admin_listen(fd, admin_tls_accept_cb, NULL));
}

static void
admin_tcp_detach(void *handle)
{
	listener_unguard(handle);
	evconnlistener_free(handle);
}

static int
admin_same_path(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);
	return (strcmp(a, b) == 0);
}

/*
 * Binds what conf adds to the admin endpoints: TCP and TLS addresses and
 * a new Unix socket path. Returns 0, or -1 with *cause and nothing
 * changed.
 */
int
admin_prepare(const struct hb_config *conf, char **cause)
{
	if (lset_prepare(&tcp, &conf->admin_listen, cause) == -1)
		return (-1);
	if (lset_prepare(&tls, &conf->admin_tls_listen, cause) == -1) {
		lset_abort(&tcp);
		return (-1);
	}
	if (conf->admin_socket == NULL ||
	    admin_same_path(conf->admin_socket, unix_sock.path))
		return (0);
	if ((unix_sock.new_fd = admin_unix_socket(conf->admin_socket,
	    conf->admin_socket_mode, cause)) == -1) {
		lset_abort(&tcp);
		lset_abort(&tls);
		return (-1);
	}
	unix_sock.new_path = xstrdup(conf->admin_socket);
	return (0);
}

/* Serves what admin_prepare() bound and closes what conf dropped. */
void
admin_commit(const struct hb_config *conf)
{
	lset_commit(&tcp, &conf->admin_listen);
	lset_commit(&tls, &conf->admin_tls_listen);
	if (unix_sock.new_path != NULL) {
		admin_unix_close();
		unix_sock.path = unix_sock.new_path;
		unix_sock.lev = admin_listen(unix_sock.new_fd, admin_accept_cb,
		    &unix_sock);
		unix_sock.new_path = NULL;
		unix_sock.new_fd = -1;
	} else if (conf->admin_socket == NULL)
		admin_unix_close();
	else if (chmod(unix_sock.path, conf->admin_socket_mode) == -1)
		log_warn("%s: chmod %s", __func__, unix_sock.path);
}

void
admin_abort(void)
{
	lset_abort(&tcp);
	lset_abort(&tls);
	if (unix_sock.new_path != NULL) {
		close(unix_sock.new_fd);
		unlink(unix_sock.new_path);
		free(unix_sock.new_path);
		unix_sock.new_path = NULL;
		unix_sock.new_fd = -1;
	}
}

static void
admin_unix_close(void)
{
	if (unix_sock.path == NULL)
		return;
	listener_unguard(unix_sock.lev);
	evconnlistener_free(unix_sock.lev);
	unlink(unix_sock.path);
	free(unix_sock.path);
	unix_sock.path = NULL;
	unix_sock.lev = NULL;
}

/*
 * What binding conf's admin socket would refuse, found without binding it,
 * for heartbeatd -t. Returns 0, or -1 with *cause as the start would say.
 */
int
admin_check(const struct hb_config *conf, char **cause)
{
	if (conf->admin_socket == NULL)
		return (0);
	return (admin_unix_path(conf->admin_socket, cause) == -1 ? -1 : 0);
}

/*
 * Checks the directory of the admin socket at path and what is at path.
 * Returns 1 when a socket file is there, 0 when nothing is, or -1 with
 * *cause: no such directory, or another kind of file in the way.
 */
static int
admin_unix_path(const char *path, char **cause)
{
	struct stat	 st;
	char		*copy;
	int		 error = 0;

	copy = xstrdup(path);
	if (stat(dirname(copy), &st) == -1)
		error = errno;
	else if (!S_ISDIR(st.st_mode))
		error = ENOTDIR;
	free(copy);
	if (error != 0) {
		xasprintf(cause, "admin socket %s: %s", path, strerror(error));
		return (-1);
	}
	if (lstat(path, &st) == -1)
		return (0);
	if (!S_ISSOCK(st.st_mode)) {
		xasprintf(cause, "admin socket %s: exists and is not a socket",
		    path);
		return (-1);
	}
	return (1);
}

/*
 * Binds the Unix admin socket with socket_mode from the start. A socket
 * file left by a daemon that died is replaced; a live socket or any other
 * kind of file at that path is refused and left alone.
 */
static int
admin_unix_socket(const char *path, mode_t mode, char **cause)
{
	struct sockaddr_un	 sun;
	mode_t			 old;
	int			 fd, there;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		goto fail;
	if ((there = admin_unix_path(path, cause)) == -1) {
		close(fd);
		return (-1);
	}
	if (there) {
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 ||
		    errno == EAGAIN) {
			xasprintf(cause, "admin socket %s: in use by another "
			    "process", path);
			close(fd);
			return (-1);
		}
		unlink(path);
	}
	old = umask(~mode & 0777);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		goto fail;
	}
	umask(old);
	if (chmod(path, mode) == -1 || listen(fd, 64) == -1)
		goto fail;
	return (fd);
fail:
	xasprintf(cause, "admin socket %s: %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
	return (-1);
}

/*
 * Closes the listeners (removing the socket file), every session and
 * every TLS relay.
 */
void
admin_close_all(void)
{
	struct admin_session	*s;

	admin_abort();
	lset_close(&tcp);
	lset_close(&tls);
	admin_unix_close();
	while ((s = TAILQ_FIRST(&sessions)) != NULL)
		admin_free(s);
	relay_close_all();
}

/*
 * Writes the admin endpoints, comma separated, or "none": TCP addresses,
 * TLS ones as "tls:ADDR", then the Unix socket's path.
 */
void
admin_names(char *buf, size_t size)
{
	buf[0] = '\0';
	lset_names(&tcp, buf, size);
	lset_names(&tls, buf, size);
	if (unix_sock.path != NULL) {
		if (buf[0] != '\0')
			strlcat(buf, ",", size);
		strlcat(buf, unix_sock.path, size);
	}
	if (buf[0] == '\0')
		strlcpy(buf, "none", size);
}

static void
admin_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct admin_unix	*un = arg;
	char			 peer[ADDR_STRLEN];

	if (un != NULL)
		admin_session_new(fd, un->path, 1);
	else
		admin_session_new(fd, addr_format(sa, peer, sizeof(peer)), 0);
}

/*
 * A TLS admin connection owes its handshake first, and a PROXY header
 * before that when it comes through a proxy_from balancer.
 */
static void
admin_tls_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	pending_new(fd, sa, salen, 1, cidrlist_contains(&hb_conf->proxy_from,
	    sa), admin_tls_done);
}

/*
 * Through its handshake, a TLS admin connection gets a session of its own
 * on one end of a socketpair, named by the peer's address and bound by
 * the token like a TCP one, and a relay between the other end and TLS.
 */
static void
admin_tls_done(struct conn *conn, const struct sockaddr *sa,
    socklen_t salen)
{
	char	 peer[ADDR_STRLEN];
	int	 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1) {
		log_warn("%s: socketpair", __func__);
		conn_free_tls(conn);
		close(conn->fd);
		return;
	}
	admin_session_new(sv[0], addr_format(sa, peer, sizeof(peer)), 0);
	relay_new(conn, sv[1]);
}

/*
 * Starts a session on a connected socket; peer names it in the logs. A
 * Unix-socket session is trusted (the file mode guards it), and so is one
 * opened while no token is set, even if a reload adds one later.
 */
void
admin_session_new(int fd, const char *peer, int on_unix)
{
	struct admin_session	*s;

	s = xcalloc(1, sizeof(*s));
	s->bev = bufferevent_socket_new(hb_base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (s->bev == NULL)
		fatalx("%s: bufferevent_socket_new", __func__);
	strlcpy(s->addr, peer, sizeof(s->addr));
	if (on_unix)
		s->flags |= ADMIN_UNIX | ADMIN_AUTHED;
	if (hb_conf->admin_token == NULL)
		s->flags |= ADMIN_AUTHED;
	TAILQ_INIT(&s->holds);
	bufferevent_setcb(s->bev, admin_read_cb, admin_write_cb,
	    admin_event_cb, s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&sessions, s, entry);
}

/* Frees s; a command run by admin_exec() that never ended ends empty. */
static void
admin_free(struct admin_session *s)
{
	watch_stop(&s->watch);
	admin_drop_holds(s);
	TAILQ_REMOVE(&sessions, s, entry);
	if (s->done != NULL)
		s->done(s->done_arg, NULL, 0);
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	else
		evbuffer_free(s->answer);
	free(s);
}

/*
 * Runs a command for another node of the fleet, as a session of its own
 * that is trusted and acts on this node alone (admin_local()). Only the
 * commands marked CMD_FLEET run. done gets the whole answer, each line
 * with its newline, once the last line is in, maybe at once; or NULL if
 * the daemon stops first.
 */
void
admin_exec(const char *line, size_t len, admin_exec_cb done, void *arg)
{
	const struct admin_cmd	*cmd;
	struct admin_session	*s;
	struct words		 w;

	s = xcalloc(1, sizeof(*s));
	if ((s->answer = evbuffer_new()) == NULL)
		fatalx("%s: evbuffer_new", __func__);
	s->flags = ADMIN_AUTHED | ADMIN_EXEC;
	s->done = done;
	s->done_arg = arg;
	strlcpy(s->addr, "fleet", sizeof(s->addr));
	TAILQ_INIT(&s->holds);
	TAILQ_INSERT_TAIL(&sessions, s, entry);
	proto_split(line, len, &w);
	if ((cmd = admin_cmd_find(&w)) == NULL || !(cmd->flags & CMD_FLEET))
		admin_reply(s, "ERR unknown not a fleet command");
	else
		cmd->fn(s, w.rest, w.restlen);
	if (s->nholds == 0)
		admin_exec_end(s);
}

/* Hands an admin_exec() command's answer over and frees its session. */
static void
admin_exec_end(struct admin_session *s)
{
	admin_exec_cb	 done = s->done;
	size_t		 len = evbuffer_get_length(s->answer);

	s->done = NULL;
	done(s->done_arg, len > 0 ? (const char *)evbuffer_pullup(s->answer,
	    -1) : "", len);
	admin_free(s);
}

/*
 * Returns 1 when s runs a command for another node: it must act here,
 * never ask the fleet again.
 */
int
admin_local(const struct admin_session *s)
{
	return ((s->flags & ADMIN_EXEC) != 0);
}

/* Closes s once its answers are out; it reads no more commands. */
void
admin_finish(struct admin_session *s)
{
	s->flags |= ADMIN_CLOSING;
	if (s->bev == NULL)
		return;
	bufferevent_disable(s->bev, EV_READ);
	if (s->nholds == 0 && admin_unsent(s) == 0)
		admin_free(s);
}

/*
 * Closes s like admin_finish(), but drops what is left to write once
 * writing stalls for ADMIN_DRAIN_SEC: for a peer the daemon must never
 * wait for.
 */
void
admin_finish_soon(struct admin_session *s)
{
	struct timeval	 tv = { ADMIN_DRAIN_SEC, 0 };

	bufferevent_set_timeouts(s->bev, NULL, &tv);
	admin_finish(s);
}

/* Returns 1 once s reads no more and only writes out what is left. */
int
admin_closing(const struct admin_session *s)
{
	return ((s->flags & ADMIN_CLOSING) != 0);
}

/*
 * Holds s's next answer until admin_release(): the answers after it wait
 * behind it. Reading stops while too many are held.
 */
struct admin_hold *
admin_hold(struct admin_session *s)
{
	struct admin_hold	*h;

	h = xcalloc(1, sizeof(*h));
	h->s = s;
	if ((h->after = evbuffer_new()) == NULL)
		fatalx("%s: evbuffer_new", __func__);
	TAILQ_INSERT_TAIL(&s->holds, h, entry);
	s->nholds++;
	return (h);
}

/*
 * Gives h its answer, fmt without its newline, and writes out every
 * answer no longer held behind an earlier one. h is freed.
 */
void
admin_release(struct admin_hold *h, const char *fmt, ...)
{
	struct admin_session	*s = h->s;
	va_list			 ap;

	if (s == NULL) {
		free(h);
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&h->answer, fmt, ap) == -1)
		fatal("%s: vasprintf", __func__);
	va_end(ap);
	admin_flush_holds(s);
}

/* Where s's next answer goes: behind its last held one, if any. */
struct evbuffer *
admin_out(struct admin_session *s)
{
	struct admin_hold	*last = TAILQ_LAST(&s->holds, admin_holds);

	return (last != NULL ? last->after : admin_output(s));
}

/* Where s's answers go once no earlier one is held. */
static struct evbuffer *
admin_output(struct admin_session *s)
{
	return (s->bev != NULL ? bufferevent_get_output(s->bev) : s->answer);
}

/* The bytes of s's answers still waiting for its peer to take them. */
size_t
admin_unsent(const struct admin_session *s)
{
	return (evbuffer_get_length(bufferevent_get_output(s->bev)));
}

/* s's WATCH subscription, which admin_watch.c keeps. */
struct admin_watcher *
admin_watcher(struct admin_session *s)
{
	return (&s->watch);
}

/*
 * Writes out the answered holds at the head of s's queue, then closes a
 * closing session that has nothing more to say or reads again; a command
 * of admin_exec() ends once nothing is held.
 */
static void
admin_flush_holds(struct admin_session *s)
{
	struct evbuffer		*out = admin_output(s);
	struct admin_hold	*h;

	while ((h = TAILQ_FIRST(&s->holds)) != NULL && h->answer != NULL) {
		evbuffer_add_printf(out, "%s\n", h->answer);
		evbuffer_add_buffer(out, h->after);
		TAILQ_REMOVE(&s->holds, h, entry);
		s->nholds--;
		evbuffer_free(h->after);
		free(h->answer);
		free(h);
	}
	if (s->bev == NULL) {
		if (s->nholds == 0)
			admin_exec_end(s);
		return;
	}
	if ((s->flags & ADMIN_CLOSING) && s->nholds == 0 &&
	    evbuffer_get_length(out) == 0)
		admin_free(s);
	else if (!(s->flags & ADMIN_CLOSING) &&
	    !(bufferevent_get_enabled(s->bev) & EV_READ)) {
		bufferevent_enable(s->bev, EV_READ);
		admin_read_cb(s->bev, s);
	}
}

/*
 * Orphans the holds of a session being freed: those still to be answered
 * are freed by admin_release(), the others here.
 */
static void
admin_drop_holds(struct admin_session *s)
{
	struct admin_hold	*h;

	while ((h = TAILQ_FIRST(&s->holds)) != NULL) {
		TAILQ_REMOVE(&s->holds, h, entry);
		evbuffer_free(h->after);
		h->after = NULL;
		h->s = NULL;
		if (h->answer != NULL) {
			free(h->answer);
			free(h);
		}
	}
	s->nholds = 0;
}

static size_t
admin_line_max(void)
{
	return (hb_conf->max_line + ADMIN_LINE_SLACK);
}

static void
admin_read_cb(struct bufferevent *bev, void *arg)
{
	struct admin_session	*s = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer		*out = bufferevent_get_output(bev);

	while (!(s->flags & ADMIN_CLOSING)) {
		if (evbuffer_get_length(out) >= hb_conf->send_buffer_limit ||
		    s->nholds >= ADMIN_HOLDS_MAX) {
			bufferevent_disable(bev, EV_READ);
			return;
		}
		if (admin_next_line(s, in) == -1)
			return;
	}
}

/*
 * Handles the next complete line in "in". Returns 0, or -1 when there is
 * none yet. A line over the limit is answered "ERR toolong" and skipped;
 * the session goes on.
 */
static int
admin_next_line(struct admin_session *s, struct evbuffer *in)
{
	struct evbuffer_ptr	 eol;
	size_t			 eol_len, len, max = admin_line_max();
	const char		*line;

	eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
	if (eol.pos == -1) {
		/* Room for the "\r" of a line of max bytes, as for clients. */
		if (evbuffer_get_length(in) > max + 1) {
			if (!(s->flags & ADMIN_DISCARD))
				admin_reply(s, "ERR toolong line exceeds %zu "
				    "bytes", max);
			s->flags |= ADMIN_DISCARD;
			evbuffer_drain(in, evbuffer_get_length(in));
		}
		return (-1);
	}
	len = eol.pos;
	if (s->flags & ADMIN_DISCARD)
		s->flags &= ~ADMIN_DISCARD;
	else {
		line = NULL;
		if (len <= max + 1)
			line = (const char *)evbuffer_pullup(in, len + eol_len);
		if (line != NULL && len > 0 && line[len - 1] == '\r')
			len--;
		if (len > max)
			admin_reply(s, "ERR toolong line exceeds %zu bytes",
			    max);
		else
			admin_dispatch(s, line, len);
	}
	evbuffer_drain(in, eol.pos + eol_len);
	return (0);
}

/* Output drained: finish a closing session or read again. */
static void
admin_write_cb(struct bufferevent *bev, void *arg)
{
	struct admin_session	*s = arg;

	if (s->flags & ADMIN_CLOSING) {
		if (s->nholds == 0)
			admin_free(s);
		return;
	}
	s->watch.replayed = 0;
	if (!(bufferevent_get_enabled(bev) & EV_READ)) {
		bufferevent_enable(bev, EV_READ);
		admin_read_cb(bev, s);
	}
}

/* The peer is gone or half-closed: answer what it sent, then close. */
static void
admin_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct admin_session	*s = arg;

	if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		admin_free(s);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		admin_read_cb(bev, s);
		admin_finish(s);
	}
}

/* Queues one answer line to s; fmt gives it without its newline. */
void
admin_reply(struct admin_session *s, const char *fmt, ...)
{
	struct evbuffer	*out = admin_out(s);
	va_list		 ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\n", 1);
}

static void
admin_dispatch(struct admin_session *s, const char *line, size_t len)
{
	const struct admin_cmd	*cmd;
	struct words		 w;

	if (len == 0)
		return;
	proto_split(line, len, &w);
	if (s->watch.s != NULL && !proto_is(&w, "QUIT"))
		return;
	if ((cmd = admin_cmd_find(&w)) == NULL)
		admin_reply(s, "ERR unknown no such command");
	else if (!(s->flags & ADMIN_AUTHED) && !(cmd->flags & CMD_NOAUTH))
		admin_reply(s, "ERR auth required");
	else
		cmd->fn(s, w.rest, w.restlen);
}

/* Compares in constant time, so a wrong token tells nothing of the right. */
void
admin_auth(struct admin_session *s, const char *args, size_t len)
{
	const char	*token = hb_conf->admin_token;

	if (args == NULL || len == 0) {
		admin_reply(s, "ERR syntax usage: AUTH <token>");
		return;
	}
	if ((s->flags & ADMIN_UNIX) || token == NULL ||
	    secret_equal(args, len, token)) {
		s->flags |= ADMIN_AUTHED;
		admin_reply(s, "OK");
		return;
	}
	log_warnx("admin auth failed addr=%s", s->addr);
	admin_reply(s, "ERR auth bad token");
	admin_finish(s);
}
