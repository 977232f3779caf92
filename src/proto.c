/*
 * The pure parts of both protocols: line framing, command words, client
 * names, admin targets, messages and the escaping of data lines for WATCH.
 * Nothing here does I/O.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "heartbeatd.h"
#include "proto.h"
#include "util.h"
#include "xmalloc.h"

static int	linebuf_keep(struct linebuf *, const char *, size_t, size_t);
static int	linebuf_hold(struct linebuf *, const char *, size_t);
static int	line_emit(const char *, size_t, size_t, line_cb, void *);
static int	name_char(unsigned char);

const char *const reason_names[REASON__COUNT] = {
	[REASON_CLOSED] = "closed",
	[REASON_RESET] = "reset",
	[REASON_TIMEOUT] = "timeout",
	[REASON_QUIT] = "quit",
	[REASON_KICKED] = "kicked",
	[REASON_REPLACED] = "replaced",
	[REASON_TOOLONG] = "toolong",
	[REASON_OVERFLOW] = "overflow",
	[REASON_SHUTDOWN] = "shutdown",
	[REASON_FULL] = "full",
	[REASON_PER_IP] = "per-ip",
	[REASON_HANDSHAKE] = "handshake",
	[REASON_AUTH] = "auth",
	[REASON_PROXY] = "proxy",
	[REASON_FLAPPING] = "flapping",
};

/*
 * Appends a partial line to lb. A partial line may be max + 1 bytes long,
 * room for the "\r" of a line of max bytes; anything longer is too long.
 */
static int
linebuf_keep(struct linebuf *lb, const char *data, size_t len, size_t max)
{
	size_t	 need;

	need = lb->len + len;
	if (need > max + 1)
		return (LINE_TOOLONG);
	if (need > lb->cap) {
		lb->cap = need < 64 ? 64 : need * 2;
		if (lb->cap > max + 1)
			lb->cap = max + 1;
		lb->buf = xreallocarray(lb->buf, 1, lb->cap);
	}
	memcpy(lb->buf + lb->len, data, len);
	lb->len = need;
	return (LINE_OK);
}

/*
 * Keeps the bytes after a line whose callback paused, whatever their
 * length: they are checked when linebuf_resume() frames them. None keeps
 * no buffer (and passes memmove() no NULL one).
 */
static int
linebuf_hold(struct linebuf *lb, const char *data, size_t len)
{
	if (len == 0) {
		linebuf_clear(lb);
		return (LINE_PAUSED);
	}
	if (len > lb->cap) {
		lb->buf = xreallocarray(lb->buf, 1, len);
		lb->cap = len;
	}
	memmove(lb->buf, data, len);
	lb->len = len;
	return (LINE_PAUSED);
}

/* Drops one "\r" before the "\n", checks the length and calls cb. */
static int
line_emit(const char *line, size_t len, size_t max, line_cb cb, void *arg)
{
	int	 rv;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len > max)
		return (LINE_TOOLONG);
	if ((rv = cb(arg, line, len)) < 0)
		return (LINE_STOPPED);
	return (rv > 0 ? LINE_PAUSED : LINE_OK);
}

/*
 * Frames data into lines of at most max bytes and calls cb for each.
 * Returns LINE_OK with any trailing partial line kept in lb, LINE_STOPPED
 * when cb asked to stop (lb is not touched after that), LINE_PAUSED when
 * it paused (the bytes after its line are kept in lb for
 * linebuf_resume()), or LINE_TOOLONG.
 */
