/*
 * Integration tests for TLS on the admin port ([admin] tls_listen, SPEC
 * §4 and §9): the real daemon, driven through third-party TLS clients
 * (openssl s_client, socat) whose stdin and stdout are one end of a
 * socketpair, so the harness's line helpers read and write through them.
 * An s_client that exits 0 saw the daemon's close_notify; without one it
 * exits 1. The certificate is made with the openssl CLI at test time.
 */

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "check_main.h"
#include "itest.h"

#define TOKEN		"s3cret-admin"
#define NPIPE		1000	/* commands in one write */
#define CONF_MAX	(3 * PATH_MAX)
#define TLS_LISTEN	"tls_listen = 127.0.0.1:0\n"

/* A TCP admin port and %s: more [server], then more [admin]. */
#define CONF_FMT							\
	"[server]\n"							\
	"listen = 127.0.0.1:0\n"					\
	"heartbeat_timeout = 30\n"					\
	"%s"								\
	"[admin]\n"							\
	"listen = 127.0.0.1:0\n"					\
	"%s"								\
	"[tls]\n"							\
	"cert = %s\n"							\
	"key = %s\n"							\
	"[log]\n"							\
	"syslog = no\n"

/* A TLS client program, its stdin and stdout one socket of ours. */
struct tlsc {
	pid_t		 pid;
	struct hbc	*io;
};

static int		 tmo(void);
static int		 run(char *const []);
static struct hbd	*start(const char *, const char *);
static const char	*conf_text(const char *, const char *);
static void		 reload(struct hbd *, struct hbc *, const char *);
static struct tlsc	*tlsc_spawn(char *const []);
static struct tlsc	*s_client(int);
static struct tlsc	*socat(int);
static int		 tlsc_exit(struct tlsc *);
static void		 tlsc_kill(struct tlsc *);
static void		 tlsc_quit(struct tlsc *, const char *);
static void		 expect_stats(struct hbc *);
static int		 connect_refused(int);
static SSL		*tls_proxied(SSL_CTX *, int, const char *);
static void		 ssl_send(SSL *, const char *);
static void		 ssl_expect(SSL *, const char *);

static char	 certfile[PATH_MAX], keyfile[PATH_MAX];

/* ms to wait for any one answer, for the build's speed. */
static int
tmo(void)
{
	return ((int)(2000 * hb_slow_factor()));
}

/* Runs argv with no output and returns its exit code, or -1. */
static int
run(char *const argv[])
{
	pid_t	 pid;
	int	 status, null;

	if ((pid = fork()) == -1)
		return (-1);
	if (pid == 0) {
		if ((null = open("/dev/null", O_RDWR)) == -1 ||
		    dup2(null, STDOUT_FILENO) == -1 ||
		    dup2(null, STDERR_FILENO) == -1)
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status))
		return (-1);
	return (WEXITSTATUS(status));
}

static const char *
conf_text(const char *server, const char *admin)
{
	static char	 buf[CONF_MAX];

	snprintf(buf, sizeof(buf), CONF_FMT, server, admin, certfile,
	    keyfile);
	return (buf);
}

/* A daemon with a TLS admin port besides the TCP one. */
static struct hbd *
start(const char *server, const char *admin)
{
	char		 more[256];
	struct hbd	*d;

	snprintf(more, sizeof(more), "%s%s", TLS_LISTEN, admin);
	d = hbd_start(conf_text(server, more));
	ck_assert_msg(d->admin_tls_port != 0, "no tls: admin port");
	return (d);
}

/*
 * Rewrites d's config with admin as its more [admin] keys and reloads
 * it through admin session a, asserting that tls_listen changed.
 */
static void
reload(struct hbd *d, struct hbc *a, const char *admin)
{
	FILE	*f;

	if ((f = fopen(d->conf, "w")) == NULL)
		ck_abort_msg("%s: %s", d->conf, strerror(errno));
	fputs(conf_text("", admin), f);
	ck_assert_int_eq(fclose(f), 0);
	hbc_send(a, "RELOAD\n");
	hbc_expect(a, "OK changed=admin.tls_listen", tmo());
}

/*
 * Starts argv with its stdin and stdout on a socketpair and its stderr
 * gone; it dies with the test.
 */
