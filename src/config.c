/*
 * The config file: one table of keys drives parsing, defaults, range
 * checks and config_diff(). inih splits the file into section, key and
 * value; everything else is here.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include <ini.h>
#include <openssl/tls1.h>

#include "conf.h"
#include "log.h"
#include "token.h"
#include "util.h"
#include "xmalloc.h"

/* Longest line of the file in bytes, its line end not counted. */
#define CONFIG_LINE_MAX	8192
/* Errors of one file reported, the first by line. */
#define CONFIG_ERRORS_MAX	10

struct cfg_ctx;
struct cfg_key;

/* A word a key accepts and the value it stands for. */
struct cfg_word {
	const char	*name;
	int		 value;
};

/* How one kind of value is parsed, compared and freed. */
struct cfg_type {
	int			 (*set)(struct cfg_ctx *,
				    const struct cfg_key *, const char *,
				    void *);
	int			 (*equal)(const void *, const void *);
	void			 (*free)(void *);
	size_t			 size;		/* bytes compared by default */
	int			 list;		/* later lines append */
	const struct cfg_word	*words;		/* word types only */
	const char		*what;		/* reason for a bad word */
};

/* One key: where it lives, what it holds, its range and its default. */
struct cfg_key {
	const char		*section;
	const char		*key;
	const struct cfg_type	*type;
	size_t			 offset;
	double			 min;
	double			 max;
	int			 flags;
#define CFG_REQUIRED	0x1	/* an empty value is an error */
#define CFG_LOOPBACK	0x2	/* off loopback only with a token */
#define CFG_ALIAS	0x4	/* another name of the key before it */
	const char		*dflt;
};

/* One error: its line (0: the file as a whole) and its text. */
struct cfg_error {
	int	 line;
	char	*text;		/* "FILE:LINE: key: reason" */
};

/* The state of one config_load(). */
struct cfg_ctx {
	struct hb_config	*cfg;
	const char		*path;
	FILE			*fp;
	char			*line;		/* getline() buffer */
	size_t			 linesize;
	int			 lineno;
	struct cfg_error	 errors[CONFIG_ERRORS_MAX];	/* by line */
	int			 nerrors;
	int			 nmore;		/* errors beyond those */
	char			*bad_section;	/* unknown, and said so */
	int			*seen;		/* line that set each key */
	const struct cfg_key	*open_key;	/* first admin listen off */
	int			 open_line;	/* loopback, and where */
	char			*open_addr;
};

static void	 cfg_error(struct cfg_ctx *, int, char *);
static char	*cfg_causes(struct cfg_ctx *);
static int	 cfg_fail(struct cfg_ctx *, const char *, ...)
		    __attribute__((__format__(printf, 2, 3)));
static void	 cfg_fail_errno(struct cfg_ctx *, int);
static const char *key_name(const struct cfg_key *);
static int	 num_fail(struct cfg_ctx *, const struct cfg_key *,
		    const char *, const char *);
static int	 get_u64(struct cfg_ctx *, const struct cfg_key *,
		    const char *, uint64_t *);
static int	 get_word(struct cfg_ctx *, const struct cfg_key *,
		    const char *, int *);
static int	 add_addr(struct cfg_ctx *, const struct cfg_key *,
		    const char *, struct hb_addrlist *);

static int	 set_addrs(struct cfg_ctx *, const struct cfg_key *,
		    const char *, void *);
static int	 set_seconds(struct cfg_ctx *, const struct cfg_key *,
		    const char *, void *);
static int	 set_u64(struct cfg_ctx *, const struct cfg_key *,
		    const char *, void *);
static int	 set_size(struct cfg_ctx *, const struct cfg_key *,
		    const char *, void *);
static int	 set_dup(struct cfg_ctx *, const struct cfg_key *,
		    const char *, void *);
static int	 set_int_word(struct cfg_ctx *, const struct cfg_key *,
		    const char *, void *);
static int	 set_bool(struct cfg_ctx *, const struct cfg_key *,
		    const char *, void *);
static int	 set_mode(struct cfg_ctx *, const struct cfg_key *,
		    const char *, void *);
static int	 set_string(struct cfg_ctx *, const struct cfg_key *,
		    const char *, void *);
static int	 set_path(struct cfg_ctx *, const struct cfg_key *,
		    const char *, void *);
static int	 set_cidrs(struct cfg_ctx *, const struct cfg_key *,
		    const char *, void *);
static int	 set_secret(struct cfg_ctx *, const struct cfg_key *,
		    const char *, void *);

static int	 eq_addrs(const void *, const void *);
static int	 eq_double(const void *, const void *);
static int	 eq_string(const void *, const void *);
static void	 free_addrs(void *);
static int	 eq_cidrs(const void *, const void *);
static void	 free_cidrs(void *);
static void	 free_string(void *);

static const struct cfg_key *key_find(const char *, const char *);
static int	 section_known(const char *);
static int	 key_equal(const struct cfg_key *, const struct hb_config *,
		    const struct hb_config *);