int
linebuf_feed(struct linebuf *lb, const char *data, size_t len, size_t max,
    line_cb cb, void *arg)
{
	const char	*nl;
	size_t		 n;
	int		 rv;

	/* Nothing to frame, from a resume that held nothing: data is NULL. */
	if (len == 0)
		return (LINE_OK);
	if (lb->len > 0) {
		if ((nl = memchr(data, '\n', len)) == NULL)
			return (linebuf_keep(lb, data, len, max));
		n = nl - data;
		if ((rv = linebuf_keep(lb, data, n, max)) != LINE_OK)
			return (rv);
		rv = line_emit(lb->buf, lb->len, max, cb, arg);
		if (rv == LINE_PAUSED)
			return (linebuf_hold(lb, nl + 1, len - n - 1));
		if (rv != LINE_OK)
			return (rv);
		linebuf_clear(lb);
		data += n + 1;
		len -= n + 1;
	}
	while ((nl = memchr(data, '\n', len)) != NULL) {
		n = nl - data;
		rv = line_emit(data, n, max, cb, arg);
		if (rv == LINE_PAUSED)
			return (linebuf_hold(lb, nl + 1, len - n - 1));
		if (rv != LINE_OK)
			return (rv);
		data += n + 1;
		len -= n + 1;
	}
	if (len > 0)
		return (linebuf_keep(lb, data, len, max));
	return (LINE_OK);
}

/*
 * Frames again what a paused callback left in lb, as linebuf_feed()
 * does, and returns what it returns.
 */
int
linebuf_resume(struct linebuf *lb, size_t max, line_cb cb, void *arg)
{
	char	*held = lb->buf;
	size_t	 len = lb->len;
	int	 rv;

	lb->buf = NULL;
	lb->len = lb->cap = 0;
	rv = linebuf_feed(lb, held, len, max, cb, arg);
	free(held);
	return (rv);
}

void
linebuf_clear(struct linebuf *lb)
{
	free(lb->buf);
	lb->buf = NULL;
	lb->len = lb->cap = 0;
}

void
proto_split(const char *line, size_t len, struct words *w)
{
	const char	*sp;

	w->word = line;
	if ((sp = memchr(line, ' ', len)) == NULL) {
		w->wordlen = len;
		w->rest = NULL;
		w->restlen = 0;
		return;
	}
	w->wordlen = sp - line;
	w->rest = sp + 1;
	w->restlen = len - w->wordlen - 1;
}

/* Returns 1 when the command word is cmd, in any case. */
int
proto_is(const struct words *w, const char *cmd)
{
	return (strlen(cmd) == w->wordlen &&
	    strncasecmp(w->word, cmd, w->wordlen) == 0);
}

static int
name_char(unsigned char ch)
{
	return (isascii(ch) && (isalnum(ch) || strchr("._:@-", ch) != NULL) &&
	    ch != '\0');
}

/*
 * Checks a client name: 1-64 bytes of A-Z a-z 0-9 . _ : @ -, starting with
 * a letter or a digit. Returns 0, or -1 with *why for "ERR badname".
 */
int
name_check(const char *s, size_t len, const char **why)
{
	size_t	 i;

	if (len == 0) {
		*why = "missing name";
		return (-1);
	}
	if (len > HB_NAME_MAX) {
		*why = "longer than 64 bytes";
		return (-1);
	}
	if (!isascii((unsigned char)s[0]) || !isalnum((unsigned char)s[0])) {
		*why = "must start with a letter or digit";
		return (-1);
	}
	for (i = 1; i < len; i++) {
		if (!name_char((unsigned char)s[i])) {
			*why = "invalid character";
			return (-1);
		}
	}
	return (0);
}

/*
 * Splits HELLO's arguments: a name, then key=value options in any order,
 * spaces around words ignored. Returns 0 with h filled in, HELLO_BADNAME
 * or HELLO_SYNTAX with *why.
 */
