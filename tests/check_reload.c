/*
 * Integration tests for reload (SPEC §2): the real daemon's config file
 * is rewritten and re-read, by the admin RELOAD or by SIGHUP, all or
 * nothing. Tests added with BOTH run once per way: _i 0 sends RELOAD on
 * an admin session, _i 1 sends SIGHUP; both check the log line.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "check_main.h"
#include "itest.h"

#define TMO		2000	/* ms to wait for any one answer */
#define SLACK		250	/* ms late a busy host may be */
#define BOTH		2	/* _i 0: admin RELOAD, _i 1: SIGHUP */
#define VIA_HUP		1
#define CONF_MAX	4096
#define LOOPBACK	"127.0.0.1:0"

/* Every key these tests touch, always written out. */
struct conf {
	const char	*listen;
	const char	*timeout;
	const char	*max_clients;
	const char	*alisten;
	const char	*asock;
	const char	*token;
	const char	*mlisten;
	const char	*level;
};

#define CONF_FMT							\
	"[server]\n"							\
	"listen = %s\n"							\
	"heartbeat_timeout = %s\n"					\
	"max_clients = %s\n"						\
	"[admin]\n"							\
	"listen = %s\n"							\
	"socket = %s\n"							\
	"token = %s\n"							\
	"[metrics]\n"							\
	"listen = %s\n"							\
	"[log]\n"							\
	"syslog = no\n"							\
	"level = %s\n"

static const struct conf base = {
	LOOPBACK, "30", "10000", LOOPBACK, "@DIR@/admin.sock", "", "",
	"info"
};

/* A config file that fails to load, and the reason it gives. */
struct invalid {
	const char	*line;		/* line 4 of the file */
	const char	*reason;
};

static const struct invalid invalids[] = {
	{ "max_clients = 6s", "max_clients: not a number: \"6s\"" },
	{ "bogus = 1", "bogus: unknown key" },
	{ "heartbeat_timeout = 0", "heartbeat_timeout: duplicate key" },
	/* the first error only, on one line */
	{ "max_clients = 0\nbogus = 1\nlisten = x",
	    "max_clients: out of range 1-10000000: \"0\"" },
};

/* A kind of listener whose bind fails, and how the cause names it. */
struct bindfail {
	const char	*label;
	int		 field;		/* 0 listen, 1 admin, 2 metrics */
};

static const struct bindfail bindfails[] = {
	{ "listen", 0 },
	{ "admin listen", 1 },
	{ "http listen", 2 },
};

static const char	*conf_text(const struct conf *);
static struct hbd	*start(const struct conf *);
static void		 rewrite(struct hbd *, const char *);
static void		 reload(struct hbd *, struct hbc *, int,
			    const char *);
static void		 reload_conf(struct hbd *, struct hbc *, int,
			    const struct conf *, const char *);
static int		 reserve_port(int *);
static int		 hold_port(int *);
static int		 connect_errno(int);
static struct hbc	*client_join(struct hbd *, int);
static void		 expect_alive(struct hbc *);
static void		 expect_bye(struct hbc *, const char *, long long);
static void		 expect_listed(struct hbc *);
static void		 expect_http(int);

/* The config file for c, with "@DIR@" left for the harness to fill. */
static const char *
conf_text(const struct conf *c)
{
	static char	 buf[CONF_MAX];

	snprintf(buf, sizeof(buf), CONF_FMT, c->listen, c->timeout,
	    c->max_clients, c->alisten, c->asock, c->token, c->mlisten,
	    c->level);
	return (buf);
}

static struct hbd *
start(const struct conf *c)
{
	return (hbd_start(conf_text(c)));
}