static struct hb_config *config_new(const char *);
static char	*cfg_reader(char *, int, void *);
static int	 handle_key(struct cfg_ctx *, const char *, const char *,
		    const char *);
static int	 cfg_handler(void *, const char *, const char *,
		    const char *);
static void	 parse_file(struct cfg_ctx *);
static void	 check_admin(struct cfg_ctx *);
static int	 fail_at(struct cfg_ctx *, const char *, const char *,
		    const char *, ...) __attribute__((__format__(printf, 4, 5)));
static void	 check_timeouts(struct cfg_ctx *);
static void	 check_tls(struct cfg_ctx *);
static void	 check_auth(struct cfg_ctx *);
static void	 check_alias(struct cfg_ctx *);

static const struct cfg_word dup_words[] = {
	{ "replace",	DUP_REPLACE },
	{ "reject",	DUP_REJECT },
	{ NULL,		0 }
};

static const struct cfg_word reply_words[] = {
	{ "none",	DATA_REPLY_NONE },
	{ "ok",		DATA_REPLY_OK },
	{ "echo",	DATA_REPLY_ECHO },
	{ NULL,		0 }
};

static const struct cfg_word facility_words[] = {
	{ "daemon",	LOG_DAEMON },
	{ "user",	LOG_USER },
	{ "local0",	LOG_LOCAL0 },
	{ "local1",	LOG_LOCAL1 },
	{ "local2",	LOG_LOCAL2 },
	{ "local3",	LOG_LOCAL3 },
	{ "local4",	LOG_LOCAL4 },
	{ "local5",	LOG_LOCAL5 },
	{ "local6",	LOG_LOCAL6 },
	{ "local7",	LOG_LOCAL7 },
	{ NULL,		0 }
};

static const struct cfg_word level_words[] = {
	{ "err",	LOG_ERR },
	{ "warning",	LOG_WARNING },
	{ "notice",	LOG_NOTICE },
	{ "info",	LOG_INFO },
	{ "debug",	LOG_DEBUG },
	{ NULL,		0 }
};

static const struct cfg_word verify_words[] = {
	{ "no",		VERIFY_NO },
	{ "optional",	VERIFY_OPTIONAL },
	{ "require",	VERIFY_REQUIRE },
	{ NULL,		0 }
};

static const struct cfg_word tls_version_words[] = {
	{ "1.2",	TLS1_2_VERSION },
	{ "1.3",	TLS1_3_VERSION },
	{ NULL,		0 }
};

static const struct cfg_word auth_words[] = {
	{ "none",	AUTH_NONE },
	{ "token",	AUTH_TOKEN },
	{ "cert",	AUTH_CERT },
	{ "any",	AUTH_ANY },
	{ NULL,		0 }
};

static const struct cfg_type type_addrs = {
	set_addrs, eq_addrs, free_addrs, 0, 1, NULL, NULL
};
static const struct cfg_type type_cidrs = {
	set_cidrs, eq_cidrs, free_cidrs, 0, 1, NULL, NULL
};
static const struct cfg_type type_seconds = {
	set_seconds, eq_double, NULL, 0, 0, NULL, NULL
};
static const struct cfg_type type_u64 = {
	set_u64, NULL, NULL, sizeof(uint64_t), 0, NULL, NULL
};
static const struct cfg_type type_size = {
	set_size, NULL, NULL, sizeof(size_t), 0, NULL, NULL
};
static const struct cfg_type type_dup = {
	set_dup, NULL, NULL, sizeof(enum hb_dup_policy), 0,
	dup_words, "not replace or reject"
};
static const struct cfg_type type_string = {
	set_string, eq_string, free_string, 0, 0, NULL, NULL
};
static const struct cfg_type type_path = {
	set_path, eq_string, free_string, 0, 0, NULL, NULL
};
static const struct cfg_type type_mode = {
	set_mode, NULL, NULL, sizeof(mode_t), 0, NULL, NULL
};
static const struct cfg_type type_bool = {
	set_bool, NULL, NULL, sizeof(int), 0, NULL, NULL
};
static const struct cfg_type type_reply = {
	set_int_word, NULL, NULL, sizeof(int), 0, reply_words,
	"not none, ok or echo"
};
static const struct cfg_type type_facility = {
	set_int_word, NULL, NULL, sizeof(int), 0,
	facility_words, "unknown facility"
};
static const struct cfg_type type_level = {
	set_int_word, NULL, NULL, sizeof(int), 0,
	level_words, "unknown level"
};

static const struct cfg_type type_verify = {
	set_int_word, NULL, NULL, sizeof(int), 0, verify_words,
	"not no, optional or require"
};
static const struct cfg_type type_tls_version = {
	set_int_word, NULL, NULL, sizeof(int), 0, tls_version_words,
	"not 1.2 or 1.3"
};
static const struct cfg_type type_auth = {
	set_int_word, NULL, NULL, sizeof(int), 0, auth_words,
	"not none, token, cert or any"
};
static const struct cfg_type type_secret = {
	set_secret, NULL, NULL, sizeof(struct hb_secret), 0, NULL, NULL
};

