/*
 * The admin commands but AUTH and WATCH, which belong to the session
 * machinery (admin.c, admin_watch.c): LIST, SEND, BROADCAST, KICK, STATS,
 * RELOAD, TOKEN, SEEN, RELEASE, PUSH, PUSHES, UNPUSH, HELP and QUIT, with
 * the table admin.c dispatches from. A command answers through
 * admin_reply(), or admin_hold() and admin_release() when the answer comes
 * later, and knows nothing else of its session.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin_session.h"
#include "client.h"
#include "daemon.h"
#include "fleet.h"
#include "ops.h"
#include "proto.h"
#include "push.h"
#include "registry.h"
#include "seen.h"
#include "select.h"
#include "stats.h"
#include "store.h"
#include "token.h"
#include "util.h"
#include "xmalloc.h"

#define TOKEN_TTL_MAX		(100ULL * 366 * 86400)	/* s */

static int	admin_message(struct admin_session *, const char *, size_t);
static int	admin_name(struct admin_session *, const char *, size_t,
		    char *, const char *);
static int	admin_select(struct admin_session *, const char *, size_t,
		    struct selector *, const char *);
static int	admin_fleet(const struct admin_session *);
static char	*admin_line(const char *, const char *, size_t, size_t *);
static void	admin_answered(void *, const char *);
static void	admin_spread(struct admin_session *, enum fleet_gather,
		    const char *, const char *, size_t);

static void	cmd_list(struct admin_session *, const char *, size_t);
static void	cmd_send(struct admin_session *, const char *, size_t);
static void	cmd_broadcast(struct admin_session *, const char *, size_t);
static void	cmd_kick(struct admin_session *, const char *, size_t);
static void	cmd_stats(struct admin_session *, const char *, size_t);
static void	cmd_reload(struct admin_session *, const char *, size_t);
static void	cmd_help(struct admin_session *, const char *, size_t);
static void	cmd_token(struct admin_session *, const char *, size_t);
static void	cmd_seen(struct admin_session *, const char *, size_t);
static void	cmd_release(struct admin_session *, const char *, size_t);
static void	seen_stored(void *, const struct store_seen *, const char *);
static void	cmd_push(struct admin_session *, const char *, size_t);
static void	push_answer(void *, uint64_t, const char *);
static void	cmd_pushes(struct admin_session *, const char *, size_t);
static void	pushes_line(const struct push_info *, void *);
static void	cmd_unpush(struct admin_session *, const char *, size_t);
static void	cmd_quit(struct admin_session *, const char *, size_t);

static const struct admin_cmd admin_cmds[] = {
	{ "AUTH", admin_auth, CMD_NOAUTH },
	{ "LIST", cmd_list, CMD_FLEET },
	{ "SEND", cmd_send, CMD_FLEET },
	{ "BROADCAST", cmd_broadcast, CMD_FLEET },
	{ "KICK", cmd_kick, CMD_FLEET },
	{ "STATS", cmd_stats, 0 },
	{ "RELOAD", cmd_reload, 0 },
	{ "WATCH", admin_watch, 0 },
	{ "TOKEN", cmd_token, 0 },
	{ "SEEN", cmd_seen, CMD_FLEET },
	{ "RELEASE", cmd_release, 0 },
	{ "PUSH", cmd_push, CMD_FLEET },
	{ "PUSHES", cmd_pushes, CMD_FLEET },
	{ "UNPUSH", cmd_unpush, CMD_FLEET },
	{ "HELP", cmd_help, CMD_NOAUTH },
	{ "QUIT", cmd_quit, CMD_NOAUTH },
};

static const char *const admin_help[] = {
	"AUTH <token>",
	"LIST [<selector>]",
	"SEND <target> <message>",
	"BROADCAST <message>",
	"KICK <selector>",
	"STATS",
	"RELOAD",
	"WATCH [FROM <seq>] [<verb>...]",
	"TOKEN <name> <ttl>",
	"SEEN <name> | SEEN <selector>",
	"RELEASE <name>",
	"PUSH <name> <ttl> <message>",
	"PUSHES <name>",
	"UNPUSH <pushid>",
	"HELP",
	"QUIT",
};

/* The command w's first word names, or NULL when there is none. */
const struct admin_cmd *
admin_cmd_find(const struct words *w)
{
	size_t	 i;

	for (i = 0; i < sizeof(admin_cmds) / sizeof(admin_cmds[0]); i++)
		if (proto_is(w, admin_cmds[i].name))
			return (&admin_cmds[i]);
	return (NULL);
}