/* Replaces d's config file with text, every "@DIR@" made d's dir. */
static void
rewrite(struct hbd *d, const char *text)
{
	FILE		*f;
	const char	*at;

	if ((f = fopen(d->conf, "w")) == NULL)
		ck_abort_msg("%s: %s", d->conf, strerror(errno));
	while ((at = strstr(text, "@DIR@")) != NULL) {
		fwrite(text, 1, at - text, f);
		fputs(d->dir, f);
		text = at + strlen("@DIR@");
	}
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/*
 * Reloads d by RELOAD on a or by SIGHUP (how) and asserts the answer
 * want ("OK ..." or "ERR config ...") and the log line it stands for:
 * "reload ok ..." or "reload failed: ...".
 */
static void
reload(struct hbd *d, struct hbc *a, int how, const char *want)
{
	const char	*line;
	char		 logline[1024];

	if (strncmp(want, "OK ", 3) == 0)
		snprintf(logline, sizeof(logline), "reload ok %s", want + 3);
	else if (strncmp(want, "ERR config ", 11) == 0)
		snprintf(logline, sizeof(logline), "reload failed: %s",
		    want + 11);
	else
		ck_abort_msg("bad reload answer \"%s\"", want);
	if (how == VIA_HUP)
		ck_assert_int_eq(kill(d->pid, SIGHUP), 0);
	else {
		line = hbc_cmd(a, "RELOAD", TMO);
		ck_assert_msg(line != NULL, "RELOAD: no answer");
		ck_assert_str_eq(line, want);
	}
	line = hbd_expect_log(d, "reload ", TMO);
	ck_assert_str_eq(line, logline);
}

static void
reload_conf(struct hbd *d, struct hbc *a, int how, const struct conf *c,
    const char *want)
{
	rewrite(d, conf_text(c));
	reload(d, a, how, want);
}

/*
 * A free loopback port kept from other programs until the caller closes
 * the returned socket: it is bound with SO_REUSEADDR but does not listen,
 * so the daemon, which sets SO_REUSEADDR too, can still bind and listen
 * there, and nothing else gets the port meanwhile.
 */
static int
reserve_port(int *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd, on = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
	    sizeof(on)), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return (fd);
}

/* A loopback port that the test listens on, so no one else can bind it. */
static int
hold_port(int *port)
{
	int	 fd, off = 0;

	fd = reserve_port(port);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &off,
	    sizeof(off)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	return (fd);
}

