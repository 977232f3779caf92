/*
 * The admin port: its listeners (TCP and a Unix socket), its sessions and
 * their line commands. Commands are answered in order; a session may
 * pipeline as many as it likes, but stops being read while its unread
 * answers exceed send_buffer_limit, so it can never make the daemon hold
 * more than that for it.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
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
#include "client.h"
#include "daemon.h"
#include "listener.h"
#include "log.h"
#include "proto.h"
#include "registry.h"
#include "stats.h"
#include "util.h"
#include "xmalloc.h"

#define ADMIN_LINE_SLACK	1024	/* bytes of command around a message */

struct admin_session {
	struct bufferevent		*bev;
	int				 flags;
#define ADMIN_AUTHED			 0x1
#define ADMIN_UNIX			 0x2
#define ADMIN_CLOSING			 0x4	/* close once output is out */
#define ADMIN_DISCARD			 0x8	/* skip an over-long line */
	char				 addr[ADDR_STRLEN];
	TAILQ_ENTRY(admin_session)	 entry;
};
TAILQ_HEAD(admin_sessions, admin_session);

struct admin_listener {
	struct evconnlistener		*lev;
	char				 name[ADDR_STRLEN + 108];
	char				*path;		/* Unix socket */
	TAILQ_ENTRY(admin_listener)	 entry;
};
TAILQ_HEAD(admin_listeners, admin_listener);

struct admin_cmd {
	const char	*name;
	void		(*fn)(struct admin_session *, const char *, size_t);
	int		 flags;
#define CMD_NOAUTH	 0x1	/* allowed before AUTH */
};

static void	admin_accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	admin_read_cb(struct bufferevent *, void *);
static void	admin_write_cb(struct bufferevent *, void *);
static void	admin_event_cb(struct bufferevent *, short, void *);
static int	admin_next_line(struct admin_session *, struct evbuffer *);
static void	admin_dispatch(struct admin_session *, const char *, size_t);
static void	admin_free(struct admin_session *);
static void	admin_finish(struct admin_session *);
static void	admin_reply(struct admin_session *, const char *, ...)
		    __attribute__((__format__(printf, 2, 3)));
static size_t	admin_line_max(void);
static int	admin_message(struct admin_session *, const char *, size_t);
static struct client *admin_target(struct admin_session *, const char *,
		    size_t);
static void	admin_listener_add(int, const char *, const char *);
static int	admin_unix_socket(const char *, mode_t, char **);

static void	cmd_auth(struct admin_session *, const char *, size_t);
static void	cmd_list(struct admin_session *, const char *, size_t);
static void	cmd_send(struct admin_session *, const char *, size_t);
static void	cmd_broadcast(struct admin_session *, const char *, size_t);
static void	cmd_kick(struct admin_session *, const char *, size_t);
static void	cmd_stats(struct admin_session *, const char *, size_t);
static void	cmd_help(struct admin_session *, const char *, size_t);
static void	cmd_quit(struct admin_session *, const char *, size_t);

static const struct admin_cmd admin_cmds[] = {
	{ "AUTH", cmd_auth, CMD_NOAUTH },
	{ "LIST", cmd_list, 0 },
	{ "SEND", cmd_send, 0 },
	{ "BROADCAST", cmd_broadcast, 0 },
	{ "KICK", cmd_kick, 0 },
	{ "STATS", cmd_stats, 0 },
	{ "HELP", cmd_help, CMD_NOAUTH },
	{ "QUIT", cmd_quit, CMD_NOAUTH },
};

static const char *const admin_help[] = {
	"AUTH <token>",
	"LIST",
	"SEND <target> <message>",
	"BROADCAST <message>",
	"KICK <target>",
	"STATS",
	"HELP",
	"QUIT",
};

static struct admin_sessions	 sessions = TAILQ_HEAD_INITIALIZER(sessions);
static struct admin_listeners	 listeners =
    TAILQ_HEAD_INITIALIZER(listeners);

/*
 * Opens the TCP admin listeners and the Unix socket. Returns 0, or -1
 * with *cause; whatever was opened stays for admin_close_all().
 */
int
admin_open_all(const struct hb_config *conf, char **cause)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			 name[ADDR_STRLEN], *why;
	size_t			 i;
	int			 fd;

	for (i = 0; i < conf->admin_listen.n; i++) {
		if ((fd = listener_socket(&conf->admin_listen.v[i],
		    &why)) == -1) {
			xasprintf(cause, "admin listen %s", why);
			free(why);
			return (-1);
		}
		len = sizeof(ss);
		getsockname(fd, (struct sockaddr *)&ss, &len);
		admin_listener_add(fd, addr_format((struct sockaddr *)&ss,
		    name, sizeof(name)), NULL);
	}
	if (conf->admin_socket != NULL) {
		if ((fd = admin_unix_socket(conf->admin_socket,
		    conf->admin_socket_mode, cause)) == -1)
			return (-1);
		admin_listener_add(fd, conf->admin_socket, conf->admin_socket);
	}
	return (0);
}

