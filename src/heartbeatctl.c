/*
 * heartbeatctl: the admin client (SPEC §6). It sends one command to the
 * daemon's admin socket or TCP port, prints the answer without its END
 * line, and exits 0 on OK or END, 1 on ERR and 2 when it cannot connect,
 * loses the connection, times out or is misused.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "heartbeatd.h"
#include "proto.h"
#include "select.h"
#include "util.h"

#define CTL_SOCKET	"/run/heartbeatd/admin.sock"
#define CTL_ADDR	"127.0.0.1:7001"
#define CTL_TIMEOUT	10		/* s for a connect or an answer */
#define CTL_BUFSIZE	16384		/* first size of the line buffer */
#define FIELDS_MAX	16		/* key=value fields in a line */

#define EXIT_ERR	1		/* the daemon answered ERR */
#define EXIT_USAGE	2		/* misuse, no daemon, lost connection */

/* The admin connection and its line buffer. */
struct conn {
	int		 fd;
	char		*buf;
	size_t		 off;		/* start of the unread bytes */
	size_t		 len;		/* end of the bytes read */
	size_t		 cap;
	const sigset_t	*mask;		/* for ppoll() while watching */
};

/*
 * Turns the lines of a multi-line answer into a JSON array of objects,
 * one a line, or one object; row adds a line's part to the whole.
 */
struct json_fmt {
	int		 object;
	int		(*row)(json_t *, char *);
};

/* A heartbeatctl command and the admin command it sends. */
struct ctl_cmd {
	const char	*name;
	const char	*verb;
	int		 minargs;
	int		 maxargs;	/* -1: any number */
	int		 flags;
#define CTL_MULTI	 0x1		/* the answer ends with an END line */
#define CTL_TARGET	 0x2		/* the first argument is a target */
#define CTL_WATCH	 0x4		/* streams until closed or signalled */
#define CTL_HELP	 0x8		/* prints the usage, sends nothing */
#define CTL_BARE	 0x10		/* prints what follows OK alone */
#define CTL_SEEN	 0x20		/* one name: one line, no END */
	const char	*args;		/* its usage after the name */
	const struct json_fmt *json;	/* --json form, or NULL */
	const char	*what;		/* what it does, for the usage */
};

/* How a value is written in JSON. */
enum ctl_kind {
	CTL_NUMBER,			/* a number, checked */
	CTL_STRING,
	CTL_NAME,			/* a string, or null for "-" */
	CTL_AUTO			/* a number when it is one */
};

/* A key=value field of an answer line and how its value is written. */
struct json_field {
	const char	*key;
	enum ctl_kind	 kind;
};

/* The fields of a LIST line from "CLIENT #<id>" on, in output order. */
static const struct json_field list_fields[] = {
	{ "id", CTL_NUMBER },
	{ "name", CTL_NAME },
	{ "addr", CTL_STRING },
	{ "age", CTL_NUMBER },
	{ "idle", CTL_NUMBER },
	{ "in", CTL_NUMBER },
	{ "out", CTL_NUMBER },
	{ "timeout", CTL_NUMBER },
	{ "gap_max", CTL_NUMBER },
	{ "near", CTL_NUMBER },
};
#define NLIST_FIELDS	(sizeof(list_fields) / sizeof(list_fields[0]))

/* The fields of a SEEN line from its name on, in output order. */
static const struct json_field seen_fields[] = {
	{ "name", CTL_STRING },
	{ "state", CTL_STRING },
	{ "addr", CTL_NAME },
	{ "since", CTL_STRING },
	{ "for", CTL_NUMBER },
	{ "last_seen", CTL_STRING },
	{ "reason", CTL_NAME },
	{ "sessions", CTL_NUMBER },
};
#define NSEEN_FIELDS	(sizeof(seen_fields) / sizeof(seen_fields[0]))

static volatile sig_atomic_t	 stopped;

static void	usage(FILE *, int) __attribute__((__noreturn__));
static void	misuse(const struct ctl_cmd *, const char *)
		    __attribute__((__noreturn__));
static void	opt_misuse(const char *, const char *)
		    __attribute__((__noreturn__));