/*
 * Checks a message argument and answers the error itself. Returns 0 when
 * the message can be sent.
 */
static int
admin_message(struct admin_session *s, const char *msg, size_t len)
{
	const char	*code;

	if (message_check(msg, len, hb_conf->max_line, &code) == 0)
		return (0);
	if (strcmp(code, "toolong") == 0)
		admin_reply(s, "ERR toolong message exceeds %zu bytes",
		    hb_conf->max_line);
	else if (len == 0)
		admin_reply(s, "ERR syntax empty message");
	else
		admin_reply(s, "ERR syntax message holds CR or NUL");
	return (-1);
}

/*
 * Copies the name of len bytes at arg into name, or answers "ERR syntax"
 * with usage when there is none and with why it is bad otherwise.
 * Returns 0 or -1.
 */
static int
admin_name(struct admin_session *s, const char *arg, size_t len, char *name,
    const char *usage)
{
	const char	*why;

	if (arg == NULL || len == 0) {
		admin_reply(s, "ERR syntax usage: %s", usage);
		return (-1);
	}
	if (name_check(arg, len, &why) == -1) {
		admin_reply(s, "ERR syntax %s", why);
		return (-1);
	}
	memcpy(name, arg, len);
	name[len] = '\0';
	return (0);
}

/*
 * Parses a selector argument and answers a bad one itself: ERR syntax
 * with the parser's reason, or with usage when there are no words and
 * usage is not NULL. Returns 0 or -1.
 */
static int
admin_select(struct admin_session *s, const char *args, size_t len,
    struct selector *sel, const char *usage)
{
	const char	*why;

	if (select_parse(args, len, sel, &why) == -1) {
		admin_reply(s, "ERR syntax %s", why);
		return (-1);
	}
	if (sel->n == 0 && usage != NULL) {
		admin_reply(s, "ERR syntax usage: %s", usage);
		return (-1);
	}
	return (0);
}

/*
 * Whether a command of s reaches past this node: only in a fleet, and
 * never when s runs it for another node (admin_exec()).
 */
static int
admin_fleet(const struct admin_session *s)
{
	return (fleet_on() && !admin_local(s));
}

/* "<cmd> <args>", the command line another node runs; *n its length. */
static char *
admin_line(const char *cmd, const char *args, size_t len, size_t *n)
{
	char	*line;

	*n = xasprintf(&line, "%s %.*s", cmd, (int)len, args);
	return (line);
}

/* A fleet's answer, for the session holding h. */
static void
admin_answered(void *h, const char *answer)
{
	admin_release(h, "%s", answer);
}

/*
 * Hands "<cmd> <args>" about a name this node does not hold to the
 * fleet, which runs it on the node that holds the name, or its pushes
 * (see enum fleet_route), or here when none does, and answers for it
 * later, as that node answered. Returns 1 when handed over, 0 when the
 * command acts here.
 */
int
admin_route(struct admin_session *s, enum fleet_route route,
    const char *name, const char *cmd, const char *args, size_t len)
{
	char	*line;
	size_t	 n;

	if (!admin_fleet(s) || registry_by_name(name) != NULL)
		return (0);
	line = admin_line(cmd, args, len, &n);
	fleet_route(route, name, line, n, admin_answered, admin_hold(s));
	free(line);
	return (1);
}

/* Runs "<cmd> <args>" on every node; gather adds the answers up. */
static void
admin_spread(struct admin_session *s, enum fleet_gather gather,
    const char *cmd, const char *args, size_t len)
{
	char	*line;
	size_t	 n;

	line = admin_line(cmd, args, len, &n);
	fleet_all(gather, line, n, admin_answered, admin_hold(s));
	free(line);
}

/*
 * TOKEN <name> <ttl>: a token that proves name for ttl seconds (0: for
 * ever), for a backend that does not mint its own (SPEC §9).
 */