#define OFF(f)	offsetof(struct hb_config, f)

/* Every key, in the order of the SPEC listing: config_diff() follows it. */
static const struct cfg_key keys[] = {
	{ "server", "listen", &type_addrs, OFF(listen), 0, 0,
	    CFG_REQUIRED, "0.0.0.0:7000" },
	{ "server", "heartbeat_timeout", &type_seconds,
	    OFF(heartbeat_timeout), 0.05, 86400, 0, "6" },
	{ "server", "max_clients", &type_u64, OFF(max_clients),
	    1, 10000000, 0, "10000" },
	{ "server", "max_clients_per_ip", &type_u64,
	    OFF(max_clients_per_ip), 0, 10000000, 0, "0" },
	{ "server", "max_line", &type_size, OFF(max_line),
	    16, 1048576, 0, "1024" },
	{ "server", "send_buffer_limit", &type_size,
	    OFF(send_buffer_limit), 1024, 1073741824, 0, "262144" },
	{ "server", "duplicate_name", &type_dup, OFF(duplicate_name),
	    0, 0, 0, "replace" },
	{ "server", "data_reply", &type_reply, OFF(data_reply), 0, 0, 0,
	    "none" },
	{ "server", "tls_listen", &type_addrs, OFF(tls_listen), 0, 0, 0, "" },
	{ "server", "proxy_from", &type_cidrs, OFF(proxy_from), 0, 0, 0, "" },
	{ "server", "hello_timeout", &type_seconds, OFF(hello_timeout),
	    0.05, 86400, 0, "10" },
	{ "server", "heartbeat_timeout_min", &type_seconds,
	    OFF(heartbeat_timeout_min), 0, 86400, 0, "0" },
	{ "server", "heartbeat_timeout_max", &type_seconds,
	    OFF(heartbeat_timeout_max), 0, 86400, 0, "0" },
	{ "server", "flap_limit", &type_u64, OFF(flap_limit), 0, 1000000, 0,
	    "0" },
	{ "server", "flap_hold", &type_u64, OFF(flap_hold), 1, 86400, 0,
	    "300" },
	{ "admin", "listen", &type_addrs, OFF(admin_listen), 0, 0,
	    CFG_LOOPBACK, "127.0.0.1:7001" },
	{ "admin", "socket", &type_path, OFF(admin_socket), 0, 0, 0, "" },
	{ "admin", "socket_mode", &type_mode, OFF(admin_socket_mode),
	    0, 0777, 0, "0660" },
	{ "admin", "token", &type_string, OFF(admin_token), 0, 0, 0, "" },
	{ "admin", "watch_backlog", &type_size, OFF(watch_backlog),
	    0, 1000000, 0, "10000" },
	{ "admin", "tls_listen", &type_addrs, OFF(admin_tls_listen), 0, 0,
	    CFG_LOOPBACK, "" },
	{ "http", "listen", &type_addrs, OFF(http_listen), 0, 0, 0, "" },
	{ "metrics", "listen", &type_addrs, OFF(http_alias), 0, 0,
	    CFG_ALIAS, "" },
	{ "tls", "cert", &type_string, OFF(tls_cert), 0, 0, 0, "" },
	{ "tls", "key", &type_string, OFF(tls_key), 0, 0, 0, "" },
	{ "tls", "ca", &type_string, OFF(tls_ca), 0, 0, 0, "" },
	{ "tls", "verify_client", &type_verify, OFF(tls_verify_client),
	    0, 0, 0, "no" },
	{ "tls", "min_version", &type_tls_version, OFF(tls_min_version),
	    0, 0, 0, "1.2" },
	{ "auth", "mode", &type_auth, OFF(auth_mode), 0, 0, 0, "none" },
	{ "auth", "secret", &type_secret, OFF(auth_secret), 0, 0, 0, "" },
	{ "auth", "secret_file", &type_string, OFF(auth_secret_file), 0, 0,
	    0, "" },
	{ "state", "file", &type_string, OFF(state_file), 0, 0, 0, "" },
	{ "state", "remember", &type_u64, OFF(state_remember), 0, 100000000,
	    0, "100000" },
	{ "state", "forget_after", &type_u64, OFF(state_forget_after), 1,
	    315360000, 0, "2592000" },
	{ "push", "ttl", &type_u64, OFF(push_ttl), 1, 2592000, 0, "86400" },
	{ "push", "max_per_name", &type_u64, OFF(push_max_per_name), 1,
	    10000000, 0, "1000" },
	{ "push", "max_total", &type_u64, OFF(push_max_total), 1, 100000000,
	    0, "1000000" },
	{ "push", "redeliver", &type_seconds, OFF(push_redeliver), 0.1, 86400,
	    0, "30" },
	{ "log", "syslog", &type_bool, OFF(log_syslog), 0, 0, 0, "yes" },
	{ "log", "ident", &type_string, OFF(log_ident), 0, 0,
	    CFG_REQUIRED, "heartbeatd" },
	{ "log", "facility", &type_facility, OFF(log_facility), 0, 0, 0,
	    "daemon" },
	{ "log", "level", &type_level, OFF(log_level), 0, 0, 0, "info" },
};
#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

