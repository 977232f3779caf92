/*
 * Integration tests for the last-seen registry (SPEC §11): SEEN's one
 * line for an exact name, its lists, and the names a second HELLO and a
 * disconnect leave offline; the state file across a clean restart and
 * across SIGKILL, read back by the sqlite3 program, refused when it is
 * not heartbeatd's, and kept across a reload; and flap damping (SPEC
 * §12): two clients that take one name from each other in a loop.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <sqlite3.h>

#include "check_main.h"
#include "itest.h"

#define TMO		2000	/* ms to wait for any one line */

#define CONF_FMT							\
	"[server]\n"							\
	"listen = 127.0.0.1:0\n"					\
	"heartbeat_timeout = 30\n"					\
	"%s"								\
	"[admin]\n"							\
	"listen = 127.0.0.1:0\n"					\
	"[state]\n"							\
	"%s"								\
	"[log]\n"							\
	"syslog = no\n"

/* A time in a SEEN line, as a regular expression. */
#define ISO	"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"

static struct hbd	*start(const char *, const char *);
static const char	*state_dir(void);
static void		 state_rm(void);
static const char	*state_conf(const char *, const char *);
static const char	*seen_line(struct hbc *, const char *);
static const char	*field(const char *, const char *);
static const char	*sql_cli(const char *, const char *);
static void		 sql_wait(const char *, const char *, const char *);
static void		 refused(struct hbd *, const char *);
static void		 expect_seen(struct hbc *, const char *,
			    const char *, const char *);
static void		 expect_list(struct hbc *, const char *,
			    const char *const *, size_t);

/* Starts the daemon with extra [server] and [state] lines. */
static struct hbd *
start(const char *server, const char *state)
{
	char	 conf[2 * PATH_MAX];

	snprintf(conf, sizeof(conf), CONF_FMT, server, state);
	return (hbd_start(conf));
}

static char	 dir[PATH_MAX];

/* A temp dir of the test's own for state files, which outlive daemons. */
static const char *
state_dir(void)
{
	if (dir[0] == '\0') {
		strlcpy(dir, "/tmp/check_state.XXXXXX", sizeof(dir));
		ck_assert_ptr_nonnull(mkdtemp(dir));
	}
	return (dir);
}