static void
cmd_token(struct admin_session *s, const char *args, size_t len)
{
	char		 name[HB_NAME_MAX + 1], ttl[24], token[TOKEN_MAX];
	const char	*sp, *why;
	uint64_t	 secs;

	if (hb_conf->auth_secret.len == 0) {
		admin_reply(s, "ERR config no auth secret");
		return;
	}
	if (args == NULL || (sp = memchr(args, ' ', len)) == NULL ||
	    (size_t)(args + len - sp - 1) >= sizeof(ttl)) {
		admin_reply(s, "ERR syntax usage: TOKEN <name> <ttl>");
		return;
	}
	if (name_check(args, sp - args, &why) == -1) {
		admin_reply(s, "ERR syntax %s", why);
		return;
	}
	memcpy(name, args, sp - args);
	name[sp - args] = '\0';
	memcpy(ttl, sp + 1, args + len - sp - 1);
	ttl[args + len - sp - 1] = '\0';
	if (parse_u64(ttl, 0, TOKEN_TTL_MAX, &secs, &why) == -1) {
		admin_reply(s, "ERR syntax ttl %s", why);
		return;
	}
	token_mint(&hb_conf->auth_secret, name,
	    secs == 0 ? 0 : (uint64_t)time(NULL) + secs, token);
	admin_reply(s, "OK %s", token);
}

/*
 * SEEN <name>: its one line, or "ERR notfound never seen"; in a fleet,
 * as the node the name is online at has it, or else as Redis has it.
 * SEEN with any other selector: a line for every name that matches, on
 * this node, longest in its state first, then END.
 */
static void
cmd_seen(struct admin_session *s, const char *args, size_t len)
{
	struct seen_entry	**v, *e;
	struct selector		 sel;
	const struct target	*t;
	const char		*why;
	char			 line[SEEN_LINE_MAX];
	int64_t			 now = time(NULL);
	size_t			 i, n;

	if (args == NULL || len == 0) {
		admin_reply(s, "ERR syntax usage: SEEN <name> | "
		    "SEEN <selector>");
		return;
	}
	if (select_parse(args, len, &sel, &why) == -1) {
		admin_reply(s, "ERR syntax %s", why);
		return;
	}
	if ((t = select_single(&sel)) != NULL && t->kind == TARGET_NAME) {
		if (fleet_on() && registry_by_name(t->name) == NULL) {
			if (!admin_route(s, FLEET_ONLINE, t->name, "SEEN",
			    args, len))
				store_redis_seen(t->name, seen_stored,
				    admin_hold(s));
			return;
		}
		if ((e = seen_find(t->name)) == NULL)
			admin_reply(s, "ERR notfound never seen");
		else {
			seen_format(e, now, line, sizeof(line));
			admin_reply(s, "%s", line);
		}
		return;
	}
	n = seen_select(ops_seen_match, &sel, now, &v);
	for (i = 0; i < n; i++) {
		seen_format(v[i], now, line, sizeof(line));
		admin_reply(s, "%s", line);
	}
	free(v);
	admin_reply(s, "END");
}

/*
 * The fleet's record of a name online at no node (a store_seen_cb), for
 * the session holding h.
 */
static void
seen_stored(void *h, const struct store_seen *rec, const char *error)
{
	char	 line[SEEN_LINE_MAX];

	if (error != NULL)
		admin_release(h, "ERR unavailable %s", error);
	else if (rec == NULL)
		admin_release(h, "ERR notfound never seen");
	else {
		seen_format_record(rec, time(NULL), line, sizeof(line));
		admin_release(h, "%s", line);
	}
}

/* RELEASE <name>: ends the hold on a name held for flapping. */
static void
cmd_release(struct admin_session *s, const char *args, size_t len)
{
	char		 name[HB_NAME_MAX + 1];
	const char	*why;

	if (args == NULL || name_check(args, len, &why) == -1) {
		admin_reply(s, "ERR syntax usage: RELEASE <name>");
		return;
	}
	memcpy(name, args, len);
	name[len] = '\0';
	if (seen_release(name, time(NULL)) == -1)
		admin_reply(s, "ERR notfound not held");
	else
		admin_reply(s, "OK");
}

/*
 * PUSH <name> <ttl> <message>: a push for name (SPEC §13), answered
 * "OK <pushid>" once the store has it; the session's later answers wait
 * behind that one.
 */
