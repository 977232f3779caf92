/*
 * The command line (SPEC §1, DECISIONS "Command line"): flags, exit
 * codes and the exact messages, run against the real binary.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

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

START_TEST(test_cli_version)
{
	run(0, ARGS("-V"));
	ck_assert_str_eq(out, "heartbeatd 0.1.0\n");
	ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(test_cli_help)
{
	run(0, ARGS("-h"));
	ck_assert_msg(strncmp(out, USAGE, strlen(USAGE)) == 0,
	    "expected stdout to start with \"%s\", got \"%s\"", USAGE, out);
	ck_assert_str_eq(err, "");
}
END_TEST

/* Misuse: each gets exit 64 and the usage line last on stderr. */
static char *const *const usage_cases[] = {
	ARGS("-x"),
	ARGS("-c"),
	ARGS("-t", "-c", "/dev/null", "extra"),
	ARGS("-c", "/dev/null", "extra"),
};

START_TEST(test_cli_usage)
{
	run(64, usage_cases[_i]);
	ck_assert_str_eq(out, "");
	assert_suffix(err, USAGE);
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
	  "4: listen: not a loopback address and no token is set: "
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
	if (_i % 2 == 0)
		run(78, ARGS("-t", "-c", path));
	else
		run(78, ARGS("-c", path));
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(err, want);
	free(path);
}
END_TEST

START_TEST(test_cli_config_missing)
{
	if (_i == 0)
		run(78, ARGS("-t", "-c", "/nonexistent/heartbeatd.conf"));
	else
		run(78, ARGS("-c", "/nonexistent/heartbeatd.conf"));
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(err, "heartbeatd: /nonexistent/heartbeatd.conf: "
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
	HB_TCASE(s, "version", test_cli_version, 1);
	HB_TCASE(s, "help", test_cli_help, 1);
	HB_TCASE(s, "usage", test_cli_usage, nitems(usage_cases));
	HB_TCASE(s, "config_ok", test_cli_config_ok,
	    nitems(good_confs));
	HB_TCASE(s, "config_bad", test_cli_config_bad,
	    2 * nitems(bad_confs));
	HB_TCASE(s, "config_missing", test_cli_config_missing, 2);
	HB_TCASE(s, "bind_fail", test_cli_bind_fail, 2);
	HB_TCASE(s, "signal_stop", test_cli_signal_stop, 10);
	return (s);
}