static struct tlsc *
tlsc_spawn(char *const argv[])
{
	struct tlsc	*t;
	int		 sv[2], null;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		ck_abort_msg("socketpair: %s", strerror(errno));
	t = calloc(1, sizeof(*t));
	ck_assert_ptr_nonnull(t);
	if ((t->pid = fork()) == -1)
		ck_abort_msg("fork: %s", strerror(errno));
	if (t->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGPIPE, SIG_DFL);
		if ((null = open("/dev/null", O_WRONLY)) == -1 ||
		    dup2(sv[1], STDIN_FILENO) == -1 ||
		    dup2(sv[1], STDOUT_FILENO) == -1 ||
		    dup2(null, STDERR_FILENO) == -1)
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(sv[1]);
	if (fcntl(sv[0], F_SETFL, O_NONBLOCK) == -1)
		ck_abort_msg("fcntl: %s", strerror(errno));
	t->io = calloc(1, sizeof(*t->io));
	ck_assert_ptr_nonnull(t->io);
	t->io->fd = sv[0];
	return (t);
}

/* openssl s_client on the TLS admin port; -quiet ignores stdin's EOF. */
static struct tlsc *
s_client(int port)
{
	char	 addr[32];
	char	*argv[] = { "openssl", "s_client", "-quiet", "-connect", addr,
	    NULL };

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	return (tlsc_spawn(argv));
}

/* socat, which passes its stdin's EOF on as a close_notify. */
static struct tlsc *
socat(int port)
{
	char	 addr[64];
	char	*argv[] = { "socat", "-t", "10", "-", addr, NULL };

	snprintf(addr, sizeof(addr), "OPENSSL:127.0.0.1:%d,verify=0", port);
	return (tlsc_spawn(argv));
}

/*
 * Asserts that the client ends with nothing more to say (it closes its
 * stdout as it exits), then returns its exit code; frees t.
 */
static int
tlsc_exit(struct tlsc *t)
{
	int	 status;

	hbc_expect_closed(t->io, tmo());
	hbc_close(t->io);
	ck_assert_int_eq(waitpid(t->pid, &status, 0), t->pid);
	free(t);
	ck_assert_msg(WIFEXITED(status), "TLS client killed by signal %d",
	    WTERMSIG(status));
	return (WEXITSTATUS(status));
}

static void
tlsc_kill(struct tlsc *t)
{
	hbc_close(t->io);
	kill(t->pid, SIGKILL);
	waitpid(t->pid, NULL, 0);
	free(t);
}

/*
 * Sends cmds, which start with QUIT, and asserts "BYE quit", the end and
 * a close_notify before it (s_client exits 0, not 1); frees t.
 */
static void
tlsc_quit(struct tlsc *t, const char *cmds)
{
	hbc_send(t->io, cmds);
	hbc_expect(t->io, "BYE quit", tmo());
	ck_assert_int_eq(tlsc_exit(t), 0);
}

/* Sends STATS and asserts its answer: STAT lines, then END. */
static void
expect_stats(struct hbc *c)
{
	const char	*line;

	hbc_send(c, "STATS\n");
	hbc_expect(c, "STAT version " PACKAGE_VERSION, tmo());
	while ((line = hbc_readline(c, tmo())) != NULL &&
	    strcmp(line, "END") != 0)
		ck_assert_msg(strncmp(line, "STAT ", 5) == 0,
		    "STATS answered \"%s\"", line);
	ck_assert_msg(line != NULL, "STATS: no END");
}

/* Whether a TCP connect to 127.0.0.1:port is refused. */
static int
connect_refused(int port)
{
	struct sockaddr_in	 sin;
	int			 fd, rv;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		ck_abort_msg("socket: %s", strerror(errno));
	rv = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 &&
	    errno == ECONNREFUSED;
	close(fd);
	return (rv);
}

/*
 * An in-test TLS client, for what no CLI does: a PROXY header hdr sent
 * from 127.0.0.2 before the handshake. The socket blocks, with timeouts.
 */
