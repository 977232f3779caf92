/*
 * The command line (SPEC §1, DECISIONS "Command line"): flags, exit
 * codes and the exact messages, run against the real binary.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "check_main.h"
#include "itest.h"

#define USAGE	"usage: heartbeatd [-c FILE] [-t] [-f] [-V] [-h]\n"
#define ARGS(...)	((char *[]){ __VA_ARGS__, NULL })

static void	 run(int, char *const []);
static void	 run_bad_config(int, const char *, const char *);
static void	 assert_suffix(const char *, const char *);
static int	 listen_any(int *);

/* Output of the last run(). */
static char	*out, *err;

/* Runs heartbeatd with args and asserts its exit code. */
static void
run(int code, char *const args[])
{
	int	 got;

	free(out);
	free(err);
	got = hb_runv(&out, &err, args);
	ck_assert_msg(got == code, "expected exit %d, got %d; stdout \"%s\", "
	    "stderr \"%s\"", code, got, out, err);
}

/*
 * Runs heartbeatd on the config file at path, with -t (test_only) or to
 * start, and asserts exit 78 with want, all of it, on stderr.
 */
static void
run_bad_config(int test_only, const char *path, const char *want)
{
	if (test_only)
		run(78, ARGS("-t", "-c", (char *)path));
	else
		run(78, ARGS("-c", (char *)path));
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(err, want);
}

static void
assert_suffix(const char *s, const char *suffix)
{
	size_t	 n = strlen(s), m = strlen(suffix);

	ck_assert_msg(n >= m && strcmp(s + n - m, suffix) == 0,
	    "expected \"%s\" to end in \"%s\"", s, suffix);
}

/* A socket listening on 127.0.0.1, so that the daemon cannot bind it. */
static int
listen_any(int *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return (fd);
}

static char *const *const version_args[] = {
	ARGS("-V"), ARGS("--version"), ARGS("--vers"), ARGS("-t", "-V"),
};

START_TEST(test_cli_version)
{
	run(0, version_args[_i]);
	ck_assert_str_eq(out, "heartbeatd 0.1.0\n");
	ck_assert_str_eq(err, "");
}
END_TEST

static char *const *const help_args[] = {
	ARGS("-h"), ARGS("--help"), ARGS("-c", "/nonexistent", "--help"),
};

/* The usage, then a line for each option, its long form too. */
START_TEST(test_cli_help)
{
	run(0, help_args[_i]);
	ck_assert_msg(strncmp(out, USAGE, strlen(USAGE)) == 0,
	    "expected stdout to start with \"%s\", got \"%s\"", USAGE, out);
	hb_assert_match(out, "\n  -c FILE +config file \\(default /.*"
	    "/heartbeatd/heartbeatd\\.conf\\)\n.*"
	    "\n  -V, --version +print the version and exit\n"
	    "  -h, --help +print this help and exit\n$");
	ck_assert_str_eq(err, "");
}
END_TEST

/*
 * Misuse: each gets exit 64, one line saying what is wrong, which names
 * heartbeatd (not argv[0]) and the option as given, then the usage line.
 */
static const struct {
	char *const	*args;
	const char	*why;
} usage_cases[] = {
	{ ARGS("-x"), "invalid option: -x" },
	{ ARGS("-tx"), "invalid option: -x" },
	{ ARGS("-xt"), "invalid option: -x" },
	{ ARGS("--frobnicate"), "invalid option: --frobnicate" },
	{ ARGS("--help=yes"), "invalid option: --help=yes" },
	{ ARGS("-c"), "option requires an argument: -c" },
	{ ARGS("-tc"), "option requires an argument: -c" },
	{ ARGS("-t", "-c", "/dev/null", "extra"),
	    "unexpected argument: extra" },
	{ ARGS("-c", "/dev/null", "extra"), "unexpected argument: extra" },
};

START_TEST(test_cli_usage)
{
	char	 want[256];

	run(64, usage_cases[_i].args);
	ck_assert_str_eq(out, "");
	snprintf(want, sizeof(want), "heartbeatd: %s\n%s", usage_cases[_i].why,
	    USAGE);
	ck_assert_str_eq(err, want);
}
END_TEST

