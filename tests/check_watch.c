/*
 * Integration tests for the admin WATCH command (SPEC §4): the live
 * event stream, its sequence numbers against LIST, the replay of WATCH
 * FROM from the backlog and its gaps, and a watcher that cannot keep up.
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
#define QUIET_MS	100	/* ms of silence that show nothing is sent */
#define PONG_MS		50	/* ms a PING may take while flooded */
#define FLOOD_LINE	1000	/* bytes of one data line in the flood */
#define FLOOD_CHUNK	200	/* data lines per write in the flood */

#define CONF_FMT							\
	"[server]\n"							\
	"listen = 127.0.0.1:0\n"					\
	"heartbeat_timeout = 30\n"					\
	"%s"								\
	"[admin]\n"							\
	"listen = 127.0.0.1:0\n"					\
	"%s"								\
	"[log]\n"							\
	"syslog = no\n"

/* A data line a client sends and the event text WATCH shows for it. */
struct escape {
	const char	*sent;
	size_t		 len;
	const char	*shown;
};

#define ESC(s, shown)	{ s, sizeof(s) - 1, shown }
static const struct escape escapes[] = {
	ESC("plain words\n", "plain words"),
	ESC("back\\slash\n", "back\\\\slash"),
	ESC("tab\tkept\n", "tab\tkept"),
	ESC("bell\a esc\x1b[0m del\x7f\n", "bell\\x07 esc\\x1b[0m del\\x7f"),
	ESC("nul\0byte\n", "nul\\x00byte"),
	ESC("cr\rinside\r\n", "cr\\x0dinside"),
	ESC("\x01\x1f\\x41\n", "\\x01\\x1f\\\\x41"),
	ESC("utf-8 \xc3\xa9 \xff\n", "utf-8 \xc3\xa9 \xff"),
	ESC("\n", ""),
};

/* A backlog setting, the data lines sent and the oldest event kept. */
struct gapcase {
	const char	*admin;
	int		 lines;		/* after the connect event */
	int		 oldest;
};

static const struct gapcase gapcases[] = {
	{ "watch_backlog = 3\n", 9, 8 },
	{ "watch_backlog = 0\n", 3, 5 },
	{ "watch_backlog = 1\n", 1, 2 },
};

static struct hbd	*start(const char *, const char *);
static struct hbc	*watch(struct hbd *, const char *,
			    unsigned long long *);
static void		 expect_event(struct hbc *, unsigned long long,
			    const char *);
static void		 expect_data(struct hbc *, unsigned long long, int,
			    const char *);
static unsigned long long list_seq(struct hbc *);
static void		 sync_client(struct hbc *);
static void		 send_data(struct hbc *, int, int);
static int		 pong_ms(struct hbc *);

/* Starts the daemon with extra [server] and [admin] lines. */
static struct hbd *
start(const char *server, const char *admin)
{
	char	 conf[1024];

	snprintf(conf, sizeof(conf), CONF_FMT, server, admin);
	return (hbd_start(conf));
}

/*
 * Opens an admin session, sends cmd (a WATCH) and asserts "OK seq=<n>";
 * stores n in *seq.
 */
static struct hbc *
watch(struct hbd *d, const char *cmd, unsigned long long *seq)
{
	struct hbc	*w;
	const char	*line;
	char		 end;

	w = hbc_admin(d);
	line = hbc_cmd(w, cmd, TMO);
	ck_assert_msg(line != NULL, "%s: no answer", cmd);
	ck_assert_msg(sscanf(line, "OK seq=%llu%c", seq, &end) == 1,
	    "%s: want \"OK seq=<n>\", got \"%s\"", cmd, line);
	hb_assert_match(line, "^OK seq=(0|[1-9][0-9]*)$");
	return (w);
}

/* The next line on w is "EVENT <seq> " followed by a match for re. */
static void
expect_event(struct hbc *w, unsigned long long seq, const char *re)
{
	const char	*line;
	char		 full[512];

	line = hbc_readline(w, TMO);
	ck_assert_msg(line != NULL, "no EVENT %llu", seq);
	snprintf(full, sizeof(full), "^EVENT %llu %s$", seq, re);
	hb_assert_match(line, full);
}

/* The next line on w is exactly "EVENT <seq> data #<id> <text>". */
static void
expect_data(struct hbc *w, unsigned long long seq, int id, const char *text)
{
	char	 want[2048];

	snprintf(want, sizeof(want), "EVENT %llu data #%d %s", seq, id, text);
	hbc_expect(w, want, TMO);
}

