/*
 * Unit tests for src/config.c: defaults, every key's values, every error
 * with its exact "FILE:LINE: key: reason", and config_diff().
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <check.h>

#include "check_main.h"
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "conf.h"
#include "util.h"

#define NITEMS(a)	((int)(sizeof(a) / sizeof((a)[0])))

/* Every field of a config: lists as "a,b" ("" if none), NULL if unset. */
struct fields {
	const char		*listen;
	double			 heartbeat_timeout;
	uint64_t		 max_clients;
	uint64_t		 max_clients_per_ip;
	size_t			 max_line;
	size_t			 send_buffer_limit;
	enum hb_dup_policy	 duplicate_name;
	int			 data_reply;
	const char		*admin_listen;
	const char		*admin_socket;
	mode_t			 admin_socket_mode;
	const char		*admin_token;
	size_t			 watch_backlog;
	const char		*http_listen;
	int			 log_syslog;
	const char		*log_ident;
	int			 log_facility;
	int			 log_level;
};

static char	 tmppath[PATH_MAX];

static const char	*datapath(const char *, const char *, const char *);
static const char	*write_conf(const char *, size_t);
static struct hb_config	*load_path(const char *);
static struct hb_config	*load_data(const char *);
static struct hb_config	*load_ok(const char *);
static char		*path_cause(const char *);
static void		 path_err(const char *, const char *);
static void		 data_err(const char *, const char *);
static void		 load_err(const char *, const char *);
static char		*load_cause(const char *);
static void		 check_changed(const struct hb_config *, const char *,
			    int);
static const char	*addrs_str(const struct hb_addrlist *);
static void		 check_str(const char *, const char *);
static void		 check_fields(const struct hb_config *,
			    const struct fields *);
static char		*long_line(const char *, size_t, const char *);
static void		 diff_check(const char *, const char *, const char *,
			    int);

/* Returns $env/name, or dflt/name when env is not set. */
static const char *
datapath(const char *env, const char *dflt, const char *name)
{
	static char	 buf[PATH_MAX];
	const char	*dir;

	if ((dir = getenv(env)) == NULL)
		dir = dflt;
	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return (buf);
}

/* Writes len bytes of text to a new temp file; returns its path. */
static const char *
write_conf(const char *text, size_t len)
{
	const char	*dir;
	int		 fd;

	if ((dir = getenv("TMPDIR")) == NULL)
		dir = "/tmp";
	snprintf(tmppath, sizeof(tmppath), "%s/check_config.XXXXXX", dir);
	ck_assert_int_ne(fd = mkstemp(tmppath), -1);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	return (tmppath);
}

/* Loads the file at path and fails the test on an error. */
static struct hb_config *
load_path(const char *path)
{
	struct hb_config	*cfg;
	char			*cause = NULL;

	cfg = config_load(path, &cause);
	ck_assert_msg(cfg != NULL, "%.300s", cause);
	ck_assert_str_eq(cfg->path, path);
	return (cfg);
}

/* Loads the fixture $TESTDATA/name and fails the test on an error. */
static struct hb_config *
load_data(const char *name)
{
	return (load_path(datapath("TESTDATA", "tests/data", name)));
}

/* Loads text as a config file and fails the test on an error. */
static struct hb_config *
load_ok(const char *text)
{
	struct hb_config	*cfg;

	cfg = load_path(write_conf(text, strlen(text)));
	unlink(tmppath);
	return (cfg);
}

/* Loads the file at path, which must fail; returns the malloc'd cause. */
static char *
path_cause(const char *path)
{
	char	*cause = NULL;

	ck_assert_msg(config_load(path, &cause) == NULL, "loaded: %s", path);
	ck_assert_ptr_nonnull(cause);
	return (cause);
}

/*
 * Loads the file at path and checks that the cause is want, each line of
 * it after "path:".
 */
static void
path_err(const char *path, const char *want)
{
	char		*cause, expect[4096];
	const char	*nl;
	size_t		 n = 0;

	do {
		nl = strchr(want, '\n');
		n += snprintf(expect + n, sizeof(expect) - n, "%s%s:%.*s",
		    n == 0 ? "" : "\n", path,
		    (int)(nl == NULL ? strlen(want) : (size_t)(nl - want)),
		    want);
		ck_assert_uint_lt(n, sizeof(expect));
		want = nl + 1;
	} while (nl != NULL);
	cause = path_cause(path);
	ck_assert_str_eq(cause, expect);
	free(cause);
}

/* As path_cause(), for a file holding text. */
static char *
load_cause(const char *text)
{
	char	*cause;

	cause = path_cause(write_conf(text, strlen(text)));
	unlink(tmppath);
	return (cause);
}

/* As path_err(), for the fixture $TESTDATA/name. */
static void
data_err(const char *name, const char *want)
{
	path_err(datapath("TESTDATA", "tests/data", name), want);
}

/* As path_err(), for a file holding text. */
static void
load_err(const char *text, const char *want)
{
	path_err(write_conf(text, strlen(text)), want);
	unlink(tmppath);
}

/* Checks what config_diff() names between the defaults and cfg. */
static void
check_changed(const struct hb_config *cfg, const char *want, int count)
{
	struct hb_config	*dflt;
	char			*changed;

	dflt = load_ok("");
	ck_assert_int_eq(config_diff(dflt, cfg, &changed), count);
	check_str(changed, want);
	free(changed);
	config_free(dflt);
}

/* Formats a list as "a,b,c" in a static buffer. */
static const char *
addrs_str(const struct hb_addrlist *l)
{
	static char	 buf[1024];
	char		 one[ADDR_STRLEN];
	size_t		 i;

	buf[0] = '\0';
	for (i = 0; i < l->n; i++) {
		if (i > 0)
			strlcat(buf, ",", sizeof(buf));
		strlcat(buf, addr_format((struct sockaddr *)&l->v[i].ss, one,
		    sizeof(one)), sizeof(buf));
	}
	return (buf);
}

/* Checks a string that may be NULL. */
static void
check_str(const char *got, const char *want)
{
	if (want == NULL)
		ck_assert_ptr_null(got);
	else
		ck_assert_str_eq(got, want);
}

/* Checks every field of cfg against want. */
static void
check_fields(const struct hb_config *cfg, const struct fields *want)
{
	ck_assert_str_eq(addrs_str(&cfg->listen), want->listen);
	ck_assert(cfg->heartbeat_timeout == want->heartbeat_timeout);
	ck_assert_uint_eq(cfg->max_clients, want->max_clients);
	ck_assert_uint_eq(cfg->max_clients_per_ip, want->max_clients_per_ip);
	ck_assert_uint_eq(cfg->max_line, want->max_line);
	ck_assert_uint_eq(cfg->send_buffer_limit, want->send_buffer_limit);
	ck_assert_int_eq(cfg->duplicate_name, want->duplicate_name);
	ck_assert_int_eq(cfg->data_reply, want->data_reply);
	ck_assert_str_eq(addrs_str(&cfg->admin_listen), want->admin_listen);
	check_str(cfg->admin_socket, want->admin_socket);
	ck_assert_uint_eq(cfg->admin_socket_mode, want->admin_socket_mode);
	check_str(cfg->admin_token, want->admin_token);
	ck_assert_uint_eq(cfg->watch_backlog, want->watch_backlog);
	ck_assert_str_eq(addrs_str(&cfg->http_listen),
	    want->http_listen);
	ck_assert_int_eq(cfg->log_syslog, want->log_syslog);
	check_str(cfg->log_ident, want->log_ident);
	ck_assert_int_eq(cfg->log_facility, want->log_facility);
	ck_assert_int_eq(cfg->log_level, want->log_level);
}

