/*
 * Integration tests for heartbeatctl (SPEC §6): the real client
 * ($HEARTBEATCTL) against the real daemon, over the Unix admin socket and
 * the TCP admin port. Exit codes, output and the JSON forms are checked
 * exactly; watch runs as a child whose output is read with deadlines.
 */

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "check_main.h"
#include "itest.h"

#define TMO		2000	/* ms to wait for any one line */
#define MAXARGS		16
#define OVERFLOW_BYTES	(4 * 1024 * 1024)

/* The admin listens on TCP and on a Unix socket in every test. */
#define CONF_FMT							\
	"[server]\n"							\
	"listen = 127.0.0.1:0\n"					\
	"%s"								\
	"[admin]\n"							\
	"listen = 127.0.0.1:0\n"					\
	"socket = %s/admin.sock\n"					\
	"%s"								\
	"[log]\n"							\
	"syslog = no\n"

/* No client times out during a test unless it asks to. */
#define SLOW		"heartbeat_timeout = 30\n"

/* The two ways to reach the admin: -s PATH and -H HOST:PORT. */
#define VIA_SOCKET	0
#define VIA_TCP		1

/* One misuse and the start of what heartbeatctl says about it. */
struct misuse {
	const char	*args[8];
	const char	*why;
};

/* A running heartbeatctl with its stdout and stderr on pipes. */
struct ctl {
	pid_t		 pid;
	struct hbc	*out;
	struct hbc	*err;
};

static const char *stat_keys[] = {
	"version", "uptime", "clients", "clients_peak", "accepted",
	"rejected", "disconnects", "timeouts", "kicked", "replaced",
	"overflows", "pings", "data_lines", "messages_sent", "bytes_in",
	"bytes_out", "log_dropped", "seq", "accept_pauses", "auth_failures",
	"handshake_failures", "proxy_failures", "flapping", "pushes_queued",
	"pushes_acked", "pushes_expired", "pushes_pending"
};

/* A time in a SEEN line, as a regular expression. */
#define ISO	"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"

static const struct misuse misuses[] = {
	{ { NULL }, "no command" },
	{ { "frobnicate", NULL }, "unknown command: frobnicate" },
	{ { "stats", "x", NULL }, "wrong number of arguments" },
	{ { "send", "dev", NULL }, "wrong number of arguments" },
	{ { "broadcast", NULL }, "wrong number of arguments" },
	{ { "kick", NULL }, "wrong number of arguments" },
	{ { "reload", "now", NULL }, "wrong number of arguments" },
	{ { "watch", "FROM", NULL }, "expected FROM and a sequence" },
	{ { "watch", "FROM", "x", NULL }, "expected FROM and a sequence" },
	{ { "watch", "from", NULL }, "expected FROM and a sequence" },
	{ { "watch", "from", "-1", "connect", NULL }, "invalid option: -1" },
	{ { "help", "me", NULL }, "wrong number of arguments" },
	{ { "--json", "send", "a", "b", NULL }, "--json works with list" },
	{ { "--json", "watch", NULL }, "--json works with list" },
	{ { "seen", NULL }, "wrong number of arguments" },
	{ { "release", "a", "b", NULL }, "wrong number of arguments" },
	{ { "-s", "/x", "-H", "127.0.0.1:1", "list", NULL },
	    "-s and -H exclude each other" },
	{ { "-H", "localhost:7001", "list", NULL }, "-H: not a numeric" },
	{ { "-x", "list", NULL }, "invalid option: -x" },
	{ { "list", "-x", NULL }, "invalid option: -x" },
	{ { "list", "--frob", NULL }, "invalid option: --frob" },
	{ { "-H", NULL }, "option requires an argument: -H" },
	{ { "list", "-H", NULL }, "option requires an argument: -H" },
	{ { "--json", "help", NULL }, "--json works with list" },
	{ { "send", "a b", "hi", NULL }, "TARGET must be one word" },
	{ { "send", "dev", "hi\nKICK dev", NULL }, "an argument holds CR" },
	{ { "-a", "x\ny", "list", NULL }, "the token holds CR or LF" },
};

static void		 setup(void);
static struct hbd	*start(const char *, const char *);
static void		 conf_text(char *, size_t, const char *, const char *,
			    const char *);
static void		 rewrite_conf(struct hbd *, const char *, const char *);
static void		 via(struct hbd *, int, const char **,
			    const char **);
static int		 ctlv(char **, char **, char *const []);
static void		 expect_out(const char *, const char *, const char *);
static const char	*expect_ctl(int, const char *, const char *, ...);
static struct ctl	*ctl_spawn(char *const []);
static struct ctl	*watch_start(struct hbd *, int, const char *);
static struct hbc	*pipe_hbc(int *);
static int		 ctl_end(struct ctl *, int);
static struct hbc	*client_join(struct hbd *, int);
static struct hbc	*client_named(struct hbd *, int, const char *);
static int		 local_port(struct hbc *);
static void		 two_clients(struct hbd *, struct hbc **, int *);
static const char	*json_value(const char *);
static const char	*json_members(const char *, char, int);
static const char	*json_string(const char *);
static int		 json_valid(const char *);

/* A token in the test's environment must not leak into the tests. */
static void
setup(void)
{
	unsetenv("HEARTBEATD_TOKEN");
}

/* Starts the daemon with extra [server] and [admin] lines. */
static struct hbd *
start(const char *server, const char *admin)
{
	char	conf[1024];

	conf_text(conf, sizeof(conf), "@DIR@", server, admin);
	return (hbd_start(conf));
}