static const struct ctl_cmd *cmd_find(const char *);
static char	*cmd_line(const struct ctl_cmd *, int, char **);
static void	cmd_check(const struct ctl_cmd *, int, char **, int);
static void	stop_cb(int);
static void	watch_signals(sigset_t *);
static uint64_t	deadline_in(int);
static int	wait_fd(struct conn *, short, uint64_t);
static void	ctl_connect(struct conn *, const char *, const char *);
static void	conn_write(struct conn *, const char *, uint64_t);
static int	conn_fill(struct conn *, uint64_t);
static char	*conn_readline(struct conn *, uint64_t);
static char	*answer_line(struct conn *, uint64_t);
static int	is_word(const char *, const char *);
static int	is_err(const char *);
static void	ctl_auth(struct conn *, const char *);
static int	run_single(struct conn *, int);
static int	run_multi(struct conn *, const struct json_fmt *);
static int	run_watch(struct conn *);
static int	run_seen(struct conn *, const struct json_fmt *);
static int	seen_single(int, char **);
static int	ctl_number(const char *);
static json_t	*ctl_value(const char *, enum ctl_kind);
static int	fields_object(json_t *, char *, const char *,
		    const struct json_field *, size_t);
static int	list_row(json_t *, char *);
static int	seen_row(json_t *, char *);
static int	stats_row(json_t *, char *);
static void	json_print(const json_t *, size_t);
static void	json_print_rows(const json_t *);

static const struct json_fmt list_json = { 0, list_row };
static const struct json_fmt seen_json = { 0, seen_row };
static const struct json_fmt stats_json = { 1, stats_row };

/*
 * The commands, with the admin verb each sends. The verbs that watch may
 * name are the daemon's to check, so that there is one list of them.
 */
static const struct ctl_cmd ctl_cmds[] = {
	{ "list", "LIST", 0, -1, CTL_MULTI, " [SELECTOR...]", &list_json,
	    "the connected clients, or those selected" },
	{ "stats", "STATS", 0, 0, CTL_MULTI, "", &stats_json,
	    "the daemon's counters" },
	{ "send", "SEND", 2, -1, CTL_TARGET, " TARGET MESSAGE...", NULL,
	    "queue a line to a client" },
	{ "broadcast", "BROADCAST", 1, -1, 0, " MESSAGE...", NULL,
	    "queue a line to every client" },
	{ "kick", "KICK", 1, -1, 0, " SELECTOR...", NULL,
	    "disconnect the selected clients" },
	{ "reload", "RELOAD", 0, 0, 0, "", NULL,
	    "re-read the config file" },
	{ "watch", "WATCH", 0, -1, CTL_WATCH, " [FROM SEQ] [VERB...]", NULL,
	    "follow the events, or those of the VERBs" },
	{ "token", "TOKEN", 1, 2, CTL_BARE, " NAME [TTL]", NULL,
	    "a client token for NAME, valid TTL s (default 0: no expiry)" },
	{ "seen", "SEEN", 1, -1, CTL_MULTI | CTL_SEEN, " NAME|SELECTOR...",
	    &seen_json, "when a name, or each matching name, was last seen" },
	{ "release", "RELEASE", 1, 1, 0, " NAME", NULL,
	    "end the hold on a name held for flapping" },
	{ "help", NULL, 0, 0, CTL_HELP, "", NULL, "print this help" },
};
#define NCTL_CMDS	(sizeof(ctl_cmds) / sizeof(ctl_cmds[0]))

