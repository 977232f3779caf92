/*
 * Unit tests for src/proto.c: line framing, command words, client names,
 * admin targets, the escaping of data lines and admin messages.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <check.h>

#include "check_main.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "heartbeatd.h"
#include "proto.h"
#include "util.h"

#define NITEMS(a)	((int)(sizeof(a) / sizeof((a)[0])))
#define MAX		16	/* max_line in the framing tests */
#define NLINES		8	/* lines one collect keeps */
#define LINESZ		64	/* bytes of each */
#define WHY_START	"must start with a letter or digit"

/* The lines linebuf_feed() delivered, and when the callback says stop. */
struct collect {
	char	 line[NLINES][LINESZ];
	size_t	 len[NLINES];
	size_t	 n;
	size_t	 stop_after;	/* lines; 0: never stop */
	int	 pause;		/* pause after every line */
	size_t	 partial;	/* bytes kept in the linebuf at the end */
};

/* A byte string that may hold NUL bytes; len 0 means strlen(s). */
struct bytes {
	const char	*s;
	size_t		 len;
};

static int	 collect_cb(void *, const char *, size_t);
static int	 feed_split(struct collect *, const char *, size_t, size_t);
static int	 feed_chunks(struct collect *, const char *, size_t, size_t);
static void	 assert_line(const struct collect *, size_t, const char *,
		    size_t);
static void	 assert_max(size_t, const char *, int, size_t, size_t);
static void	 assert_result(int, const char *, const char *,
		    const char *);
static size_t	 fill(char *, size_t, const char *);
static size_t	 blen(const struct bytes *);
static size_t	 unescape(const char *, char *);

/*
 * A stream that mixes "\n" and "\r\n", empty lines, a doubled "\r", a "\r"
 * inside a line, a NUL byte and a trailing partial line; it is fed in
 * every chunk size from one byte to all of it at once.
 */
static const char	 stream[] =
    "PING\r\nHELLO x\n\na\r\r\nb\rc\nz\0y\n\r\nlast";
static const struct bytes stream_lines[] = {
	{ "PING", 0 },
	{ "HELLO x", 0 },
	{ "", 0 },
	{ "a\r", 0 },
	{ "b\rc", 0 },
	{ "z\0y", 3 },
	{ "", 0 },
};
#define STREAM_LEN	(sizeof(stream) - 1)
#define STREAM_PARTIAL	4	/* "last" */

static const struct {
	const char	*line;
	const char	*cmd;
	int		 is;
} commands[] = {
	{ "PING",		"PING",		1 },
	{ "ping",		"PING",		1 },
	{ "PiNg payload",	"PING",		1 },
	{ "hello x",		"HELLO",	1 },
	{ "QUIT now",		"QUIT",		1 },
	{ "PINGX",		"PING",		0 },
	{ "PINGX y",		"PING",		0 },
	{ "PIN",		"PING",		0 },
	{ "PIN G",		"PING",		0 },
	{ " PING",		"PING",		0 },
	{ "",			"PING",		0 },
	{ "QUIT",		"PING",		0 },
};

/* Names and the ERR badname reason for each; NULL: valid. */
static const struct {
	struct bytes	 name;
	const char	*why;
} names[] = {
	{ { "a", 0 },			NULL },
	{ { "Z", 0 },			NULL },
	{ { "7", 0 },			NULL },
	{ { "sensor-7", 0 },		NULL },
	{ { "a.b_c:d@e-f", 0 },		NULL },
	{ { "0.-_:@", 0 },		NULL },
	{ { "AZaz09", 0 },		NULL },
	{ { "", 0 },			"missing name" },
	{ { "-a", 0 },			WHY_START },
	{ { ".a", 0 },			WHY_START },
	{ { "_a", 0 },			WHY_START },
	{ { ":a", 0 },			WHY_START },
	{ { "@a", 0 },			WHY_START },
	{ { " a", 0 },			WHY_START },
	{ { "\0a", 2 },			WHY_START },
	{ { "\xc3\xa9t\xc3\xa9", 0 },	WHY_START },
	{ { "\xe9", 0 },		WHY_START },
	{ { "caf\xc3\xa9", 0 },		"invalid character" },
	{ { "a\x80", 0 },		"invalid character" },
	{ { "a\xff", 0 },		"invalid character" },
	{ { "a b", 0 },			"invalid character" },
	{ { "a\tb", 0 },		"invalid character" },
	{ { "a\0b", 3 },		"invalid character" },
	{ { "a\0", 2 },			"invalid character" },
	{ { "a/b", 0 },			"invalid character" },
	{ { "a,b", 0 },			"invalid character" },
	{ { "a#b", 0 },			"invalid character" },
	{ { "a+b", 0 },			"invalid character" },
	{ { "a=b", 0 },			"invalid character" },
	{ { "a\r", 0 },			"invalid character" },
	{ { "a\x7f", 0 },		"invalid character" },
};