/* The test config, with its admin socket in dir. */
static void
conf_text(char *buf, size_t size, const char *dir, const char *server,
    const char *admin)
{
	if (snprintf(buf, size, CONF_FMT, server, dir, admin) >= (int)size)
		ck_abort_msg("config too long");
}

/* Replaces d's config file, for reload. */
static void
rewrite_conf(struct hbd *d, const char *server, const char *admin)
{
	char	 conf[1024];
	FILE	*f;

	conf_text(conf, sizeof(conf), d->dir, server, admin);
	ck_assert_ptr_nonnull(f = fopen(d->conf, "w"));
	fputs(conf, f);
	ck_assert_int_eq(fclose(f), 0);
}

/*
 * The option (-s or -H) that reaches d's admin VIA_SOCKET or VIA_TCP, and
 * its argument (valid until the next call).
 */
static void
via(struct hbd *d, int how, const char **opt, const char **arg)
{
	static char	 addr[64];

	if (how == VIA_SOCKET) {
		*opt = "-s";
		*arg = d->admin_sock;
		return;
	}
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", d->admin_port);
	*opt = "-H";
	*arg = addr;
}

/* Runs $HEARTBEATCTL args through the harness's hb_runv(). */
static int
ctlv(char **out, char **err, char *const args[])
{
	const char	*ctl, *hbd;
	char		*saved = NULL;
	int		 code;

	ctl = getenv("HEARTBEATCTL");
	ck_assert_msg(ctl != NULL && *ctl != '\0',
	    "HEARTBEATCTL is not set (make check sets it)");
	if ((hbd = getenv("HEARTBEATD")) != NULL)
		ck_assert_ptr_nonnull(saved = strdup(hbd));
	setenv("HEARTBEATD", ctl, 1);
	code = hb_runv(out, err, args);
	if (saved != NULL)
		setenv("HEARTBEATD", saved, 1);
	else
		unsetenv("HEARTBEATD");
	free(saved);
	return (code);
}

/* Asserts that the output what is want: exact, or a regex if "^...". */
static void
expect_out(const char *what, const char *got, const char *want)
{
	if (want == NULL)
		return;
	if (want[0] == '^')
		hb_assert_match(got, want);
	else
		ck_assert_msg(strcmp(got, want) == 0, "%s: \"%s\", want \"%s\"",
		    what, got, want);
}

/*
 * Runs heartbeatctl with the NULL-terminated arguments after err and
 * asserts its exit code, stdout and stderr (see expect_out(); NULL: not
 * checked). Returns its stdout, valid until the next call.
 */
static const char *
expect_ctl(int code, const char *out, const char *err, ...)
{
	static char	*o;
	char		*args[MAXARGS], *e;
	va_list		 ap;
	int		 n, got;

	va_start(ap, err);
	for (n = 0; n < MAXARGS - 1; n++)
		if ((args[n] = va_arg(ap, char *)) == NULL)
			break;
	va_end(ap);
	args[n] = NULL;
	free(o);
	got = ctlv(&o, &e, args);
	ck_assert_msg(got == code, "%s ...: exit %d, want %d; stdout \"%s\", "
	    "stderr \"%s\"", args[0], got, code, o, e);
	expect_out("stdout", o, out);
	expect_out("stderr", e, err);
	free(e);
	return (o);
}

/* A harness line reader on the read end of p, which becomes non-blocking. */
static struct hbc *
pipe_hbc(int *p)
{
	struct hbc	*c;

	close(p[1]);
	ck_assert_int_ne(fcntl(p[0], F_SETFL, O_NONBLOCK), -1);
	ck_assert_ptr_nonnull(c = calloc(1, sizeof(*c)));
	c->fd = p[0];
	return (c);
}

/* Starts heartbeatctl with args, its stdout and stderr on pipes. */
static struct ctl *
ctl_spawn(char *const args[])
{
	struct ctl	*k;
	char		*argv[MAXARGS + 1];
	int		 out[2], err[2], i;

	ck_assert_ptr_nonnull(argv[0] = getenv("HEARTBEATCTL"));
	for (i = 0; i < MAXARGS - 1 && args[i] != NULL; i++)
		argv[i + 1] = args[i];
	argv[i + 1] = NULL;
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(err, O_CLOEXEC), 0);
	ck_assert_ptr_nonnull(k = calloc(1, sizeof(*k)));
	ck_assert_int_ne(k->pid = fork(), -1);
	if (k->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(out[1], STDOUT_FILENO) == -1 ||
		    dup2(err[1], STDERR_FILENO) == -1)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	k->out = pipe_hbc(out);
	k->err = pipe_hbc(err);
	return (k);
}

/* Starts "heartbeatctl watch [FROM from]" on d's admin (VIA_*). */
static struct ctl *
watch_start(struct hbd *d, int how, const char *from)
{
	const char	*args[6];

	via(d, how, &args[0], &args[1]);
	args[2] = "watch";
	args[3] = from == NULL ? NULL : "from";
	args[4] = from;
	args[5] = NULL;
	return (ctl_spawn((char *const *)args));
}

/*
 * Sends sig (unless 0) to a spawned heartbeatctl, asserts that it then
 * closes stdout and stderr with nothing more, and returns its exit code.
 */
