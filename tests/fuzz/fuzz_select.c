/*
 * libFuzzer harness for selectors (select.c). Byte 0 picks what runs:
 * even, the rest is a selector, parsed and matched against a few fixed
 * subjects, live and seen; odd, the rest is a glob pattern and a name
 * split at the first NUL, matched by glob_match() and by a reference
 * that fills a table of every pattern suffix against every name suffix.
 *
 * A selector that parses must match a subject exactly when each of its
 * words alone does; one that does not parse must say why.
 */

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto.h"
#include "select.h"
#include "util.h"

#include "fuzz_common.h"

#define GLOB_MAX	128	/* bytes of pattern and of name compared */

/* Live clients of each address family, and two registry entries. */
static const struct {
	int			 seen;
	const char		*name;
	const char		*addr;		/* NULL: none */
	int			 tls;
	enum select_state	 state;
	double			 secs;		/* idle, age and for */
} fixed[] = {
	{ 0, "sensor-7", "10.1.2.3:5000", 0, SELECT_ONLINE, 2 },
	{ 0, "", "[2001:db8::7]:7000", 1, SELECT_ONLINE, 0.5 },
	{ 0, "pump-2", "[::ffff:192.0.2.9]:40000", 1, SELECT_ONLINE, 3600 },
	{ 1, "sensor-7", "10.1.2.3:5000", 0, SELECT_OFFLINE, 3600 },
	{ 1, "tls", NULL, 0, SELECT_HELD, 10 },
};
#define NSUBJ	(sizeof(fixed) / sizeof(fixed[0]))

static struct sockaddr_storage	 addrs[NSUBJ];
static struct select_subject	 subj[NSUBJ];

static void	 check_parsed(const struct selector *);
static void	 check_words(const struct selector *);
static int	 glob_table(const char *, size_t, const char *, size_t);
static void	 check_glob(const uint8_t *, size_t);

/* Builds the subjects from fixed[]; each is as idle as it is old. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	socklen_t	 len;
	size_t		 i;

	for (i = 0; i < NSUBJ; i++) {
		subj[i].seen = fixed[i].seen;
		subj[i].id = fixed[i].seen ? 0 : i + 1;
		subj[i].name = fixed[i].name;
		if (fixed[i].addr != NULL) {
			if (addr_parse(fixed[i].addr, &addrs[i], &len) == -1)
				fuzz_fail("addr_parse %s", fixed[i].addr);
			subj[i].addr = (struct sockaddr *)&addrs[i];
		}
		subj[i].tls = fixed[i].tls;
		subj[i].state = fixed[i].state;
		subj[i].age = subj[i].idle = subj[i].for_secs = fixed[i].secs;
	}
	return (0);
}

/* What a parsed selector holds is what the parser promises. */
static void
check_parsed(const struct selector *sel)
{
	const struct select_word	*w;
	const struct target		*t;
	const char			*why;
	size_t				 i;

	if (sel->n > SELECT_WORDS_MAX)
		fuzz_fail("%zu words", sel->n);
	for (i = 0; i < sel->n; i++) {
		w = &sel->w[i];
		if (w->kind == SELECT_GLOB && (strlen(w->u.glob) >
		    HB_NAME_MAX || strpbrk(w->u.glob, "*?") == NULL))
			fuzz_fail("glob \"%s\"", w->u.glob);
		if (w->kind == SELECT_TARGET &&
		    w->u.target.kind == TARGET_NAME &&
		    name_check(w->u.target.name, strlen(w->u.target.name),
		    &why) == -1)
			fuzz_fail("name \"%s\": %s", w->u.target.name, why);
		if ((w->kind == SELECT_IDLE || w->kind == SELECT_AGE ||
		    w->kind == SELECT_FOR) && (!(w->u.cmp.secs >= 0) ||
		    w->u.cmp.secs > SELECT_SECS_MAX ||
		    (w->u.cmp.op != '<' && w->u.cmp.op != '>')))
			fuzz_fail("comparison %c %g", w->u.cmp.op,
			    w->u.cmp.secs);
	}
	t = select_single(sel);
	if (t != NULL && (sel->n != 1 || t != &sel->w[0].u.target))
		fuzz_fail("single with %zu words", sel->n);
}