int
hello_parse(const char *args, size_t len, struct hello *h, const char **why)
{
	const char	*end = args == NULL ? NULL : args + len, *w, *eq;
	struct hello_opt *opt;
	size_t		 wlen;

	memset(h, 0, sizeof(*h));
	if (args == NULL)
		args = end = "";
	while (args < end && *args == ' ')
		args++;
	for (w = args; w < end && *w != ' '; w++)
		;
	if (name_check(args, w - args, why) == -1)
		return (HELLO_BADNAME);
	h->name = args;
	h->namelen = w - args;
	while ((args = w) < end) {
		while (args < end && *args == ' ')
			args++;
		for (w = args; w < end && *w != ' '; w++)
			;
		if ((wlen = w - args) == 0)
			break;
		if ((eq = memchr(args, '=', wlen)) == NULL || eq == args ||
		    eq == w - 1) {
			*why = "option is not key=value";
			return (HELLO_SYNTAX);
		}
		if (eq - args == 5 && memcmp(args, "token", 5) == 0)
			opt = &h->token;
		else if (eq - args == 7 && memcmp(args, "timeout", 7) == 0)
			opt = &h->timeout;
		else {
			*why = "unknown option";
			return (HELLO_SYNTAX);
		}
		if (opt->s != NULL) {
			*why = "duplicate option";
			return (HELLO_SYNTAX);
		}
		opt->s = eq + 1;
		opt->len = w - opt->s;
	}
	return (0);
}

/*
 * The seconds of HELLO's timeout= option: a decimal number, clamped by
 * the caller. Returns 0, or -1 with *why.
 */
int
hello_timeout(const struct hello *h, double *secs, const char **why)
{
	char	 buf[32];

	if (h->timeout.len >= sizeof(buf)) {
		*why = "not a number";
		return (-1);
	}
	memcpy(buf, h->timeout.s, h->timeout.len);
	buf[h->timeout.len] = '\0';
	return (parse_double(buf, 0, 1e9, secs, why));
}

/* Parses an admin target. Returns 0, or -1 when it is none of the three. */
int
target_parse(const char *s, size_t len, struct target *t)
{
	char		 buf[ADDR_STRLEN];
	const char	*why;
	socklen_t	 slen;
	uint64_t	 id;

	memset(t, 0, sizeof(*t));
	if (memchr(s, '\0', len) != NULL)
		return (-1);
	if (len > 0 && s[0] == '#') {
		if (len < 2 || len > 21)
			return (-1);
		memcpy(buf, s + 1, len - 1);
		buf[len - 1] = '\0';
		if (parse_u64(buf, 1, UINT64_MAX, &id, &why) == -1)
			return (-1);
		t->kind = TARGET_ID;
		t->id = id;
		return (0);
	}
	if (len > 0 && s[0] == '@') {
		if (len - 1 >= sizeof(buf))
			return (-1);
		memcpy(buf, s + 1, len - 1);
		buf[len - 1] = '\0';
		if (addr_parse(buf, &t->addr, &slen) == -1)
			return (-1);
		t->kind = TARGET_ADDR;
		return (0);
	}
	if (name_check(s, len, &why) == -1)
		return (-1);
	t->kind = TARGET_NAME;
	memcpy(t->name, s, len);
	t->name[len] = '\0';
	return (0);
}

/*
 * Writes a data line so that an event is always one line: "\" becomes
 * "\\", bytes below 0x20 but tab, and 0x7f, become "\xNN". out must hold
 * PROTO_ESCAPED_MAX(len) bytes; returns the length written, NUL excluded.
 */
size_t
proto_escape(const char *s, size_t len, char *out)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 ch;
	size_t			 i, o = 0;

	for (i = 0; i < len; i++) {
		ch = (unsigned char)s[i];
		if (ch == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
		} else if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 0xf];
		} else
			out[o++] = (char)ch;
	}
	out[o] = '\0';
	return (o);
}

/*
 * Checks a message: not empty, no CR, LF or NUL (a line through the
 * API could hold one), at most max bytes.
 * Returns 0, or -1 with *code set to the ERR code ("syntax", "toolong").
 */
int
message_check(const char *s, size_t len, size_t max, const char **code)
{
	if (len == 0 || memchr(s, '\r', len) != NULL ||
	    memchr(s, '\n', len) != NULL || memchr(s, '\0', len) != NULL) {
		*code = "syntax";
		return (-1);
	}
	if (len > max) {
		*code = "toolong";
		return (-1);
	}
	return (0);
}
