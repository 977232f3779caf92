/*
 * Selectors (SPEC §12): the one parser and matcher behind LIST, KICK,
 * SEND and SEEN. Pure: no I/O, no allocation, so that it can be fuzzed.
 *
 * A word is read as the first of these that fits: "#<id>" and
 * "@<ip>:<port>" (as a §4 target), "@<network>/<bits>", a keyword
 * (unnamed, tls, plain, online, offline, held, fleet), a comparison ("idle>",
 * "idle<", "age>", "age<", "for>", "for<" and a number of seconds), a
 * glob (a name-like word holding "*" or "?"), and last an exact name.
 * So keywords win: a client literally named "tls" is selected by its
 * #id or @ip:port, or by a glob such as "tl?" (which also matches any
 * other three-byte name starting "tl"). Keywords are lower case only,
 * as names are case-sensitive: "TLS" is a name.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>

#include "heartbeatd.h"
#include "proto.h"
#include "select.h"
#include "util.h"

static int	select_word(const char *, size_t, struct select_word *,
		    const char **);
static int	select_keyword(const char *, struct select_word *);
static int	select_measure(const char *, struct select_word *,
		    const char **);
static int	select_glob(const char *, struct select_word *,
		    const char **);
static int	select_word_match(const struct select_word *,
		    const struct select_subject *);
static int	select_target_match(const struct target *,
		    const struct select_subject *);
static int	select_compare(const struct select_word *, double);

static const struct {
	const char		*word;
	enum select_kind	 kind;
	enum select_state	 state;
} select_keywords[] = {
	{ "unnamed", SELECT_UNNAMED, SELECT_ONLINE },
	{ "tls", SELECT_TLS, SELECT_ONLINE },
	{ "plain", SELECT_PLAIN, SELECT_ONLINE },
	{ "online", SELECT_STATE, SELECT_ONLINE },
	{ "offline", SELECT_STATE, SELECT_OFFLINE },
	{ "held", SELECT_STATE, SELECT_HELD },
	{ "fleet", SELECT_FLEET, SELECT_ONLINE },
};

static const struct {
	const char		*word;
	enum select_kind	 kind;
} select_measures[] = {
	{ "idle", SELECT_IDLE },
	{ "age", SELECT_AGE },
	{ "for", SELECT_FOR },
};

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * Parses the space-separated words of args (len bytes, NULL for none)
 * into sel. Returns 0, or -1 with *why (in sel->why, naming the word at
 * fault) when a word is malformed or there are more than
 * SELECT_WORDS_MAX of them.
 */
int
select_parse(const char *args, size_t len, struct selector *sel,
    const char **why)
{
	const char	*p = args, *end, *w, *reason;

	sel->n = 0;
	sel->why[0] = '\0';
	*why = sel->why;
	if (args == NULL)
		return (0);
	end = args + len;
	for (;;) {
		while (p < end && *p == ' ')
			p++;
		for (w = p; w < end && *w != ' '; w++)
			;
		if (w == p)
			return (0);
		if (sel->n == SELECT_WORDS_MAX) {
			snprintf(sel->why, sizeof(sel->why),
			    "more than %d words", SELECT_WORDS_MAX);
			return (-1);
		}
		if (select_word(p, w - p, &sel->w[sel->n], &reason) == -1) {
			snprintf(sel->why, sizeof(sel->why), "%s: %.*s",
			    reason, (int)(w - p > 64 ? 64 : w - p), p);
			return (-1);
		}
		sel->n++;
		p = w;
	}
}

/* Parses one word of len bytes. Returns 0, or -1 with *reason. */
static int
select_word(const char *s, size_t len, struct select_word *w,
    const char **reason)
{
	char	 buf[SELECT_WORD_MAX + 1];
	int	 rv;

	memset(w, 0, sizeof(*w));
	*reason = "word too long";
	if (len > SELECT_WORD_MAX)
		return (-1);
	memcpy(buf, s, len);
	buf[len] = '\0';
	*reason = "unknown word";
	if (strlen(buf) != len)
		return (-1);
	if (buf[0] == '@' && strchr(buf, '/') != NULL) {
		w->kind = SELECT_CIDR;
		*reason = "bad network";
		return (cidr_parse(buf + 1, &w->u.cidr));
	}
	if (select_keyword(buf, w) == 0)
		return (0);
	if ((rv = select_measure(buf, w, reason)) != 1)
		return (rv);
	if (strpbrk(buf, "*?") != NULL)
		return (select_glob(buf, w, reason));
	w->kind = SELECT_TARGET;
	if (target_parse(buf, len, &w->u.target) == 0)
		return (0);
	if (buf[0] == '#')
		*reason = "bad id";
	else if (buf[0] == '@')
		*reason = "bad address";
	return (-1);
}

/* Fills w when s is a keyword. Returns 0, or -1 when it is none. */
static int
select_keyword(const char *s, struct select_word *w)
{
	size_t	 i;

	for (i = 0; i < NITEMS(select_keywords); i++) {
		if (strcmp(s, select_keywords[i].word) == 0) {
			w->kind = select_keywords[i].kind;
			w->u.state = select_keywords[i].state;
			return (0);
		}
	}
	return (-1);
}

/*
 * Parses a comparison such as "idle>2.5". Returns 0 with w filled in, 1
 * when s is no comparison, or -1 with *reason when its number is bad.
 */