static void
admin_listener_add(int fd, const char *name, const char *path)
{
	struct admin_listener	*al;

	al = xcalloc(1, sizeof(*al));
	strlcpy(al->name, name, sizeof(al->name));
	if (path != NULL)
		al->path = xstrdup(path);
	al->lev = evconnlistener_new(hb_base, admin_accept_cb, al,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (al->lev == NULL)
		fatalx("%s: evconnlistener_new", __func__);
	TAILQ_INSERT_TAIL(&listeners, al, entry);
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
	struct stat		 st;
	mode_t			 old;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		goto fail;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			xasprintf(cause, "admin socket %s: exists and is not "
			    "a socket", path);
			close(fd);
			return (-1);
		}
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

/* Closes the listeners (removing the socket file) and every session. */
void
admin_close_all(void)
{
	struct admin_listener	*al;
	struct admin_session	*s;

	while ((al = TAILQ_FIRST(&listeners)) != NULL) {
		TAILQ_REMOVE(&listeners, al, entry);
		evconnlistener_free(al->lev);
		if (al->path != NULL) {
			unlink(al->path);
			free(al->path);
		}
		free(al);
	}
	while ((s = TAILQ_FIRST(&sessions)) != NULL)
		admin_free(s);
}

/* Writes the admin endpoints, comma separated, or "none". */
void
admin_names(char *buf, size_t size)
{
	struct admin_listener	*al;

	buf[0] = '\0';
	TAILQ_FOREACH(al, &listeners, entry) {
		if (buf[0] != '\0')
			strlcat(buf, ",", size);
		strlcat(buf, al->name, size);
	}
	if (buf[0] == '\0')
		strlcpy(buf, "none", size);
}

static void
admin_accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct admin_listener	*al = arg;
	struct admin_session	*s;

	s = xcalloc(1, sizeof(*s));
	s->bev = bufferevent_socket_new(hb_base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (s->bev == NULL)
		fatalx("%s: bufferevent_socket_new", __func__);
	if (al->path != NULL) {
		s->flags |= ADMIN_UNIX | ADMIN_AUTHED;
		strlcpy(s->addr, al->path, sizeof(s->addr));
	} else
		addr_format(sa, s->addr, sizeof(s->addr));
	/* A session opened while no token is set stays trusted. */
	if (hb_conf->admin_token == NULL)
		s->flags |= ADMIN_AUTHED;
	bufferevent_setcb(s->bev, admin_read_cb, admin_write_cb,
	    admin_event_cb, s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&sessions, s, entry);
}

static void
admin_free(struct admin_session *s)
{
	TAILQ_REMOVE(&sessions, s, entry);
	bufferevent_free(s->bev);
	free(s);
}

/* Closes s once its answers are out; it reads no more commands. */
static void
admin_finish(struct admin_session *s)
{
	s->flags |= ADMIN_CLOSING;
	bufferevent_disable(s->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
		admin_free(s);
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
		if (evbuffer_get_length(out) >= hb_conf->send_buffer_limit) {
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
		if (evbuffer_get_length(in) > max) {
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
	else if (len > max)
		admin_reply(s, "ERR toolong line exceeds %zu bytes", max);
	else {
		line = (const char *)evbuffer_pullup(in, len + eol_len);
		if (len > 0 && line[len - 1] == '\r')
			len--;
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
		admin_free(s);
		return;
	}
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

	if (what & BEV_EVENT_ERROR) {
		admin_free(s);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		admin_read_cb(bev, s);
		admin_finish(s);
	}
}

static void
admin_reply(struct admin_session *s, const char *fmt, ...)
{
	struct evbuffer	*out = bufferevent_get_output(s->bev);
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
	size_t			 i;

	if (len == 0)
		return;
	proto_split(line, len, &w);
	for (i = 0; i < sizeof(admin_cmds) / sizeof(admin_cmds[0]); i++) {
		cmd = &admin_cmds[i];
		if (!proto_is(&w, cmd->name))
			continue;
		if (!(s->flags & ADMIN_AUTHED) && !(cmd->flags & CMD_NOAUTH))
			admin_reply(s, "ERR auth required");
		else
			cmd->fn(s, w.rest, w.restlen);
		return;
	}
	admin_reply(s, "ERR unknown no such command");
}

/*
 * Checks a message argument and answers the error itself. Returns 0 when
 * the message can be sent.
 */
static int
admin_message(struct admin_session *s, const char *msg, size_t len)
{
	const char	*code;

	if (message_check(msg, len, hb_conf->max_line, &code) == 0)
		return (0);
	if (strcmp(code, "toolong") == 0)
		admin_reply(s, "ERR toolong message exceeds %zu bytes",
		    hb_conf->max_line);
	else if (len == 0)
		admin_reply(s, "ERR syntax empty message");
	else
		admin_reply(s, "ERR syntax message holds CR or NUL");
	return (-1);
}

/* Finds a target's client, or answers the error and returns NULL. */
static struct client *
admin_target(struct admin_session *s, const char *arg, size_t len)
{
	struct target	 t;
	struct client	*c = NULL;

	if (target_parse(arg, len, &t) == -1) {
		admin_reply(s, "ERR syntax bad target");
		return (NULL);
	}
	switch (t.kind) {
	case TARGET_ID:
		c = registry_by_id(t.id);
		break;
	case TARGET_ADDR:
		c = registry_by_addr((struct sockaddr *)&t.addr);
		break;
	case TARGET_NAME:
		c = registry_by_name(t.name);
		break;
	}
	if (c == NULL)
		admin_reply(s, "ERR notfound no such client");
	return (c);
}

/* Compares in constant time, so a wrong token tells nothing of the right. */
static void
cmd_auth(struct admin_session *s, const char *args, size_t len)
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

static void
cmd_list(struct admin_session *s, const char *args, size_t len)
{
	struct client	*c;
	char		 addr[ADDR_STRLEN];
	uint64_t	 now = mono_ns();

	TAILQ_FOREACH(c, registry_list(), entry) {
		admin_reply(s, "CLIENT #%llu name=%s addr=%s age=%.1f "
		    "idle=%.1f in=%llu out=%llu", (unsigned long long)c->id,
		    c->name[0] != '\0' ? c->name : "-",
		    addr_format(&c->addr.sa, addr, sizeof(addr)),
		    mono_seconds(c->connected, now),
		    mono_seconds(c->last_rx, now),
		    (unsigned long long)c->bytes_in,
		    (unsigned long long)c->bytes_out);
	}
	admin_reply(s, "END seq=%llu", (unsigned long long)stats.seq);
}

static void
cmd_send(struct admin_session *s, const char *args, size_t len)
{
	struct words	 w;
	struct client	*c;

	if (args == NULL) {
		admin_reply(s, "ERR syntax usage: SEND <target> <message>");
		return;
	}
	proto_split(args, len, &w);
	if (w.rest == NULL) {
		admin_reply(s, "ERR syntax usage: SEND <target> <message>");
		return;
	}
	if (admin_message(s, w.rest, w.restlen) == -1 ||
	    (c = admin_target(s, w.word, w.wordlen)) == NULL)
		return;
	if (client_send_line(c, w.rest, w.restlen) == -1) {
		admin_reply(s, "ERR overflow client dropped");
		return;
	}
	stats.messages_sent++;
	admin_reply(s, "OK 1");
}

static void
cmd_broadcast(struct admin_session *s, const char *args, size_t len)
{
	struct client	*c, *next;
	uint64_t	 n = 0;

	if (args == NULL) {
		admin_reply(s, "ERR syntax usage: BROADCAST <message>");
		return;
	}
	if (admin_message(s, args, len) == -1)
		return;
	TAILQ_FOREACH_SAFE(c, registry_list(), entry, next) {
		if (client_send_line(c, args, len) == 0)
			n++;
	}
	stats.messages_sent += n;
	admin_reply(s, "OK %llu", (unsigned long long)n);
}

static void
cmd_kick(struct admin_session *s, const char *args, size_t len)
{
	struct client	*c;

	if (args == NULL || len == 0 || memchr(args, ' ', len) != NULL) {
		admin_reply(s, "ERR syntax usage: KICK <target>");
		return;
	}
	if ((c = admin_target(s, args, len)) == NULL)
		return;
	client_close(c, REASON_KICKED);
	admin_reply(s, "OK");
}

static void
cmd_stats(struct admin_session *s, const char *args, size_t len)
{
	struct stat_value	 v[STATS_MAX];
	size_t			 i, n;

	admin_reply(s, "STAT version %s", PACKAGE_VERSION);
	n = stats_snapshot(v, STATS_MAX);
	for (i = 0; i < n; i++)
		admin_reply(s, "STAT %s %llu", v[i].name,
		    (unsigned long long)v[i].value);
	admin_reply(s, "END");
}

static void
cmd_help(struct admin_session *s, const char *args, size_t len)
{
	size_t	 i;

	for (i = 0; i < sizeof(admin_help) / sizeof(admin_help[0]); i++)
		admin_reply(s, "%s", admin_help[i]);
	admin_reply(s, "END");
}

static void
cmd_quit(struct admin_session *s, const char *args, size_t len)
{
	admin_reply(s, "BYE quit");
	admin_finish(s);
}