/* Removes the state dir and what is in it. */
static void
state_rm(void)
{
	char	 cmd[PATH_MAX + 16];

	if (dir[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	dir[0] = '\0';
}

/* The [state] lines for the file name in the state dir, and more. */
static const char *
state_conf(const char *name, const char *more)
{
	static char	 buf[PATH_MAX + 256];

	snprintf(buf, sizeof(buf), "file = %s/%s\n%s", state_dir(), name,
	    more);
	return (buf);
}

/* SEEN name's answer, copied, valid until the next call. */
static const char *
seen_line(struct hbc *a, const char *name)
{
	static char	 buf[512];
	char		 cmd[96];

	snprintf(cmd, sizeof(cmd), "SEEN %s", name);
	strlcpy(buf, hbc_cmd(a, cmd, TMO), sizeof(buf));
	return (buf);
}

/* The value of key= in line, valid until the next call. */
static const char *
field(const char *line, const char *key)
{
	static char	 buf[128];
	char		 want[32];
	const char	*p;

	snprintf(want, sizeof(want), " %s=", key);
	ck_assert_msg((p = strstr(line, want)) != NULL, "no %s in \"%s\"",
	    key, line);
	p += strlen(want);
	snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(p, " "), p);
	return (buf);
}

/*
 * Runs "sqlite3 -readonly <dir>/name sql", as an operator would, and
 * returns its output, valid until the next call.
 */
static const char *
sql_cli(const char *name, const char *sql)
{
	static char	 out[4096];
	char		 cmd[PATH_MAX + 512];
	FILE		*p;
	size_t		 n;

	snprintf(cmd, sizeof(cmd), "sqlite3 -readonly '%s/%s' \"%s\"",
	    state_dir(), name, sql);
	ck_assert_ptr_nonnull(p = popen(cmd, "r"));
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	ck_assert_msg(pclose(p) == 0, "%s failed: %s", cmd, out);
	return (out);
}

/* Polls sql_cli() until it prints want: the writer commits each second. */
static void
sql_wait(const char *name, const char *sql, const char *want)
{
	long long	 deadline = hb_now_ms() + 3000 * hb_slow_factor();
	const char	*got;

	while (strcmp(got = sql_cli(name, sql), want) != 0) {
		ck_assert_msg(hb_now_ms() < deadline, "%s: \"%s\", want "
		    "\"%s\"", sql, got, want);
		usleep(20000);
	}
}

/*
 * Asserts that "SEEN name" answers the line of that name in state, with
 * the rest matching the regular expression tail.
 */
static void
expect_seen(struct hbc *a, const char *name, const char *state,
    const char *tail)
{
	char	 cmd[96], re[512];

	snprintf(cmd, sizeof(cmd), "SEEN %s", name);
	snprintf(re, sizeof(re), "^SEEN %s state=%s addr=127\\.0\\.0\\.1:"
	    "[0-9]+ since=" ISO " for=[0-9]+ last_seen=" ISO " %s$", name,
	    state, tail);
	hb_assert_match(hbc_cmd(a, cmd, TMO), re);
}

/* Asserts that "SEEN words" lists the names given, in order, then END. */
static void
expect_list(struct hbc *a, const char *words, const char *const *names,
    size_t n)
{
	const char	*line;
	char		 cmd[128], re[128];
	size_t		 i;

	snprintf(cmd, sizeof(cmd), "SEEN %s", words);
	line = hbc_cmd(a, cmd, TMO);
	for (i = 0; i < n; i++) {
		snprintf(re, sizeof(re), "^SEEN %s state=", names[i]);
		ck_assert_msg(line != NULL, "%s: no line for %s", cmd,
		    names[i]);
		hb_assert_match(line, re);
		line = hbc_readline(a, TMO);
	}
	ck_assert_msg(line != NULL && strcmp(line, "END") == 0,
	    "%s: want END, got \"%s\"", cmd, line == NULL ? "(none)" : line);
}

/*
 * SEEN for one exact name, never seen, online, renamed and gone; its
 * list forms, longest in their state first (the names here go online in
 * their alphabetical order, so that a tie within a second orders them
 * alike); and its syntax errors.
 */
START_TEST(test_state_seen)
{
	static const char *const all[] = { "dev-a", "dev-b", "dev-c" };
	struct hbd	*d;
	struct hbc	*a, *c1, *c2, *c3;

	d = start("", "");
	a = hbc_admin(d);
	hbc_expect_cmd(a, "SEEN dev-a", "ERR notfound never seen", TMO);
	hbc_expect_cmd(a, "seen", "ERR syntax usage: SEEN <name> | "
	    "SEEN <selector>", TMO);
	hbc_expect_cmd(a, "SEEN for>x", "ERR syntax bad number: for>x", TMO);
	expect_list(a, "online", NULL, 0);
	c1 = hbc_named(d, 1, "dev-a");
	expect_seen(a, "dev-a", "online", "reason=- sessions=1");
	hbc_send(c1, "HELLO dev-b\n");
	hbc_expect(c1, "OK #1", TMO);
	expect_seen(a, "dev-a", "offline", "reason=renamed sessions=1");
	c2 = hbc_named(d, 2, "dev-c");
	expect_list(a, "online", all + 1, 2);
	expect_list(a, "offline", all, 1);
	expect_list(a, "for<100000", all, 3);
	expect_list(a, "for>100000", NULL, 0);
	expect_list(a, "online offline", NULL, 0);
	expect_list(a, "dev-a offline", all, 1);
	expect_list(a, "dev-a online", NULL, 0);
	expect_list(a, "held", NULL, 0);
	expect_list(a, "dev-?", all, 3);
	expect_list(a, "*-c", all + 2, 1);
	expect_list(a, "#1", NULL, 0);
	expect_list(a, "tls", NULL, 0);
	expect_list(a, "@127.0.0.0/8 offline", all, 1);
	expect_list(a, "@10.0.0.0/8", NULL, 0);
	hbc_expect_cmd(a, "SEEN OFFLINE", "ERR notfound never seen", TMO);
	hbc_expect_cmd(a, "KICK dev-c", "OK", TMO);
	hbc_expect(c2, "BYE kicked", TMO);
	hbc_expect_closed(c2, TMO);
	hbc_close(c2);
	expect_seen(a, "dev-c", "offline", "reason=kicked sessions=1");
	c3 = hbc_named(d, 3, "dev-a");
	expect_seen(a, "dev-a", "online", "reason=renamed sessions=2");
	hbd_finish(d, a, c1, c3, NULL);
}
END_TEST

#define ROWS	"SELECT name, state, reason, sessions FROM seen ORDER BY name"

/*
 * A clean stop writes everything: after a restart SEEN says what it said
 * before (for= aside), and the names still online then went offline with
 * reason shutdown. The sqlite3 program reads the file meanwhile.
 */
START_TEST(test_state_restart)
{
	struct hbd	*d;
	struct hbc	*a, *c1, *c2;
	char		 before[512];

	d = start("", state_conf("state.db", ""));
	a = hbc_admin(d);
	c1 = hbc_named(d, 1, "dev-a");
	c2 = hbc_named(d, 2, "dev-b");
	hbc_close(c2);
	hbd_expect_disconnect(d, 2, "dev-b", "closed");
	strlcpy(before, seen_line(a, "dev-b"), sizeof(before));
	sql_wait("state.db", ROWS,
	    "dev-a|online|-|1\ndev-b|offline|closed|1\n");
	ck_assert_str_eq(sql_cli("state.db", "PRAGMA journal_mode; PRAGMA "
	    "user_version; PRAGMA application_id"), "wal\n1\n1751278707\n");
	hbc_close(a);
	ck_assert_int_eq(hbd_stop(d, SIGTERM), 0);
	hbc_close(c1);
	ck_assert_str_eq(sql_cli("state.db", ROWS),
	    "dev-a|offline|shutdown|1\ndev-b|offline|closed|1\n");

	d = start("", state_conf("state.db", ""));
	a = hbc_admin(d);
	hb_assert_match(seen_line(a, "dev-b"), "^SEEN dev-b state=offline ");
	ck_assert_str_eq(field(seen_line(a, "dev-b"), "since"),
	    field(before, "since"));
	ck_assert_str_eq(field(seen_line(a, "dev-b"), "last_seen"),
	    field(before, "last_seen"));
	ck_assert_str_eq(field(seen_line(a, "dev-b"), "addr"),
	    field(before, "addr"));
	expect_seen(a, "dev-a", "offline", "reason=shutdown sessions=1");
	c1 = hbc_named(d, 1, "dev-a");
	expect_seen(a, "dev-a", "online", "reason=shutdown sessions=2");
	hbd_finish(d, a, c1, NULL);
	state_rm();
}
END_TEST

/*
 * After SIGKILL, a name that was online comes back offline, reason lost,
 * since and last seen the last commit before the kill: at most a second
 * before it, and not before the name went online.
 */
START_TEST(test_state_kill)
{
	struct hbd	*d;
	struct hbc	*a, *c;
	const char	*line;
	long long	 online, killed, since;
	time_t		 t;

	d = start("", state_conf("state.db", ""));
	a = hbc_admin(d);
	c = hbc_named(d, 1, "dev-k");
	online = atoll(field(seen_line(a, "dev-k"), "for"));
	t = time(NULL);
	sql_wait("state.db", "SELECT state FROM seen", "online\n");
	killed = time(NULL);
	ck_assert_int_eq(hbd_stop(d, SIGKILL), 128 + SIGKILL);
	hbc_close(a);
	hbc_close(c);

	d = start("", state_conf("state.db", ""));
	a = hbc_admin(d);
	line = seen_line(a, "dev-k");
	hb_assert_match(line, "^SEEN dev-k state=offline addr=127\\.0\\.0\\."
	    "1:[0-9]+ since=" ISO " for=[0-9]+ last_seen=" ISO " reason=lost "
	    "sessions=1$");
	ck_assert_str_eq(sql_cli("state.db", "SELECT since = last_seen AND "
	    "since = (SELECT value FROM meta) FROM seen"), "1\n");
	since = atoll(sql_cli("state.db", "SELECT since FROM seen"));
	ck_assert_int_ge(since, (long long)t - online - 1);
	ck_assert_int_le(since, killed);
	ck_assert_int_ge(since, killed - 2);
	hbd_finish(d, a, NULL);
	state_rm();
}
END_TEST

/*
 * A state file that is not heartbeatd's, corrupt or another program's
 * database, is a config error: exit 78 with the cause, from -t too.
 */
START_TEST(test_state_refused)
{
	static const char *const why[] = {
		"not a heartbeatd state file: file is not a database",
		"not a heartbeatd state file: a SQLite database of another "
		    "application",
		"No such file or directory",
	};
	sqlite3		*h;
	FILE		*f;
	char		 file[PATH_MAX], text[PATH_MAX + 128];
	char		 want[PATH_MAX + 128];
	char		*conf, *out, *err;

	snprintf(file, sizeof(file), "%s/bad.db", state_dir());
	if (_i == 0) {
		ck_assert_ptr_nonnull(f = fopen(file, "w"));
		fprintf(f, "heartbeatd state, or so it says%01000d\n", 0);
		ck_assert_int_eq(fclose(f), 0);
	} else if (_i == 1) {
		ck_assert_int_eq(sqlite3_open(file, &h), SQLITE_OK);
		ck_assert_int_eq(sqlite3_exec(h, "CREATE TABLE seen (name)",
		    NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(h);
	} else
		snprintf(file, sizeof(file), "%s/none/bad.db", state_dir());
	snprintf(text, sizeof(text), "[admin]\nlisten =\n[state]\n"
	    "file = %s\n[log]\nsyslog = no\n", file);
	conf = hb_write_file("refused.conf", text);
	snprintf(want, sizeof(want), "heartbeatd: state file %s: %s\n", file,
	    why[_i]);
	ck_assert_int_eq(hb_run(&out, &err, "-t", "-c", conf, NULL), 78);
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(err, want);
	free(out);
	free(err);
	ck_assert_int_eq(hb_run(&out, &err, "-c", conf, NULL), 78);
	ck_assert_str_eq(out, "");
	if (_i == 2)
		snprintf(want, sizeof(want), "heartbeatd: state file %s: "
		    "cannot open: unable to open database file: %s\n", file,
		    why[_i]);
	ck_assert_str_eq(err, want);
	free(out);
	free(err);
	free(conf);
	state_rm();
}
END_TEST

/*
 * The state file cannot change on a reload; its other keys can, and the
 * registry goes on in the same file.
 */
START_TEST(test_state_reload)
{
	struct hbd	*d;
	struct hbc	*a, *c;
	FILE		*f;
	char		 conf[2 * PATH_MAX];

	d = start("", state_conf("state.db", ""));
	a = hbc_admin(d);
	c = hbc_named(d, 1, "dev-r");
	snprintf(conf, sizeof(conf), CONF_FMT, "", state_conf("other.db", ""));
	ck_assert_ptr_nonnull(f = fopen(d->conf, "w"));
	fputs(conf, f);
	ck_assert_int_eq(fclose(f), 0);
	hbc_expect_cmd(a, "RELOAD", "ERR config state.file cannot change on "
	    "reload", TMO);
	snprintf(conf, sizeof(conf), CONF_FMT, "", state_conf("state.db",
	    "remember = 1\n"));
	ck_assert_ptr_nonnull(f = fopen(d->conf, "w"));
	fputs(conf, f);
	ck_assert_int_eq(fclose(f), 0);
	hbc_expect_cmd(a, "RELOAD", "OK changed=state.remember", TMO);
	hbc_send(c, "HELLO dev-s\n");
	hbc_expect(c, "OK #1", TMO);
	hbc_expect_cmd(a, "SEEN dev-r", "ERR notfound never seen", TMO);
	sql_wait("state.db", ROWS, "dev-s|online|-|1\n");
	hbd_finish(d, a, c, NULL);
	snprintf(conf, sizeof(conf), "%s/other.db", state_dir());
	ck_assert_int_eq(access(conf, F_OK), -1);
	state_rm();
}
END_TEST

/* Connects a client, says HELLO name and expects "BYE flapping" and EOF. */
static void
refused(struct hbd *d, const char *name)
{
	struct hbc	*c;
	char		 buf[96];

	c = hbc_connect(d->port);
	snprintf(buf, sizeof(buf), "HELLO %s\n", name);
	hbc_send(c, buf);
	hbc_expect(c, "BYE flapping", TMO);
	hbc_expect_closed(c, TMO);
	hbc_close(c);
}

/*
 * Two clients that share a name replace each other: the session past
 * flap_limit starts a hold, said once in the log and to WATCH; it and
 * the holder get BYE flapping, and so does every HELLO for the name
 * until RELEASE, which lets the next one in.
 */
START_TEST(test_state_flapping)
{
	struct hbd	*d;
	struct hbc	*a, *w, *c[3];
	const char	*line;
	int		 i;

	d = start("flap_limit = 3\n", "");
	a = hbc_admin(d);
	for (i = 0; i < 3; i++) {
		c[i] = hbc_named(d, i + 1, "shared");
		if (i > 0) {
			hbc_expect(c[i - 1], "BYE replaced", TMO);
			hbc_close(c[i - 1]);
		}
	}
	refused(d, "shared");
	hbc_expect(c[2], "BYE flapping", TMO);
	hbc_expect_closed(c[2], TMO);
	hbc_close(c[2]);
	hbd_expect_log(d, "flapping name=shared sessions=4 hold=300", TMO);
	hbd_expect_disconnect(d, 3, "shared", "flapping");
	refused(d, "shared");
	hbd_expect_disconnect(d, 5, "-", "flapping");
	ck_assert_int_eq(hbd_log_count(d, "flapping name="), 1);
	ck_assert_int_eq(hbc_stat(a, "flapping"), 2);
	ck_assert_int_eq(hbc_stat(a, "replaced"), 2);
	expect_seen(a, "shared", "held", "reason=flapping sessions=3");
	expect_list(a, "held", (const char *const[]){ "shared" }, 1);
	w = hbc_admin(d);
	ck_assert_ptr_nonnull(line = hbc_cmd(w, "WATCH FROM 0 flapping", TMO));
	hb_assert_match(line, "^OK seq=[0-9]+$");
	hb_assert_match(hbc_readline(w, TMO),
	    "^EVENT [0-9]+ flapping name=shared sessions=4 hold=300$");
	hbc_expect_cmd(a, "RELEASE shared", "OK", TMO);
	hbc_expect_cmd(a, "RELEASE shared", "ERR notfound not held", TMO);
	hbc_expect_cmd(a, "RELEASE nobody", "ERR notfound not held", TMO);
	hbc_expect_cmd(a, "RELEASE", "ERR syntax usage: RELEASE <name>", TMO);
	expect_seen(a, "shared", "offline", "reason=flapping sessions=3");
	c[0] = hbc_named(d, 6, "shared");
	expect_seen(a, "shared", "online", "reason=flapping sessions=4");
	hbc_expect_silence(w, 100);
	hbd_finish(d, a, w, c[0], NULL);
}
END_TEST

/* A hold ends by itself after flap_hold, and the state file says so. */
START_TEST(test_state_flapping_ends)
{
	struct hbd	*d;
	struct hbc	*a, *c;

	d = start("flap_limit = 1\nflap_hold = 1\n", state_conf("state.db",
	    ""));
	a = hbc_admin(d);
	c = hbc_named(d, 1, "dev-f");
	hbc_close(c);
	hbd_expect_disconnect(d, 1, "dev-f", "closed");
	refused(d, "dev-f");
	expect_seen(a, "dev-f", "held", "reason=flapping sessions=1");
	sql_wait("state.db", ROWS, "dev-f|offline|flapping|1\n");
	expect_seen(a, "dev-f", "offline", "reason=flapping sessions=1");
	c = hbc_named(d, 3, "dev-f");
	hbd_finish(d, a, c, NULL);
	state_rm();
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s = suite_create("state");

	HB_TCASE(s, "seen", test_state_seen, 1);
	HB_TCASE(s, "restart", test_state_restart, 1);
	HB_TCASE(s, "kill", test_state_kill, 1);
	HB_TCASE(s, "refused", test_state_refused, 3);
	HB_TCASE(s, "reload", test_state_reload, 1);
	HB_TCASE(s, "flapping", test_state_flapping, 1);
	HB_TCASE(s, "flapping_ends", test_state_flapping_ends, 1);
	return (s);
}