#define FIELD(cfg, k)	((void *)((char *)(cfg) + (k)->offset))
#define CFIELD(cfg, k)	((const void *)((const char *)(cfg) + (k)->offset))

/*
 * Keeps the error text (which it takes) at line among the first
 * CONFIG_ERRORS_MAX by line, and counts those it drops.
 */
static void
cfg_error(struct cfg_ctx *ctx, int line, char *text)
{
	int	 i;

	if (ctx->nerrors == CONFIG_ERRORS_MAX) {
		ctx->nmore++;
		if (line >= ctx->errors[ctx->nerrors - 1].line) {
			free(text);
			return;
		}
		free(ctx->errors[--ctx->nerrors].text);
	}
	for (i = ctx->nerrors; i > 0 && ctx->errors[i - 1].line > line; i--)
		ctx->errors[i] = ctx->errors[i - 1];
	ctx->errors[i].line = line;
	ctx->errors[i].text = text;
	ctx->nerrors++;
}

/* Returns the errors kept, one a line, and frees them. */
static char *
cfg_causes(struct cfg_ctx *ctx)
{
	FILE	*f;
	char	*all;
	size_t	 size;
	int	 i;

	if ((f = open_memstream(&all, &size)) == NULL)
		fatal("%s: open_memstream", __func__);
	for (i = 0; i < ctx->nerrors; i++) {
		fprintf(f, "%s%s", i > 0 ? "\n" : "", ctx->errors[i].text);
		free(ctx->errors[i].text);
	}
	if (ctx->nmore > 0)
		fprintf(f, "\n%s: more errors: %d", ctx->path, ctx->nmore);
	if (fclose(f) == EOF)
		fatal("%s: open_memstream", __func__);
	ctx->nerrors = ctx->nmore = 0;
	return (all);
}

/* Records "FILE:LINE: message" as an error; returns -1. */
static int
cfg_fail(struct cfg_ctx *ctx, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg, *text;
	int	 len;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0)
		fatalx("%s: vsnprintf", __func__);
	msg = xmalloc(len + 1);
	va_start(ap, fmt);
	vsnprintf(msg, len + 1, fmt, ap);
	va_end(ap);
	xasprintf(&text, "%s:%d: %s", ctx->path, ctx->lineno, msg);
	free(msg);
	cfg_error(ctx, ctx->lineno, text);
	return (-1);
}

/* Records "FILE: strerror" as an error: the file cannot be read. */
static void
cfg_fail_errno(struct cfg_ctx *ctx, int error)
{
	char	*text;

	xasprintf(&text, "%s: %s", ctx->path, strerror(error));
	cfg_error(ctx, 0, text);
}

/*
 * Names k as errors do: bare, or as "section.key" where another section
 * has a key of that name too (listen), so that the user knows which.
 */
static const char *
key_name(const struct cfg_key *k)
{
	static char	 buf[128];
	size_t		 i;

	for (i = 0; i < NKEYS; i++) {
		if (&keys[i] != k && strcmp(keys[i].key, k->key) == 0) {
			snprintf(buf, sizeof(buf), "%s.%s", k->section,
			    k->key);
			return (buf);
		}
	}
	return (k->key);
}

/* Fails with why from parse_u64() or parse_double(), naming k's range. */
static int
num_fail(struct cfg_ctx *ctx, const struct cfg_key *k, const char *why,
    const char *value)
{
	if (strcmp(why, "out of range") == 0)
		return (cfg_fail(ctx, "%s: out of range %.15g-%.15g: \"%s\"",
		    key_name(k), k->min, k->max, value));
	return (cfg_fail(ctx, "%s: %s: \"%s\"", key_name(k), why, value));
}

/* Parses a whole number in k's range. */
static int
get_u64(struct cfg_ctx *ctx, const struct cfg_key *k, const char *value,
    uint64_t *v)
{
	const char	*why;

	if (parse_u64(value, (uint64_t)k->min, (uint64_t)k->max, v,
	    &why) == -1)
		return (num_fail(ctx, k, why, value));
	return (0);
}

/* Looks value up, in any case, among the words of k's type. */
static int
get_word(struct cfg_ctx *ctx, const struct cfg_key *k, const char *value,
    int *v)
{
	const struct cfg_word	*w;

	for (w = k->type->words; w->name != NULL; w++) {
		if (strcasecmp(w->name, value) == 0) {
			*v = w->value;
			return (0);
		}
	}
	return (cfg_fail(ctx, "%s: %s: \"%s\"", key_name(k), k->type->what,
	    value));
}

/*
 * Appends the address tok to l. The first admin address off loopback is
 * remembered: whether it is allowed depends on a token that may come later.
 */
static int
add_addr(struct cfg_ctx *ctx, const struct cfg_key *k, const char *tok,
    struct hb_addrlist *l)
{
	struct hb_addr	 a;