/* Valid configs; the admin port may leave loopback once a token is set. */
static const char *const good_confs[] = {
	"",
	"[server]\n"
	"listen = 127.0.0.1:7000 [::1]:7000\n"
	"heartbeat_timeout = 0.5\n"
	"duplicate_name = reject\n"
	"[admin]\n"
	"listen = 0.0.0.0:7001\n"
	"token = secret\n"
	"[log]\n"
	"syslog = no\n",
};

START_TEST(test_cli_config_ok)
{
	char	*path, want[4200];

	path = hb_write_file("good.conf", good_confs[_i]);
	snprintf(want, sizeof(want), "config ok: %s\n", path);
	run(0, ARGS("-t", "-c", path));
	ck_assert_str_eq(out, want);
	ck_assert_str_eq(err, "");
	free(path);
}
END_TEST

/* Bad configs and the cause after "FILE:"; each is tried with and
 * without -t. */
static const struct {
	const char	*conf;
	const char	*cause;
} bad_confs[] = {
	{ "[server]\nheartbeat_timeout = 6s\n",
	  "2: heartbeat_timeout: not a number: \"6s\"" },
	{ "[server]\nlisten = 127.0.0.1:0\n[admin]\nlisten = 0.0.0.0:7001\n",
	  "4: admin.listen: not a loopback address and no token is set: "
	  "\"0.0.0.0:7001\"" },
};

START_TEST(test_cli_config_bad)
{
	char	*path, want[4200];
	int	 i;

	i = _i / 2;
	path = hb_write_file("bad.conf", bad_confs[i].conf);
	snprintf(want, sizeof(want), "heartbeatd: %s:%s\n", path,
	    bad_confs[i].cause);
	run_bad_config(_i % 2 == 0, path, want);
	free(path);
}
END_TEST

/*
 * Every error of a file, one a line on stderr and the first ten by line,
 * with -t and without; the second line is in [x], an unknown section.
 */
START_TEST(test_cli_config_errors)
{
	char	*path, want[4200];
	int	 n;

	path = hb_write_file("bad.conf", "[server]\nmax_line = 1\nlisten =\n"
	    "[x]\na = 1\nb = 2\n[admin]\nlisten = 0.0.0.0:7001\n"
	    "socket = /nonexistent/admin.sock\n[log]\nlevel = loud\n");
	n = snprintf(want, sizeof(want),
	    "heartbeatd: %s:2: max_line: out of range 16-1048576: \"1\"\n"
	    "heartbeatd: %s:3: server.listen: no address\n"
	    "heartbeatd: %s:5: [x]: unknown section\n", path, path, path);
	snprintf(want + n, sizeof(want) - n,
	    "heartbeatd: %s:8: admin.listen: not a loopback address and no "
	    "token is set: \"0.0.0.0:7001\"\n"
	    "heartbeatd: %s:11: level: unknown level: \"loud\"\n", path, path);
	run_bad_config(_i == 0, path, want);
	free(path);
}
END_TEST

/*
 * -t checks what a start would refuse about the admin socket without
 * binding it, and says it as the start does: a directory that is not
 * there or is a file, another kind of file at the path.
 */
static const struct {
	const char	*socket;	/* under the test's directory */
	const char	*why;
} socket_cases[] = {
	{ "nodir/admin.sock", "No such file or directory" },
	{ "nodir/deeper/admin.sock", "No such file or directory" },
	{ "file/admin.sock", "Not a directory" },
	{ "file", "exists and is not a socket" },
	{ "dir", "exists and is not a socket" },
};

START_TEST(test_cli_config_socket)
{
	char	 conf[256], want[4200], dir[PATH_MAX], *path, *file;

	file = hb_write_file("file", "not a socket\n");
	snprintf(dir, sizeof(dir), "%.*s", (int)(strlen(file) -
	    strlen("/file")), file);
	path = hb_write_file("dir", "");
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	free(path);
	snprintf(conf, sizeof(conf), "[server]\nlisten = 127.0.0.1:0\n"
	    "[admin]\nlisten =\nsocket = @DIR@/%s\n",
	    socket_cases[_i].socket);
	path = hb_write_file("socket.conf", conf);
	snprintf(want, sizeof(want), "heartbeatd: admin socket %s/%s: %s\n",
	    dir, socket_cases[_i].socket, socket_cases[_i].why);
	run_bad_config(1, path, want);
	run(71, ARGS("-c", path));
	ck_assert_str_eq(err, want);
	free(path);
	free(file);
}
END_TEST