static SSL *
tls_proxied(SSL_CTX *ctx, int port, const char *hdr)
{
	struct timeval	 tv;
	struct hbc	*c;
	SSL		*ssl;
	int		 fd;

	c = hbc_connect_from("127.0.0.2", port);
	hbc_send(c, hdr);
	fd = dup(c->fd);
	hbc_close(c);
	tv.tv_sec = tmo() / 1000;
	tv.tv_usec = tmo() % 1000 * 1000;
	if (fd == -1 || fcntl(fd, F_SETFL, 0) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1)
		ck_abort_msg("socket setup: %s", strerror(errno));
	ck_assert_ptr_nonnull(ssl = SSL_new(ctx));
	SSL_set_fd(ssl, fd);
	ck_assert_msg(SSL_connect(ssl) == 1, "TLS handshake failed");
	return (ssl);
}

static void
ssl_send(SSL *ssl, const char *s)
{
	ck_assert_int_eq(SSL_write(ssl, s, strlen(s)), (int)strlen(s));
}

/* Reads one line, byte by byte, and asserts it is want. */
static void
ssl_expect(SSL *ssl, const char *want)
{
	char	 line[256];
	size_t	 len = 0;

	while (len < sizeof(line) - 1 && SSL_read(ssl, line + len, 1) == 1) {
		if (line[len] == '\n')
			break;
		len++;
	}
	line[len] = '\0';
	ck_assert_str_eq(line, want);
}

/*
 * Commands over TLS, with the start line naming the port. A TLS admin
 * connection does not count against max_clients: the one client fills
 * it, and the admin still gets in.
 */
START_TEST(test_admin_tls_commands)
{
	struct hbd	*d;
	struct hbc	*cl;
	struct tlsc	*t;

	d = start("max_clients = 1\n", "");
	hb_assert_match(d->log, "start version=[^ ]+ listen=127\\.0\\.0\\.1:"
	    "[0-9]+ admin=127\\.0\\.0\\.1:[0-9]+,tls:127\\.0\\.0\\.1:[0-9]+ "
	    "timeout=30\n");
	cl = hbc_connect(d->port);
	hbd_expect_log(d, "connect #1 ", tmo());
	t = s_client(d->admin_tls_port);
	expect_stats(t->io);
	hbc_send(t->io, "LIST\nSEND #1 over tls\nFROB\n");
	hb_assert_match(hbc_readline(t->io, tmo()), "^CLIENT #1 name=- addr="
	    "127\\.0\\.0\\.1:[0-9]+ ");
	hbc_expect(t->io, "END seq=1", tmo());
	hbc_expect(t->io, "OK 1", tmo());
	hbc_expect(t->io, "ERR unknown no such command", tmo());
	hbc_expect(cl, "over tls", tmo());
	ck_assert_int_eq(hbc_stat(t->io, "handshake_failures"), 0);
	tlsc_kill(t);
	hbd_finish(d, cl, NULL);
}
END_TEST

/*
 * The selector words tls and plain (SPEC §12) tell a client on the TLS
 * client port from one on the plain port, in LIST, SEND and KICK.
 */
START_TEST(test_admin_tls_select)
{
	struct hbd	*d;
	struct hbc	*cl, *a;
	struct tlsc	*t;
	char		 server[64];
	int		 fd, port;

	port = hb_reserve_port(&fd);
	snprintf(server, sizeof(server), "tls_listen = 127.0.0.1:%d\n", port);
	d = start(server, "");
	close(fd);
	cl = hbc_connect(d->port);
	hbd_expect_log(d, "connect #1 ", tmo());
	t = s_client(port);
	hbc_send(t->io, "HELLO secure\n");
	hbc_expect(t->io, "OK #2", tmo());
	a = hbc_admin(d);
	hbc_send(a, "LIST tls\nLIST plain\nSEND tls hi\nKICK tls\n");
	hb_assert_match(hbc_readline(a, tmo()), "^CLIENT #2 name=secure ");
	hbc_expect(a, "END seq=3", tmo());
	hb_assert_match(hbc_readline(a, tmo()), "^CLIENT #1 name=- ");
	hbc_expect(a, "END seq=3", tmo());
	hbc_expect(a, "OK 1", tmo());
	hbc_expect(a, "OK 1", tmo());
	hbc_expect(t->io, "hi", tmo());
	hbc_expect(t->io, "BYE kicked", tmo());
	hbd_expect_log(d, "disconnect #2 ", tmo());
	hbc_send(a, "LIST tls\n");
	hbc_expect(a, "END seq=4", tmo());
	tlsc_kill(t);
	hbd_finish(d, cl, a, NULL);
}
END_TEST