static const struct option longopts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ "host", required_argument, NULL, 'H' },
	{ "socket", required_argument, NULL, 's' },
	{ "token", required_argument, NULL, 'a' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* Prints the usage (with the commands and options on stdout), exits. */
static void
usage(FILE *f, int code)
{
	char	 name[64];
	size_t	 i;

	fprintf(f, "usage: heartbeatctl [-s PATH | -H HOST:PORT] [-a TOKEN] "
	    "[--json]\n"
	    "                    COMMAND [ARG...]\n");
	if (f != stdout)
		exit(code);
	fprintf(f, "commands:\n");
	for (i = 0; i < NCTL_CMDS; i++) {
		snprintf(name, sizeof(name), "%s%s", ctl_cmds[i].name,
		    ctl_cmds[i].args);
		fprintf(f, "  %-26s  %s\n", name, ctl_cmds[i].what);
	}
	fprintf(f, "options, before or after the command (-- ends them):\n"
	    "  -s PATH       admin Unix socket (default: %s)\n"
	    "  -H HOST:PORT  admin TCP address (default without the "
	    "socket: %s)\n"
	    "  -a TOKEN      AUTH token (default $HEARTBEATD_TOKEN)\n"
	    "  --json        list, stats and seen as JSON\n"
	    "  -V            print the version\n",
	    CTL_SOCKET, CTL_ADDR);
	exit(code);
}

/* Says why the command line is wrong, shows how cmd is used, exits 2. */
static void
misuse(const struct ctl_cmd *cmd, const char *why)
{
	warnx("%s", why);
	if (cmd == NULL)
		usage(stderr, EXIT_USAGE);
	fprintf(stderr, "usage: heartbeatctl [-s PATH | -H HOST:PORT] "
	    "[-a TOKEN] %s%s\n", cmd->name, cmd->args);
	exit(EXIT_USAGE);
}

/* Says what is wrong with the option in word (see opt_refused()), exits 2. */
static void
opt_misuse(const char *why, const char *word)
{
	char	 msg[128];

	snprintf(msg, sizeof(msg), "%s: %.64s", why, opt_refused(word));
	misuse(NULL, msg);
}

/* Returns the command called name (in any case); exits 2 when none is. */
static const struct ctl_cmd *
cmd_find(const char *name)
{
	char	 why[128];
	size_t	 i;

	for (i = 0; i < NCTL_CMDS; i++)
		if (strcasecmp(ctl_cmds[i].name, name) == 0)
			return (&ctl_cmds[i]);
	snprintf(why, sizeof(why), "unknown command: %.64s", name);
	misuse(NULL, why);
}

/* Exits 2 unless argv (argc words after the command) suits cmd. */
static void
cmd_check(const struct ctl_cmd *cmd, int argc, char **argv, int json)
{
	uint64_t	 seq;
	const char	*why;
	int		 i;

	if (json && cmd->json == NULL)
		misuse(cmd, "--json works with list, stats and seen only");
	if (argc < cmd->minargs || (cmd->maxargs != -1 && argc > cmd->maxargs))
		misuse(cmd, "wrong number of arguments");
	for (i = 0; i < argc; i++)
		if (strpbrk(argv[i], "\r\n") != NULL)
			misuse(cmd, "an argument holds CR or LF");
	if ((cmd->flags & CTL_TARGET) &&
	    (argv[0][0] == '\0' || strpbrk(argv[0], " \t") != NULL))
		misuse(cmd, "TARGET must be one word");
	if ((cmd->flags & CTL_WATCH) && argc != 0 &&
	    strcasecmp(argv[0], "from") == 0 && (argc < 2 ||
	    parse_u64(argv[1], 0, UINT64_MAX, &seq, &why) == -1))
		misuse(cmd, "expected FROM and a sequence number");
}

/*
 * Builds the admin command line for cmd: its verb and the arguments,
 * joined with single spaces, and "\n". The caller frees it.
 */
static char *
cmd_line(const struct ctl_cmd *cmd, int argc, char **argv)
{
	char	*line, *p;
	size_t	 len;
	int	 i;

	len = strlen(cmd->verb) + 4;
	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if ((line = malloc(len)) == NULL)
		err(EXIT_USAGE, NULL);
	p = line + strlen(strcpy(line, cmd->verb));
	for (i = 0; i < argc; i++) {
		*p++ = ' ';
		p = stpcpy(p, argv[i]);
	}
	if (cmd->flags & CTL_BARE && argc == 1)
		p = stpcpy(p, " 0");
	strcpy(p, "\n");
	return (line);
}

static void
stop_cb(int sig)
{
	stopped = 1;
}

/*
 * Makes SIGINT and SIGTERM end a watch with status 0. They are blocked
 * except inside ppoll(), which gets *mask, so that none is missed between
 * checking the flag and waiting.
 */
static void
watch_signals(sigset_t *mask)
{
	struct sigaction	 sa;
	sigset_t		 block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = stop_cb;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, mask);
	sigdelset(mask, SIGINT);
	sigdelset(mask, SIGTERM);
}

/* The monotonic time s seconds from now, in ns. */
static uint64_t
deadline_in(int s)
{
	return (mono_ns() + (uint64_t)s * 1000000000ULL);
}