/* Returns "[admin]\nKEY = xxx...END", its second line len bytes long. */
static char *
long_line(const char *key, size_t len, const char *end)
{
	char	*s;
	size_t	 head, n;

	head = strlen("[admin]\n");
	ck_assert_ptr_nonnull(s = malloc(head + len + strlen(end) + 1));
	n = sprintf(s, "[admin]\n%s = ", key) - head;
	ck_assert_uint_le(n, len);
	memset(s + head + n, 'x', len - n);
	strcpy(s + head + len, end);
	return (s);
}

/* Checks config_diff() both ways between texts a and b. */
static void
diff_check(const char *a, const char *b, const char *want, int count)
{
	struct hb_config	*ca, *cb;
	char			*changed;

	ca = load_ok(a);
	cb = load_ok(b);
	ck_assert_int_eq(config_diff(ca, cb, &changed), count);
	check_str(changed, want);
	free(changed);
	ck_assert_int_eq(config_diff(cb, ca, &changed), count);
	check_str(changed, want);
	free(changed);
	ck_assert_int_eq(config_diff(ca, ca, &changed), 0);
	ck_assert_ptr_null(changed);
	config_free(ca);
	config_free(cb);
}

/* Whole configs: every key's default, value and limits. */
static const struct {
	const char	*fixture;	/* in $TESTDATA, or NULL */
	const char	*text;		/* the file when fixture is NULL */
	struct fields	 want;
} wholes[] = {
	{ NULL, "", {
		"0.0.0.0:7000", 6.0, 10000, 0, 1024, 262144, DUP_REPLACE,
		DATA_REPLY_NONE, "127.0.0.1:7001", NULL, 0660, NULL, 10000,
		"",
		1, "heartbeatd", LOG_DAEMON, LOG_INFO
	} },
	{ "config_full.conf", NULL, {
		"127.0.0.1:7100,[::1]:7100", 0.25, 5, 2, 64, 4096, DUP_REJECT,
		DATA_REPLY_ECHO, "0.0.0.0:7101,[::]:7101",
		"/tmp/heartbeatd-test/admin.sock",
		0600, "s3cret", 0,
		"127.0.0.1:9477",
		0, "hbtest", LOG_LOCAL7, LOG_DEBUG
	} },
	{ NULL, "[server]\nheartbeat_timeout = 0.05\nmax_clients = 1\n"
	    "max_line = 16\nsend_buffer_limit = 1024\n"
	    "[admin]\nsocket_mode = 0\nwatch_backlog = 0\n", {
		"0.0.0.0:7000", 0.05, 1, 0, 16, 1024, DUP_REPLACE,
		DATA_REPLY_NONE, "127.0.0.1:7001", NULL, 0, NULL, 0,
		"",
		1, "heartbeatd", LOG_DAEMON, LOG_INFO
	} },
	{ NULL, "[server]\nlisten = [::]:0\nheartbeat_timeout = 86400\n"
	    "max_clients = 10000000\nmax_clients_per_ip = 10000000\n"
	    "max_line = 1048576\nsend_buffer_limit = 1073741824\n"
	    "[admin]\nsocket_mode = 777\nwatch_backlog = 1000000\n", {
		"[::]:0", 86400, 10000000, 10000000, 1048576, 1073741824,
		DUP_REPLACE, DATA_REPLY_NONE, "127.0.0.1:7001", NULL, 0777,
		NULL, 1000000,
		"",
		1, "heartbeatd", LOG_DAEMON, LOG_INFO
	} },
};

START_TEST(test_config_values)
{
	struct hb_config	*cfg;

	if (wholes[_i].fixture == NULL)
		cfg = load_ok(wholes[_i].text);
	else
		cfg = load_data(wholes[_i].fixture);
	check_fields(cfg, &wholes[_i].want);
	config_free(cfg);
}
END_TEST

START_TEST(test_config_empty)
{
	static const char *const empties[] = {
		"",
		"\n\n\n",
		"; only a comment\n# and another\n",
		"[server]\n[admin]\n[metrics]\n[log]\n",
		"[nosuchsection]\n; without keys it is never reported\n",
	};
	struct hb_config	*cfg;
	size_t			 i;

	for (i = 0; i < sizeof(empties) / sizeof(empties[0]); i++) {
		cfg = load_ok(empties[i]);
		check_changed(cfg, NULL, 0);
		config_free(cfg);
	}
	config_free(NULL);
}
END_TEST

/* Words and their parsed values, one key at a time. */
static const struct {
	const char	*text;
	size_t		 offset;
	int		 value;
} words[] = {
#define W(text, field, value) \
	{ text, offsetof(struct hb_config, field), value }
	W("[server]\nduplicate_name = replace", duplicate_name, DUP_REPLACE),
	W("[server]\nduplicate_name = reject", duplicate_name, DUP_REJECT),
	W("[server]\nduplicate_name = REJECT", duplicate_name, DUP_REJECT),
	W("[server]\ndata_reply = none", data_reply, DATA_REPLY_NONE),
	W("[server]\ndata_reply = ok", data_reply, DATA_REPLY_OK),
	W("[server]\ndata_reply = Echo", data_reply, DATA_REPLY_ECHO),
	W("[log]\nsyslog = yes", log_syslog, 1),
	W("[log]\nsyslog = YES", log_syslog, 1),
	W("[log]\nsyslog = true", log_syslog, 1),
	W("[log]\nsyslog = True", log_syslog, 1),
	W("[log]\nsyslog = 1", log_syslog, 1),
	W("[log]\nsyslog = no", log_syslog, 0),
	W("[log]\nsyslog = No", log_syslog, 0),
	W("[log]\nsyslog = false", log_syslog, 0),
	W("[log]\nsyslog = FALSE", log_syslog, 0),
	W("[log]\nsyslog = 0", log_syslog, 0),
	W("[log]\nfacility = daemon", log_facility, LOG_DAEMON),
	W("[log]\nfacility = user", log_facility, LOG_USER),
	W("[log]\nfacility = local0", log_facility, LOG_LOCAL0),
	W("[log]\nfacility = local1", log_facility, LOG_LOCAL1),
	W("[log]\nfacility = local2", log_facility, LOG_LOCAL2),
	W("[log]\nfacility = local3", log_facility, LOG_LOCAL3),
	W("[log]\nfacility = local4", log_facility, LOG_LOCAL4),
	W("[log]\nfacility = local5", log_facility, LOG_LOCAL5),
	W("[log]\nfacility = local6", log_facility, LOG_LOCAL6),
	W("[log]\nfacility = LOCAL7", log_facility, LOG_LOCAL7),
	W("[log]\nlevel = err", log_level, LOG_ERR),
	W("[log]\nlevel = warning", log_level, LOG_WARNING),
	W("[log]\nlevel = notice", log_level, LOG_NOTICE),
	W("[log]\nlevel = info", log_level, LOG_INFO),
	W("[log]\nlevel = Debug", log_level, LOG_DEBUG),
#undef W
};