static int
ctl_end(struct ctl *k, int sig)
{
	int	 status;

	if (sig != 0)
		ck_assert_int_eq(kill(k->pid, sig), 0);
	ck_assert_msg(hbc_expect_eof(k->out, TMO), "heartbeatctl: more "
	    "output or no exit");
	ck_assert_msg(hbc_expect_eof(k->err, TMO), "heartbeatctl wrote to "
	    "stderr");
	ck_assert_int_eq(waitpid(k->pid, &status, 0), k->pid);
	hbc_close(k->out);
	hbc_close(k->err);
	free(k);
	if (WIFSIGNALED(status))
		return (128 + WTERMSIG(status));
	return (WEXITSTATUS(status));
}

/* Connects a client and waits until the daemon has logged it as #id. */
static struct hbc *
client_join(struct hbd *d, int id)
{
	struct hbc	*c;
	char		 want[32];

	c = hbc_connect(d->port);
	snprintf(want, sizeof(want), "connect #%d ", id);
	ck_assert_msg(hbd_wait_log(d, want, TMO) != NULL,
	    "no \"%s\" log line", want);
	return (c);
}

/* Connects client #id and names it. */
static struct hbc *
client_named(struct hbd *d, int id, const char *name)
{
	struct hbc	*c;
	char		 buf[80];

	c = client_join(d, id);
	snprintf(buf, sizeof(buf), "HELLO %s\n", name);
	hbc_send(c, buf);
	snprintf(buf, sizeof(buf), "OK #%d", id);
	hbc_expect(c, buf, TMO);
	return (c);
}

/* The local port of c, as the daemon shows it in addr=. */
static int
local_port(struct hbc *c)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);

	ck_assert_int_eq(getsockname(c->fd, (struct sockaddr *)&sin, &len),
	    0);
	return (ntohs(sin.sin_port));
}

/*
 * Connects #1, unnamed, which exchanges "PING x" and "PONG x" (7 bytes
 * each way), and #2, which says "HELLO sensor-7" (15 in, "OK #2\n" 6 out).
 */
static void
two_clients(struct hbd *d, struct hbc **c, int *port)
{
	c[0] = client_join(d, 1);
	hbc_send(c[0], "PING x\n");
	hbc_expect(c[0], "PONG x", TMO);
	c[1] = client_named(d, 2, "sensor-7");
	port[0] = local_port(c[0]);
	port[1] = local_port(c[1]);
}

/*
 * A JSON checker just large enough for heartbeatctl's output: returns
 * the end of the value at s (after white space), or NULL if none is.
 */
static const char *
json_value(const char *s)
{
	char	*end;

	s += strspn(s, " \t\r\n");
	if (*s == '{')
		return (json_members(s + 1, '}', 1));
	if (*s == '[')
		return (json_members(s + 1, ']', 0));
	if (*s == '"')
		return (json_string(s));
	if (strncmp(s, "null", 4) == 0 || strncmp(s, "true", 4) == 0)
		return (s + 4);
	if (strncmp(s, "false", 5) == 0)
		return (s + 5);
	if (*s != '-' && (*s < '0' || *s > '9'))
		return (NULL);
	strtod(s, &end);
	return (end);
}

/* The members of an object (keyed) or array after its bracket. */
static const char *
json_members(const char *s, char close, int keyed)
{
	s += strspn(s, " \t\r\n");
	if (*s == close)
		return (s + 1);
	for (;;) {
		s += strspn(s, " \t\r\n");
		if (keyed) {
			if (*s != '"' || (s = json_string(s)) == NULL)
				return (NULL);
			s += strspn(s, " \t\r\n");
			if (*s++ != ':')
				return (NULL);
		}
		if ((s = json_value(s)) == NULL)
			return (NULL);
		s += strspn(s, " \t\r\n");
		if (*s == close)
			return (s + 1);
		if (*s++ != ',')
			return (NULL);
	}
}

/* The end of the string at s, or NULL if it is not a valid one. */
static const char *
json_string(const char *s)
{
	for (s++; *s != '"'; s++) {
		if ((unsigned char)*s < 0x20)
			return (NULL);
		if (*s == '\\' && (*++s == '\0' ||
		    strchr("\"\\/bfnrtu", *s) == NULL))
			return (NULL);
	}
	return (s + 1);
}

/* Returns 1 when s is one JSON value and a newline. */
static int
json_valid(const char *s)
{
	return ((s = json_value(s)) != NULL && strcmp(s, "\n") == 0);
}

/* LIST's heartbeat quality fields (SPEC §10), as a regular expression. */
#define QUALITY	"timeout=[0-9.]+ gap_max=[0-9]+\\.[0-9] near=[0-9]+"
#define JQUALITY "\"timeout\": [0-9.]+, \"gap_max\": [0-9]+\\.[0-9], " \
	"\"near\": [0-9]+"