/* Sends LIST on a, skips the rows and returns the seq of its END line. */
static unsigned long long
list_seq(struct hbc *a)
{
	unsigned long long	 seq;
	const char		*line;

	hbc_send(a, "LIST\n");
	while ((line = hbc_readline(a, TMO)) != NULL &&
	    strncmp(line, "CLIENT #", 8) == 0)
		;
	ck_assert_msg(line != NULL, "LIST: no END");
	ck_assert_msg(sscanf(line, "END seq=%llu", &seq) == 1, "LIST: %s",
	    line);
	return (seq);
}

/* Waits until the daemon has handled all that c sent (PING makes no
 * event). */
static void
sync_client(struct hbc *c)
{
	hbc_send(c, "PING sync\n");
	hbc_expect(c, "PONG sync", TMO);
}

/* Sends the data lines "line <from>" .. "line <to - 1>" and syncs. */
static void
send_data(struct hbc *c, int from, int to)
{
	char	 line[32];
	int	 i;

	for (i = from; i < to; i++) {
		snprintf(line, sizeof(line), "line %d\n", i);
		hbc_send(c, line);
	}
	sync_client(c);
}

/* One PING round trip on c, in milliseconds. */
static int
pong_ms(struct hbc *c)
{
	long long	 t0;

	t0 = hb_now_ms();
	hbc_send(c, "PING t\n");
	hbc_expect(c, "PONG t", TMO);
	return (hb_now_ms() - t0);
}

/*
 * Every kind of event, live, numbered one by one from the n of "OK
 * seq=<n>"; PING and the admin's own commands make none.
 */
START_TEST(test_watch_live)
{
	struct hbd		*d;
	struct hbc		*w, *a, *c1, *c2;
	unsigned long long	 n;
	char			 re[256];
	int			 p1, p2;

	d = start("max_clients = 1\n", "");
	w = watch(d, "WATCH", &n);
	ck_assert_int_eq(n, 0);
	c1 = hbc_connect(d->port);
	p1 = hbc_local_port(c1);
	snprintf(re, sizeof(re), "connect #1 addr=127\\.0\\.0\\.1:%d( .*)?",
	    p1);
	expect_event(w, 1, re);
	hbc_send(c1, "PING\nHELLO dev-1\n");
	hbc_expect(c1, "PONG", TMO);
	hbc_expect(c1, "OK #1", TMO);
	expect_event(w, 2, "hello #1 name=dev-1");
	hbc_send(c1, "some data\n");
	expect_data(w, 3, 1, "some data");
	c2 = hbc_connect(d->port);
	p2 = hbc_local_port(c2);
	hbc_expect(c2, "BYE full", TMO);
	snprintf(re, sizeof(re), "reject addr=127\\.0\\.0\\.1:%d "
	    "reason=full", p2);
	expect_event(w, 4, re);
	hbc_send(c1, "QUIT\n");
	hbc_expect(c1, "BYE quit", TMO);
	snprintf(re, sizeof(re), "disconnect #1 (.* )?reason=quit( .*)?");
	expect_event(w, 5, re);
	a = hbc_admin(d);
	ck_assert_int_eq(list_seq(a), 5);
	hbd_finish(d, a, c1, c2, w, NULL);
}
END_TEST

/* Data lines are escaped to one line: \\, \xNN, tab kept, others as is. */
START_TEST(test_watch_escape)
{
	struct hbd		*d;
	struct hbc		*w, *c;
	unsigned long long	 n;
	size_t			 i;

	d = start("", "");
	c = hbc_connect(d->port);
	sync_client(c);
	w = watch(d, "WATCH", &n);
	ck_assert_int_eq(n, 1);
	for (i = 0; i < nitems(escapes); i++) {
		hbc_sendn(c, escapes[i].sent, escapes[i].len);
		expect_data(w, n + 1 + i, 1, escapes[i].shown);
	}
	hbd_finish(d, c, w, NULL);
}
END_TEST

/*
 * LIST's END seq=<n> then WATCH FROM <n>: exactly the events after the
 * snapshot, replayed, then the live ones, with no gap and no duplicate.
 */
START_TEST(test_watch_from_list)
{
	struct hbd		*d;
	struct hbc		*a, *w, *c;
	unsigned long long	 n, m;
	char			 text[32];
	int			 i;

	d = start("", "");
	a = hbc_admin(d);
	c = hbc_connect(d->port);
	send_data(c, 0, 10);
	n = list_seq(a);
	ck_assert_int_eq(n, 11);
	send_data(c, 10, 20);
	w = watch(d, "WATCH FROM 11", &m);
	ck_assert_int_eq(m, n + 10);
	send_data(c, 20, 25);
	for (i = 10; i < 25; i++) {
		snprintf(text, sizeof(text), "line %d", i);
		expect_data(w, n + 1 + (i - 10), 1, text);
	}
	hbc_expect_silence(w, 100);
	ck_assert_int_eq(list_seq(a), n + 15);
	hbd_finish(d, c, a, w, NULL);
}
END_TEST