#define WHY_KV	"option is not key=value"

/* HELLO's arguments: the name and token taken out of them, or why not. */
static const struct {
	const char	*args;
	const char	*name;
	const char	*token;
	int		 rv;
	const char	*why;
} hellos[] = {
	{ "sensor-7",		"sensor-7",	NULL,	0, NULL },
	{ " sensor-7",		"sensor-7",	NULL,	0, NULL },
	{ "sensor-7 ",		"sensor-7",	NULL,	0, NULL },
	{ "   x   ",		"x",		NULL,	0, NULL },
	{ "x token=v1.0.ab",	"x",		"v1.0.ab", 0, NULL },
	{ " x  token=t  ",	"x",		"t",	0, NULL },
	{ "x token==",		"x",		"=",	0, NULL },
	{ "",			NULL,	NULL, HELLO_BADNAME, "missing name" },
	{ " ",			NULL,	NULL, HELLO_BADNAME, "missing name" },
	{ "    ",		NULL,	NULL, HELLO_BADNAME, "missing name" },
	{ "-x",			NULL,	NULL, HELLO_BADNAME, WHY_START },
	{ " -x ",		NULL,	NULL, HELLO_BADNAME, WHY_START },
	{ "x!",			NULL,	NULL, HELLO_BADNAME,
	    "invalid character" },
	{ "\tx",		NULL,	NULL, HELLO_BADNAME, WHY_START },
	{ "token=x",		NULL,	NULL, HELLO_BADNAME,
	    "invalid character" },
	{ "a b",		NULL,	NULL, HELLO_SYNTAX, WHY_KV },
	{ " a  b ",		NULL,	NULL, HELLO_SYNTAX, WHY_KV },
	{ "a b c",		NULL,	NULL, HELLO_SYNTAX, WHY_KV },
	{ "a token=",		NULL,	NULL, HELLO_SYNTAX, WHY_KV },
	{ "a =x",		NULL,	NULL, HELLO_SYNTAX, WHY_KV },
	{ "a color=red",	NULL,	NULL, HELLO_SYNTAX, "unknown option" },
	{ "a timeout=1 timeout=2", NULL, NULL, HELLO_SYNTAX,
	    "duplicate option" },
	{ "x timeout=2.5 token=t", "x",	"t",	0, NULL },
	{ "a Token=x",		NULL,	NULL, HELLO_SYNTAX, "unknown option" },
	{ "a token=x token=y",	NULL,	NULL, HELLO_SYNTAX,
	    "duplicate option" },
};

/* Admin targets; addr is the address a TARGET_ADDR must hold. */
static const struct {
	struct bytes		 s;
	int			 ok;
	enum target_kind	 kind;
	uint64_t		 id;
	const char		*addr;
} targets[] = {
	{ { "#1", 0 },			1, TARGET_ID, 1, NULL },
	{ { "#42", 0 },			1, TARGET_ID, 42, NULL },
	{ { "#18446744073709551615", 0 }, 1, TARGET_ID, UINT64_MAX, NULL },
	{ { "@127.0.0.1:5", 0 },	1, TARGET_ADDR, 0, "127.0.0.1:5" },
	{ { "@192.0.2.7:53311", 0 },	1, TARGET_ADDR, 0, "192.0.2.7:53311" },
	{ { "@[::1]:5", 0 },		1, TARGET_ADDR, 0, "[::1]:5" },
	{ { "@[2001:db8::7]:7000", 0 },	1, TARGET_ADDR, 0,
	    "[2001:db8::7]:7000" },
	{ { "sensor-7", 0 },		1, TARGET_NAME, 0, NULL },
	{ { "a", 0 },			1, TARGET_NAME, 0, NULL },
	{ { "0.-_:@", 0 },		1, TARGET_NAME, 0, NULL },
	{ { "#0", 0 },			0, 0, 0, NULL },
	{ { "#", 0 },			0, 0, 0, NULL },
	{ { "#abc", 0 },		0, 0, 0, NULL },
	{ { "#1a", 0 },			0, 0, 0, NULL },
	{ { "#-1", 0 },			0, 0, 0, NULL },
	{ { "#+1", 0 },			0, 0, 0, NULL },
	{ { "# 1", 0 },			0, 0, 0, NULL },
	{ { "#18446744073709551616", 0 }, 0, 0, 0, NULL },
	{ { "#184467440737095516150", 0 }, 0, 0, 0, NULL },
	/* A NUL byte does not end a target: the bytes after it count. */
	{ { "#1\0", 3 },		0, 0, 0, NULL },
	{ { "#1\0" "2", 4 },		0, 0, 0, NULL },
	{ { "@[::1]:5\0", 9 },		0, 0, 0, NULL },
	{ { "@bad", 0 },		0, 0, 0, NULL },
	{ { "@", 0 },			0, 0, 0, NULL },
	{ { "@127.0.0.1", 0 },		0, 0, 0, NULL },
	{ { "@localhost:5", 0 },	0, 0, 0, NULL },
	{ { "@::1:5", 0 },		0, 0, 0, NULL },
	{ { "@[::1]:5 ", 0 },		0, 0, 0, NULL },
	{ { "@@[::1]:5", 0 },		0, 0, 0, NULL },
	{ { "", 0 },			0, 0, 0, NULL },
	{ { "-x", 0 },			0, 0, 0, NULL },
	{ { "a b", 0 },			0, 0, 0, NULL },
	{ { "a!", 0 },			0, 0, 0, NULL },
	{ { "caf\xc3\xa9", 0 },		0, 0, 0, NULL },
};