/* Connects to 127.0.0.1:port: 0, or the errno of the failure. */
static int
connect_errno(int port)
{
	struct sockaddr_in	 sin;
	int			 fd, error = 0;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(fd, -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		error = errno;
	close(fd);
	return (error);
}

/* Connects a client to port and waits until it answers a PING. */
static struct hbc *
client_join(struct hbd *d, int port)
{
	struct hbc	*c;

	c = hbc_connect(port != 0 ? port : d->port);
	expect_alive(c);
	return (c);
}

/* c is still connected: a PING is answered. */
static void
expect_alive(struct hbc *c)
{
	hbc_send(c, "PING alive\n");
	hbc_expect(c, "PONG alive", TMO);
}

/* c gets "BYE reason" before the deadline (ms, monotonic), then EOF. */
static void
expect_bye(struct hbc *c, const char *reason, long long deadline)
{
	char	 want[64];
	long	 left;

	snprintf(want, sizeof(want), "BYE %s", reason);
	left = deadline - hb_now_ms();
	hbc_expect(c, want, left > 0 ? left : 0);
	hbc_expect_closed(c, TMO);
}

/* The admin session a answers LIST up to its END line. */
static void
expect_listed(struct hbc *a)
{
	const char	*line;

	hbc_send(a, "LIST\n");
	while ((line = hbc_readline(a, TMO)) != NULL &&
	    strncmp(line, "CLIENT #", 8) == 0)
		;
	ck_assert_msg(line != NULL, "LIST: no END");
	hb_assert_match(line, "^END seq=[0-9]+$");
}

/* GET /metrics on 127.0.0.1:port answers 200. */
static void
expect_http(int port)
{
	struct hbc	*h;
	const char	*line;

	h = hbc_connect(port);
	hbc_send(h, "GET /metrics HTTP/1.0\r\n\r\n");
	line = hbc_readline(h, TMO);
	ck_assert_msg(line != NULL, "GET /metrics: no answer");
	hb_assert_match(line, "^HTTP/1\\.[01] 200 ");
	hbc_close(h);
}

/* An identical file, and "6" rewritten as "6.0", change nothing. */
START_TEST(test_reload_unchanged)
{
	struct conf	 c = base;
	struct hbd	*d;
	struct hbc	*a;

	c.timeout = "6";
	d = start(&c);
	a = hbc_admin(d);
	reload(d, a, _i, "OK unchanged");
	c.timeout = "6.0";
	reload_conf(d, a, _i, &c, "OK unchanged");
	c.timeout = "6.000";
	c.max_clients = "010000";
	reload_conf(d, a, _i, &c, "OK unchanged");
	hbd_finish(d, a, NULL);
}
END_TEST

/* The answer names the changed keys in the SPEC's order, not the file's. */
START_TEST(test_reload_changed)
{
	struct hbd	*d;
	struct hbc	*a;

	d = start(&base);
	a = hbc_admin(d);
	rewrite(d,
	    "[log]\n"
	    "level = debug\n"
	    "syslog = no\n"
	    "[admin]\n"
	    "socket = @DIR@/admin.sock\n"
	    "listen = 127.0.0.1:0\n"
	    "[server]\n"
	    "heartbeat_timeout = 20\n"
	    "listen = 127.0.0.1:0\n");
	reload(d, a, _i, "OK changed=server.heartbeat_timeout,log.level");
	reload(d, a, _i, "OK unchanged");
	rewrite(d,
	    "[server]\n"
	    "listen = 127.0.0.1:0\n"
	    "max_line = 2048\n"
	    "duplicate_name = reject\n"
	    "[admin]\n"
	    "listen = 127.0.0.1:0\n"
	    "socket = @DIR@/admin.sock\n"
	    "watch_backlog = 5\n"
	    "[log]\n"
	    "syslog = no\n"
	    "ident = other\n");
	reload(d, a, _i, "OK changed=server.heartbeat_timeout,server.max_line,"
	    "server.duplicate_name,admin.watch_backlog,log.ident,log.level");
	hbd_finish(d, a, NULL);
}
END_TEST

/*
 * An invalid file is reported with its line and changes nothing: not the
 * lower timeout nor the log level that come before the error, and every
 * client and session stays.
 */
START_TEST(test_reload_invalid)
{
	const struct invalid	*inv = &invalids[_i / BOTH];
	struct hbd		*d;
	struct hbc		*a, *c1, *c2;
	char			 text[CONF_MAX], want[PATH_MAX + 256];
	int			 how = _i % BOTH;

	d = start(&base);
	a = hbc_admin(d);
	c1 = client_join(d, 0);
	snprintf(text, sizeof(text),
	    "[server]\n"
	    "listen = 127.0.0.1:0\n"
	    "heartbeat_timeout = 0.3\n"
	    "%s\n"
	    "[admin]\n"
	    "listen = 127.0.0.1:0\n"
	    "socket = @DIR@/admin.sock\n"
	    "[log]\n"
	    "syslog = no\n"
	    "level = notice\n", inv->line);
	rewrite(d, text);
	snprintf(want, sizeof(want), "ERR config %s:4: %s", d->conf,
	    inv->reason);
	reload(d, a, how, want);
	/* The old 30 s timeout holds: silent past 0.3 s, c1 stays. */
	hbc_expect_silence(c1, 500);
	expect_alive(c1);
	/* The old level holds: connect lines are still logged. */
	c2 = client_join(d, 0);
	hbd_expect_log(d, "connect #2 ", TMO);
	expect_listed(a);
	/* The running config is still the old one. */
	reload_conf(d, a, how, &base, "OK unchanged");
	/* Only the first error was logged, as it was answered. */
	snprintf(want, sizeof(want), "%s:5: ", d->conf);
	ck_assert_int_eq(hbd_log_count(d, want), 0);
	hbd_finish(d, c1, c2, a, NULL);
}
END_TEST

/*
 * data_reply changes at once for connected clients: a data line gets no
 * answer, then its echo, then OK.
 */
START_TEST(test_reload_data_reply)
{
	static const char	*fmt =
	    "[server]\n"
	    "listen = 127.0.0.1:0\n"
	    "heartbeat_timeout = 30\n"
	    "data_reply = %s\n"
	    "[admin]\n"
	    "listen = 127.0.0.1:0\n"
	    "socket = @DIR@/admin.sock\n"
	    "[log]\n"
	    "syslog = no\n";
	struct hbd		*d;
	struct hbc		*a, *c;
	char			 text[CONF_MAX];

	snprintf(text, sizeof(text), fmt, "none");
	d = hbd_start(text);
	a = hbc_admin(d);
	c = client_join(d, 0);
	hbc_send(c, "reading=1\n");
	expect_alive(c);
	snprintf(text, sizeof(text), fmt, "echo");
	rewrite(d, text);
	reload(d, a, _i, "OK changed=server.data_reply");
	hbc_send(c, "reading=2\n");
	hbc_expect(c, "reading=2", TMO);
	snprintf(text, sizeof(text), fmt, "ok");
	rewrite(d, text);
	reload(d, a, _i, "OK changed=server.data_reply");
	hbc_send(c, "reading=3\n");
	hbc_expect(c, "OK", TMO);
	expect_alive(c);
	hbd_finish(d, c, a, NULL);
}
END_TEST

/* A config file gone is an error naming it; the daemon goes on. */
START_TEST(test_reload_missing)
{
	struct hbd	*d;
	struct hbc	*a, *cl;
	char		 moved[PATH_MAX + 8], want[PATH_MAX + 64];

	d = start(&base);
	a = hbc_admin(d);
	cl = client_join(d, 0);
	snprintf(moved, sizeof(moved), "%s.away", d->conf);
	ck_assert_int_eq(rename(d->conf, moved), 0);
	snprintf(want, sizeof(want), "ERR config %s: No such file or "
	    "directory", d->conf);
	reload(d, a, _i, want);
	expect_alive(cl);
	expect_listed(a);
	ck_assert_int_eq(rename(moved, d->conf), 0);
	reload(d, a, _i, "OK unchanged");
	hbd_finish(d, cl, a, NULL);
}
END_TEST

/*
 * A lower timeout drops at once a client already silent longer, and
 * times a fresh one from its last byte: no sooner, at most 100 ms later.
 */
START_TEST(test_reload_timeout_lower)
{
	struct conf	 c = base;
	struct hbd	*d;
	struct hbc	*a, *old, *fresh;
	long long	 last, done, left;

	d = start(&base);
	a = hbc_admin(d);
	old = client_join(d, 0);
	hbc_expect_silence(old, 500);
	fresh = client_join(d, 0);
	last = hb_now_ms();
	c.timeout = "0.3";
	reload_conf(d, a, _i, &c, "OK changed=server.heartbeat_timeout");
	done = hb_now_ms();
	expect_bye(old, "timeout", done + 100 + SLACK);
	/* Dropped within the reload, so logged before its line. */
	ck_assert_int_eq(hbd_wait_count(d, "disconnect #1 ", 1, TMO), 1);
	if ((left = last + 300 - 5 - hb_now_ms()) > 0)
		hbc_expect_silence(fresh, left);
	expect_bye(fresh, "timeout", last + 300 + 100 + SLACK);
	hbd_expect_log(d, "disconnect #2 ", TMO);
	hbd_finish(d, old, fresh, a, NULL);
}
END_TEST

/* A higher timeout keeps a client the old one would have dropped. */
START_TEST(test_reload_timeout_raise)
{
	struct conf	 c = base;
	struct hbd	*d;
	struct hbc	*a, *cl;
	long long	 last;

	c.timeout = "0.5";
	d = start(&c);
	a = hbc_admin(d);
	cl = client_join(d, 0);
	last = hb_now_ms();
	c.timeout = "2";
	reload_conf(d, a, _i, &c, "OK changed=server.heartbeat_timeout");
	ck_assert_msg(hb_now_ms() - last < 400, "the reload took too long");
	hbc_expect_silence(cl, last + 1000 - hb_now_ms());
	expect_alive(cl);
	ck_assert_int_eq(hbd_log_count(d, "disconnect #1 "), 0);
	hbd_finish(d, cl, a, NULL);
}
END_TEST

/* A lower max_clients keeps the clients over it but refuses the next. */
START_TEST(test_reload_max_clients)
{
	struct conf	 c = base;
	struct hbd	*d;
	struct hbc	*a, *cl[3], *extra;
	char		 want[64];
	int		 i;

	d = start(&base);
	a = hbc_admin(d);
	for (i = 0; i < 3; i++)
		cl[i] = client_join(d, 0);
	c.max_clients = "2";
	reload_conf(d, a, _i, &c, "OK changed=server.max_clients");
	for (i = 0; i < 3; i++)
		expect_alive(cl[i]);
	extra = hbc_connect(d->port);
	expect_bye(extra, "full", hb_now_ms() + TMO);
	snprintf(want, sizeof(want), "reject addr=127.0.0.1:%d reason=full",
	    hbc_local_port(extra));
	hbd_expect_log(d, want, TMO);
	for (i = 0; i < 3; i++) {
		expect_alive(cl[i]);
		hbc_close(cl[i]);
	}
	hbd_finish(d, extra, a, NULL);
}
END_TEST

/*
 * [log] level = notice hides the connect and disconnect lines from then
 * on; a later reload line (notice) shows that the log went on.
 */
START_TEST(test_reload_log_level)
{
	struct conf	 c = base;
	struct hbd	*d;
	struct hbc	*a, *c1, *c2;

	d = start(&base);
	a = hbc_admin(d);
	c1 = client_join(d, 0);
	hbd_expect_log(d, "connect #1 ", TMO);
	c.level = "notice";
	reload_conf(d, a, _i, &c, "OK changed=log.level");
	c2 = client_join(d, 0);
	hbc_send(c1, "QUIT\n");
	hbc_expect(c1, "BYE quit", TMO);
	hbc_expect_closed(c1, TMO);
	reload(d, a, _i, "OK unchanged");
	ck_assert_int_eq(hbd_log_count(d, "connect #2 "), 0);
	ck_assert_int_eq(hbd_log_count(d, "disconnect #1 "), 0);
	hbd_finish(d, c1, c2, a, NULL);
}
END_TEST

/*
 * A token added by reload: a TCP session opened before stays
 * authenticated, a new one must AUTH; the Unix socket never must.
 */
START_TEST(test_reload_token)
{
	struct conf	 c = base;
	struct hbd	*d;
	struct hbc	*before, *after, *un;

	d = start(&base);
	before = hbc_admin(d);
	expect_listed(before);
	c.token = "s3cret";
	reload_conf(d, before, _i, &c, "OK changed=admin.token");
	expect_listed(before);
	after = hbc_admin(d);
	ck_assert_str_eq(hbc_cmd(after, "LIST", TMO), "ERR auth required");
	ck_assert_str_eq(hbc_cmd(after, "AUTH s3cret", TMO), "OK");
	expect_listed(after);
	un = hbc_connect_unix(d->admin_sock);
	expect_listed(un);
	hbd_finish(d, before, after, un, NULL);
}
END_TEST

/*
 * A client listener added is bound at once; the first one removed is
 * closed, while the clients that came through it stay.
 */
START_TEST(test_reload_listen)
{
	struct conf	 c = base;
	struct hbd	*d;
	struct hbc	*a, *c1, *c2;
	char		 both[64], second[64];
	int		 fd, port;

	d = start(&base);
	a = hbc_admin(d);
	c1 = client_join(d, 0);
	fd = reserve_port(&port);
	snprintf(both, sizeof(both), "127.0.0.1:0 127.0.0.1:%d", port);
	c.listen = both;
	reload_conf(d, a, _i, &c, "OK changed=server.listen");
	close(fd);
	c2 = client_join(d, port);
	ck_assert_int_eq(connect_errno(d->port), 0);
	snprintf(second, sizeof(second), "127.0.0.1:%d", port);
	c.listen = second;
	reload_conf(d, a, _i, &c, "OK changed=server.listen");
	ck_assert_int_eq(connect_errno(d->port), ECONNREFUSED);
	ck_assert_int_eq(connect_errno(port), 0);
	expect_alive(c1);
	expect_alive(c2);
	reload(d, a, _i, "OK unchanged");
	hbd_finish(d, c1, c2, a, NULL);
}
END_TEST

/*
 * A bind failure of any kind of listener fails the whole reload: the
 * listener added before it is released, the old ones still accept, and
 * the other changes of the file are not applied.
 */
START_TEST(test_reload_bind_fail)
{
	const struct bindfail	*bf = &bindfails[_i / BOTH];
	struct conf		 c = base;
	struct hbd		*d;
	struct hbc		*a, *cl;
	char			 added[64], busy[64], want[256];
	const char		**field[3];
	int			 held, resv, hport, rport, how = _i % BOTH;

	d = start(&base);
	a = hbc_admin(d);
	held = hold_port(&hport);
	resv = reserve_port(&rport);
	snprintf(added, sizeof(added), "127.0.0.1:0 127.0.0.1:%d", rport);
	snprintf(busy, sizeof(busy), "127.0.0.1:%d", hport);
	c.listen = added;
	c.timeout = "0.3";
	c.level = "notice";
	field[0] = &c.listen;
	field[1] = &c.alisten;
	field[2] = &c.mlisten;
	if (bf->field == 0) {
		snprintf(added, sizeof(added), "127.0.0.1:0 127.0.0.1:%d "
		    "127.0.0.1:%d", rport, hport);
	} else
		*field[bf->field] = busy;
	snprintf(want, sizeof(want), "ERR config %s 127.0.0.1:%d: Address "
	    "already in use", bf->label, hport);
	reload_conf(d, a, how, &c, want);
	ck_assert_int_eq(connect_errno(rport), ECONNREFUSED);
	cl = client_join(d, 0);
	hbd_expect_log(d, "connect #1 ", TMO);
	expect_listed(a);
	reload_conf(d, a, how, &base, "OK unchanged");
	close(held);
	close(resv);
	hbd_finish(d, cl, a, NULL);
}
END_TEST

/*
 * The admin port and socket move: the old socket file is gone and the
 * old port closed, the new ones answer, and the sessions on the removed
 * ones, the one that sent RELOAD included, go on.
 */
START_TEST(test_reload_admin_move)
{
	struct conf	 c = base;
	struct hbd	*d;
	struct hbc	*a, *un, *na, *nun;
	struct stat	 st;
	char		 alisten[64], path[PATH_MAX + 16];
	int		 fd, port;

	d = start(&base);
	a = hbc_admin(d);
	un = hbc_connect_unix(d->admin_sock);
	fd = reserve_port(&port);
	snprintf(alisten, sizeof(alisten), "127.0.0.1:%d", port);
	c.alisten = alisten;
	c.asock = "@DIR@/moved.sock";
	reload_conf(d, a, _i, &c, "OK changed=admin.listen,admin.socket");
	close(fd);
	ck_assert_int_eq(lstat(d->admin_sock, &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(connect_errno(d->admin_port), ECONNREFUSED);
	na = hbc_connect(port);
	expect_listed(na);
	snprintf(path, sizeof(path), "%s/moved.sock", d->dir);
	nun = hbc_connect_unix(path);
	expect_listed(nun);
	expect_listed(a);
	expect_listed(un);
	reload(d, a, _i, "OK unchanged");
	hbc_close(a);
	hbc_close(un);
	hbc_close(na);
	hbc_close(nun);
	ck_assert_int_eq(hbd_exit(d, SIGTERM), 0);
	ck_assert_int_eq(lstat(path, &st), -1);
	hbd_stop(d, 0);
}
END_TEST

/* A metrics listener added by reload serves GET /metrics; removed, it
 * is closed. */
START_TEST(test_reload_metrics)
{
	struct conf	 c = base;
	struct hbd	*d;
	struct hbc	*a;
	char		 mlisten[64];
	int		 fd, port;

	d = start(&base);
	a = hbc_admin(d);
	fd = reserve_port(&port);
	snprintf(mlisten, sizeof(mlisten), "127.0.0.1:%d", port);
	c.mlisten = mlisten;
	reload_conf(d, a, _i, &c, "OK changed=http.listen");
	close(fd);
	expect_http(port);
	reload_conf(d, a, _i, &base, "OK changed=http.listen");
	ck_assert_int_eq(connect_errno(port), ECONNREFUSED);
	hbd_finish(d, a, NULL);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s;

	s = suite_create("reload");
	HB_TCASE(s, "unchanged", test_reload_unchanged, BOTH);
	HB_TCASE(s, "changed", test_reload_changed, BOTH);
	HB_TCASE(s, "invalid", test_reload_invalid,
	    BOTH * (int)nitems(invalids));
	HB_TCASE(s, "missing", test_reload_missing, BOTH);
	HB_TCASE(s, "data_reply", test_reload_data_reply, BOTH);
	HB_TCASE(s, "timeout_lower", test_reload_timeout_lower, BOTH);
	HB_TCASE(s, "timeout_raise", test_reload_timeout_raise, BOTH);
	HB_TCASE(s, "max_clients", test_reload_max_clients, BOTH);
	HB_TCASE(s, "log_level", test_reload_log_level, BOTH);
	HB_TCASE(s, "token", test_reload_token, BOTH);
	HB_TCASE(s, "listen", test_reload_listen, BOTH);
	HB_TCASE(s, "bind_fail", test_reload_bind_fail,
	    BOTH * (int)nitems(bindfails));
	HB_TCASE(s, "admin_move", test_reload_admin_move, BOTH);
	HB_TCASE(s, "metrics", test_reload_metrics, BOTH);
	return (s);
}