START_TEST(test_heartbeatctl_list)
{
	struct hbd	*d;
	struct hbc	*c[2];
	const char	*opt, *arg;
	char		 re[512];
	int		 port[2];

	d = start(SLOW, "");
	via(d, _i, &opt, &arg);
	expect_ctl(0, "", "", opt, arg, "list", NULL);
	two_clients(d, c, port);
	snprintf(re, sizeof(re), "^CLIENT #1 name=- addr=127\\.0\\.0\\.1:%d "
	    "age=[0-9]+\\.[0-9] idle=[0-9]+\\.[0-9] in=7 out=7 " QUALITY "\n"
	    "CLIENT #2 name=sensor-7 addr=127\\.0\\.0\\.1:%d "
	    "age=[0-9]+\\.[0-9] idle=[0-9]+\\.[0-9] in=15 out=6 " QUALITY "\n$",
	    port[0], port[1]);
	expect_ctl(0, re, "", opt, arg, "list", NULL);
	/* Command names are case-insensitive, as in the protocol. */
	expect_ctl(0, re, "", opt, arg, "LiSt", NULL);
	/* Selector words, one an argument or several in one (SPEC §12). */
	snprintf(re, sizeof(re), "^CLIENT #2 name=sensor-7 "
	    "addr=127\\.0\\.0\\.1:%d age=[0-9]+\\.[0-9] idle=[0-9]+\\.[0-9] "
	    "in=15 out=6 " QUALITY "\n$", port[1]);
	expect_ctl(0, re, "", opt, arg, "list", "sensor-*", "plain", NULL);
	expect_ctl(0, re, "", opt, arg, "list", "s?nsor-7 age<600", NULL);
	expect_ctl(0, "", "", opt, arg, "list", "sensor-*", "unnamed", NULL);
	expect_ctl(1, "", "ERR syntax bad number: idle>x\n", opt, arg, "list",
	    "idle>x", NULL);
	hbc_close(c[0]);
	hbc_close(c[1]);
	hbd_stop(d, SIGTERM);
}
END_TEST

START_TEST(test_heartbeatctl_stats)
{
	struct hbd	*d;
	const char	*opt, *arg;
	char		 re[1024];
	size_t		 i, n;

	d = start(SLOW, "");
	n = strlcpy(re, "^STAT version 0\\.1\\.0\n", sizeof(re));
	for (i = 1; i < nitems(stat_keys); i++)
		n += snprintf(re + n, sizeof(re) - n, "STAT %s [0-9]+\n",
		    stat_keys[i]);
	strlcat(re, "$", sizeof(re));
	via(d, _i, &opt, &arg);
	expect_ctl(0, re, "", opt, arg, "stats", NULL);
	hbd_stop(d, SIGTERM);
}
END_TEST

START_TEST(test_heartbeatctl_send)
{
	struct hbd	*d;
	struct hbc	*c;
	const char	*opt, *arg;

	d = start(SLOW, "");
	c = client_named(d, 1, "dev");
	via(d, _i, &opt, &arg);
	expect_ctl(0, "OK 1\n", "", opt, arg, "send", "dev", "hello", "big",
	    "world", NULL);
	hbc_expect(c, "hello big world", TMO);
	/* Spaces inside one word are kept; words get one space each. */
	expect_ctl(0, "OK 1\n", "", opt, arg, "send", "#1", "a  b", "c",
	    NULL);
	hbc_expect(c, "a  b c", TMO);
	expect_ctl(1, "", "ERR notfound no such client\n", opt, arg, "send",
	    "nobody", "hi", NULL);
	hbc_expect_silence(c, 100);
	hbc_close(c);
	hbd_stop(d, SIGTERM);
}
END_TEST

START_TEST(test_heartbeatctl_broadcast)
{
	struct hbd	*d;
	struct hbc	*c[2];
	const char	*opt, *arg;

	d = start(SLOW, "");
	c[0] = client_join(d, 1);
	c[1] = client_join(d, 2);
	via(d, _i, &opt, &arg);
	expect_ctl(0, "OK 2\n", "", opt, arg, "broadcast", "hi", "there",
	    NULL);
	hbc_expect(c[0], "hi there", TMO);
	hbc_expect(c[1], "hi there", TMO);
	hbc_close(c[0]);
	hbc_close(c[1]);
	hbd_stop(d, SIGTERM);
}
END_TEST

START_TEST(test_heartbeatctl_kick)
{
	struct hbd	*d;
	struct hbc	*c;
	const char	*opt, *arg;

	d = start(SLOW, "");
	c = client_join(d, 1);
	via(d, _i, &opt, &arg);
	expect_ctl(1, "", "ERR notfound no such client\n", opt, arg, "kick",
	    "#99", NULL);
	expect_ctl(0, "OK\n", "", opt, arg, "kick", "#1", NULL);
	hbc_expect(c, "BYE kicked", TMO);
	hbc_expect_closed(c, TMO);
	hbc_close(c);
	/* Any other selector is counted, none found included. */
	c = client_named(d, 2, "sensor-7");
	expect_ctl(0, "OK 0\n", "", opt, arg, "kick", "sensor-*", "tls",
	    NULL);
	expect_ctl(0, "OK 1\n", "", opt, arg, "kick", "sensor-*", "plain",
	    NULL);
	hbc_expect(c, "BYE kicked", TMO);
	hbc_expect_closed(c, TMO);
	hbc_close(c);
	hbd_stop(d, SIGTERM);
}
END_TEST

START_TEST(test_heartbeatctl_auth)
{
	struct hbd	*d;
	const char	*opt, *arg;

	d = start(SLOW, "token = s3cret\n");
	via(d, VIA_TCP, &opt, &arg);
	expect_ctl(1, "", "ERR auth required\n", opt, arg, "list", NULL);
	expect_ctl(0, "", "", opt, arg, "-a", "s3cret", "list", NULL);
	expect_ctl(0, "", "", opt, arg, "--token=s3cret", "list", NULL);
	expect_ctl(1, "", "ERR auth bad token\n", opt, arg, "-a", "wrong",
	    "list", NULL);
	setenv("HEARTBEATD_TOKEN", "s3cret", 1);
	expect_ctl(0, "", "", opt, arg, "list", NULL);
	/* The Unix socket needs no token, and takes one. */
	expect_ctl(0, "", "", "-s", d->admin_sock, "list", NULL);
	setenv("HEARTBEATD_TOKEN", "wrong", 1);
	expect_ctl(1, "", "ERR auth bad token\n", opt, arg, "list", NULL);
	/* -a wins over the environment. */
	expect_ctl(0, "", "", opt, arg, "-a", "s3cret", "list", NULL);
	hbd_stop(d, SIGTERM);
}
END_TEST