/*
 * Waits until c's socket is ready for events or the deadline (0: none)
 * passes. Returns 0 when ready, -1 on timeout; exits 0 once a watch is
 * signalled.
 */
static int
wait_fd(struct conn *c, short events, uint64_t deadline)
{
	struct pollfd	 pfd;
	struct timespec	 ts, *tsp = NULL;
	uint64_t	 now;
	int		 n;

	pfd.fd = c->fd;
	pfd.events = events;
	for (;;) {
		if (deadline != 0) {
			if ((now = mono_ns()) >= deadline)
				return (-1);
			ts.tv_sec = (deadline - now) / 1000000000ULL;
			ts.tv_nsec = (deadline - now) % 1000000000ULL;
			tsp = &ts;
		}
		if ((n = ppoll(&pfd, 1, tsp, c->mask)) > 0)
			return (0);
		if (stopped)
			exit(0);
		if (n == -1 && errno != EINTR)
			err(EXIT_USAGE, "poll");
	}
}

/*
 * Connects c to the Unix socket path or the numeric address hostport;
 * with neither, to the default socket if it exists, else the default
 * address. Exits 2 on failure.
 */
static void
ctl_connect(struct conn *c, const char *path, const char *hostport)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_un	*sun = (struct sockaddr_un *)&ss;
	socklen_t		 len = sizeof(*sun), elen = sizeof(int);
	const char		*name = path;
	int			 e;

	if (path == NULL && hostport == NULL) {
		if (access(CTL_SOCKET, F_OK) == 0)
			name = CTL_SOCKET;
		else
			hostport = CTL_ADDR;
	}
	memset(&ss, 0, sizeof(ss));
	if (hostport != NULL) {
		name = hostport;
		if (addr_parse(hostport, &ss, &len) == -1)
			misuse(NULL, "-H: not a numeric address "
			    "(IPv4:port or [IPv6]:port)");
	} else {
		if (strlen(name) >= sizeof(sun->sun_path))
			errx(EXIT_USAGE, "%s: path too long", name);
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, name, strlen(name));
	}
	if ((c->fd = socket(ss.ss_family, SOCK_STREAM, 0)) == -1 ||
	    fd_nonblock_cloexec(c->fd) == -1)
		err(EXIT_USAGE, "socket");
	if (connect(c->fd, (struct sockaddr *)&ss, len) == -1) {
		if (errno != EINPROGRESS)
			err(EXIT_USAGE, "connect %s", name);
		if (wait_fd(c, POLLOUT, deadline_in(CTL_TIMEOUT)) == -1)
			errx(EXIT_USAGE, "connect %s: no answer within %d s",
			    name, CTL_TIMEOUT);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &elen) == -1)
			err(EXIT_USAGE, "connect %s", name);
		if ((errno = e) != 0)
			err(EXIT_USAGE, "connect %s", name);
	}
}

/* Writes all of line to the daemon; exits 2 when that fails. */
static void
conn_write(struct conn *c, const char *line, uint64_t deadline)
{
	size_t	 len = strlen(line);
	ssize_t	 n;

	while (len > 0) {
		if ((n = send(c->fd, line, len, MSG_NOSIGNAL)) != -1) {
			line += n;
			len -= n;
		} else if (errno == EPIPE || errno == ECONNRESET)
			errx(EXIT_USAGE, "connection closed by the daemon");
		else if (errno != EAGAIN && errno != EINTR)
			err(EXIT_USAGE, "write");
		else if (wait_fd(c, POLLOUT, deadline) == -1)
			errx(EXIT_USAGE, "no answer within %d s", CTL_TIMEOUT);
	}
}

/*
 * Reads more bytes into c's buffer, waiting until the deadline. Returns 1
 * when some came, 0 on EOF; exits 2 on timeout or error.
 */
static int
conn_fill(struct conn *c, uint64_t deadline)
{
	ssize_t	 n;

	if (c->off > 0) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->len == c->cap) {
		c->cap = c->cap == 0 ? CTL_BUFSIZE : c->cap * 2;
		if ((c->buf = realloc(c->buf, c->cap)) == NULL)
			err(EXIT_USAGE, NULL);
	}
	for (;;) {
		if ((n = read(c->fd, c->buf + c->len, c->cap - c->len)) > 0) {
			c->len += n;
			return (1);
		}
		if (n == 0 || errno == ECONNRESET)
			return (0);
		if (errno != EAGAIN && errno != EINTR)
			err(EXIT_USAGE, "read");
		if (wait_fd(c, POLLIN, deadline) == -1)
			errx(EXIT_USAGE, "no answer within %d s", CTL_TIMEOUT);
	}
}