/* FROM 0 replays every kept event in order, then streams live. */
START_TEST(test_watch_from_start)
{
	struct hbd		*d;
	struct hbc		*w, *c;
	unsigned long long	 n;

	d = start("", "");
	c = hbc_connect(d->port);
	hbc_send(c, "HELLO early\n");
	hbc_expect(c, "OK #1", TMO);
	send_data(c, 0, 2);
	w = watch(d, "watch from 0", &n);
	ck_assert_int_eq(n, 4);
	expect_event(w, 1, "connect #1 addr=127\\.0\\.0\\.1:[0-9]+( .*)?");
	expect_event(w, 2, "hello #1 name=early");
	expect_data(w, 3, 1, "line 0");
	expect_data(w, 4, 1, "line 1");
	hbc_send(c, "live\n");
	expect_data(w, 5, 1, "live");
	hbc_close(c);
	expect_event(w, 6, "disconnect #1 (.* )?reason=closed( .*)?");
	hbd_finish(d, w, NULL);
}
END_TEST

/*
 * With events 1 .. n kept back to `oldest` (none kept: oldest = n + 1),
 * FROM oldest - 2 and FROM 0 get "ERR gap oldest=<oldest>" and the
 * session goes on; FROM oldest - 1 replays what is kept, then streams.
 */
START_TEST(test_watch_gap)
{
	const struct gapcase	*g = &gapcases[_i];
	struct hbd		*d;
	struct hbc		*a, *w, *c;
	unsigned long long	 n, seq;
	char			 cmd[64], want[64], text[32];

	d = start("", g->admin);
	a = hbc_admin(d);
	c = hbc_connect(d->port);
	send_data(c, 0, g->lines);
	n = g->lines + 1;
	ck_assert_int_eq(list_seq(a), n);
	snprintf(want, sizeof(want), "ERR gap oldest=%d", g->oldest);
	snprintf(cmd, sizeof(cmd), "WATCH FROM %d", g->oldest - 2);
	ck_assert_str_eq(hbc_cmd(a, cmd, TMO), want);
	ck_assert_str_eq(hbc_cmd(a, "WATCH FROM 0", TMO), want);
	ck_assert_int_eq(list_seq(a), n);
	snprintf(cmd, sizeof(cmd), "WATCH FROM %d", g->oldest - 1);
	w = watch(d, cmd, &seq);
	ck_assert_int_eq(seq, n);
	for (seq = g->oldest; seq <= n; seq++) {
		snprintf(text, sizeof(text), "line %llu", seq - 2);
		expect_data(w, seq, 1, text);
	}
	hbc_send(c, "next\n");
	expect_data(w, n + 1, 1, "next");
	hbd_finish(d, c, a, w, NULL);
}
END_TEST

/* FROM a number above n streams from n+1, replaying nothing. */
START_TEST(test_watch_from_future)
{
	struct hbd		*d;
	struct hbc		*w, *c;
	unsigned long long	 n;

	d = start("", "");
	c = hbc_connect(d->port);
	send_data(c, 0, 2);
	w = watch(d, "WATCH FROM 1000", &n);
	ck_assert_int_eq(n, 3);
	hbc_send(c, "now\n");
	expect_data(w, 4, 1, "now");
	hbc_close(w);
	w = watch(d, "WATCH FROM 18446744073709551615", &n);
	ck_assert_int_eq(n, 4);
	hbc_send(c, "then\n");
	expect_data(w, 5, 1, "then");
	hbd_finish(d, c, w, NULL);
}
END_TEST