static void
cmd_push(struct admin_session *s, const char *args, size_t len)
{
	static const char	 usage[] = "PUSH <name> <ttl> <message>";
	char			 name[HB_NAME_MAX + 1], ttl[24];
	struct words		 w, m;
	struct admin_hold	*h;
	const char		*why;
	uint64_t		 secs;

	if (args != NULL)
		proto_split(args, len, &w);
	if (args != NULL && w.rest != NULL)
		proto_split(w.rest, w.restlen, &m);
	if (args == NULL || w.rest == NULL || m.rest == NULL ||
	    m.wordlen >= sizeof(ttl)) {
		admin_reply(s, "ERR syntax usage: %s", usage);
		return;
	}
	if (admin_name(s, w.word, w.wordlen, name, usage) == -1)
		return;
	memcpy(ttl, m.word, m.wordlen);
	ttl[m.wordlen] = '\0';
	if (parse_u64(ttl, 0, PUSH_TTL_MAX, &secs, &why) == -1) {
		admin_reply(s, "ERR syntax ttl %s", why);
		return;
	}
	if (admin_message(s, m.rest, m.restlen) == -1 ||
	    admin_route(s, FLEET_PUSHES, name, "PUSH", args, len))
		return;
	h = admin_hold(s);
	if (push_submit(name, secs, m.rest, m.restlen, push_answer, h,
	    &why) == -1)
		admin_release(h, "ERR full %s", why);
}

/* PUSH's answer, from the push engine once the store has spoken. */
static void
push_answer(void *arg, uint64_t id, const char *error)
{
	if (error != NULL)
		admin_release(arg, "ERR unavailable %s", error);
	else
		admin_release(arg, "OK %llu", (unsigned long long)id);
}

/* PUSHES <name>: the pending pushes of name, in PUSH order, then END. */
static void
cmd_pushes(struct admin_session *s, const char *args, size_t len)
{
	char	 name[HB_NAME_MAX + 1];

	if (admin_name(s, args, len, name, "PUSHES <name>") == -1 ||
	    admin_route(s, FLEET_PUSHES, name, "PUSHES", args, len))
		return;
	push_list(name, pushes_line, s);
	admin_reply(s, "END");
}

static void
pushes_line(const struct push_info *pi, void *arg)
{
	admin_reply(arg, "PUSH id=%llu age=%.1f ttl=%.1f tries=%llu %.*s",
	    (unsigned long long)pi->id, pi->age, pi->ttl,
	    (unsigned long long)pi->tries, (int)pi->len, pi->msg);
}

/*
 * UNPUSH <pushid>: deletes a pending push; in a fleet, on every node and
 * in the store, where it may wait for its name with no node holding it.
 */
static void
cmd_unpush(struct admin_session *s, const char *args, size_t len)
{
	char		 id[24];
	const char	*why;
	uint64_t	 v;

	if (args == NULL || len == 0 || len >= sizeof(id)) {
		admin_reply(s, "ERR syntax usage: UNPUSH <pushid>");
		return;
	}
	memcpy(id, args, len);
	id[len] = '\0';
	if (parse_u64(id, 1, UINT64_MAX, &v, &why) == -1)
		admin_reply(s, "ERR syntax pushid %s", why);
	else if (admin_fleet(s)) {
		store_push_delete(v);
		admin_spread(s, FLEET_ANY, "UNPUSH", args, len);
	} else if (push_cancel(v) == -1)
		admin_reply(s, "ERR notfound no such push");
	else
		admin_reply(s, "OK");
}

/*
 * LIST [<selector>]: the clients it matches, oldest first; with the word
 * fleet, those of every node, each line with its node=.
 */
static void
cmd_list(struct admin_session *s, const char *args, size_t len)
{
	struct selector		 sel;
	struct client		*c;
	struct ops_client	 v;
	uint64_t		 now = mono_ns();

	if (admin_select(s, args, len, &sel, NULL) == -1)
		return;
	if (select_fleet(&sel) && admin_fleet(s)) {
		admin_spread(s, FLEET_LIST, "LIST", args, len);
		return;
	}
	TAILQ_FOREACH(c, registry_list(), entry) {
		if (!ops_matches(c, &sel, now))
			continue;
		ops_describe(c, now, &v);
		admin_reply(s, "CLIENT #%llu name=%s addr=%s age=%.1f "
		    "idle=%.1f in=%llu out=%llu timeout=%g gap_max=%.1f "
		    "near=%llu", (unsigned long long)v.id,
		    v.name != NULL ? v.name : "-", v.addr, v.age, v.idle,
		    (unsigned long long)v.in, (unsigned long long)v.out,
		    v.timeout, v.gap_max, (unsigned long long)v.near);
	}
	admin_reply(s, "END seq=%llu", (unsigned long long)stats.seq);
}

/*
 * SEND <target> <message>: a single #id, @ip:port or name as SPEC §4 has
 * it, a name held by another node of the fleet on that node; any other
 * one-word selector, such as a glob or @<cidr>, queues to every client it
 * matches and answers "OK <n>" as BROADCAST does, and "fleet" to every
 * client of the fleet.
 */