	if (addr_parse(tok, &a.ss, &a.len) == -1)
		return (cfg_fail(ctx, "%s: not a numeric address "
		    "(IPv4:port or [IPv6]:port): \"%s\"", key_name(k), tok));
	if (addrlist_contains(l, &a))
		return (cfg_fail(ctx, "%s: duplicate address: \"%s\"",
		    key_name(k), tok));
	if ((k->flags & CFG_LOOPBACK) && ctx->open_key == NULL &&
	    !addr_is_loopback((struct sockaddr *)&a.ss)) {
		ctx->open_key = k;
		ctx->open_line = ctx->lineno;
		ctx->open_addr = xstrdup(tok);
	}
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = a;
	return (0);
}

/* Appends the space-separated addresses in value to the list at p. */
static int
set_addrs(struct cfg_ctx *ctx, const struct cfg_key *k, const char *value,
    void *p)
{
	char	*copy, *s, *tok;
	int	 rc = 0, n = 0;

	copy = s = xstrdup(value);
	while (rc == 0 && (tok = strsep(&s, " \t")) != NULL) {
		if (*tok == '\0')
			continue;
		n++;
		rc = add_addr(ctx, k, tok, p);
	}
	free(copy);
	if (rc == 0 && n == 0 && (k->flags & CFG_REQUIRED))
		rc = cfg_fail(ctx, "%s: no address", key_name(k));
	return (rc);
}

static int
set_seconds(struct cfg_ctx *ctx, const struct cfg_key *k,
    const char *value, void *p)
{
	const char	*why;

	if (parse_double(value, k->min, k->max, p, &why) == -1)
		return (num_fail(ctx, k, why, value));
	return (0);
}

static int
set_u64(struct cfg_ctx *ctx, const struct cfg_key *k, const char *value,
    void *p)
{
	return (get_u64(ctx, k, value, p));
}

static int
set_size(struct cfg_ctx *ctx, const struct cfg_key *k, const char *value,
    void *p)
{
	uint64_t	 v;

	if (get_u64(ctx, k, value, &v) == -1)
		return (-1);
	*(size_t *)p = v;
	return (0);
}

static int
set_dup(struct cfg_ctx *ctx, const struct cfg_key *k, const char *value,
    void *p)
{
	int	 v;

	if (get_word(ctx, k, value, &v) == -1)
		return (-1);
	*(enum hb_dup_policy *)p = v;
	return (0);
}

static int
set_int_word(struct cfg_ctx *ctx, const struct cfg_key *k,
    const char *value, void *p)
{
	return (get_word(ctx, k, value, p));
}

static int
set_bool(struct cfg_ctx *ctx, const struct cfg_key *k, const char *value,
    void *p)
{
	if (parse_bool(value, p) == -1)
		return (cfg_fail(ctx, "%s: not a boolean "
		    "(yes|no|true|false|1|0): \"%s\"", key_name(k), value));
	return (0);
}

/* Parses one to four octal digits up to k->max, such as 0660. */
static int
set_mode(struct cfg_ctx *ctx, const struct cfg_key *k, const char *value,
    void *p)
{
	unsigned long	 v;
	size_t		 n;

	n = strspn(value, "01234567");
	if (n == 0 || n > 4 || value[n] != '\0' ||
	    (v = strtoul(value, NULL, 8)) > k->max)
		return (cfg_fail(ctx, "%s: not an octal mode 0000-0777: "
		    "\"%s\"", key_name(k), value));
	*(mode_t *)p = v;
	return (0);
}

/* Sets the string at p to value; empty means NULL unless required. */
static int
set_string(struct cfg_ctx *ctx, const struct cfg_key *k,
    const char *value, void *p)
{
	char	**sp = p;

	if (*value == '\0' && (k->flags & CFG_REQUIRED))
		return (cfg_fail(ctx, "%s: must not be empty", key_name(k)));
	free(*sp);
	*sp = *value == '\0' ? NULL : xstrdup(value);
	return (0);
}

/* As set_string(), for a path that must fit a Unix socket address. */
static int
set_path(struct cfg_ctx *ctx, const struct cfg_key *k, const char *value,
    void *p)
{
	struct sockaddr_un	 sun;

	if (strlen(value) >= sizeof(sun.sun_path))
		return (cfg_fail(ctx, "%s: path too long", key_name(k)));
	return (set_string(ctx, k, value, p));
}

/* Appends the space-separated networks in value to the list at p. */
static int
set_cidrs(struct cfg_ctx *ctx, const struct cfg_key *k, const char *value,
    void *p)
{
	struct hb_cidrlist	*l = p;
	struct hb_cidr		 net;
	char			*copy, *s, *tok;
	int			 rc = 0;

	copy = s = xstrdup(value);
	while (rc == 0 && (tok = strsep(&s, " \t")) != NULL) {
		if (*tok == '\0')
			continue;
		if (cidr_parse(tok, &net) == -1) {
			rc = cfg_fail(ctx, "%s: not a network (10.0.0.0/8, "
			    "[2001:db8::]/32 or an address): \"%s\"",
			    key_name(k), tok);
			break;
		}
		l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
		l->v[l->n++] = net;
	}
	free(copy);
	return (rc);
}