START_TEST(test_config_values_words)
{
	struct hb_config	*cfg;
	int			 v;

	cfg = load_ok(words[_i].text);
	if (words[_i].offset == offsetof(struct hb_config, duplicate_name))
		v = cfg->duplicate_name;
	else
		memcpy(&v, (char *)cfg + words[_i].offset, sizeof(v));
	ck_assert_msg(v == words[_i].value, "%s: %d", words[_i].text, v);
	config_free(cfg);
}
END_TEST

START_TEST(test_config_values_modes)
{
	static const struct {
		const char	*s;
		mode_t		 mode;
	} modes[] = {
		{ "0", 0 }, { "600", 0600 }, { "0600", 0600 }, { "0660", 0660 },
		{ "0777", 0777 }, { "007", 07 }, { "0000", 0 },
	};
	struct hb_config	*cfg;
	char			 text[64];
	size_t			 i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		snprintf(text, sizeof(text), "[admin]\nsocket_mode = %s\n",
		    modes[i].s);
		cfg = load_ok(text);
		ck_assert_uint_eq(cfg->admin_socket_mode, modes[i].mode);
		config_free(cfg);
	}
}
END_TEST

START_TEST(test_config_values_strings)
{
	struct hb_config	*cfg;
	char			 text[256], path[108];

	cfg = load_ok("[admin]\nsocket = /run/x.sock\ntoken = a b c\n"
	    "[log]\nident = hb-1\n");
	ck_assert_str_eq(cfg->admin_socket, "/run/x.sock");
	ck_assert_str_eq(cfg->admin_token, "a b c");
	ck_assert_str_eq(cfg->log_ident, "hb-1");
	config_free(cfg);

	cfg = load_ok("[admin]\nsocket =\ntoken =\nlisten =\n[metrics]\n"
	    "listen =\n");
	ck_assert_ptr_null(cfg->admin_socket);
	ck_assert_ptr_null(cfg->admin_token);
	ck_assert_uint_eq(cfg->admin_listen.n, 0);
	ck_assert_uint_eq(cfg->http_listen.n, 0);
	config_free(cfg);

	/* The longest path a sockaddr_un holds, its NUL included. */
	memset(path, 'p', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	snprintf(text, sizeof(text), "[admin]\nsocket = %s\n", path);
	cfg = load_ok(text);
	ck_assert_str_eq(cfg->admin_socket, path);
	config_free(cfg);
}
END_TEST

START_TEST(test_config_values_layout)
{
	struct hb_config	*cfg;

	cfg = load_data("config_layout.conf");
	ck_assert_str_eq(addrs_str(&cfg->listen), "127.0.0.1:7200");
	ck_assert_uint_eq(cfg->max_line, 32);
	ck_assert(cfg->heartbeat_timeout == 1.5);
	ck_assert_int_eq(cfg->log_level, LOG_NOTICE);
	ck_assert_uint_eq(cfg->max_clients, 7);
	ck_assert_str_eq(cfg->admin_token, "a;b");
	config_free(cfg);

	cfg = load_ok("\xef\xbb\xbf[server]\r\nmax_line = 48\r\n[log]\r\n"
	    "ident = crlf\r\n");
	ck_assert_uint_eq(cfg->max_line, 48);
	ck_assert_str_eq(cfg->log_ident, "crlf");
	config_free(cfg);

	cfg = load_ok("[server]\nmax_line = 50");
	ck_assert_uint_eq(cfg->max_line, 50);
	config_free(cfg);
}
END_TEST

/* Files that fail, and the cause after "FILE:". */
static const struct {
	const char	*text;
	const char	*cause;
} errors[] = {
	/* seconds */
	{ "[server]\nheartbeat_timeout = 6s\n",
	    "2: heartbeat_timeout: not a number: \"6s\"" },
	{ "[server]\nheartbeat_timeout =\n",
	    "2: heartbeat_timeout: not a number: \"\"" },
	{ "[server]\nheartbeat_timeout = -1\n",
	    "2: heartbeat_timeout: not a number: \"-1\"" },
	{ "[server]\nheartbeat_timeout = 1e3\n",
	    "2: heartbeat_timeout: not a number: \"1e3\"" },
	{ "[server]\nheartbeat_timeout = 0x10\n",
	    "2: heartbeat_timeout: not a number: \"0x10\"" },
	{ "[server]\nheartbeat_timeout = 0\n",
	    "2: heartbeat_timeout: out of range 0.05-86400: \"0\"" },
	{ "[server]\nheartbeat_timeout = 0.049\n",
	    "2: heartbeat_timeout: out of range 0.05-86400: \"0.049\"" },
	{ "[server]\nheartbeat_timeout = 86400.5\n",
	    "2: heartbeat_timeout: out of range 0.05-86400: \"86400.5\"" },
	/* whole numbers */
	{ "[server]\nmax_clients = ten\n",
	    "2: max_clients: not a number: \"ten\"" },
	{ "[server]\nmax_clients = 0\n",
	    "2: max_clients: out of range 1-10000000: \"0\"" },
	{ "[server]\nmax_clients = 10000001\n",
	    "2: max_clients: out of range 1-10000000: \"10000001\"" },
	{ "[server]\nmax_clients_per_ip = -1\n",
	    "2: max_clients_per_ip: not a number: \"-1\"" },
	{ "[server]\nmax_clients_per_ip = 10000001\n",
	    "2: max_clients_per_ip: out of range 0-10000000: \"10000001\"" },
	{ "[server]\nmax_line = 15\n",
	    "2: max_line: out of range 16-1048576: \"15\"" },
	{ "[server]\nmax_line = 1048577\n",
	    "2: max_line: out of range 16-1048576: \"1048577\"" },
	{ "[server]\nmax_line = 99999999999999999999999\n",
	    "2: max_line: out of range 16-1048576: "
	    "\"99999999999999999999999\"" },
	{ "[server]\nmax_line = 1.5\n",
	    "2: max_line: not a number: \"1.5\"" },
	{ "[server]\nsend_buffer_limit = 1023\n",
	    "2: send_buffer_limit: out of range 1024-1073741824: \"1023\"" },
	{ "[server]\nsend_buffer_limit = 1073741825\n",
	    "2: send_buffer_limit: out of range 1024-1073741824: "
	    "\"1073741825\"" },
	{ "[admin]\nwatch_backlog = 1000001\n",
	    "2: watch_backlog: out of range 0-1000000: \"1000001\"" },
	{ "[admin]\nwatch_backlog = 1k\n",
	    "2: watch_backlog: not a number: \"1k\"" },
	/* words */
	{ "[server]\nduplicate_name = x\n",
	    "2: duplicate_name: not replace or reject: \"x\"" },
	{ "[server]\nduplicate_name =\n",
	    "2: duplicate_name: not replace or reject: \"\"" },
	{ "[server]\ndata_reply = yes\n",
	    "2: data_reply: not none, ok or echo: \"yes\"" },
	{ "[server]\ndata_reply = OK please\n",
	    "2: data_reply: not none, ok or echo: \"OK please\"" },
	{ "[log]\nsyslog = maybe\n",
	    "2: syslog: not a boolean (yes|no|true|false|1|0): \"maybe\"" },
	{ "[log]\nsyslog =\n",
	    "2: syslog: not a boolean (yes|no|true|false|1|0): \"\"" },
	{ "[log]\nfacility = local8\n",
	    "2: facility: unknown facility: \"local8\"" },
	{ "[log]\nfacility = LOG_DAEMON\n",
	    "2: facility: unknown facility: \"LOG_DAEMON\"" },
	{ "[log]\nlevel = warn\n", "2: level: unknown level: \"warn\"" },
	{ "[log]\nlevel = 7\n", "2: level: unknown level: \"7\"" },
	/* modes, strings, paths */
	{ "[admin]\nsocket_mode = 999\n",
	    "2: socket_mode: not an octal mode 0000-0777: \"999\"" },
	{ "[admin]\nsocket_mode = 1777\n",
	    "2: socket_mode: not an octal mode 0000-0777: \"1777\"" },
	{ "[admin]\nsocket_mode = 00660\n",
	    "2: socket_mode: not an octal mode 0000-0777: \"00660\"" },
	{ "[admin]\nsocket_mode = rw\n",
	    "2: socket_mode: not an octal mode 0000-0777: \"rw\"" },
	{ "[admin]\nsocket_mode = -660\n",
	    "2: socket_mode: not an octal mode 0000-0777: \"-660\"" },
	{ "[admin]\nsocket_mode =\n",
	    "2: socket_mode: not an octal mode 0000-0777: \"\"" },
	{ "[log]\nident =\n", "2: ident: must not be empty" },
	/* addresses */
	{ "[server]\nlisten = localhost:7000\n",
	    "2: server.listen: not a numeric address "
	    "(IPv4:port or [IPv6]:port): "
	    "\"localhost:7000\"" },
	{ "[server]\nlisten = 127.0.0.1\n",
	    "2: server.listen: not a numeric address "
	    "(IPv4:port or [IPv6]:port): "
	    "\"127.0.0.1\"" },
	{ "[server]\nlisten = 127.0.0.1:7000 127.0.0.1:65536\n",
	    "2: server.listen: not a numeric address "
	    "(IPv4:port or [IPv6]:port): "
	    "\"127.0.0.1:65536\"" },
	{ "[server]\nlisten = ::1:7000\n",
	    "2: server.listen: not a numeric address "
	    "(IPv4:port or [IPv6]:port): "
	    "\"::1:7000\"" },
	{ "[server]\nlisten = 127.0.0.1:7000,127.0.0.1:7001\n",
	    "2: server.listen: not a numeric address "
	    "(IPv4:port or [IPv6]:port): "
	    "\"127.0.0.1:7000,127.0.0.1:7001\"" },
	{ "[metrics]\nlisten = *:9477\n",
	    "2: metrics.listen: not a numeric address "
	    "(IPv4:port or [IPv6]:port): "
	    "\"*:9477\"" },
	/* [metrics] listen is [http] listen by another name */
	{ "[http]\nlisten = 127.0.0.1:1\n[metrics]\nlisten = 127.0.0.1:2\n",
	    "4: metrics.listen: differs from [http] listen" },
	{ "[metrics]\nlisten = 127.0.0.1:2\n[http]\nlisten =\n",
	    "2: metrics.listen: differs from [http] listen" },
	{ "[admin]\nlisten = [::1]\n",
	    "2: admin.listen: not a numeric address "
	    "(IPv4:port or [IPv6]:port): "
	    "\"[::1]\"" },
	{ "[server]\nlisten = 127.0.0.1:7000 127.0.0.1:7000\n",
	    "2: server.listen: duplicate address: \"127.0.0.1:7000\"" },
	{ "[server]\nlisten = [::1]:7000 [0::1]:7000\n",
	    "2: server.listen: duplicate address: \"[0::1]:7000\"" },
	{ "[server]\nlisten = 127.0.0.1:7000\nlisten = 127.0.0.1:7000\n",
	    "3: server.listen: duplicate address: \"127.0.0.1:7000\"" },
	{ "[server]\nlisten =\n", "2: server.listen: no address" },
	{ "[server]\nlisten = 127.0.0.1:7000\nlisten =\n",
	    "3: server.listen: no address" },
	/* sections and keys */
	{ "[server]\nport = 7000\n", "2: port: unknown key" },
	{ "[server]\nMax_Line = 100\n", "2: Max_Line: unknown key" },
	{ "[log]\nlisten = 127.0.0.1:1\n", "2: listen: unknown key" },
	{ "[metrics]\ntoken = x\n", "2: token: unknown key" },
	{ "[serv]\n; comment\n\nmax_line = 100\n",
	    "4: [serv]: unknown section" },
	{ "[Server]\nmax_line = 100\n", "2: [Server]: unknown section" },
	{ "max_line = 100\n[server]\n",
	    "1: max_line: key outside any section" },
	{ "[server]\nmax_line = 20\nmax_line = 20\n",
	    "3: max_line: duplicate key" },
	{ "[admin]\ntoken =\n[log]\nlevel = info\n[admin]\ntoken = x\n",
	    "6: token: duplicate key" },
	{ "[log]\nident = a\n  ident = b\n", "3: ident: duplicate key" },
	/* syntax */
	{ "[server]\nmax_line\n", "2: syntax error" },
	{ "[server\nmax_line = 20\n", "1: syntax error" },
	{ "[server]\nmax_line = 100\n\n=5\n", "4: syntax error" },
	{ "[server]\n = 5\n", "2: syntax error" },
	/*
	 * Every error, one a line, in the order of the lines; nothing after a
	 * broken section header, whose keys have no known section.
	 */
	{ "[server]\nmax_line = 1\nfoo\n[x]\ny = 1\n",
	    "2: max_line: out of range 16-1048576: \"1\"\n"
	    "3: syntax error\n"
	    "5: [x]: unknown section" },
	{ "[server]\nfoo\nmax_line = 1\n",
	    "2: syntax error\n3: max_line: out of range 16-1048576: \"1\"" },
	{ "[admin]\nlisten = 0.0.0.0:7001\n[server]\nmax_line = 1\n",
	    "2: admin.listen: not a loopback address and no token is set: "
	    "\"0.0.0.0:7001\"\n"
	    "4: max_line: out of range 16-1048576: \"1\"" },
	{ "[server]\nmax_line = 1\n[log\nlevel = x\n[x]\ny = 1\n",
	    "2: max_line: out of range 16-1048576: \"1\"\n3: syntax error" },
	{ "[x]\na = 1\nb = 2\n[server]\nmax_line = 1\n[x]\nc = 3\n",
	    "2: [x]: unknown section\n"
	    "5: max_line: out of range 16-1048576: \"1\"" },
	{ "[server]\nk1 = 1\nk2 = 2\nk3 = 3\nk4 = 4\nk5 = 5\nk6 = 6\n"
	    "k7 = 7\nk8 = 8\nk9 = 9\nk10 = 10\nk11 = 11\nk12 = 12\n",
	    "2: k1: unknown key\n3: k2: unknown key\n4: k3: unknown key\n"
	    "5: k4: unknown key\n6: k5: unknown key\n7: k6: unknown key\n"
	    "8: k7: unknown key\n9: k8: unknown key\n10: k9: unknown key\n"
	    "11: k10: unknown key\n more errors: 2" },
	/* an error found after the parse still comes in its line's place */
	{ "[admin]\nlisten = 0.0.0.0:7001\n[server]\nk1 = 1\nk2 = 2\n"
	    "k3 = 3\nk4 = 4\nk5 = 5\nk6 = 6\nk7 = 7\nk8 = 8\nk9 = 9\n"
	    "k10 = 10\nk11 = 11\n",
	    "2: admin.listen: not a loopback address and no token is set: "
	    "\"0.0.0.0:7001\"\n"
	    "4: k1: unknown key\n5: k2: unknown key\n6: k3: unknown key\n"
	    "7: k4: unknown key\n8: k5: unknown key\n9: k6: unknown key\n"
	    "10: k7: unknown key\n11: k8: unknown key\n12: k9: unknown key\n"
	    " more errors: 2" },
};

START_TEST(test_config_errors)
{
	load_err(errors[_i].text, errors[_i].cause);
}
END_TEST

START_TEST(test_config_errors_fixture)
{
	data_err("config_bad_number.conf",
	    "5: heartbeat_timeout: not a number: \"6s\"\n"
	    "6: max_line: out of range 16-1048576: \"1\"");
	data_err("config_unknown_section.conf", "6: [mqtt]: unknown section");
	data_err("config_admin_no_token.conf", "5: admin.listen: "
	    "not a loopback address and no token is set: \"192.0.2.1:7001\"");
}
END_TEST

START_TEST(test_config_errors_generated)
{
	static const char	 text[] = "[server]\nmax_line = 20\0 x\n";
	static const char	 text2[] = "[server]\nmax_line = 20\0 x\n"
	    "max_clients = 0\n";
	char			 conf[256], path[109];

	path_err(write_conf(text, sizeof(text) - 1), "2: syntax error");
	unlink(tmppath);
	/* A NUL byte is an error, and the parse goes on. */
	path_err(write_conf(text2, sizeof(text2) - 1),
	    "2: syntax error\n3: max_clients: out of range 1-10000000: \"0\"");
	unlink(tmppath);

	/* One byte more than a sockaddr_un holds with its NUL. */
	memset(path, 'p', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	snprintf(conf, sizeof(conf), "[admin]\nsocket = %s\n", path);
	load_err(conf, "2: socket: path too long");
}
END_TEST

START_TEST(test_config_append)
{
	struct hb_config	*cfg;

	cfg = load_data("config_append.conf");
	ck_assert_str_eq(addrs_str(&cfg->listen),
	    "127.0.0.1:7300,127.0.0.1:7301,[::1]:7300,[::1]:7301");
	ck_assert_str_eq(addrs_str(&cfg->admin_listen), "127.0.0.1:7302");
	config_free(cfg);

	cfg = load_ok("[admin]\nlisten =\nlisten = [::1]:1\n[metrics]\n"
	    "listen = 127.0.0.1:1\nlisten = 127.0.0.1:2\n");
	ck_assert_str_eq(addrs_str(&cfg->admin_listen), "[::1]:1");
	ck_assert_str_eq(addrs_str(&cfg->http_listen),
	    "127.0.0.1:1,127.0.0.1:2");
	config_free(cfg);

	cfg = load_ok("[http]\nlisten = 127.0.0.1:2 127.0.0.1:1\n[metrics]\n"
	    "listen = 127.0.0.1:1\nlisten = 127.0.0.1:2\n");
	ck_assert_str_eq(addrs_str(&cfg->http_listen),
	    "127.0.0.1:2,127.0.0.1:1");
	config_free(cfg);

	cfg = load_ok("[server]\nlisten = \t0.0.0.0:7000   [::]:7000\t\n");
	ck_assert_str_eq(addrs_str(&cfg->listen), "0.0.0.0:7000,[::]:7000");
	config_free(cfg);
}
END_TEST

START_TEST(test_config_admin_token)
{
	load_err("[admin]\nlisten = 0.0.0.0:7001\n",
	    "2: admin.listen: not a loopback address and no token is set: "
	    "\"0.0.0.0:7001\"");
	load_err("[admin]\nlisten = [::]:7001\ntoken =\n",
	    "2: admin.listen: not a loopback address and no token is set: "
	    "\"[::]:7001\"");
	load_err("[admin]\nlisten = [::1]:7001 [::ffff:127.0.0.1]:7001\n",
	    "2: admin.listen: not a loopback address and no token is set: "
	    "\"[::ffff:127.0.0.1]:7001\"");
}
END_TEST

START_TEST(test_config_admin_token_ok)
{
	static const char *const ok[] = {
		"[admin]\nlisten = 0.0.0.0:7001\ntoken = s3cret\n",
		"[admin]\ntoken = s3cret\nlisten = 0.0.0.0:7001 [::]:7001\n",
		"[admin]\nlisten = [::1]:7001\n",
		"[admin]\nlisten = 127.0.0.1:7001 127.1.2.3:7001 [::1]:7001\n",
		"[admin]\nlisten =\n",
		"[server]\nlisten = 0.0.0.0:7000 [::]:7000\n",
		"[metrics]\nlisten = 0.0.0.0:9477\n",
	};
	struct hb_config	*cfg;
	size_t			 i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		config_free(load_ok(ok[i]));

	cfg = load_data("config_admin_token_late.conf");
	ck_assert_str_eq(cfg->admin_token, "s3cret");
	config_free(cfg);
}
END_TEST

START_TEST(test_config_missing)
{
	char	 dir[PATH_MAX];

	path_err("/nonexistent/heartbeatd.conf",
	    " No such file or directory");

	write_conf("", 0);
	unlink(tmppath);
	snprintf(dir, sizeof(dir), "%s", tmppath);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	path_err(dir, " Is a directory");
	rmdir(dir);
}
END_TEST

START_TEST(test_config_unreadable)
{
	if (geteuid() == 0)
		return;		/* root reads anything */
	write_conf("[server]\n", 9);
	ck_assert_int_eq(chmod(tmppath, 0), 0);
	path_err(tmppath, " Permission denied");
	unlink(tmppath);
}
END_TEST

/* Line lengths around the limit of 8192 bytes, line end not counted. */
static const struct {
	size_t		 len;
	const char	*end;
	int		 ok;
} lines[] = {
	{ 4096, "\n", 1 },
	{ 8192, "\n", 1 },
	{ 8192, "\r\n", 1 },
	{ 8192, "", 1 },
	{ 8193, "\n", 0 },
	{ 8193, "", 0 },
	{ 8194, "\r\n", 0 },
	{ 100000, "\n[log]\nlevel = debug\n", 0 },
};

START_TEST(test_config_toolong)
{
	struct hb_config	*cfg;
	char			*text, *cause;
	size_t			 n;

	text = long_line("token", lines[_i].len, lines[_i].end);
	if (lines[_i].ok) {
		cfg = load_ok(text);
		n = lines[_i].len - strlen("token = ");
		ck_assert_uint_eq(strlen(cfg->admin_token), n);
		ck_assert_int_eq(cfg->admin_token[n - 1], 'x');
		config_free(cfg);
	} else
		load_err(text, "2: line too long");
	free(text);

	/* A long comment is a long line too. */
	text = long_line("; token", lines[_i].len, lines[_i].end);
	if (lines[_i].ok)
		config_free(load_ok(text));
	else {
		cause = load_cause(text);
		ck_assert_ptr_nonnull(strstr(cause, ":2: line too long"));
		free(cause);
	}
	free(text);
}
END_TEST

/* Pairs of files and the keys config_diff() names between them. */
static const struct {
	const char	*a;
	const char	*b;
	const char	*changed;
	int		 count;
} diffs[] = {
	{ "", "", NULL, 0 },
	{ "", "[server]\nheartbeat_timeout = 6.0\n", NULL, 0 },
	{ "[server]\nheartbeat_timeout = 6\n",
	    "[server]\nheartbeat_timeout = 6.000\n", NULL, 0 },
	{ "", "[server]\nmax_line = 01024\nlisten = 0.0.0.0:7000\n"
	    "[log]\nsyslog = YES\nlevel = INFO\n", NULL, 0 },
	{ "", "[admin]\nsocket_mode = 660\ntoken =\n", NULL, 0 },
	{ "", "[server]\nheartbeat_timeout = 6.5\n",
	    "server.heartbeat_timeout", 1 },
	{ "", "[server]\nmax_clients = 10001\n", "server.max_clients", 1 },
	{ "", "[server]\nmax_clients_per_ip = 1\n",
	    "server.max_clients_per_ip", 1 },
	{ "", "[server]\nmax_line = 2048\n", "server.max_line", 1 },
	{ "", "[server]\nsend_buffer_limit = 1024\n",
	    "server.send_buffer_limit", 1 },
	{ "", "[server]\nduplicate_name = reject\n",
	    "server.duplicate_name", 1 },
	{ "", "[server]\ndata_reply = ok\n", "server.data_reply", 1 },
	{ "[server]\ndata_reply = ok\n", "[server]\ndata_reply = echo\n",
	    "server.data_reply", 1 },
	{ "", "[server]\ndata_reply = NONE\n", NULL, 0 },
	{ "", "[server]\nlisten = 0.0.0.0:7001\n", "server.listen", 1 },
	{ "", "[admin]\nlisten = [::1]:7001\n", "admin.listen", 1 },
	{ "", "[admin]\nlisten =\n", "admin.listen", 1 },
	{ "", "[admin]\nsocket = /run/a.sock\n", "admin.socket", 1 },
	{ "[admin]\nsocket = /run/a.sock\n", "[admin]\nsocket = /run/b.sock\n",
	    "admin.socket", 1 },
	{ "", "[admin]\nsocket_mode = 0600\n", "admin.socket_mode", 1 },
	{ "", "[admin]\ntoken = x\n", "admin.token", 1 },
	{ "[admin]\ntoken = x\n", "[admin]\ntoken = y\n", "admin.token", 1 },
	{ "", "[admin]\nwatch_backlog = 0\n", "admin.watch_backlog", 1 },
	{ "", "[metrics]\nlisten = 127.0.0.1:9477\n", "http.listen", 1 },
	{ "", "[http]\nlisten = 127.0.0.1:9477\n", "http.listen", 1 },
	{ "[metrics]\nlisten = 127.0.0.1:9477\n",
	    "[http]\nlisten = 127.0.0.1:9477\n", NULL, 0 },
	{ "", "[log]\nsyslog = false\n", "log.syslog", 1 },
	{ "", "[log]\nident = hb\n", "log.ident", 1 },
	{ "", "[log]\nfacility = local0\n", "log.facility", 1 },
	{ "", "[log]\nlevel = debug\n", "log.level", 1 },
	/* the listing's order, whatever the file's */
	{ "", "[log]\nlevel = debug\n[server]\nheartbeat_timeout = 2\n",
	    "server.heartbeat_timeout,log.level", 2 },
	{ "", "[metrics]\nlisten = [::1]:9\n[admin]\ntoken = t\n"
	    "[server]\nmax_line = 99\n",
	    "server.max_line,admin.token,http.listen", 3 },
	/* address lists are sets */
	{ "[server]\nlisten = 127.0.0.1:1 [::1]:1 127.0.0.1:2\n",
	    "[server]\nlisten = 127.0.0.1:2\nlisten = 127.0.0.1:1 [::1]:1\n",
	    NULL, 0 },
	{ "[server]\nlisten = [::1]:1\n",
	    "[server]\nlisten = [0:0:0:0:0:0:0:1]:1\n", NULL, 0 },
	{ "[server]\nlisten = 127.0.0.1:1 127.0.0.1:2\n",
	    "[server]\nlisten = 127.0.0.1:1 127.0.0.1:3\n",
	    "server.listen", 1 },
	{ "[server]\nlisten = 127.0.0.1:1 127.0.0.1:2\n",
	    "[server]\nlisten = 127.0.0.1:1\n", "server.listen", 1 },
	{ "[server]\nlisten = 127.0.0.1:1\n",
	    "[server]\nlisten = [::ffff:127.0.0.1]:1\n", "server.listen", 1 },
	{ "[server]\nlisten = 127.0.0.1:1\n",
	    "[server]\nlisten = 127.0.0.2:1\n", "server.listen", 1 },
	{ "[metrics]\nlisten = 127.0.0.1:1\n",
	    "[metrics]\nlisten = 127.0.0.1:2\n", "http.listen", 1 },
};

START_TEST(test_config_diff)
{
	diff_check(diffs[_i].a, diffs[_i].b, diffs[_i].changed,
	    diffs[_i].count);
}
END_TEST

START_TEST(test_config_diff_all)
{
	struct hb_config	*cfg;

	cfg = load_data("config_full.conf");
	check_changed(cfg, "server.listen,server.heartbeat_timeout,"
	    "server.max_clients,server.max_clients_per_ip,server.max_line,"
	    "server.send_buffer_limit,server.duplicate_name,server.data_reply,"
	    "admin.listen,admin.socket,admin.socket_mode,admin.token,"
	    "admin.watch_backlog,http.listen,log.syslog,log.ident,"
	    "log.facility,log.level", 18);
	config_free(cfg);
}
END_TEST

START_TEST(test_config_shipped)
{
	struct hb_config	*cfg;

	cfg = load_path(datapath("TOP_SRCDIR", ".", "conf/heartbeatd.conf"));
	check_changed(cfg, "admin.socket,state.file", 2);
	ck_assert_str_eq(cfg->admin_socket, "/run/heartbeatd/admin.sock");
	ck_assert_str_eq(cfg->state_file, "/var/lib/heartbeatd/state.db");
	config_free(cfg);

	cfg = load_path(datapath("TOP_SRCDIR", ".", "conf/run.conf"));
	check_changed(cfg, "server.listen,server.heartbeat_timeout,"
	    "server.tls_listen,http.listen,tls.cert,tls.key", 6);
	ck_assert_str_eq(addrs_str(&cfg->listen), "127.0.0.1:7000");
	ck_assert_str_eq(addrs_str(&cfg->http_listen), "127.0.0.1:9477");
	ck_assert(cfg->heartbeat_timeout == 30);
	ck_assert_str_eq(addrs_str(&cfg->admin_listen), "127.0.0.1:7001");
	ck_assert_ptr_null(cfg->admin_socket);
	config_free(cfg);
}
END_TEST

/* SPEC §9's keys: files that fail, and the cause after "FILE:". */
#define SECRET	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SECRET_UPPER	"0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
#define NET_WHY	"not a network (10.0.0.0/8, [2001:db8::]/32 or an address)"
static const struct {
	const char	*text;
	const char	*cause;
} tls_errors[] = {
	{ "[server]\ntls_listen = x\n", "2: server.tls_listen: not a numeric "
	    "address (IPv4:port or [IPv6]:port): \"x\"" },
	{ "[server]\ntls_listen = 127.0.0.1:1\n",
	    "2: server.tls_listen: needs [tls] cert" },
	{ "[admin]\ntls_listen = 127.0.0.1:1\n\n",
	    "2: admin.tls_listen: needs [tls] cert" },
	{ "[admin]\ntls_listen = 0.0.0.0:1\n[tls]\ncert = a\nkey = b\n",
	    "2: admin.tls_listen: not a loopback address and no token is set: "
	    "\"0.0.0.0:1\"" },
	{ "[server]\nproxy_from = 10.0.0.0/33\n",
	    "2: proxy_from: " NET_WHY ": \"10.0.0.0/33\"" },
	{ "[server]\nproxy_from = 10.0.0.0/8 x\n",
	    "2: proxy_from: " NET_WHY ": \"x\"" },
	{ "[server]\nhello_timeout = 0\n",
	    "2: hello_timeout: out of range 0.05-86400: \"0\"" },
	{ "[tls]\ncert = a\n", "2: cert: cert and key go together" },
	{ "[tls]\n\nkey = b\n", "3: key: cert and key go together" },
	{ "[tls]\nverify_client = maybe\n",
	    "2: verify_client: not no, optional or require: \"maybe\"" },
	{ "[tls]\nverify_client = optional\n",
	    "2: verify_client: needs [tls] ca" },
	{ "[tls]\nmin_version = 1.1\n",
	    "2: min_version: not 1.2 or 1.3: \"1.1\"" },
	{ "[auth]\nmode = password\n",
	    "2: mode: not none, token, cert or any: \"password\"" },
	{ "[auth]\nmode = token\n",
	    "2: mode: token needs [auth] secret or secret_file" },
	{ "[auth]\nmode = any\n",
	    "2: mode: any needs [auth] secret or secret_file" },
	{ "[auth]\nmode = cert\n", "2: mode: cert needs [tls] ca" },
	{ "[auth]\nmode = any\nsecret = " SECRET "\n",
	    "2: mode: any needs [tls] ca" },
	{ "[auth]\nsecret = xyz\n", "2: secret: not hex" },
	{ "[auth]\nsecret = 00\n",
	    "2: secret: too short (64 hex digits at least)" },
	{ "[auth]\nsecret_file = /nonexistent/s\n",
	    "2: secret_file: /nonexistent/s: No such file or directory" },
	{ "[auth]\nsecret = " SECRET "\nsecret_file = /x\n",
	    "3: secret_file: secret is set too" },
};

START_TEST(test_config_tls_errors)
{
	load_err(tls_errors[_i].text, tls_errors[_i].cause);
}
END_TEST

/* SPEC §9's keys in config_diff(), in the listing's order. */
static const struct {
	const char	*a;
	const char	*b;
	const char	*changed;
	int		 count;
} tls_diffs[] = {
	{ "", "[server]\nproxy_from =\nhello_timeout = 10.0\n[tls]\n"
	    "verify_client = NO\nmin_version = 1.2\n[auth]\nmode = none\n",
	    NULL, 0 },
	{ "", "[server]\ntls_listen = 127.0.0.1:1\n[tls]\ncert = c\nkey = k\n",
	    "server.tls_listen,tls.cert,tls.key", 3 },
	{ "", "[server]\nproxy_from = 10.0.0.0/8\n", "server.proxy_from", 1 },
	{ "[server]\nproxy_from = 10.0.0.0/8\n",
	    "[server]\nproxy_from = 10.0.0.0/9\n", "server.proxy_from", 1 },
	{ "", "[server]\nhello_timeout = 2\n", "server.hello_timeout", 1 },
	{ "[tls]\ncert = c\nkey = k\n",
	    "[tls]\ncert = c\nkey = k\n[admin]\ntls_listen = [::1]:1\n",
	    "admin.tls_listen", 1 },
	{ "", "[tls]\nca = a\nverify_client = require\n",
	    "tls.ca,tls.verify_client", 2 },
	{ "", "[tls]\nmin_version = 1.3\n", "tls.min_version", 1 },
	{ "", "[auth]\nsecret = " SECRET "\nmode = token\n",
	    "auth.mode,auth.secret", 2 },
	{ "[auth]\nsecret = " SECRET "\n",
	    "[auth]\nsecret = " SECRET "00\n", "auth.secret", 1 },
	{ "[auth]\nsecret = " SECRET "\n",
	    "[auth]\nsecret = " SECRET_UPPER "\n", NULL, 0 },
};

START_TEST(test_config_tls_diff)
{
	diff_check(tls_diffs[_i].a, tls_diffs[_i].b, tls_diffs[_i].changed,
	    tls_diffs[_i].count);
}
END_TEST

/* The secret is decoded; a secret_file is read at load, first line only. */
START_TEST(test_config_tls_values)
{
	struct hb_config	*cfg;
	char			 text[256], file[] = "/tmp/check_config.XXXXXX";
	int			 fd;

	cfg = load_ok("[server]\ntls_listen = 127.0.0.1:7443\nproxy_from = "
	    "10.0.0.0/8 [2001:db8::]/32\nhello_timeout = 0.5\n[tls]\n"
	    "cert = c.pem\nkey = k.pem\nca = ca.pem\nverify_client = "
	    "Require\nmin_version = 1.3\n[auth]\nmode = ANY\nsecret = "
	    SECRET "\n");
	ck_assert_str_eq(addrs_str(&cfg->tls_listen), "127.0.0.1:7443");
	ck_assert_uint_eq(cfg->proxy_from.n, 2);
	ck_assert_uint_eq(cfg->proxy_from.v[0].bits, 8);
	ck_assert_uint_eq(cfg->proxy_from.v[1].bits, 32);
	ck_assert(cfg->hello_timeout == 0.5);
	ck_assert_str_eq(cfg->tls_cert, "c.pem");
	ck_assert_str_eq(cfg->tls_key, "k.pem");
	ck_assert_str_eq(cfg->tls_ca, "ca.pem");
	ck_assert_int_eq(cfg->tls_verify_client, VERIFY_REQUIRE);
	ck_assert_int_eq(cfg->tls_min_version, 0x0304);
	ck_assert_int_eq(cfg->auth_mode, AUTH_ANY);
	ck_assert_uint_eq(cfg->auth_secret.len, 32);
	ck_assert_uint_eq(cfg->auth_secret.key[1], 0x23);
	config_free(cfg);

	ck_assert_int_ne(fd = mkstemp(file), -1);
	ck_assert_int_eq(write(fd, SECRET "\nignored\n", 73), 73);
	close(fd);
	snprintf(text, sizeof(text), "[auth]\nsecret_file = %s\nmode = "
	    "token\n", file);
	cfg = load_ok(text);
	ck_assert_uint_eq(cfg->auth_secret.len, 32);
	ck_assert_uint_eq(cfg->auth_secret.key[31], 0xef);
	config_free(cfg);
	unlink(file);
}
END_TEST

/*
 * SPEC §11's [state] and §12's flap damping: defaults, values, limits and
 * what a diff names.
 */
START_TEST(test_config_state)
{
	struct hb_config	*cfg;

	cfg = load_ok("");
	ck_assert_ptr_null(cfg->state_file);
	ck_assert_uint_eq(cfg->state_remember, 100000);
	ck_assert_uint_eq(cfg->state_forget_after, 2592000);
	ck_assert_uint_eq(cfg->flap_limit, 0);
	ck_assert_uint_eq(cfg->flap_hold, 300);
	config_free(cfg);
	cfg = load_ok("[server]\nflap_limit = 1000000\nflap_hold = 1\n");
	ck_assert_uint_eq(cfg->flap_limit, 1000000);
	ck_assert_uint_eq(cfg->flap_hold, 1);
	config_free(cfg);
	load_err("[server]\nflap_limit = 1000001\n",
	    "2: flap_limit: out of range 0-1000000: \"1000001\"");
	load_err("[server]\nflap_hold = 0\n",
	    "2: flap_hold: out of range 1-86400: \"0\"");
	load_err("[server]\nflap_hold = 86401\n",
	    "2: flap_hold: out of range 1-86400: \"86401\"");
	diff_check("", "[server]\nflap_hold = 60\nflap_limit = 5\n",
	    "server.flap_limit,server.flap_hold", 2);
	cfg = load_ok("[state]\nfile = /var/lib/hb/state.db\nremember = 0\n"
	    "forget_after = 1\n");
	ck_assert_str_eq(cfg->state_file, "/var/lib/hb/state.db");
	ck_assert_uint_eq(cfg->state_remember, 0);
	ck_assert_uint_eq(cfg->state_forget_after, 1);
	config_free(cfg);
	cfg = load_ok("[state]\nfile =\nremember = 100000000\n"
	    "forget_after = 315360000\n");
	ck_assert_ptr_null(cfg->state_file);
	ck_assert_uint_eq(cfg->state_remember, 100000000);
	ck_assert_uint_eq(cfg->state_forget_after, 315360000);
	config_free(cfg);
	load_err("[state]\nremember = 100000001\n",
	    "2: remember: out of range 0-100000000: \"100000001\"");
	load_err("[state]\n\nforget_after = 0\n",
	    "3: forget_after: out of range 1-315360000: \"0\"");
	load_err("[state]\nforget_after = 1d\n",
	    "2: forget_after: not a number: \"1d\"");
	load_err("[state]\nfiles = x\n", "2: files: unknown key");
	diff_check("", "[state]\nfile = a.db\nremember = 5\n",
	    "state.file,state.remember", 2);
	diff_check("[state]\nfile = a.db\n", "[state]\nfile = b.db\n"
	    "forget_after = 60\n", "state.file,state.forget_after", 2);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("config");

	tc = tcase_create("defaults");
	tcase_add_test(tc, test_config_empty);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_loop_test(tc, test_config_values, 0, NITEMS(wholes));
	tcase_add_loop_test(tc, test_config_values_words, 0, NITEMS(words));
	tcase_add_test(tc, test_config_values_modes);
	tcase_add_test(tc, test_config_values_strings);
	tcase_add_test(tc, test_config_values_layout);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_config_errors, 0, NITEMS(errors));
	tcase_add_test(tc, test_config_errors_fixture);
	tcase_add_test(tc, test_config_errors_generated);
	suite_add_tcase(s, tc);

	tc = tcase_create("append");
	tcase_add_test(tc, test_config_append);
	suite_add_tcase(s, tc);

	tc = tcase_create("admin_token");
	tcase_add_test(tc, test_config_admin_token);
	tcase_add_test(tc, test_config_admin_token_ok);
	suite_add_tcase(s, tc);

	tc = tcase_create("missing");
	tcase_add_test(tc, test_config_missing);
	tcase_add_test(tc, test_config_unreadable);
	suite_add_tcase(s, tc);

	tc = tcase_create("toolong");
	tcase_add_loop_test(tc, test_config_toolong, 0, NITEMS(lines));
	suite_add_tcase(s, tc);

	tc = tcase_create("diff");
	tcase_add_loop_test(tc, test_config_diff, 0, NITEMS(diffs));
	tcase_add_test(tc, test_config_diff_all);
	suite_add_tcase(s, tc);

	tc = tcase_create("tls");
	tcase_add_loop_test(tc, test_config_tls_errors, 0,
	    NITEMS(tls_errors));
	tcase_add_loop_test(tc, test_config_tls_diff, 0, NITEMS(tls_diffs));
	tcase_add_test(tc, test_config_tls_values);
	suite_add_tcase(s, tc);

	tc = tcase_create("state");
	tcase_add_test(tc, test_config_state);
	suite_add_tcase(s, tc);

	tc = tcase_create("shipped");
	tcase_add_test(tc, test_config_shipped);
	suite_add_tcase(s, tc);

	return (s);
}