/*
 * Returns the next line without its "\r\n" or "\n", valid until the next
 * call, or NULL when the daemon closed the connection first.
 */
static char *
conn_readline(struct conn *c, uint64_t deadline)
{
	char	*line, *nl;

	/* Before the first read buf is NULL, which memchr() must not see. */
	for (;;) {
		if (c->len > c->off &&
		    (nl = memchr(c->buf + c->off, '\n', c->len - c->off)) != NULL)
			break;
		if (!conn_fill(c, deadline))
			return (NULL);
	}
	line = c->buf + c->off;
	c->off = nl + 1 - c->buf;
	if (nl > line && nl[-1] == '\r')
		nl--;
	*nl = '\0';
	return (line);
}

/*
 * As conn_readline(), but the connection must stay open: EOF or a BYE
 * line (the daemon closing) exits 2.
 */
static char *
answer_line(struct conn *c, uint64_t deadline)
{
	char	*line;

	if ((line = conn_readline(c, deadline)) == NULL)
		errx(EXIT_USAGE, "connection closed by the daemon");
	if (is_word(line, "BYE"))
		errx(EXIT_USAGE, "connection closed by the daemon: %s", line);
	return (line);
}

/* Returns 1 when line is word alone or word and a space and more. */
static int
is_word(const char *line, const char *word)
{
	size_t	 n = strlen(word);

	return (strncmp(line, word, n) == 0 &&
	    (line[n] == '\0' || line[n] == ' '));
}

/* Returns 1 when line is an ERR answer, after copying it to stderr. */
static int
is_err(const char *line)
{
	if (!is_word(line, "ERR"))
		return (0);
	fprintf(stderr, "%s\n", line);
	return (1);
}

/* Authenticates with token; an ERR goes to stderr and exits 1. */
static void
ctl_auth(struct conn *c, const char *token)
{
	uint64_t	 deadline = deadline_in(CTL_TIMEOUT);
	char		*line;

	if (asprintf(&line, "AUTH %s\n", token) == -1)
		err(EXIT_USAGE, NULL);
	conn_write(c, line, deadline);
	free(line);
	if (is_err(line = answer_line(c, deadline)))
		exit(EXIT_ERR);
	if (!is_word(line, "OK"))
		errx(EXIT_USAGE, "unexpected answer: %s", line);
}

/*
 * Reads a one-line answer: OK to stdout (0), or only what follows it when
 * bare (a token, for scripts), ERR to stderr (1).
 */
static int
run_single(struct conn *c, int bare)
{
	char	*line;

	if (is_err(line = answer_line(c, deadline_in(CTL_TIMEOUT))))
		return (EXIT_ERR);
	if (!is_word(line, "OK"))
		errx(EXIT_USAGE, "unexpected answer: %s", line);
	printf("%s\n", bare ? line + strcspn(line, " ") + (line[2] == ' ') :
	    line);
	return (0);
}

/*
 * Reads an answer that ends with END and prints its lines, as they are or
 * through fmt; an ERR instead goes to stderr (1).
 */
static int
run_multi(struct conn *c, const struct json_fmt *fmt)
{
	uint64_t	 deadline = deadline_in(CTL_TIMEOUT);
	char		*line;
	json_t		*all = NULL;

	if (is_err(line = answer_line(c, deadline)))
		return (EXIT_ERR);
	if (fmt != NULL)
		all = fmt->object ? json_object() : json_array();
	for (; !is_word(line, "END"); line = answer_line(c, deadline)) {
		if (fmt == NULL)
			printf("%s\n", line);
		else if (fmt->row(all, line) == -1)
			errx(EXIT_USAGE, "unexpected answer: %s", line);
	}
	if (fmt != NULL && fmt->object)
		json_print(all, JSON_INDENT(2));
	else if (fmt != NULL)
		json_print_rows(all);
	json_decref(all);
	return (0);
}

/*
 * Prints "OK seq=N" and then every line that comes, as it comes, until
 * the daemon closes the session (0) or sends an ERR (1). SIGINT and
 * SIGTERM end it with 0 (see wait_fd()).
 */
