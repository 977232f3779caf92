/*
 * Integration tests for the last-seen registry (SPEC §11): SEEN's one
 * line for an exact name, its lists, and the names a second HELLO and a
 * disconnect leave offline.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

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
static struct hbc	*named(struct hbd *, int, const char *);
static void		 expect_seen(struct hbc *, const char *,
			    const char *, const char *);
static void		 expect_list(struct hbc *, const char *,
			    const char *const *, size_t);

/* Starts the daemon with extra [server] and [state] lines. */
static struct hbd *
start(const char *server, const char *state)
{
	char	 conf[1024];

	snprintf(conf, sizeof(conf), CONF_FMT, server, state);
	return (hbd_start(conf));
}

/* Connects client #id and names it. */
static struct hbc *
named(struct hbd *d, int id, const char *name)
{
	struct hbc	*c;
	char		 buf[96];

	c = hbc_connect(d->port);
	snprintf(buf, sizeof(buf), "HELLO %s\n", name);
	hbc_send(c, buf);
	snprintf(buf, sizeof(buf), "OK #%d", id);
	hbc_expect(c, buf, TMO);
	return (c);
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
	ck_assert_str_eq(hbc_cmd(a, "SEEN dev-a", TMO),
	    "ERR notfound never seen");
	ck_assert_str_eq(hbc_cmd(a, "seen", TMO),
	    "ERR syntax usage: SEEN <name> | SEEN <selector>");
	ck_assert_str_eq(hbc_cmd(a, "SEEN for>x", TMO),
	    "ERR syntax bad selector word: for>x");
	expect_list(a, "online", NULL, 0);
	c1 = named(d, 1, "dev-a");
	expect_seen(a, "dev-a", "online", "reason=- sessions=1");
	hbc_send(c1, "HELLO dev-b\n");
	hbc_expect(c1, "OK #1", TMO);
	expect_seen(a, "dev-a", "offline", "reason=renamed sessions=1");
	c2 = named(d, 2, "dev-c");
	expect_list(a, "online", all + 1, 2);
	expect_list(a, "OFFLINE", all, 1);
	expect_list(a, "for<100000", all, 3);
	expect_list(a, "for>100000", NULL, 0);
	expect_list(a, "online offline", NULL, 0);
	expect_list(a, "dev-a offline", all, 1);
	expect_list(a, "dev-a online", NULL, 0);
	expect_list(a, "held", NULL, 0);
	ck_assert_str_eq(hbc_cmd(a, "KICK dev-c", TMO), "OK");
	hbc_expect(c2, "BYE kicked", TMO);
	hbc_expect_closed(c2, TMO);
	hbc_close(c2);
	expect_seen(a, "dev-c", "offline", "reason=kicked sessions=1");
	c3 = named(d, 3, "dev-a");
	expect_seen(a, "dev-a", "online", "reason=renamed sessions=2");
	hbd_finish(d, a, c1, c3, NULL);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s = suite_create("state");

	HB_TCASE(s, "seen", test_state_seen, 1);
	return (s);
}