START_TEST(test_heartbeatctl_noconnect)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	char			 addr[32], want[128];
	int			 fd;

	/* A bound port that does not listen refuses connections. */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ne(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", ntohs(sin.sin_port));
	snprintf(want, sizeof(want), "heartbeatctl: connect %s: "
	    "Connection refused\n", addr);
	expect_ctl(2, "", want, "-H", addr, "list", NULL);
	expect_ctl(2, "", "heartbeatctl: connect /nonexistent/admin.sock: "
	    "No such file or directory\n", "-s", "/nonexistent/admin.sock",
	    "stats", NULL);
	close(fd);
}
END_TEST

START_TEST(test_heartbeatctl_closed_early)
{
	struct hbd	*d;
	char		 addr[32];

	/* The client port answers nothing and drops the session at once. */
	d = start("heartbeat_timeout = 0.1\n", "");
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", d->port);
	expect_ctl(2, "", "heartbeatctl: connection closed by the daemon: "
	    "BYE timeout\n", "-H", addr, "list", NULL);
	expect_ctl(2, "", "heartbeatctl: connection closed by the daemon: "
	    "BYE timeout\n", "-H", addr, "kick", "x", NULL);
	hbd_stop(d, SIGTERM);
}
END_TEST

START_TEST(test_heartbeatctl_ipv6)
{
	struct hbd	*d;
	const char	*p;
	char		 addr[64];
	size_t		 n;

	/* The second admin address, [::1]:port, as the start line shows. */
	d = start(SLOW, "listen = [::1]:0\n");
	ck_assert_ptr_nonnull(p = strstr(d->log, "[::1]:"));
	n = strspn(p, "[::1]:0123456789");
	ck_assert_uint_lt(n, sizeof(addr));
	memcpy(addr, p, n);
	addr[n] = '\0';
	expect_ctl(0, "OK 0\n", "", "-H", addr, "broadcast", "hi", NULL);
	hbd_stop(d, SIGTERM);
}
END_TEST

START_TEST(test_heartbeatctl_timeout)
{
	struct hbd	*d;
	struct ctl	*k;
	char		 addr[32], *args[4];
	long long	 t0;

	/* The client port takes "LIST" for data and never answers. */
	d = start(SLOW, "");
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", d->port);
	args[0] = "-H";
	args[1] = addr;
	args[2] = "list";
	args[3] = NULL;
	t0 = hb_now_ms();
	k = ctl_spawn(args);
	hbc_expect(k->err, "heartbeatctl: no answer within 10 s", 12000);
	ck_assert_int_ge(hb_now_ms() - t0, 10000);
	ck_assert_int_eq(ctl_end(k, 0), 2);
	hbd_stop(d, SIGTERM);
}
END_TEST

START_TEST(test_heartbeatctl_misuse)
{
	const struct misuse	*m = &misuses[_i];
	char			*args[12], *out, *err;
	int			 i, n = 0;

	/* An admin address that nothing uses: misuse must be found first. */
	if (m->args[0] == NULL || strcmp(m->args[0], "-s") != 0) {
		args[n++] = "-H";
		args[n++] = "127.0.0.1:1";
	}
	for (i = 0; m->args[i] != NULL; i++)
		args[n++] = (char *)m->args[i];
	args[n] = NULL;
	ck_assert_int_eq(ctlv(&out, &err, args), 2);
	ck_assert_str_eq(out, "");
	ck_assert_msg(strstr(err, m->why) != NULL && strstr(err, "usage: "),
	    "misuse %d: want \"%s\" and usage, got \"%s\"", _i, m->why, err);
	ck_assert_msg(strstr(err, "connect") == NULL, "connected: %s", err);
	free(out);
	free(err);
}
END_TEST

/* -h, --help and the help command print the usage and every command. */
START_TEST(test_heartbeatctl_help)
{
	static const char	*help[] = { "-h", "--help", "help", "HELP" };
	size_t			 i;

	expect_ctl(0, "heartbeatctl 0.1.0\n", "", "-V", NULL);
	expect_ctl(0, "heartbeatctl 0.1.0\n", "", "--version", NULL);
	for (i = 0; i < nitems(help); i++)
		expect_ctl(0, "^usage: heartbeatctl "
		    "\\[-s PATH \\| -H HOST:PORT\\] \\[-a TOKEN\\] "
		    "\\[--json\\]\n"
		    " +COMMAND \\[ARG\\.\\.\\.\\]\n"
		    "commands:\n"
		    "  list \\[SELECTOR\\.\\.\\.\\] +the connected clients, "
		    "or those selected\n"
		    "  stats +[^\n]+\n"
		    "  send TARGET MESSAGE\\.\\.\\. +[^\n]+\n"
		    "  broadcast MESSAGE\\.\\.\\. +[^\n]+\n"
		    "  kick SELECTOR\\.\\.\\. +[^\n]+\n"
		    "  reload +[^\n]+\n"
		    "  watch \\[FROM SEQ\\] \\[VERB\\.\\.\\.\\] +[^\n]+\n"
		    "  token NAME \\[TTL\\] +[^\n]+\n"
		    "  seen NAME\\|SELECTOR\\.\\.\\. +[^\n]+\n"
		    "  release NAME +[^\n]+\n"
		    "  help +print this help\n"
		    "options, before or after the command "
		    "\\(-- ends them\\):\n", "", help[i], NULL);
}
END_TEST