static int
select_measure(const char *s, struct select_word *w, const char **reason)
{
	const char	*why;
	size_t		 i, n;

	for (i = 0; i < NITEMS(select_measures); i++) {
		n = strlen(select_measures[i].word);
		if (strncmp(s, select_measures[i].word, n) != 0 ||
		    (s[n] != '<' && s[n] != '>'))
			continue;
		*reason = "bad number";
		if (parse_double(s + n + 1, 0, SELECT_SECS_MAX,
		    &w->u.cmp.secs, &why) == -1)
			return (-1);
		w->kind = select_measures[i].kind;
		w->u.cmp.op = s[n];
		return (0);
	}
	return (1);
}

/*
 * Takes s as a glob: with every "*" and "?" read as a letter, it must be
 * a valid name, so that it could match one. Returns 0 or -1.
 */
static int
select_glob(const char *s, struct select_word *w, const char **reason)
{
	char		 name[HB_NAME_MAX + 1];
	const char	*why;
	size_t		 i, len = strlen(s);

	*reason = "bad glob";
	if (len > HB_NAME_MAX)
		return (-1);
	for (i = 0; i < len; i++)
		name[i] = (s[i] == '*' || s[i] == '?') ? 'a' : s[i];
	if (name_check(name, len, &why) == -1)
		return (-1);
	w->kind = SELECT_GLOB;
	memcpy(w->u.glob, s, len + 1);
	return (0);
}

/*
 * Returns the target when sel is a single "#<id>", "@<ip>:<port>" or
 * exact name, which KICK and SEND answer as SPEC §4 does; else NULL.
 */
const struct target *
select_single(const struct selector *sel)
{
	if (sel->n != 1 || sel->w[0].kind != SELECT_TARGET)
		return (NULL);
	return (&sel->w[0].u.target);
}

/*
 * Returns 1 when sel holds the word "fleet": it asks every node of a
 * fleet (SPEC §14), where the other words then select.
 */
int
select_fleet(const struct selector *sel)
{
	size_t	 i;

	for (i = 0; i < sel->n; i++) {
		if (sel->w[i].kind == SELECT_FLEET)
			return (1);
	}
	return (0);
}

/* Returns 1 when subj matches every word of sel. */
int
select_match(const struct selector *sel, const struct select_subject *subj)
{
	size_t	 i;

	for (i = 0; i < sel->n; i++) {
		if (!select_word_match(&sel->w[i], subj))
			return (0);
	}
	return (1);
}

/*
 * A glob matches named subjects only: an unnamed client has no name for
 * "*" to match. Words about live clients (#id, unnamed, tls, plain, idle,
 * age) never match a registry entry, nor its words (online, offline,
 * held, for) a live client. "fleet" says where to look, not what to
 * take: it matches every subject.
 */
static int
select_word_match(const struct select_word *w,
    const struct select_subject *s)
{
	switch (w->kind) {
	case SELECT_TARGET:
		return (select_target_match(&w->u.target, s));
	case SELECT_CIDR:
		return (s->addr != NULL && cidr_contains(&w->u.cidr, s->addr));
	case SELECT_GLOB:
		return (s->name[0] != '\0' && glob_match(w->u.glob, s->name));
	case SELECT_UNNAMED:
		return (!s->seen && s->name[0] == '\0');
	case SELECT_TLS:
		return (!s->seen && s->tls);
	case SELECT_PLAIN:
		return (!s->seen && !s->tls);
	case SELECT_STATE:
		return (s->seen && s->state == w->u.state);
	case SELECT_IDLE:
		return (!s->seen && select_compare(w, s->idle));
	case SELECT_AGE:
		return (!s->seen && select_compare(w, s->age));
	case SELECT_FOR:
		return (s->seen && select_compare(w, s->for_secs));
	case SELECT_FLEET:
		return (1);
	}
	return (0);
}

static int
select_target_match(const struct target *t, const struct select_subject *s)
{
	switch (t->kind) {
	case TARGET_ID:
		return (!s->seen && s->id == t->id);
	case TARGET_ADDR:
		return (s->addr != NULL &&
		    addr_equal(s->addr, (const struct sockaddr *)&t->addr));
	case TARGET_NAME:
		return (strcmp(s->name, t->name) == 0);
	}
	return (0);
}

/* Both bounds are strict: idle>5 and idle<5 leave out exactly 5. */
static int
select_compare(const struct select_word *w, double v)
{
	return (w->u.cmp.op == '>' ? v > w->u.cmp.secs : v < w->u.cmp.secs);
}

/*
 * Returns 1 when name matches pattern, where "*" stands for any bytes
 * and "?" for any one byte. Iterative, backtracking only to the last
 * "*": O(pattern * name) at worst, whatever the pattern.
 */
int
glob_match(const char *pat, const char *name)
{
	const char	*star = NULL, *resume = NULL;

	while (*name != '\0') {
		if (*pat == '*') {
			star = ++pat;
			resume = name;
		} else if (*pat != '\0' && (*pat == '?' || *pat == *name)) {
			pat++;
			name++;
		} else if (star != NULL) {
			pat = star;
			name = ++resume;
		} else
			return (0);
	}
	while (*pat == '*')
		pat++;
	return (*pat == '\0');
}