/* A subject matches the selector exactly when it matches every word. */
static void
check_words(const struct selector *sel)
{
	static struct selector	 one;
	size_t			 i, k;
	int			 all, each;

	for (k = 0; k < NSUBJ; k++) {
		all = select_match(sel, &subj[k]);
		each = 1;
		for (i = 0; i < sel->n; i++) {
			one.w[0] = sel->w[i];
			one.n = 1;
			each &= select_match(&one, &subj[k]);
		}
		if (all != each)
			fuzz_fail("subject %zu: selector %d, words %d", k, all,
			    each);
	}
}

/*
 * The reference: m[i][j] tells whether pat from i matches name from j,
 * filled from the ends.
 */
static int
glob_table(const char *pat, size_t plen, const char *name, size_t nlen)
{
	static unsigned char	 m[GLOB_MAX + 1][GLOB_MAX + 1];
	size_t			 i, j;

	for (i = plen + 1; i-- > 0;) {
		for (j = nlen + 1; j-- > 0;) {
			if (i == plen)
				m[i][j] = (j == nlen);
			else if (pat[i] == '*')
				m[i][j] = m[i + 1][j] ||
				    (j < nlen && m[i][j + 1]);
			else
				m[i][j] = j < nlen && (pat[i] == '?' ||
				    pat[i] == name[j]) && m[i + 1][j + 1];
		}
	}
	return (m[0][0]);
}

/* glob_match() of the pattern and name in data agrees with the table. */
static void
check_glob(const uint8_t *data, size_t size)
{
	char		 pat[GLOB_MAX + 1], name[GLOB_MAX + 1];
	const uint8_t	*nul;
	size_t		 plen, nlen;
	int		 got;

	nul = memchr(data, '\0', size);
	plen = nul == NULL ? size : (size_t)(nul - data);
	nlen = nul == NULL ? 0 : size - plen - 1;
	plen = plen > GLOB_MAX ? GLOB_MAX : plen;
	nlen = nlen > GLOB_MAX ? GLOB_MAX : nlen;
	memcpy(pat, data, plen);
	pat[plen] = '\0';
	if (nul != NULL)
		memcpy(name, nul + 1, nlen);
	name[nlen] = '\0';
	nlen = strlen(name);

	got = glob_match(pat, name);
	if (got != glob_table(pat, plen, name, nlen))
		fuzz_fail("glob \"%s\" name \"%s\": %d", pat, name, got);
	if (strpbrk(name, "*?") == NULL && !glob_match(name, name))
		fuzz_fail("\"%s\" does not match itself", name);
	if (!glob_match("*", name))
		fuzz_fail("\"*\" does not match \"%s\"", name);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct selector	 sel, again;
	const char		*why, *why2;
	int			 rv;

	if (size == 0)
		return (0);
	if (data[0] & 1) {
		check_glob(data + 1, size - 1);
		return (0);
	}
	rv = select_parse((const char *)data + 1, size - 1, &sel, &why);
	if (why != sel.why || strlen(why) >= sizeof(sel.why))
		fuzz_fail("why not in the selector");
	if (rv == -1) {
		if (why[0] == '\0')
			fuzz_fail("refused without a reason");
	} else if (rv != 0 || why[0] != '\0')
		fuzz_fail("parse returned %d, why \"%s\"", rv, why);
	if (select_parse((const char *)data + 1, size - 1, &again,
	    &why2) != rv || (rv == 0 && again.n != sel.n))
		fuzz_fail("a second parse differs");
	if (rv == -1)
		return (0);
	check_parsed(&sel);
	check_words(&sel);
	return (0);
}