/* A bad WATCH is ERR syntax, and the session is not watching after it. */
START_TEST(test_watch_syntax)
{
#define USAGE	"ERR syntax usage: WATCH [FROM <seq>] [<verb>...]"
	static const struct {
		const char	*cmd;
		const char	*answer;
	} bad[] = {
		{ "WATCH FROM", USAGE },
		{ "WATCH FROM x", USAGE },
		{ "WATCH FROM -1", USAGE },
		{ "WATCH FROM 1x", USAGE },
		{ "WATCH from  1", USAGE },
		{ "WATCH FROM 1 2", "ERR syntax unknown verb: 2" },
		{ "WATCH SINCE 1", "ERR syntax unknown verb: SINCE" },
		{ "WATCH 5", "ERR syntax unknown verb: 5" },
		{ "WATCH connect connects",
		    "ERR syntax unknown verb: connects" },
		{ "WATCH data FROM 1", "ERR syntax unknown verb: FROM" },
		{ "WATCH FROM 1 hello,data", "ERR syntax unknown verb: "
		    "hello,data" },
	};
#undef USAGE
	struct hbd		*d;
	struct hbc		*a, *c;
	size_t			 i;

	d = start("", "");
	a = hbc_admin(d);
	for (i = 0; i < nitems(bad); i++)
		ck_assert_str_eq(hbc_cmd(a, bad[i].cmd, TMO), bad[i].answer);
	c = hbc_connect(d->port);
	sync_client(c);
	ck_assert_int_eq(list_seq(a), 1);
	hbd_finish(d, c, a, NULL);
}
END_TEST

/*
 * WATCH with verbs streams only those events, replayed or live, each with
 * the daemon's own number: the gaps are the events left out. Verbs are
 * words of any case, in any order, repeated or not.
 */
START_TEST(test_watch_filter)
{
	static const char	*cmds[] = {
		"WATCH connect disconnect",
		"watch DISCONNECT Connect connect",
		"WATCH FROM 0 connect disconnect",
	};
	struct hbd		*d;
	struct hbc		*w, *all, *c1, *c2;
	unsigned long long	 n;

	d = start("", "");
	all = watch(d, "WATCH", &n);
	w = watch(d, cmds[_i], &n);
	ck_assert_int_eq(n, 0);
	c1 = hbc_connect(d->port);
	hbc_send(c1, "HELLO dev-1\nreading=1\nreading=2\n");
	hbc_expect(c1, "OK #1", TMO);
	c2 = hbc_connect(d->port);
	hbc_send(c2, "QUIT\n");
	hbc_expect(c2, "BYE quit", TMO);
	hbc_send(c1, "reading=3\n");
	sync_client(c1);
	expect_event(all, 1, "connect #1 .*");
	expect_event(all, 2, "hello #1 name=dev-1");
	expect_data(all, 3, 1, "reading=1");
	expect_data(all, 4, 1, "reading=2");
	expect_event(all, 5, "connect #2 .*");
	expect_event(all, 6, "disconnect #2 .*reason=quit.*");
	expect_data(all, 7, 1, "reading=3");
	expect_event(w, 1, "connect #1 .*");
	expect_event(w, 5, "connect #2 .*");
	expect_event(w, 6, "disconnect #2 .*reason=quit.*");
	hbc_expect_silence(w, QUIET_MS);
	hbc_close(c1);
	expect_event(w, 8, "disconnect #1 .*reason=closed.*");
	hbd_finish(d, w, all, c2, NULL);
}
END_TEST

/*
 * A filtered watcher resumes exactly: FROM the last number it saw
 * replays the kept events of its kinds after it, then the live ones,
 * however many other events came between.
 */
START_TEST(test_watch_filter_from)
{
	struct hbd		*d;
	struct hbc		*w, *c;
	unsigned long long	 n;

	d = start("", "");
	c = hbc_connect(d->port);
	send_data(c, 0, 3);
	hbc_send(c, "HELLO dev-1\n");
	hbc_expect(c, "OK #1", TMO);
	w = watch(d, "WATCH FROM 0 hello", &n);
	ck_assert_int_eq(n, 5);
	expect_event(w, 5, "hello #1 name=dev-1");
	hbc_close(w);
	send_data(c, 3, 6);
	hbc_send(c, "HELLO dev-2\nHELLO dev-3\n");
	hbc_expect(c, "OK #1", TMO);
	hbc_expect(c, "OK #1", TMO);
	w = watch(d, "WATCH FROM 5 hello data", &n);
	ck_assert_int_eq(n, 10);
	expect_data(w, 6, 1, "line 3");
	expect_data(w, 7, 1, "line 4");
	expect_data(w, 8, 1, "line 5");
	expect_event(w, 9, "hello #1 name=dev-2");
	expect_event(w, 10, "hello #1 name=dev-3");
	hbc_close(w);
	w = watch(d, "WATCH FROM 8 hello", &n);
	ck_assert_int_eq(n, 10);
	expect_event(w, 9, "hello #1 name=dev-2");
	expect_event(w, 10, "hello #1 name=dev-3");
	hbc_send(c, "not shown\nHELLO dev-4\n");
	hbc_expect(c, "OK #1", TMO);
	expect_event(w, 12, "hello #1 name=dev-4");
	hbc_expect_silence(w, QUIET_MS);
	hbd_finish(d, c, w, NULL);
}
END_TEST