static const struct {
	struct bytes	 in;
	const char	*out;
} escapes[] = {
	{ { "", 0 },			"" },
	{ { "plain text 123", 0 },	"plain text 123" },
	{ { "a\\b", 0 },		"a\\\\b" },
	{ { "\\", 0 },			"\\\\" },
	{ { "\\x00", 0 },		"\\\\x00" },
	{ { "\0", 1 },			"\\x00" },
	{ { "a\0b", 3 },		"a\\x00b" },
	{ { "\x01\x1f", 0 },		"\\x01\\x1f" },
	{ { "\x1b[1m", 0 },		"\\x1b[1m" },
	{ { "\r\n", 0 },		"\\x0d\\x0a" },
	{ { "a\tb", 0 },		"a\tb" },
	{ { " ", 0 },			" " },
	{ { "~\x7f", 0 },		"~\\x7f" },
	{ { "\x80\xff caf\xc3\xa9", 0 }, "\x80\xff caf\xc3\xa9" },
};

/* Admin messages with max 16: the ERR code, or NULL when accepted. */
static const struct {
	struct bytes	 msg;
	const char	*code;
} messages[] = {
	{ { "x", 0 },				NULL },
	{ { "hello world", 0 },			NULL },
	{ { " leading and ", 0 },		NULL },
	{ { "tab\there", 0 },			NULL },
	{ { "caf\xc3\xa9", 0 },			NULL },
	{ { "0123456789abcdef", 0 },		NULL },
	{ { "0123456789abcdefg", 0 },		"toolong" },
	{ { "", 0 },				"syntax" },
	{ { "a\rb", 0 },			"syntax" },
	{ { "\r", 0 },				"syntax" },
	{ { "a\0b", 3 },			"syntax" },
	{ { "\0", 1 },				"syntax" },
	{ { "0123456789abcdef\r", 0 },		"syntax" },
};

/* The close reasons of SPEC §3, §9 and §12, in enum order. */
static const char *const spec_reasons[] = {
	"closed", "reset", "timeout", "quit", "kicked", "replaced",
	"toolong", "overflow", "shutdown", "full", "per-ip",
	"handshake", "auth", "proxy", "flapping"
};

static int
collect_cb(void *arg, const char *line, size_t len)
{
	struct collect	*col = arg;

	ck_assert_uint_lt(col->n, NLINES);
	ck_assert_uint_lt(len, LINESZ);
	memcpy(col->line[col->n], line, len);
	col->len[col->n++] = len;
	if (col->stop_after != 0 && col->n == col->stop_after)
		return (-1);
	return (col->pause);
}

/*
 * Feeds data to a fresh linebuf in two reads, the first of at bytes.
 * Returns the first result other than LINE_OK, or LINE_OK; col->partial
 * is what the linebuf kept. The linebuf is cleared.
 */
static int
feed_split(struct collect *col, const char *data, size_t len, size_t at)
{
	struct linebuf	 lb;
	int		 rv;

	memset(&lb, 0, sizeof(lb));
	rv = linebuf_feed(&lb, data, at, MAX, collect_cb, col);
	if (rv == LINE_OK)
		rv = linebuf_feed(&lb, data + at, len - at, MAX, collect_cb,
		    col);
	col->partial = lb.len;
	linebuf_clear(&lb);
	return (rv);
}

/* As feed_split(), in reads of chunk bytes, max_line 1024. */
static int
feed_chunks(struct collect *col, const char *data, size_t len, size_t chunk)
{
	struct linebuf	 lb;
	size_t		 n;
	int		 rv = LINE_OK;

	memset(&lb, 0, sizeof(lb));
	while (len > 0 && rv == LINE_OK) {
		n = len < chunk ? len : chunk;
		rv = linebuf_feed(&lb, data, n, 1024, collect_cb, col);
		data += n;
		len -= n;
	}
	col->partial = lb.len;
	linebuf_clear(&lb);
	return (rv);
}