/* With a token: AUTH first, as on TCP; a wrong one ends the session. */
START_TEST(test_admin_tls_auth)
{
	struct hbd	*d;
	struct tlsc	*t;

	d = start("", "token = " TOKEN "\n");
	t = s_client(d->admin_tls_port);
	hbc_send(t->io, "LIST\nHELP\n");
	hbc_expect(t->io, "ERR auth required", tmo());
	hbc_expect(t->io, "AUTH <token>", tmo());
	hbc_expect_prefix(t->io, "END", tmo());
	hbc_send(t->io, "AUTH " TOKEN "\nLIST\n");
	hbc_expect(t->io, "OK", tmo());
	hbc_expect(t->io, "END seq=0", tmo());
	tlsc_kill(t);

	t = s_client(d->admin_tls_port);
	hbc_send(t->io, "AUTH wrong\nLIST\n");
	hbc_expect(t->io, "ERR auth bad token", tmo());
	ck_assert_int_eq(tlsc_exit(t), 0);
	hbd_expect_log(d, "admin auth failed addr=127.0.0.1:", tmo());
	hbd_finish(d, NULL);
}
END_TEST

/* NPIPE commands in one write are answered in order, and carried out. */
START_TEST(test_admin_tls_pipeline)
{
	struct hbd	*d;
	struct hbc	*cl;
	struct tlsc	*t;
	char		*buf, want[32];
	size_t		 len = 0, cap = NPIPE * 32;
	int		 i;

	d = start("", "");
	cl = hbc_connect(d->port);
	hbd_expect_log(d, "connect #1 ", tmo());
	t = s_client(d->admin_tls_port);
	ck_assert_ptr_nonnull(buf = malloc(cap));
	for (i = 0; i < NPIPE; i++)
		len += snprintf(buf + len, cap - len, "SEND #1 msg-%d\n", i);
	len += snprintf(buf + len, cap - len, "KICK #9\n");
	hbc_sendn(t->io, buf, len);
	free(buf);
	for (i = 0; i < NPIPE; i++)
		hbc_expect(t->io, "OK 1", tmo());
	hbc_expect(t->io, "ERR notfound no such client", tmo());
	for (i = 0; i < NPIPE; i++) {
		snprintf(want, sizeof(want), "msg-%d", i);
		hbc_expect(cl, want, tmo());
	}
	tlsc_kill(t);
	hbd_finish(d, cl, NULL);
}
END_TEST

/*
 * Backpressure: at the smallest send_buffer_limit, the relay stops and
 * resumes again and again, and every answer arrives, in order.
 */
START_TEST(test_admin_tls_slow_peer)
{
	struct hbd	*d;
	struct tlsc	*t;
	char		*buf;
	size_t		 len = 0, cap = NPIPE * 8;
	int		 i;

	d = start("send_buffer_limit = 1024\n", "");
	t = s_client(d->admin_tls_port);
	ck_assert_ptr_nonnull(buf = malloc(cap));
	for (i = 0; i < NPIPE; i++)
		len += snprintf(buf + len, cap - len, "STATS\n");
	hbc_sendn(t->io, buf, len);
	free(buf);
	/* Over 500 kB of answers: far more than every buffer on the way. */
	for (i = 0; i < NPIPE; i++) {
		hbc_expect(t->io, "STAT version " PACKAGE_VERSION, tmo());
		hbc_expect_prefix(t->io, "END", tmo());
	}
	tlsc_quit(t, "QUIT\n");
	hbd_finish(d, NULL);
}
END_TEST