/*
 * A watching session answers nothing but QUIT: the commands it sends are
 * skipped, the next line is the next event, and QUIT ends the stream.
 */
START_TEST(test_watch_commands_ignored)
{
	struct hbd		*d;
	struct hbc		*w, *c;
	unsigned long long	 n;

	d = start("", "");
	w = watch(d, "WATCH", &n);
	hbc_send(w, "LIST\nSTATS\nHELP\nBOGUS\nWATCH\nKICK #1\nRELOAD\n\n");
	c = hbc_connect(d->port);
	expect_event(w, n + 1, "connect #1 addr=[^ ]+( .*)?");
	sync_client(c);
	hbc_send(c, "still here\n");
	expect_data(w, n + 2, 1, "still here");
	hbc_send(w, "quit\n");
	hbc_expect(w, "BYE quit", TMO);
	hbc_expect_closed(w, TMO);
	hbd_finish(d, c, w, NULL);
}
END_TEST

/*
 * A watcher that does not read falls send_buffer_limit behind while a
 * client floods data lines: the daemon goes on answering others at once,
 * and the watcher, reading at last, finds its events in order up to
 * "ERR overflow", then the end of the connection.
 */
START_TEST(test_watch_overflow)
{
	struct hbd		*d;
	struct hbc		*w, *c, *p;
	unsigned long long	 n, seq, last;
	const char		*line;
	char			*chunk;
	long			 lines, i;
	int			 rcvbuf = 4096, j, worst = 0, ms;

	d = start("send_buffer_limit = 2048\n", "watch_backlog = 10\n");
	w = watch(d, "WATCH", &n);
	ck_assert_int_eq(setsockopt(w->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
	    sizeof(rcvbuf)), 0);
	c = hbc_connect(d->port);
	p = hbc_connect(d->port);
	sync_client(p);
	chunk = malloc(FLOOD_CHUNK * FLOOD_LINE);
	ck_assert_ptr_nonnull(chunk);
	memset(chunk, 'x', FLOOD_CHUNK * FLOOD_LINE);
	for (j = 1; j <= FLOOD_CHUNK; j++)
		chunk[j * FLOOD_LINE - 1] = '\n';
	/* Twice what the kernel may buffer on the way to the watcher. */
	lines = 2 * hb_tcp_wmem_max() / FLOOD_LINE + 2000;
	for (i = 0; i < lines; i += FLOOD_CHUNK) {
		hbc_sendn(c, chunk, FLOOD_CHUNK * FLOOD_LINE);
		if ((ms = pong_ms(p)) > worst)
			worst = ms;
	}
	sync_client(c);
	ck_assert_msg(worst < PONG_MS, "a PING took %d ms while flooded",
	    worst);
	free(chunk);
	/* Reading at last: events in order, then ERR overflow and EOF. */
	last = n;
	while ((line = hbc_readline(w, TMO)) != NULL &&
	    strncmp(line, "EVENT ", 6) == 0) {
		ck_assert_msg(sscanf(line, "EVENT %llu ", &seq) == 1, "%.80s",
		    line);
		ck_assert_msg(seq == last + 1, "EVENT %llu after %llu", seq,
		    last);
		last = seq;
	}
	ck_assert_msg(line != NULL, "no ERR overflow after EVENT %llu", last);
	ck_assert_str_eq(line, "ERR overflow");
	hbc_expect_closed(w, TMO);
	ck_assert_msg(last < n + 2 + (unsigned long long)lines,
	    "the watcher got all %ld events", lines);
	hbc_close(w);
	/* The flood and the daemon go on. */
	hbc_send(c, "after\n");
	sync_client(c);
	sync_client(p);
	hbd_finish(d, c, p, NULL);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s;

	s = suite_create("watch");
	HB_TCASE(s, "live", test_watch_live, 1);
	HB_TCASE(s, "escape", test_watch_escape, 1);
	HB_TCASE(s, "from_list", test_watch_from_list, 1);
	HB_TCASE(s, "from_start", test_watch_from_start, 1);
	HB_TCASE(s, "gap", test_watch_gap, nitems(gapcases));
	HB_TCASE(s, "from_future", test_watch_from_future, 1);
	HB_TCASE(s, "syntax", test_watch_syntax, 1);
	HB_TCASE(s, "filter", test_watch_filter, 3);
	HB_TCASE(s, "filter_from", test_watch_filter_from, 1);
	HB_TCASE(s, "commands_ignored", test_watch_commands_ignored, 1);
	HB_TCASE(s, "overflow", test_watch_overflow, 1);
	return (s);
}