static void
assert_line(const struct collect *col, size_t i, const char *s, size_t len)
{
	ck_assert_uint_gt(col->n, i);
	ck_assert_uint_eq(col->len[i], len);
	ck_assert_mem_eq(col->line[i], s, len);
}

/* Checks a 0, or -1 with a reason, against want (NULL: 0). */
static void
assert_result(int rv, const char *got, const char *want, const char *what)
{
	if (want == NULL)
		ck_assert_msg(rv == 0, "\"%s\": %s", what, got);
	else {
		ck_assert_msg(rv == -1, "\"%s\" passed", what);
		ck_assert_str_eq(got, want);
	}
}

/* Writes n bytes of "a" and then suffix into buf; returns the length. */
static size_t
fill(char *buf, size_t n, const char *suffix)
{
	memset(buf, 'a', n);
	memcpy(buf + n, suffix, strlen(suffix));
	return (n + strlen(suffix));
}

static size_t
blen(const struct bytes *b)
{
	return (b->len != 0 ? b->len : strlen(b->s));
}

/* Decodes what proto_escape() wrote; returns the length. */
static size_t
unescape(const char *s, char *out)
{
	size_t	 o = 0;

	while (*s != '\0') {
		if (s[0] == '\\' && s[1] == '\\') {
			out[o++] = '\\';
			s += 2;
		} else if (s[0] == '\\' && s[1] == 'x') {
			ck_assert(strchr("0123456789abcdef", s[2]) != NULL);
			ck_assert(strchr("0123456789abcdef", s[3]) != NULL);
			out[o++] = (char)strtoul((char[]){ s[2], s[3], '\0' },
			    NULL, 16);
			s += 4;
		} else {
			ck_assert(s[0] != '\\');
			out[o++] = *s++;
		}
	}
	return (o);
}

START_TEST(test_proto_linebuf_chunks)
{
	struct collect	 col;
	int		 i;

	memset(&col, 0, sizeof(col));
	ck_assert_int_eq(feed_chunks(&col, stream, STREAM_LEN, _i), LINE_OK);
	ck_assert_uint_eq(col.n, NITEMS(stream_lines));
	for (i = 0; i < NITEMS(stream_lines); i++)
		assert_line(&col, i, stream_lines[i].s,
		    blen(&stream_lines[i]));
	ck_assert_uint_eq(col.partial, STREAM_PARTIAL);
}
END_TEST

START_TEST(test_proto_linebuf_cr)
{
	struct collect	 col;

	/* Only one "\r" goes, even when it came in a read of its own. */
	memset(&col, 0, sizeof(col));
	ck_assert_int_eq(feed_split(&col, "a\r\r\n", 4, 3), LINE_OK);
	ck_assert_int_eq(feed_split(&col, "\r\n", 2, 1), LINE_OK);
	ck_assert_int_eq(feed_split(&col, "\r\r\n", 3, 1), LINE_OK);
	ck_assert_int_eq(feed_split(&col, "\n\r", 2, 1), LINE_OK);
	ck_assert_uint_eq(col.n, 4);
	assert_line(&col, 0, "a\r", 2);
	assert_line(&col, 1, "", 0);
	assert_line(&col, 2, "\r", 1);
	assert_line(&col, 3, "", 0);
	ck_assert_uint_eq(col.partial, 1);
}
END_TEST

START_TEST(test_proto_linebuf_nul)
{
	struct collect	 col;

	memset(&col, 0, sizeof(col));
	ck_assert_int_eq(feed_split(&col, "\0\n\0\0x\r\n", 7, 2), LINE_OK);
	ck_assert_int_eq(feed_split(&col, "\0\0x\n", 4, 1), LINE_OK);
	ck_assert_uint_eq(col.n, 3);
	assert_line(&col, 0, "\0", 1);
	assert_line(&col, 1, "\0\0x", 3);
	assert_line(&col, 2, "\0\0x", 3);
}
END_TEST

/*
 * Feeds n bytes of "a" and then suffix with max_line MAX, in two reads
 * split at every point, and checks the result, the number of lines
 * delivered (each n bytes long) and, when LINE_OK, the partial kept.
 */
static void
assert_max(size_t n, const char *suffix, int want, size_t lines,
    size_t partial)
{
	struct collect	 col;
	char		 buf[MAX * 2];
	size_t		 at, len;

	len = fill(buf, n, suffix);
	for (at = 0; at <= len; at++) {
		memset(&col, 0, sizeof(col));
		ck_assert_msg(feed_split(&col, buf, len, at) == want,
		    "%zu bytes + \"%s\" split at %zu", n, suffix, at);
		ck_assert_uint_eq(col.n, lines);
		if (lines > 0)
			ck_assert_uint_eq(col.len[0], n);
		if (want == LINE_OK)
			ck_assert_uint_eq(col.partial, partial);
	}
}