static void
cmd_send(struct admin_session *s, const char *args, size_t len)
{
	static const char	 usage[] = "SEND <target> <message>";
	struct selector		 sel;
	const struct target	*t;
	struct words		 w;
	uint64_t		 n;

	if (args != NULL)
		proto_split(args, len, &w);
	if (args == NULL || w.rest == NULL) {
		admin_reply(s, "ERR syntax usage: %s", usage);
		return;
	}
	if (admin_message(s, w.rest, w.restlen) == -1 ||
	    admin_select(s, w.word, w.wordlen, &sel, usage) == -1)
		return;
	if (select_fleet(&sel) && admin_fleet(s)) {
		admin_spread(s, FLEET_SUM, "SEND", args, len);
		return;
	}
	if ((t = select_single(&sel)) != NULL && t->kind == TARGET_NAME &&
	    admin_route(s, FLEET_ONLINE, t->name, "SEND", args, len))
		return;
	switch (ops_send(&sel, w.rest, w.restlen, &n)) {
	case OPS_OK:
		admin_reply(s, "OK %llu", (unsigned long long)n);
		break;
	case OPS_NOTFOUND:
		admin_reply(s, "ERR notfound no such client");
		break;
	case OPS_OVERFLOW:
		admin_reply(s, "ERR overflow client dropped");
		break;
	}
}

/* BROADCAST <message>: to every client, of every node in a fleet. */
static void
cmd_broadcast(struct admin_session *s, const char *args, size_t len)
{
	if (args == NULL) {
		admin_reply(s, "ERR syntax usage: BROADCAST <message>");
		return;
	}
	if (admin_message(s, args, len) == -1)
		return;
	if (admin_fleet(s)) {
		admin_spread(s, FLEET_SUM, "BROADCAST", args, len);
		return;
	}
	admin_reply(s, "OK %llu", (unsigned long long)ops_queue(NULL, args,
	    len));
}

/*
 * KICK <selector>: a single #id, @ip:port or name as SPEC §4 has it
 * ("OK" or ERR notfound), a name held by another node on that node;
 * anything else "OK <n>", the number kicked, on every node with the word
 * fleet.
 */
static void
cmd_kick(struct admin_session *s, const char *args, size_t len)
{
	struct selector		 sel;
	const struct target	*t;
	uint64_t		 n;

	if (admin_select(s, args, len, &sel, "KICK <selector>") == -1)
		return;
	if ((t = select_single(&sel)) != NULL && t->kind == TARGET_NAME &&
	    admin_route(s, FLEET_ONLINE, t->name, "KICK", args, len))
		return;
	if (t == NULL && select_fleet(&sel) && admin_fleet(s)) {
		admin_spread(s, FLEET_SUM, "KICK", args, len);
		return;
	}
	if (ops_kick(&sel, &n) == OPS_NOTFOUND)
		admin_reply(s, "ERR notfound no such client");
	else if (t != NULL)
		admin_reply(s, "OK");
	else
		admin_reply(s, "OK %llu", (unsigned long long)n);
}

static void
cmd_stats(struct admin_session *s, const char *args, size_t len)
{
	struct stat_value	 v[STATS_MAX];
	size_t			 i, n;

	admin_reply(s, "STAT version %s", PACKAGE_VERSION);
	n = stats_snapshot(v, STATS_MAX);
	for (i = 0; i < n; i++)
		admin_reply(s, "STAT %s %llu", v[i].name,
		    (unsigned long long)v[i].value);
	admin_reply(s, "END");
}

static void
cmd_reload(struct admin_session *s, const char *args, size_t len)
{
	char	*changed, *cause;

	if (daemon_reload(&changed, &cause) == -1) {
		admin_reply(s, "ERR config %s", cause);
		free(cause);
		return;
	}
	if (changed == NULL)
		admin_reply(s, "OK unchanged");
	else
		admin_reply(s, "OK changed=%s", changed);
	free(changed);
}

static void
cmd_help(struct admin_session *s, const char *args, size_t len)
{
	size_t	 i;

	for (i = 0; i < sizeof(admin_help) / sizeof(admin_help[0]); i++)
		admin_reply(s, "%s", admin_help[i]);
	admin_reply(s, "END");
}

static void
cmd_quit(struct admin_session *s, const char *args, size_t len)
{
	admin_reply(s, "BYE quit");
	admin_finish(s);
}