/*
 * Options may follow the command, and "--" ends them, so that a message
 * may start with "-".
 */
START_TEST(test_heartbeatctl_options_after)
{
	struct hbd	*d;
	struct hbc	*c;
	const char	*opt, *arg;

	d = start(SLOW, "");
	via(d, _i, &opt, &arg);
	expect_ctl(0, "[]\n", "", "list", "--json", opt, arg, NULL);
	expect_ctl(0, "[]\n", "", "list", opt, arg, "--json", NULL);
	c = client_join(d, 1);
	expect_ctl(0, "OK 1\n", "", "broadcast", opt, arg, "--", "-5", "-a",
	    NULL);
	hbc_expect(c, "-5 -a", TMO);
	expect_ctl(0, "OK 1\n", "", opt, arg, "send", "#1", "--", "--json",
	    NULL);
	hbc_expect(c, "--json", TMO);
	hbc_close(c);
	hbd_stop(d, SIGTERM);
}
END_TEST

START_TEST(test_heartbeatctl_json_list)
{
	struct hbd	*d;
	struct hbc	*c[2];
	const char	*opt, *arg, *out;
	char		 re[768];
	int		 port[2];

	d = start(SLOW, "");
	via(d, _i, &opt, &arg);
	expect_ctl(0, "[]\n", "", opt, arg, "--json", "list", NULL);
	two_clients(d, c, port);
	snprintf(re, sizeof(re), "^\\[\n"
	    "  \\{\"id\": 1, \"name\": null, \"addr\": \"127\\.0\\.0\\.1:%d\", "
	    "\"age\": [0-9]+\\.[0-9], \"idle\": [0-9]+\\.[0-9], "
	    "\"in\": 7, \"out\": 7, " JQUALITY "\\},\n"
	    "  \\{\"id\": 2, \"name\": \"sensor-7\", "
	    "\"addr\": \"127\\.0\\.0\\.1:%d\", "
	    "\"age\": [0-9]+\\.[0-9], \"idle\": [0-9]+\\.[0-9], "
	    "\"in\": 15, \"out\": 6, " JQUALITY "\\}\n"
	    "\\]\n$", port[0], port[1]);
	out = expect_ctl(0, re, "", opt, arg, "--json", "list", NULL);
	ck_assert_msg(json_valid(out), "not JSON: %s", out);
	hbc_close(c[0]);
	hbc_close(c[1]);
	hbd_stop(d, SIGTERM);
}
END_TEST

START_TEST(test_heartbeatctl_json_stats)
{
	struct hbd	*d;
	const char	*opt, *arg, *out;
	char		 re[1024];
	size_t		 i, n;

	d = start(SLOW, "");
	n = strlcpy(re, "^\\{\n  \"version\": \"0\\.1\\.0\"", sizeof(re));
	for (i = 1; i < nitems(stat_keys); i++)
		n += snprintf(re + n, sizeof(re) - n, ",\n  \"%s\": [0-9]+",
		    stat_keys[i]);
	strlcat(re, "\n\\}\n$", sizeof(re));
	via(d, _i, &opt, &arg);
	out = expect_ctl(0, re, "", opt, arg, "--json", "stats", NULL);
	ck_assert_msg(json_valid(out), "not JSON: %s", out);
	hbd_stop(d, SIGTERM);
}
END_TEST

/*
 * seen: one exact name is one line, or one JSON object; other words list
 * every match, or a JSON array; a name never seen is ERR and exit 1.
 */
START_TEST(test_heartbeatctl_seen)
{
	struct hbd	*d;
	struct hbc	*c[2];
	const char	*opt, *arg, *out;
	char		 line[512], obj[512], re[1280];
	int		 port[2];

	d = start(SLOW, "");
	via(d, _i, &opt, &arg);
	expect_ctl(1, "", "ERR notfound never seen\n", opt, arg, "seen",
	    "sensor-7", NULL);
	expect_ctl(0, "[]\n", "", opt, arg, "--json", "seen", "online",
	    NULL);
	two_clients(d, c, port);
	hbc_close(c[1]);
	hbd_expect_log(d, "disconnect #2 ", TMO);
	snprintf(line, sizeof(line), "^SEEN sensor-7 state=offline "
	    "addr=127\\.0\\.0\\.1:%d since=" ISO " for=[0-9]+ last_seen=" ISO
	    " reason=closed sessions=1\n$", port[1]);
	expect_ctl(0, line, "", opt, arg, "seen", "sensor-7", NULL);
	expect_ctl(0, line, "", opt, arg, "seen", "offline", "for<3600",
	    NULL);
	expect_ctl(0, "", "", opt, arg, "seen", "online", NULL);
	snprintf(obj, sizeof(obj), "\\{\"name\": \"sensor-7\", "
	    "\"state\": \"offline\", \"addr\": \"127\\.0\\.0\\.1:%d\", "
	    "\"since\": \"" ISO "\", \"for\": [0-9]+, "
	    "\"last_seen\": \"" ISO "\", \"reason\": \"closed\", "
	    "\"sessions\": 1\\}", port[1]);
	snprintf(re, sizeof(re), "^%s\n$", obj);
	out = expect_ctl(0, re, "", opt, arg, "--json", "seen", "sensor-7",
	    NULL);
	ck_assert_msg(json_valid(out), "not JSON: %s", out);
	snprintf(re, sizeof(re), "^\\[\n  %s\n\\]\n$", obj);
	out = expect_ctl(0, re, "", opt, arg, "--json", "seen", "offline",
	    NULL);
	ck_assert_msg(json_valid(out), "not JSON: %s", out);
	expect_ctl(1, "", "ERR syntax bad number: for>x\n", opt, arg,
	    "seen", "for>x", NULL);
	hbc_close(c[0]);
	hbd_stop(d, SIGTERM);
}
END_TEST