/* The socket of a running daemon is in use, not in the way: -t passes. */
START_TEST(test_cli_config_socket_live)
{
	struct hbd	*d;
	char		 want[PATH_MAX + 16];

	d = hbd_start("[server]\nlisten = 127.0.0.1:0\n[admin]\nlisten =\n"
	    "socket = @DIR@/admin.sock\n");
	snprintf(want, sizeof(want), "config ok: %s\n", d->conf);
	run(0, ARGS("-t", "-c", d->conf));
	ck_assert_str_eq(out, want);
	ck_assert_str_eq(err, "");
	hbd_stop(d, SIGTERM);
}
END_TEST

START_TEST(test_cli_config_missing)
{
	run_bad_config(_i == 0, "/nonexistent/heartbeatd.conf",
	    "heartbeatd: /nonexistent/heartbeatd.conf: "
	    "No such file or directory\n");
}
END_TEST

/* A port already taken: the client listener, then the admin one. */
START_TEST(test_cli_bind_fail)
{
	char	 conf[256], want[256], *path;
	int	 fd, port;

	fd = listen_any(&port);
	if (_i == 0) {
		snprintf(conf, sizeof(conf), "[server]\nlisten = "
		    "127.0.0.1:%d\n[admin]\nlisten =\n", port);
		snprintf(want, sizeof(want), "heartbeatd: listen "
		    "127.0.0.1:%d: Address already in use\n", port);
	} else {
		snprintf(conf, sizeof(conf), "[server]\nlisten = "
		    "127.0.0.1:0\n[admin]\nlisten = 127.0.0.1:%d\n", port);
		snprintf(want, sizeof(want), "heartbeatd: admin listen "
		    "127.0.0.1:%d: Address already in use\n", port);
	}
	path = hb_write_file("bind.conf", conf);
	run(71, ARGS("-c", path));
	ck_assert_str_eq(err, want);
	close(fd);
	free(path);
}
END_TEST

/*
 * TERM and INT stop an idle daemon cleanly; the stop line comes last.
 * Sent as soon as the start line is out, and repeated, since a daemon
 * that announces itself before it handles signals dies only sometimes.
 */
START_TEST(test_cli_signal_stop)
{
	static const int	 sigs[] = { SIGTERM, SIGINT };
	struct hbd		*d;
	int			 code;

	d = hbd_start("[server]\nlisten = 127.0.0.1:0\n"
	    "[admin]\nlisten = 127.0.0.1:0\n");
	code = hbd_exit(d, sigs[_i % 2]);
	ck_assert_msg(code == 0, "expected exit 0 after signal %d, got %d; "
	    "stderr \"%s\"", sigs[_i % 2], code, d->log);
	assert_suffix(d->log, "\nstop reason=signal clients=0\n");
	hbd_stop(d, 0);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s;

	s = suite_create("cli");
	HB_TCASE(s, "version", test_cli_version, nitems(version_args));
	HB_TCASE(s, "help", test_cli_help, nitems(help_args));
	HB_TCASE(s, "usage", test_cli_usage, nitems(usage_cases));
	HB_TCASE(s, "config_ok", test_cli_config_ok,
	    nitems(good_confs));
	HB_TCASE(s, "config_bad", test_cli_config_bad,
	    2 * nitems(bad_confs));
	HB_TCASE(s, "config_errors", test_cli_config_errors, 2);
	HB_TCASE(s, "config_socket", test_cli_config_socket,
	    nitems(socket_cases));
	HB_TCASE(s, "config_socket_live", test_cli_config_socket_live, 1);
	HB_TCASE(s, "config_missing", test_cli_config_missing, 2);
	HB_TCASE(s, "bind_fail", test_cli_bind_fail, 2);
	HB_TCASE(s, "signal_stop", test_cli_signal_stop, 10);
	return (s);
}