static int
run_watch(struct conn *c)
{
	char	*line;

	setvbuf(stdout, NULL, _IOLBF, 0);
	line = answer_line(c, deadline_in(CTL_TIMEOUT));
	for (;;) {
		if (is_err(line))
			return (EXIT_ERR);
		printf("%s\n", line);
		if ((line = conn_readline(c, 0)) == NULL)
			return (0);
	}
}

/* Whether SEEN's arguments are one exact name, answered in one line. */
static int
seen_single(int argc, char **argv)
{
	struct selector		 sel;
	const struct target	*t;
	const char		*why;

	return (argc == 1 && select_parse(argv[0], strlen(argv[0]), &sel,
	    &why) == 0 && (t = select_single(&sel)) != NULL &&
	    t->kind == TARGET_NAME);
}

/*
 * Reads SEEN's answer for one exact name: its line as it is, or as one
 * JSON object through fmt; an ERR goes to stderr (1).
 */
static int
run_seen(struct conn *c, const struct json_fmt *fmt)
{
	char	*line;
	json_t	*rows;

	if (is_err(line = answer_line(c, deadline_in(CTL_TIMEOUT))))
		return (EXIT_ERR);
	if (!is_word(line, "SEEN"))
		errx(EXIT_USAGE, "unexpected answer: %s", line);
	if (fmt == NULL) {
		printf("%s\n", line);
		return (0);
	}
	rows = json_array();
	if (fmt->row(rows, line) == -1)
		errx(EXIT_USAGE, "unexpected answer: %s", line);
	json_print(json_array_get(rows, 0), 0);
	json_decref(rows);
	return (0);
}

/* Returns 1 when s is a JSON number without exponent, e.g. 125.2. */
static int
ctl_number(const char *s)
{
	size_t	 n;

	if (*s == '-')
		s++;
	if ((n = strspn(s, "0123456789")) == 0 || (s[0] == '0' && n > 1))
		return (0);
	s += n;
	if (*s == '.') {
		if ((n = strspn(++s, "0123456789")) == 0)
			return (0);
		s += n;
	}
	return (*s == '\0');
}

/* v as kind; NULL when it should be a number and is not. */
static json_t *
ctl_value(const char *v, enum ctl_kind kind)
{
	if (kind == CTL_NAME && strcmp(v, "-") == 0)
		return (json_null());
	if (kind == CTL_NUMBER || (kind == CTL_AUTO && ctl_number(v))) {
		if (!ctl_number(v))
			return (NULL);
		if (strchr(v, '.') != NULL)
			return (json_real(strtod(v, NULL)));
		return (json_integer(strtoll(v, NULL, 10)));
	}
	return (json_string(v));
}

/*
 * Appends the words of line after prefix to rows as a JSON object: the
 * first as the value of fields[0], then key=value words as the rest of
 * fields, in their order. Returns -1 when the line does not have that
 * form.
 */
static int
fields_object(json_t *rows, char *line, const char *prefix,
    const struct json_field *fields, size_t n)
{
	const char	*v[FIELDS_MAX] = { NULL };
	char		*word, *eq, *last;
	json_t		*o, *value;
	size_t		 i;

	if (strncmp(line, prefix, strlen(prefix)) != 0 || n > FIELDS_MAX)
		return (-1);
	if ((v[0] = strtok_r(line + strlen(prefix), " ", &last)) == NULL)
		return (-1);
	while ((word = strtok_r(NULL, " ", &last)) != NULL) {
		if ((eq = strchr(word, '=')) == NULL)
			return (-1);
		*eq = '\0';
		for (i = 1; i < n; i++)
			if (strcmp(word, fields[i].key) == 0)
				v[i] = eq + 1;
	}
	o = json_object();
	json_array_append_new(rows, o);
	for (i = 0; i < n; i++) {
		if (v[i] == NULL ||
		    (value = ctl_value(v[i], fields[i].kind)) == NULL)
			return (-1);
		json_object_set_new(o, fields[i].key, value);
	}
	return (0);
}

/* Appends "CLIENT #42 name=... addr=... ..." as a JSON object. */
static int
list_row(json_t *rows, char *line)
{
	return (fields_object(rows, line, "CLIENT #", list_fields,
	    NLIST_FIELDS));
}