/* release: OK for a name held for flapping, ERR (exit 1) for any other. */
START_TEST(test_heartbeatctl_release)
{
	struct hbd	*d;
	struct hbc	*c[2];
	const char	*opt, *arg;

	d = start(SLOW "flap_limit = 1\n", "");
	via(d, _i, &opt, &arg);
	c[0] = client_named(d, 1, "dev");
	c[1] = client_join(d, 2);
	hbc_send(c[1], "HELLO dev\n");
	hbc_expect(c[1], "BYE flapping", TMO);
	hbc_expect(c[0], "BYE flapping", TMO);
	expect_ctl(0, "OK\n", "", opt, arg, "release", "dev", NULL);
	expect_ctl(1, "", "ERR notfound not held\n", opt, arg, "release", "dev",
	    NULL);
	hbc_close(c[0]);
	hbc_close(c[1]);
	hbd_stop(d, SIGTERM);
}
END_TEST

START_TEST(test_heartbeatctl_watch)
{
	struct hbd	*d;
	struct hbc	*c;
	struct ctl	*k;
	const char	*line;
	char		 want[128];
	long long	 seq;

	d = start(SLOW, "");
	k = watch_start(d, _i, NULL);
	ck_assert_ptr_nonnull(line = hbc_readline(k->out, TMO));
	hb_assert_match(line, "^OK seq=[0-9]+$");
	seq = strtoll(line + 7, NULL, 10);
	c = client_join(d, 1);
	snprintf(want, sizeof(want), "^EVENT %lld connect #1 "
	    "addr=127\\.0\\.0\\.1:%d( |$)", seq + 1, local_port(c));
	ck_assert_ptr_nonnull(line = hbc_readline(k->out, TMO));
	hb_assert_match(line, want);
	hbc_close(c);
	snprintf(want, sizeof(want), "^EVENT %lld disconnect #1 .*"
	    "reason=closed( |$)", seq + 2);
	ck_assert_ptr_nonnull(line = hbc_readline(k->out, TMO));
	hb_assert_match(line, want);
	ck_assert_int_eq(ctl_end(k, SIGTERM), 0);
	hbd_stop(d, SIGTERM);
}
END_TEST

/*
 * watch passes its verbs on: only those events come, each with the
 * daemon's number; FROM with verbs replays those of the kept ones; the
 * daemon refuses an unknown verb (exit 1).
 */
START_TEST(test_heartbeatctl_watch_verbs)
{
	struct hbd	*d;
	struct hbc	*c;
	struct ctl	*k;
	const char	*args[8];

	d = start(SLOW, "");
	via(d, _i, &args[0], &args[1]);
	args[2] = "watch";
	args[3] = "disconnect";
	args[4] = "Connect";
	args[5] = NULL;
	k = ctl_spawn((char *const *)args);
	hbc_expect(k->out, "OK seq=0", TMO);
	c = client_named(d, 1, "dev");
	hbc_send(c, "data\n");
	hb_assert_match(hbc_readline(k->out, TMO), "^EVENT 1 connect #1 ");
	hbc_close(c);
	hb_assert_match(hbc_readline(k->out, TMO), "^EVENT 4 disconnect #1 ");
	ck_assert_int_eq(ctl_end(k, SIGINT), 0);
	args[3] = "FROM";
	args[4] = "1";
	args[5] = "hello";
	args[6] = "data";
	args[7] = NULL;
	k = ctl_spawn((char *const *)args);
	hbc_expect(k->out, "OK seq=4", TMO);
	hbc_expect(k->out, "EVENT 2 hello #1 name=dev", TMO);
	hbc_expect(k->out, "EVENT 3 data #1 data", TMO);
	ck_assert_int_eq(ctl_end(k, SIGTERM), 0);
	expect_ctl(1, "", "ERR syntax unknown verb: bogus\n", args[0],
	    args[1], "watch", "from", "0", "data", "bogus", NULL);
	hbd_stop(d, SIGTERM);
}
END_TEST

START_TEST(test_heartbeatctl_watch_end)
{
	struct hbd	*d;
	struct hbc	*c;
	struct ctl	*k;
	const char	*line;

	/* Replays from FROM, then ends with 0 when the daemon stops. */
	d = start(SLOW, "");
	c = client_join(d, 1);
	k = watch_start(d, _i, "0");
	hbc_expect(k->out, "OK seq=1", TMO);
	ck_assert_ptr_nonnull(line = hbc_readline(k->out, TMO));
	hb_assert_match(line, "^EVENT 1 connect #1 addr=127\\.0\\.0\\.1:");
	ck_assert_int_eq(hbd_exit(d, SIGTERM), 0);
	/* The shutdown may still reach the watcher as an event. */
	while ((line = hbc_readline(k->out, TMO)) != NULL)
		hb_assert_match(line, "^EVENT 2 disconnect #1 .*"
		    "reason=shutdown( |$)");
	ck_assert_int_eq(ctl_end(k, 0), 0);
	hbc_close(c);
	hbd_stop(d, 0);
}
END_TEST