START_TEST(test_proto_linebuf_max_ok)
{
	assert_max(MAX, "\n", LINE_OK, 1, 0);
	assert_max(MAX, "\r\n", LINE_OK, 1, 0);
	assert_max(MAX - 1, "\r\n", LINE_OK, 1, 0);
	assert_max(MAX, "\r", LINE_OK, 0, MAX + 1);
	assert_max(MAX + 1, "", LINE_OK, 0, MAX + 1);
	assert_max(0, "\n", LINE_OK, 1, 0);
}
END_TEST

START_TEST(test_proto_linebuf_max_toolong)
{
	assert_max(MAX + 1, "\n", LINE_TOOLONG, 0, 0);
	assert_max(MAX + 1, "\r\n", LINE_TOOLONG, 0, 0);
	assert_max(MAX, "\r\r\n", LINE_TOOLONG, 0, 0);
	assert_max(MAX, "\r\r", LINE_TOOLONG, 0, 0);
	assert_max(MAX + 2, "", LINE_TOOLONG, 0, 0);
	assert_max(MAX * 2 - 1, "\n", LINE_TOOLONG, 0, 0);
}
END_TEST

START_TEST(test_proto_linebuf_max_after_lines)
{
	struct collect	 col;
	char		 buf[MAX * 2];
	size_t		 len;

	/* The lines before a long one are delivered; nothing after it. */
	memcpy(buf, "ok\n", 3);
	len = 3 + fill(buf + 3, MAX + 1, "\nno\n");
	memset(&col, 0, sizeof(col));
	ck_assert_int_eq(feed_split(&col, buf, len, len), LINE_TOOLONG);
	ck_assert_uint_eq(col.n, 1);
	assert_line(&col, 0, "ok", 2);
}
END_TEST

START_TEST(test_proto_linebuf_stop)
{
	struct collect	 col;
	size_t		 at;

	for (at = 0; at <= 6; at++) {
		memset(&col, 0, sizeof(col));
		col.stop_after = 1;
		ck_assert_int_eq(feed_split(&col, "a\nb\nc\n", 6, at),
		    LINE_STOPPED);
		ck_assert_uint_eq(col.n, 1);
		assert_line(&col, 0, "a", 1);

		memset(&col, 0, sizeof(col));
		col.stop_after = 2;
		ck_assert_int_eq(feed_split(&col, "a\nb\nc\n", 6, at),
		    LINE_STOPPED);
		ck_assert_uint_eq(col.n, 2);
		assert_line(&col, 1, "b", 1);
	}
}
END_TEST

START_TEST(test_proto_linebuf_stop_chunks)
{
	struct collect	 col;

	memset(&col, 0, sizeof(col));
	col.stop_after = 2;
	ck_assert_int_eq(feed_chunks(&col, stream, STREAM_LEN, _i),
	    LINE_STOPPED);
	ck_assert_uint_eq(col.n, 2);
	assert_line(&col, 1, "HELLO x", 7);
}
END_TEST

/*
 * A callback that pauses after every line gets the same lines, in chunks
 * of every size, as one that does not, once each pause is resumed: the
 * bytes after a paused line wait in the linebuf, partial line included.
 */