/* Decodes a hex secret; empty means none. */
static int
set_secret(struct cfg_ctx *ctx, const struct cfg_key *k, const char *value,
    void *p)
{
	const char	*why;

	memset(p, 0, sizeof(struct hb_secret));
	if (*value == '\0')
		return (0);
	if (token_secret_parse(value, p, &why) == -1)
		return (cfg_fail(ctx, "%s: %s", key_name(k), why));
	return (0);
}

/* Address lists are equal when they hold the same set of addresses. */
static int
eq_addrs(const void *a, const void *b)
{
	const struct hb_addrlist	*la = a, *lb = b;
	size_t				 i;

	if (la->n != lb->n)
		return (0);
	for (i = 0; i < la->n; i++) {
		if (!addrlist_contains(lb, &la->v[i]))
			return (0);
	}
	return (1);
}

static int
eq_cidrs(const void *a, const void *b)
{
	const struct hb_cidrlist	*la = a, *lb = b;

	return (la->n == lb->n && (la->n == 0 ||
	    memcmp(la->v, lb->v, la->n * sizeof(*la->v)) == 0));
}

static void
free_cidrs(void *p)
{
	struct hb_cidrlist	*l = p;

	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int
eq_double(const void *a, const void *b)
{
	return (*(const double *)a == *(const double *)b);
}

static int
eq_string(const void *a, const void *b)
{
	const char	*sa = *(char *const *)a, *sb = *(char *const *)b;

	if (sa == NULL || sb == NULL)
		return (sa == sb);
	return (strcmp(sa, sb) == 0);
}

static void
free_addrs(void *p)
{
	struct hb_addrlist	*l = p;

	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void
free_string(void *p)
{
	char	**sp = p;

	free(*sp);
	*sp = NULL;
}

static const struct cfg_key *
key_find(const char *section, const char *key)
{
	size_t	 i;

	for (i = 0; i < NKEYS; i++) {
		if (strcmp(keys[i].section, section) == 0 &&
		    strcmp(keys[i].key, key) == 0)
			return (&keys[i]);
	}
	return (NULL);
}

static int
section_known(const char *section)
{
	size_t	 i;

	for (i = 0; i < NKEYS; i++) {
		if (strcmp(keys[i].section, section) == 0)
			return (1);
	}
	return (0);
}

/* Returns 1 when key k holds the same parsed value in a and b. */
static int
key_equal(const struct cfg_key *k, const struct hb_config *a,
    const struct hb_config *b)
{
	if (k->type->equal != NULL)
		return (k->type->equal(CFIELD(a, k), CFIELD(b, k)));
	return (memcmp(CFIELD(a, k), CFIELD(b, k), k->type->size) == 0);
}

/* Returns a config for path holding every key's default. */
static struct hb_config *
config_new(const char *path)
{
	struct cfg_ctx	 ctx;
	size_t		 i;

	memset(&ctx, 0, sizeof(ctx));
	ctx.path = "default";
	ctx.cfg = xcalloc(1, sizeof(*ctx.cfg));
	ctx.cfg->path = xstrdup(path);
	for (i = 0; i < NKEYS; i++) {
		if (keys[i].type->set(&ctx, &keys[i], keys[i].dflt,
		    FIELD(ctx.cfg, &keys[i])) == -1)
			fatalx("%s: %s", __func__, cfg_causes(&ctx));
	}
	free(ctx.open_addr);
	return (ctx.cfg);
}

/*
 * The fgets-style reader inih calls once per line. It counts lines, which
 * Debian's inih does not pass to the handler, and hands inih an empty line
 * instead of one that would not fit inih's buffer (inih would split it
 * silently) or that holds a NUL byte, which are errors.
 */
static char *
cfg_reader(char *buf, int size, void *arg)
{
	struct cfg_ctx	*ctx = arg;
	ssize_t		 n;
	size_t		 len;

	if ((n = getline(&ctx->line, &ctx->linesize, ctx->fp)) == -1) {
		if (ferror(ctx->fp))
			cfg_fail_errno(ctx, errno);
		return (NULL);
	}
	ctx->lineno++;
	len = n;
	if (len > 0 && ctx->line[len - 1] == '\n')
		len--;
	if (len > 0 && ctx->line[len - 1] == '\r')
		len--;
	if (len > CONFIG_LINE_MAX || n >= size)
		cfg_fail(ctx, "line too long");
	else if (memchr(ctx->line, '\0', n) != NULL)
		cfg_fail(ctx, "syntax error");
	else {
		memcpy(buf, ctx->line, n + 1);
		return (buf);
	}
	strlcpy(buf, "\n", size);
	return (buf);
}

/*
 * Checks section and key, then sets the value. A list key's first line
 * replaces the default and later lines append to it; a scalar key set
 * twice is an error. An unknown section is told once, at its first key.
 */
static int
handle_key(struct cfg_ctx *ctx, const char *section, const char *name,
    const char *value)
{
	const struct cfg_key	*k;
	size_t			 i;
	int			 list;

	if (*name == '\0' || value == NULL)
		return (cfg_fail(ctx, "syntax error"));
	if (*section == '\0')
		return (cfg_fail(ctx, "%s: key outside any section", name));
	if (!section_known(section)) {
		if (ctx->bad_section != NULL &&
		    strcmp(ctx->bad_section, section) == 0)
			return (-1);
		free(ctx->bad_section);
		ctx->bad_section = xstrdup(section);
		return (cfg_fail(ctx, "[%s]: unknown section", section));
	}
	if ((k = key_find(section, name)) == NULL)
		return (cfg_fail(ctx, "%s: unknown key", name));
	i = k - keys;
	list = k->type->list;
	if (ctx->seen[i] != 0 && !list)
		return (cfg_fail(ctx, "%s: duplicate key", key_name(k)));
	if (ctx->seen[i] == 0 && list)
		k->type->free(FIELD(ctx->cfg, k));
	ctx->seen[i] = ctx->lineno;
	return (k->type->set(ctx, k, value, FIELD(ctx->cfg, k)));
}

/*
 * The inih handler. Errors are kept in ctx, and inih is told none, so that
 * it stops only at an error of its own.
 */
static int
cfg_handler(void *arg, const char *section, const char *name,
    const char *value)
{
	handle_key(arg, section, name, value);
	return (1);
}

/* Runs inih over the open file; errors land in ctx->errors. */
static void
parse_file(struct cfg_ctx *ctx)
{
	int	 line;

	/*
	 * Debian's inih reads its options at run time. A line is parsed in
	 * a stack buffer of ini_max_line bytes (line end and NUL included);
	 * an indented line must not continue the previous key's value; a
	 * line without "=" comes to cfg_handler(), which reports it. The
	 * one error inih finds itself, a broken section header, ends the
	 * parse: no later key's section is known.
	 */
	ini_max_line = CONFIG_LINE_MAX + 3;
	ini_allow_multiline = false;
	ini_allow_no_value = true;
	ini_stop_on_first_error = true;

	ctx->seen = xcalloc(NKEYS, sizeof(*ctx->seen));
	line = ini_parse_stream(cfg_reader, ctx, cfg_handler, ctx);
	if (line > 0) {
		ctx->lineno = line;
		cfg_fail(ctx, "syntax error");
	}
	free(ctx->bad_section);
	ctx->bad_section = NULL;
}

/* The admin port never opens to the network unauthenticated. */
static void
check_admin(struct cfg_ctx *ctx)
{
	if (ctx->open_key == NULL || ctx->cfg->admin_token != NULL)
		return;
	ctx->lineno = ctx->open_line;
	cfg_fail(ctx, "%s: not a loopback address and no token is set: "
	    "\"%s\"", key_name(ctx->open_key), ctx->open_addr);
}

/*
 * Fails at the line that set section.key, or at the end of the file when
 * the key was left at its default.
 */
static int
fail_at(struct cfg_ctx *ctx, const char *section, const char *key,
    const char *fmt, ...)
{
	const struct cfg_key	*k = key_find(section, key);
	va_list			 ap;
	char			*msg;
	int			 rc;

	if (ctx->seen[k - keys] != 0)
		ctx->lineno = ctx->seen[k - keys];
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		fatalx("%s: vasprintf", __func__);
	va_end(ap);
	rc = cfg_fail(ctx, "%s: %s", key_name(k), msg);
	free(msg);
	return (rc);
}

/*
 * The bounds of the timeouts clients may ask for are 0 (heartbeat_timeout
 * itself) or at least the smallest heartbeat_timeout, and in order.
 */
static void
check_timeouts(struct cfg_ctx *ctx)
{
	struct hb_config	*c = ctx->cfg;
	double			 lo, hi;

	if (c->heartbeat_timeout_min > 0 && c->heartbeat_timeout_min < 0.05)
		fail_at(ctx, "server", "heartbeat_timeout_min",
		    "0 or 0.05-86400: \"%g\"", c->heartbeat_timeout_min);
	else if (c->heartbeat_timeout_max > 0 &&
	    c->heartbeat_timeout_max < 0.05)
		fail_at(ctx, "server", "heartbeat_timeout_max",
		    "0 or 0.05-86400: \"%g\"", c->heartbeat_timeout_max);
	lo = c->heartbeat_timeout_min > 0 ? c->heartbeat_timeout_min :
	    c->heartbeat_timeout;
	hi = c->heartbeat_timeout_max > 0 ? c->heartbeat_timeout_max :
	    c->heartbeat_timeout;
	if (ctx->nerrors == 0 && lo > hi)
		fail_at(ctx, "server", "heartbeat_timeout_max",
		    "below the smallest timeout (%g)", lo);
}

/* TLS listeners need a certificate; a client certificate needs a CA. */
static void
check_tls(struct cfg_ctx *ctx)
{
	struct hb_config	*c = ctx->cfg;

	if (c->tls_listen.n > 0 && c->tls_cert == NULL)
		fail_at(ctx, "server", "tls_listen", "needs [tls] cert");
	else if (c->admin_tls_listen.n > 0 && c->tls_cert == NULL)
		fail_at(ctx, "admin", "tls_listen", "needs [tls] cert");
	else if ((c->tls_cert == NULL) != (c->tls_key == NULL))
		fail_at(ctx, "tls", c->tls_cert == NULL ? "key" : "cert",
		    "cert and key go together");
	else if (c->tls_verify_client != VERIFY_NO && c->tls_ca == NULL)
		fail_at(ctx, "tls", "verify_client", "needs [tls] ca");
}

/*
 * Token modes need a secret, from the file when secret_file is set (it is
 * read here, so that -t and a reload see a bad file); certificate modes
 * need a CA to verify against.
 */
static void
check_auth(struct cfg_ctx *ctx)
{
	struct hb_config	*c = ctx->cfg;
	char			*why;

	if (c->auth_secret_file != NULL && c->auth_secret.len > 0) {
		fail_at(ctx, "auth", "secret_file", "secret is set too");
		return;
	}
	if (c->auth_secret_file != NULL && token_secret_load(
	    c->auth_secret_file, &c->auth_secret, &why) == -1) {
		fail_at(ctx, "auth", "secret_file", "%s", why);
		free(why);
		return;
	}
	if ((c->auth_mode == AUTH_TOKEN || c->auth_mode == AUTH_ANY) &&
	    c->auth_secret.len == 0)
		fail_at(ctx, "auth", "mode", "%s needs [auth] secret or "
		    "secret_file", c->auth_mode == AUTH_TOKEN ? "token" : "any");
	else if ((c->auth_mode == AUTH_CERT || c->auth_mode == AUTH_ANY) &&
	    c->tls_ca == NULL)
		fail_at(ctx, "auth", "mode", "%s needs [tls] ca",
		    c->auth_mode == AUTH_CERT ? "cert" : "any");
}

/*
 * [metrics] listen is another name of [http] listen: it stands for it
 * when [http] has none, and may name the same addresses, but no others.
 */
static void
check_alias(struct cfg_ctx *ctx)
{
	const struct cfg_key	*http = key_find("http", "listen");
	const struct cfg_key	*alias = key_find("metrics", "listen");
	struct hb_config	*c = ctx->cfg;

	if (ctx->seen[alias - keys] == 0)
		return;
	if (ctx->seen[http - keys] == 0) {
		free_addrs(&c->http_listen);
		c->http_listen = c->http_alias;
		memset(&c->http_alias, 0, sizeof(c->http_alias));
	} else if (!eq_addrs(&c->http_listen, &c->http_alias))
		fail_at(ctx, "metrics", "listen", "differs from [http] listen");
}

/*
 * Reads the config file at path. Returns a new config, or NULL with *cause
 * set to a malloc'd "FILE:LINE: key: reason" or "FILE: strerror": one
 * line for each error, the first CONFIG_ERRORS_MAX by line, then "FILE:
 * more errors: <n>" if there were more.
 */
struct hb_config *
config_load(const char *path, char **cause)
{
	struct cfg_ctx	 ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.path = path;
	ctx.cfg = config_new(path);
	if ((ctx.fp = fopen(path, "re")) == NULL)
		cfg_fail_errno(&ctx, errno);
	else {
		parse_file(&ctx);
		fclose(ctx.fp);
		check_admin(&ctx);
		/* Rules across keys hold only once every key parsed. */
		if (ctx.nerrors == 0)
			check_timeouts(&ctx);
		if (ctx.nerrors == 0)
			check_tls(&ctx);
		if (ctx.nerrors == 0)
			check_auth(&ctx);
		if (ctx.nerrors == 0)
			check_alias(&ctx);
	}
	free(ctx.seen);
	free(ctx.line);
	free(ctx.open_addr);
	if (ctx.nerrors > 0) {
		config_free(ctx.cfg);
		*cause = cfg_causes(&ctx);
		return (NULL);
	}
	return (ctx.cfg);
}

/* Frees cfg and everything it owns; NULL is fine. */
void
config_free(struct hb_config *cfg)
{
	size_t	 i;

	if (cfg == NULL)
		return;
	for (i = 0; i < NKEYS; i++) {
		if (keys[i].type->free != NULL)
			keys[i].type->free(FIELD(cfg, &keys[i]));
	}
	free(cfg->path);
	free(cfg);
}

/*
 * Counts the keys whose parsed value differs between old and new and sets
 * *changed to a malloc'd "section.key,..." in table order, or NULL if none.
 */
int
config_diff(const struct hb_config *old, const struct hb_config *new,
    char **changed)
{
	char	*list = NULL, *prev;
	size_t	 i;
	int	 n = 0;

	for (i = 0; i < NKEYS; i++) {
		if ((keys[i].flags & CFG_ALIAS) || key_equal(&keys[i], old, new))
			continue;
		prev = list;
		xasprintf(&list, "%s%s%s.%s", prev == NULL ? "" : prev,
		    prev == NULL ? "" : ",", keys[i].section, keys[i].key);
		free(prev);
		n++;
	}
	*changed = list;
	return (n);
}