/* Appends "SEEN sensor-7 state=... addr=... ..." as a JSON object. */
static int
seen_row(json_t *rows, char *line)
{
	return (fields_object(rows, line, "SEEN ", seen_fields, NSEEN_FIELDS));
}

/* Adds "STAT <key> <value>" as a member of o; -1 if it is not one. */
static int
stats_row(json_t *o, char *line)
{
	char	*key, *value;
	json_t	*v;

	if (!is_word(line, "STAT"))
		return (-1);
	key = line + 5;
	if ((value = strchr(key, ' ')) == NULL || value == key)
		return (-1);
	*value++ = '\0';
	if ((v = ctl_value(value, strcmp(key, "version") == 0 ? CTL_STRING :
	    CTL_AUTO)) == NULL)
		return (-1);
	return (json_object_set_new(o, key, v));
}

/* Prints v as JSON (flags as json_dumpf() takes them) and a newline. */
static void
json_print(const json_t *v, size_t flags)
{
	if (json_dumpf(v, stdout, flags | JSON_REAL_PRECISION(15)) == -1)
		errx(EXIT_USAGE, "cannot write JSON");
	putchar('\n');
}

/* Prints an array with each element on a line of its own. */
static void
json_print_rows(const json_t *a)
{
	size_t	 i;
	json_t	*e;

	putchar('[');
	json_array_foreach(a, i, e) {
		fputs(i == 0 ? "\n  " : ",\n  ", stdout);
		if (json_dumpf(e, stdout, JSON_REAL_PRECISION(15)) == -1)
			errx(EXIT_USAGE, "cannot write JSON");
	}
	printf("%s]\n", json_array_size(a) > 0 ? "\n" : "");
}

int
main(int argc, char *argv[])
{
	const struct ctl_cmd	*cmd;
	struct conn		 c;
	sigset_t		 mask;
	const char		*path = NULL, *host = NULL, *token;
	char			*line;
	int			 ch, json = 0, code;

	/*
	 * Options may follow the command too, as with most tools; "--" ends
	 * them, for a message that starts with "-". The messages are ours,
	 * naming heartbeatctl rather than argv[0].
	 */
	token = getenv("HEARTBEATD_TOKEN");
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":a:H:hs:V", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'a':
			token = optarg;
			break;
		case 'H':
			host = optarg;
			break;
		case 'h':
			usage(stdout, 0);
		case 'j':
			json = 1;
			break;
		case 's':
			path = optarg;
			break;
		case 'V':
			printf("heartbeatctl %s\n", PACKAGE_VERSION);
			exit(0);
		case ':':
			opt_misuse("option requires an argument",
			    argv[optind - 1]);
		default:
			opt_misuse("invalid option", argv[optind - 1]);
		}
	}
	argc -= optind;
	argv += optind;
	if (path != NULL && host != NULL)
		misuse(NULL, "-s and -H exclude each other");
	if (argc == 0)
		misuse(NULL, "no command");
	cmd = cmd_find(argv[0]);
	cmd_check(cmd, argc - 1, argv + 1, json);
	if (cmd->flags & CTL_HELP)
		usage(stdout, 0);
	line = cmd_line(cmd, argc - 1, argv + 1);
	if (token != NULL && *token == '\0')
		token = NULL;
	if (token != NULL && strpbrk(token, "\r\n") != NULL)
		misuse(NULL, "the token holds CR or LF");

	memset(&c, 0, sizeof(c));
	if (cmd->flags & CTL_WATCH) {
		watch_signals(&mask);
		c.mask = &mask;
	}
	ctl_connect(&c, path, host);
	if (token != NULL)
		ctl_auth(&c, token);
	conn_write(&c, line, deadline_in(CTL_TIMEOUT));
	free(line);
	if (cmd->flags & CTL_WATCH)
		code = run_watch(&c);
	else if ((cmd->flags & CTL_SEEN) && seen_single(argc - 1, argv + 1))
		code = run_seen(&c, json ? cmd->json : NULL);
	else if (cmd->flags & CTL_MULTI)
		code = run_multi(&c, json ? cmd->json : NULL);
	else
		code = run_single(&c, cmd->flags & CTL_BARE);
	close(c.fd);
	free(c.buf);
	if (fflush(stdout) == EOF)
		err(EXIT_USAGE, "stdout");
	return (code);
}