START_TEST(test_proto_linebuf_pause)
{
	static const char	 data[] = "a\nbb\r\n\nccc\ndd";
	struct collect		 col;
	struct linebuf		 lb;
	size_t			 chunk, off, n;
	int			 rv, pauses;

	for (chunk = 1; chunk < sizeof(data); chunk++) {
		memset(&col, 0, sizeof(col));
		memset(&lb, 0, sizeof(lb));
		col.pause = 1;
		pauses = 0;
		for (off = 0; off < sizeof(data) - 1; off += n) {
			n = sizeof(data) - 1 - off < chunk ?
			    sizeof(data) - 1 - off : chunk;
			rv = linebuf_feed(&lb, data + off, n, MAX, collect_cb,
			    &col);
			while (rv == LINE_PAUSED) {
				pauses++;
				rv = linebuf_resume(&lb, MAX, collect_cb,
				    &col);
			}
			ck_assert_int_eq(rv, LINE_OK);
		}
		ck_assert_int_eq(pauses, 4);
		ck_assert_uint_eq(col.n, 4);
		assert_line(&col, 0, "a", 1);
		assert_line(&col, 1, "bb", 2);
		assert_line(&col, 2, "", 0);
		assert_line(&col, 3, "ccc", 3);
		ck_assert_uint_eq(lb.len, 2);
		ck_assert_int_eq(memcmp(lb.buf, "dd", 2), 0);
		linebuf_clear(&lb);
	}

	/* Held bytes are framed on resume: a line too long is found then. */
	memset(&col, 0, sizeof(col));
	memset(&lb, 0, sizeof(lb));
	col.pause = 1;
	ck_assert_int_eq(linebuf_feed(&lb, "a\n0123456789abcdefgh\n", 22, MAX,
	    collect_cb, &col), LINE_PAUSED);
	ck_assert_uint_eq(lb.len, 20);
	ck_assert_int_eq(linebuf_resume(&lb, MAX, collect_cb, &col),
	    LINE_TOOLONG);
	linebuf_clear(&lb);

	/*
	 * A pause on the last line, whole or the end of a partial one, holds
	 * nothing and keeps no buffer; the resume frames nothing.
	 */
	memset(&col, 0, sizeof(col));
	col.pause = 1;
	ck_assert_int_eq(linebuf_feed(&lb, "a\n", 2, MAX, collect_cb, &col),
	    LINE_PAUSED);
	ck_assert_ptr_null(lb.buf);
	ck_assert_int_eq(linebuf_resume(&lb, MAX, collect_cb, &col), LINE_OK);
	ck_assert_int_eq(linebuf_feed(&lb, "b", 1, MAX, collect_cb, &col),
	    LINE_OK);
	ck_assert_int_eq(linebuf_feed(&lb, "\n", 1, MAX, collect_cb, &col),
	    LINE_PAUSED);
	ck_assert_ptr_null(lb.buf);
	ck_assert_uint_eq(lb.len, 0);
	ck_assert_int_eq(linebuf_resume(&lb, MAX, collect_cb, &col), LINE_OK);
	ck_assert_uint_eq(col.n, 2);
	assert_line(&col, 1, "b", 1);
}
END_TEST

START_TEST(test_proto_linebuf_clear)
{
	struct collect	 col;
	struct linebuf	 lb;

	memset(&col, 0, sizeof(col));
	memset(&lb, 0, sizeof(lb));

	/* Whole lines leave nothing allocated. */
	ck_assert_int_eq(linebuf_feed(&lb, "a\nb\n", 4, MAX, collect_cb,
	    &col), LINE_OK);
	ck_assert_ptr_null(lb.buf);
	ck_assert_uint_eq(lb.len, 0);

	/* A partial line is kept until its "\n", then freed. */
	ck_assert_int_eq(linebuf_feed(&lb, "abc", 3, MAX, collect_cb, &col),
	    LINE_OK);
	ck_assert_ptr_nonnull(lb.buf);
	ck_assert_uint_eq(lb.len, 3);
	ck_assert_uint_ge(lb.cap, 3);
	ck_assert_int_eq(linebuf_feed(&lb, "", 0, MAX, collect_cb, &col),
	    LINE_OK);
	ck_assert_uint_eq(lb.len, 3);
	ck_assert_int_eq(linebuf_feed(&lb, "\n", 1, MAX, collect_cb, &col),
	    LINE_OK);
	ck_assert_ptr_null(lb.buf);
	ck_assert_uint_eq(lb.len, 0);
	ck_assert_uint_eq(lb.cap, 0);

	/* Clearing drops a partial line. */
	ck_assert_int_eq(linebuf_feed(&lb, "xyz", 3, MAX, collect_cb, &col),
	    LINE_OK);
	linebuf_clear(&lb);
	ck_assert_ptr_null(lb.buf);
	ck_assert_uint_eq(lb.len, 0);
	ck_assert_uint_eq(lb.cap, 0);
	linebuf_clear(&lb);
	ck_assert_int_eq(linebuf_feed(&lb, "\n", 1, MAX, collect_cb, &col),
	    LINE_OK);

	ck_assert_uint_eq(col.n, 4);
	assert_line(&col, 2, "abc", 3);
	assert_line(&col, 3, "", 0);
}
END_TEST

START_TEST(test_proto_split)
{
	struct words	 w;

	proto_split("PING", 4, &w);
	ck_assert_uint_eq(w.wordlen, 4);
	ck_assert_mem_eq(w.word, "PING", 4);
	ck_assert_ptr_null(w.rest);
	ck_assert_uint_eq(w.restlen, 0);

	proto_split("PING ", 5, &w);
	ck_assert_uint_eq(w.wordlen, 4);
	ck_assert_ptr_nonnull(w.rest);
	ck_assert_uint_eq(w.restlen, 0);

	proto_split("PING  a b ", 10, &w);
	ck_assert_uint_eq(w.wordlen, 4);
	ck_assert_uint_eq(w.restlen, 5);
	ck_assert_mem_eq(w.rest, " a b ", 5);

	proto_split("", 0, &w);
	ck_assert_uint_eq(w.wordlen, 0);
	ck_assert_ptr_null(w.rest);

	proto_split(" x", 2, &w);
	ck_assert_uint_eq(w.wordlen, 0);
	ck_assert_uint_eq(w.restlen, 1);
	ck_assert_mem_eq(w.rest, "x", 1);

	/* Only the given length counts. */
	proto_split("PING x", 4, &w);
	ck_assert_uint_eq(w.wordlen, 4);
	ck_assert_ptr_null(w.rest);
}
END_TEST