/* WATCH streams events over TLS. */
START_TEST(test_admin_tls_watch)
{
	struct hbd	*d;
	struct hbc	*cl;
	struct tlsc	*t;
	char		 want[128];

	d = start("", "");
	t = s_client(d->admin_tls_port);
	hbc_send(t->io, "WATCH\n");
	hbc_expect(t->io, "OK seq=0", tmo());
	cl = hbc_connect(d->port);
	hbc_send(cl, "HELLO dev-1\nsome data\n");
	hbc_expect(cl, "OK #1", tmo());
	snprintf(want, sizeof(want), "EVENT 1 connect #1 addr=127.0.0.1:%d "
	    "clients=1", hbc_local_port(cl));
	hbc_expect(t->io, want, tmo());
	hbc_expect(t->io, "EVENT 2 hello #1 name=dev-1", tmo());
	hbc_expect(t->io, "EVENT 3 data #1 some data", tmo());
	hbc_close(cl);
	hbc_expect_prefix(t->io, "EVENT 4 disconnect #1 ", tmo());
	tlsc_quit(t, "QUIT\n");
	hbd_finish(d, NULL);
}
END_TEST

/* QUIT: BYE, then a close_notify; what follows QUIT is not answered. */
START_TEST(test_admin_tls_quit)
{
	struct hbd	*d;
	struct tlsc	*t;

	d = start("", "");
	t = s_client(d->admin_tls_port);
	tlsc_quit(t, "QUIT\nSTATS\n");
	hbd_finish(d, NULL);
}
END_TEST

/*
 * The peer's close_notify: everything it sent is answered, then the
 * daemon's close_notify ends the connection (socat exits 0 on EOF).
 */
START_TEST(test_admin_tls_peer_closes)
{
	struct hbd	*d;
	struct tlsc	*t;

	d = start("", "");
	t = socat(d->admin_tls_port);
	hbc_send(t->io, "LIST\nHELP\nSTATS\n");
	ck_assert_int_eq(shutdown(t->io->fd, SHUT_WR), 0);
	hbc_expect(t->io, "END seq=0", tmo());
	hbc_expect(t->io, "AUTH <token>", tmo());
	hbc_expect_prefix(t->io, "END", tmo());
	hbc_expect(t->io, "STAT version " PACKAGE_VERSION, tmo());
	hbc_expect_prefix(t->io, "END", tmo());
	ck_assert_int_eq(tlsc_exit(t), 0);
	hbd_finish(d, NULL);
}
END_TEST

/*
 * Plain TCP on the TLS port is dropped without a word: at once when it
 * speaks, after hello_timeout when it does not.
 */
START_TEST(test_admin_tls_plain_dropped)
{
	struct hbd	*d;
	struct hbc	*a, *b;
	char		 want[64];

	d = start("hello_timeout = 0.3\n", "");
	a = hbc_connect(d->admin_tls_port);
	b = hbc_connect(d->admin_tls_port);
	hbc_send(a, "STATS\n");
	hbc_expect_closed(a, tmo());
	snprintf(want, sizeof(want), "reject addr=127.0.0.1:%d "
	    "reason=handshake", hbc_local_port(a));
	hbd_expect_log(d, want, tmo());
	hbc_expect_closed(b, tmo() + 300);
	hbc_close(a);
	hbc_close(b);
	a = hbc_admin(d);
	ck_assert_int_eq(hbc_stat(a, "handshake_failures"), 2);
	hbd_finish(d, a, NULL);
}
END_TEST

/* tls_listen without [tls] cert is a config error: exit 78. */
START_TEST(test_admin_tls_needs_cert)
{
	char	*conf, *out, *err;

	conf = hb_write_file("nocert.conf", "[admin]\ntls_listen = "
	    "127.0.0.1:0\n[log]\nsyslog = no\n");
	ck_assert_int_eq(hb_run(&out, &err, "-t", "-c", conf, NULL), 78);
	hb_assert_match(err, "nocert\\.conf:2: admin\\.tls_listen: needs "
	    "\\[tls\\] cert");
	free(out);
	free(err);
	ck_assert_int_eq(hb_run(&out, &err, "-c", conf, NULL), 78);
	hb_assert_match(err, "tls_listen: needs \\[tls\\] cert");
	free(out);
	free(err);
	free(conf);
}
END_TEST

/*
 * A reload adds and removes a TLS admin address; the session opened on
 * it outlives its removal.
 */