START_TEST(test_heartbeatctl_watch_gap)
{
	struct hbd	*d;
	const char	*opt, *arg;

	/* Events 1-3 happen; only 2 and 3 are kept. */
	d = start(SLOW, "watch_backlog = 2\n");
	hbc_close(client_named(d, 1, "dev"));
	hbd_expect_log(d, "disconnect #1 ", TMO);
	via(d, _i, &opt, &arg);
	expect_ctl(1, "", "ERR gap oldest=2\n", opt, arg, "watch", "FROM",
	    "0", NULL);
	hbd_stop(d, SIGTERM);
}
END_TEST

START_TEST(test_heartbeatctl_watch_overflow)
{
	struct hbd	*d;
	struct hbc	*c;
	struct ctl	*k;
	const char	*line;
	char		*lines;
	size_t		 i;

	/*
	 * heartbeatctl stops reading while nobody reads its stdout, so the
	 * daemon drops it once 1024 bytes of events wait for it.
	 */
	d = start(SLOW "send_buffer_limit = 1024\n", "");
	k = watch_start(d, VIA_SOCKET, NULL);
	hbc_expect(k->out, "OK seq=0", TMO);
	c = client_join(d, 1);
	ck_assert_ptr_nonnull(line = hbc_readline(k->out, TMO));
	hb_assert_match(line, "^EVENT 1 connect #1 ");
	ck_assert_ptr_nonnull(lines = malloc(OVERFLOW_BYTES));
	memset(lines, 'x', OVERFLOW_BYTES);
	for (i = 1000; i < OVERFLOW_BYTES; i += 1001)
		lines[i] = '\n';
	hbc_sendn(c, lines, i - 1001 + 1);
	free(lines);
	while ((line = hbc_readline(k->out, TMO)) != NULL)
		hb_assert_match(line, "^EVENT [0-9]+ data #1 x{1000}$");
	hbc_expect(k->err, "ERR overflow", TMO);
	ck_assert_int_eq(ctl_end(k, 0), 1);
	hbc_close(c);
	hbd_stop(d, SIGTERM);
}
END_TEST

START_TEST(test_heartbeatctl_reload)
{
	struct hbd	*d;
	const char	*opt, *arg;

	d = start(SLOW, "");
	via(d, _i, &opt, &arg);
	expect_ctl(0, "OK unchanged\n", "", opt, arg, "reload", NULL);
	rewrite_conf(d, "heartbeat_timeout = 20\n", "");
	expect_ctl(0, "OK changed=server.heartbeat_timeout\n", "", opt, arg,
	    "reload", NULL);
	rewrite_conf(d, "heartbeat_timeout = 6s\n", "");
	expect_ctl(1, "", "^ERR config .*heartbeat_timeout: not a number: "
	    "\"6s\"\n$", opt, arg, "reload", NULL);
	hbd_stop(d, SIGTERM);
}
END_TEST

Suite *
test_suite(void)
{
	const struct {
		const char	*name;
		const TTest	*test;
		int		 loops;
	} cases[] = {
		{ "list", test_heartbeatctl_list, 2 },
		{ "stats", test_heartbeatctl_stats, 2 },
		{ "send", test_heartbeatctl_send, 2 },
		{ "broadcast", test_heartbeatctl_broadcast, 1 },
		{ "kick", test_heartbeatctl_kick, 2 },
		{ "auth", test_heartbeatctl_auth, 1 },
		{ "noconnect", test_heartbeatctl_noconnect, 1 },
		{ "closed_early", test_heartbeatctl_closed_early, 1 },
		{ "ipv6", test_heartbeatctl_ipv6, 1 },
		{ "timeout", test_heartbeatctl_timeout, 1 },
		{ "misuse", test_heartbeatctl_misuse, nitems(misuses) },
		{ "help", test_heartbeatctl_help, 1 },
		{ "options_after", test_heartbeatctl_options_after, 2 },
		{ "json_list", test_heartbeatctl_json_list, 2 },
		{ "json_stats", test_heartbeatctl_json_stats, 2 },
		{ "seen", test_heartbeatctl_seen, 2 },
		{ "release", test_heartbeatctl_release, 2 },
		{ "watch", test_heartbeatctl_watch, 2 },
		{ "watch_verbs", test_heartbeatctl_watch_verbs, 2 },
		{ "watch_end", test_heartbeatctl_watch_end, 2 },
		{ "watch_gap", test_heartbeatctl_watch_gap, 1 },
		{ "watch_overflow", test_heartbeatctl_watch_overflow, 1 },
		{ "reload", test_heartbeatctl_reload, 2 },
	};
	Suite	*s;
	TCase	*tc;
	size_t	 i;

	s = suite_create("heartbeatctl");
	for (i = 0; i < nitems(cases); i++) {
		tc = tcase_create(cases[i].name);
		tcase_add_checked_fixture(tc, setup, NULL);
		tcase_set_timeout(tc, 30);
		tcase_add_loop_test(tc, cases[i].test, 0, cases[i].loops);
		suite_add_tcase(s, tc);
	}
	return (s);
}