START_TEST(test_proto_is)
{
	struct words	 w;

	proto_split(commands[_i].line, strlen(commands[_i].line), &w);
	ck_assert_msg(proto_is(&w, commands[_i].cmd) == commands[_i].is,
	    "\"%s\" is %s", commands[_i].line, commands[_i].cmd);
}
END_TEST

START_TEST(test_proto_name)
{
	const char	*why = NULL;
	int		 rv;

	rv = name_check(names[_i].name.s, blen(&names[_i].name), &why);
	assert_result(rv, why, names[_i].why, names[_i].name.s);
}
END_TEST

START_TEST(test_proto_name_length)
{
	char		 buf[HB_NAME_MAX + 2];
	const char	*why;

	ck_assert_int_eq(HB_NAME_MAX, 64);
	fill(buf, HB_NAME_MAX, "");
	ck_assert_int_eq(name_check(buf, HB_NAME_MAX, &why), 0);
	fill(buf, HB_NAME_MAX + 1, "");
	ck_assert_int_eq(name_check(buf, HB_NAME_MAX + 1, &why), -1);
	ck_assert_str_eq(why, "longer than 64 bytes");
	/* Only the first len bytes count. */
	ck_assert_int_eq(name_check("abcdef", 3, &why), 0);
}
END_TEST

START_TEST(test_proto_hello)
{
	const char	*args = hellos[_i].args, *why = NULL;
	struct hello	 h;
	int		 rv;

	rv = hello_parse(args, strlen(args), &h, &why);
	ck_assert_msg(rv == hellos[_i].rv, "\"%s\": %d, not %d", args, rv,
	    hellos[_i].rv);
	if (rv != 0) {
		ck_assert_str_eq(why, hellos[_i].why);
		return;
	}
	ck_assert_uint_eq(h.namelen, strlen(hellos[_i].name));
	ck_assert_mem_eq(h.name, hellos[_i].name, h.namelen);
	ck_assert(h.name >= args && h.name < args + strlen(args));
	if (hellos[_i].token == NULL)
		ck_assert_ptr_null(h.token.s);
	else {
		ck_assert_uint_eq(h.token.len, strlen(hellos[_i].token));
		ck_assert_mem_eq(h.token.s, hellos[_i].token, h.token.len);
	}
}
END_TEST

START_TEST(test_proto_hello_length)
{
	char		 buf[HB_NAME_MAX + 8];
	const char	*why;
	struct hello	 h;
	size_t		 len;

	/* "HELLO" with no argument: proto_split() gives rest NULL. */
	ck_assert_int_eq(hello_parse(NULL, 0, &h, &why), HELLO_BADNAME);
	ck_assert_str_eq(why, "missing name");

	len = fill(buf, HB_NAME_MAX, " ");
	ck_assert_int_eq(hello_parse(buf, len, &h, &why), 0);
	ck_assert_uint_eq(h.namelen, HB_NAME_MAX);
	len = fill(buf, HB_NAME_MAX + 1, "");
	ck_assert_int_eq(hello_parse(buf, len, &h, &why), HELLO_BADNAME);
	ck_assert_str_eq(why, "longer than 64 bytes");
}
END_TEST

START_TEST(test_proto_target)
{
	struct target		 t;
	struct sockaddr_storage	 want;
	socklen_t		 slen;
	const struct bytes	*s = &targets[_i].s;
	int			 rv;

	rv = target_parse(s->s, blen(s), &t);
	if (!targets[_i].ok) {
		ck_assert_msg(rv == -1, "\"%s\" (%zu bytes) parsed", s->s,
		    blen(s));
		return;
	}
	ck_assert_msg(rv == 0, "\"%s\" did not parse", s->s);
	ck_assert_int_eq(t.kind, targets[_i].kind);
	switch (t.kind) {
	case TARGET_ID:
		ck_assert_uint_eq(t.id, targets[_i].id);
		break;
	case TARGET_ADDR:
		ck_assert_int_eq(addr_parse(targets[_i].addr, &want, &slen),
		    0);
		ck_assert_int_eq(t.addr.ss_family, want.ss_family);
		ck_assert(addr_equal((struct sockaddr *)&t.addr,
		    (struct sockaddr *)&want));
		break;
	case TARGET_NAME:
		ck_assert_str_eq(t.name, s->s);
		break;
	}
}
END_TEST