START_TEST(test_admin_tls_reload)
{
	struct hbd	*d;
	struct hbc	*a;
	struct tlsc	*t;
	char		 admin[64];
	int		 hold, port;

	d = hbd_start(conf_text("", ""));
	a = hbc_admin(d);
	port = hb_reserve_port(&hold);
	snprintf(admin, sizeof(admin), "tls_listen = 127.0.0.1:%d\n", port);
	reload(d, a, admin);
	close(hold);
	t = s_client(port);
	expect_stats(t->io);

	reload(d, a, "");
	ck_assert_msg(connect_refused(port), "port %d still open", port);
	expect_stats(t->io);
	tlsc_quit(t, "QUIT\n");
	hbd_finish(d, a, NULL);
}
END_TEST

/* The daemon stopping ends TLS sessions with a close_notify. */
START_TEST(test_admin_tls_stop)
{
	struct hbd	*d;
	struct tlsc	*t;

	d = start("", "");
	t = s_client(d->admin_tls_port);
	expect_stats(t->io);
	ck_assert_int_eq(hbd_exit(d, SIGTERM), 0);
	ck_assert_int_eq(tlsc_exit(t), 0);
	ck_assert_int_eq(hbd_stop(d, 0), 0);
}
END_TEST

/*
 * From a proxy_from address the PROXY header comes first, and its source
 * names the session.
 */
START_TEST(test_admin_tls_proxy)
{
	struct hbd	*d;
	SSL_CTX		*ctx;
	SSL		*ssl;
	char		 buf[16];

	d = start("proxy_from = 127.0.0.2/32\n", "token = " TOKEN "\n");
	ck_assert_ptr_nonnull(ctx = SSL_CTX_new(TLS_client_method()));
	ssl = tls_proxied(ctx, d->admin_tls_port,
	    "PROXY TCP4 192.0.2.7 127.0.0.1 5555 7002\r\n");
	ssl_send(ssl, "AUTH wrong\n");
	ssl_expect(ssl, "ERR auth bad token");
	hbd_expect_log(d, "admin auth failed addr=192.0.2.7:5555", tmo());
	ck_assert_int_eq(SSL_read(ssl, buf, sizeof(buf)), 0);
	ck_assert_int_eq(SSL_get_error(ssl, 0), SSL_ERROR_ZERO_RETURN);
	close(SSL_get_fd(ssl));
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	hbd_finish(d, NULL);
}
END_TEST

/*
 * Makes a self-signed certificate for every test, once, with the openssl
 * CLI; without it the suite is skipped.
 */
Suite *
test_suite(void)
{
	char	*path, *dir;
	char	*req[] = { "openssl", "req", "-x509", "-newkey", "ec",
	    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
	    "-subj", "/CN=heartbeatd-test", "-keyout", keyfile, "-out",
	    certfile, NULL };
	Suite	*s;

	path = hb_write_file("cert.pem", "");
	dir = dirname(path);
	snprintf(certfile, sizeof(certfile), "%s/cert.pem", dir);
	snprintf(keyfile, sizeof(keyfile), "%s/key.pem", dir);
	free(path);
	if (run(req) != 0) {
		printf("skipped: \"openssl req\" cannot make a certificate\n");
		return (NULL);
	}
	s = suite_create("admin_tls");
	HB_TCASE(s, "commands", test_admin_tls_commands, 1);
	HB_TCASE(s, "auth", test_admin_tls_auth, 1);
	HB_TCASE(s, "select", test_admin_tls_select, 1);
	HB_TCASE(s, "pipeline", test_admin_tls_pipeline, 1);
	HB_TCASE(s, "slow_peer", test_admin_tls_slow_peer, 1);
	HB_TCASE(s, "watch", test_admin_tls_watch, 1);
	HB_TCASE(s, "quit", test_admin_tls_quit, 1);
	HB_TCASE(s, "peer_closes", test_admin_tls_peer_closes, 1);
	HB_TCASE(s, "plain_dropped", test_admin_tls_plain_dropped, 1);
	HB_TCASE(s, "needs_cert", test_admin_tls_needs_cert, 1);
	HB_TCASE(s, "reload", test_admin_tls_reload, 1);
	HB_TCASE(s, "stop", test_admin_tls_stop, 1);
	HB_TCASE(s, "proxy", test_admin_tls_proxy, 1);
	return (s);
}