START_TEST(test_proto_target_name_length)
{
	char		 buf[HB_NAME_MAX + 2];
	struct target	 t;

	fill(buf, HB_NAME_MAX, "");
	ck_assert_int_eq(target_parse(buf, HB_NAME_MAX, &t), 0);
	ck_assert_int_eq(t.kind, TARGET_NAME);
	ck_assert_uint_eq(strlen(t.name), HB_NAME_MAX);
	fill(buf, HB_NAME_MAX + 1, "");
	ck_assert_int_eq(target_parse(buf, HB_NAME_MAX + 1, &t), -1);
}
END_TEST

START_TEST(test_proto_escape)
{
	char		 out[PROTO_ESCAPED_MAX(32)];
	const char	*want = escapes[_i].out;
	size_t		 len;

	len = proto_escape(escapes[_i].in.s, blen(&escapes[_i].in), out);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_str_eq(out, want);
}
END_TEST

START_TEST(test_proto_escape_all_bytes)
{
	char		 in[512], out[PROTO_ESCAPED_MAX(512)], back[512];
	size_t		 i, len;
	unsigned char	 ch;

	/* Every byte, and a backslash before each, decodes back exactly. */
	for (i = 0; i < 256; i++) {
		in[2 * i] = '\\';
		in[2 * i + 1] = (char)i;
	}
	len = proto_escape(in, sizeof(in), out);
	ck_assert_uint_lt(len, sizeof(out));
	ck_assert_uint_eq(strlen(out), len);
	for (i = 0; i < len; i++) {
		ch = (unsigned char)out[i];
		ck_assert_msg((ch >= 0x20 && ch != 0x7f) || ch == '\t',
		    "byte 0x%02x at %zu", ch, i);
	}
	ck_assert_uint_eq(unescape(out, back), sizeof(in));
	ck_assert_mem_eq(back, in, sizeof(in));
}
END_TEST

START_TEST(test_proto_message)
{
	const char	*code = NULL;
	int		 rv;

	rv = message_check(messages[_i].msg.s, blen(&messages[_i].msg), MAX,
	    &code);
	assert_result(rv, code, messages[_i].code, messages[_i].msg.s);
}
END_TEST

START_TEST(test_proto_reasons)
{
	ck_assert_int_eq(NITEMS(spec_reasons), REASON__COUNT);
	ck_assert_ptr_nonnull(reason_names[_i]);
	ck_assert_str_eq(reason_names[_i], spec_reasons[_i]);
}
END_TEST

Suite *
test_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("proto");

	tc = tcase_create("linebuf_framing");
	tcase_add_loop_test(tc, test_proto_linebuf_chunks, 1, STREAM_LEN + 1);
	tcase_add_test(tc, test_proto_linebuf_cr);
	tcase_add_test(tc, test_proto_linebuf_nul);
	suite_add_tcase(s, tc);

	tc = tcase_create("linebuf_max");
	tcase_add_test(tc, test_proto_linebuf_max_ok);
	tcase_add_test(tc, test_proto_linebuf_max_toolong);
	tcase_add_test(tc, test_proto_linebuf_max_after_lines);
	suite_add_tcase(s, tc);

	tc = tcase_create("linebuf_stop");
	tcase_add_test(tc, test_proto_linebuf_stop);
	tcase_add_loop_test(tc, test_proto_linebuf_stop_chunks, 1,
	    STREAM_LEN + 1);
	suite_add_tcase(s, tc);

	tc = tcase_create("linebuf_clear");
	tcase_add_test(tc, test_proto_linebuf_pause);
	tcase_add_test(tc, test_proto_linebuf_clear);
	suite_add_tcase(s, tc);

	tc = tcase_create("split");
	tcase_add_test(tc, test_proto_split);
	tcase_add_loop_test(tc, test_proto_is, 0, NITEMS(commands));
	suite_add_tcase(s, tc);

	tc = tcase_create("name");
	tcase_add_loop_test(tc, test_proto_name, 0, NITEMS(names));
	tcase_add_test(tc, test_proto_name_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("hello");
	tcase_add_loop_test(tc, test_proto_hello, 0, NITEMS(hellos));
	tcase_add_test(tc, test_proto_hello_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("target");
	tcase_add_loop_test(tc, test_proto_target, 0, NITEMS(targets));
	tcase_add_test(tc, test_proto_target_name_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("escape");
	tcase_add_loop_test(tc, test_proto_escape, 0, NITEMS(escapes));
	tcase_add_test(tc, test_proto_escape_all_bytes);
	suite_add_tcase(s, tc);

	tc = tcase_create("message");
	tcase_add_loop_test(tc, test_proto_message, 0, NITEMS(messages));
	suite_add_tcase(s, tc);

	tc = tcase_create("reasons");
	tcase_add_loop_test(tc, test_proto_reasons, 0, REASON__COUNT);
	suite_add_tcase(s, tc);

	return (s);
}
