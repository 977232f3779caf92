/*
 * The JSON bodies of the API's POST requests, parsed and checked against
 * the keys each endpoint takes. Pure: no daemon state, no I/O, so that
 * the fuzzer (tests/fuzz/fuzz_http.c) calls it as the server does.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "http_body.h"

/* One key a body may hold. */
struct body_key {
	const char	*key;
	int		 type;
#define KEY_STRING	 0
#define KEY_UINT	 1	/* a whole number, 0 or more */
	int		 required;
	size_t		 off;		/* of the value in struct http_body */
	size_t		 lenoff;	/* of a string's length */
};

#define STR(k, req)	{ #k, KEY_STRING, req, \
	offsetof(struct http_body, k), offsetof(struct http_body, k##len) }

static const struct body_key send_keys[] = {
	STR(target, 1), STR(message, 1), { NULL, 0, 0, 0, 0 }
};
static const struct body_key kick_keys[] = {
	STR(select, 1), { NULL, 0, 0, 0, 0 }
};
static const struct body_key push_keys[] = {
	STR(name, 1),
	{ "ttl", KEY_UINT, 0, offsetof(struct http_body, ttl), 0 },
	STR(message, 1), { NULL, 0, 0, 0, 0 }
};
static const struct body_key session_keys[] = {
	STR(token, 1), { NULL, 0, 0, 0, 0 }
};

static const struct body_key *const body_keys[] = {
	[BODY_SEND] = send_keys,
	[BODY_KICK] = kick_keys,
	[BODY_PUSH] = push_keys,
	[BODY_SESSION] = session_keys,
};

static int	body_set(const struct body_key *, json_t *, struct http_body *);

/* Stores v as key k of b; returns -1 when v is not of k's type. */
static int
body_set(const struct body_key *k, json_t *v, struct http_body *b)
{
	char	*base = (char *)b;

	if (k->type == KEY_STRING) {
		if (!json_is_string(v))
			return (-1);
		*(const char **)(base + k->off) = json_string_value(v);
		*(size_t *)(base + k->lenoff) = json_string_length(v);
		return (0);
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return (-1);
	*(uint64_t *)(base + k->off) = json_integer_value(v);
	return (0);
}

/*
 * Parses the len bytes at buf as the body of kind into b. Returns 0, or
 * -1 with *code "json" (not JSON) or "syntax" (not the object the
 * endpoint takes: another type, a key missing, unknown or of the wrong
 * type) and why, HTTP_WHY_MAX bytes, saying what is wrong.
 */
int
http_body_parse(enum http_body_kind kind, const char *buf, size_t len,
    struct http_body *b, const char **code, char *why)
{
	const struct body_key	*keys = body_keys[kind], *k;
	json_error_t		 err;
	const char		*key;
	json_t			*v;

	memset(b, 0, sizeof(*b));
	*code = "syntax";
	if ((b->root = json_loadb(buf, len, JSON_REJECT_DUPLICATES,
	    &err)) == NULL) {
		*code = "json";
		snprintf(why, HTTP_WHY_MAX, "%.100s at byte %d", err.text,
		    err.position);
		return (-1);
	}
	if (!json_is_object(b->root)) {
		snprintf(why, HTTP_WHY_MAX, "not a JSON object");
		goto fail;
	}
	json_object_foreach(b->root, key, v) {
		for (k = keys; k->key != NULL; k++)
			if (strcmp(k->key, key) == 0)
				break;
		if (k->key == NULL) {
			snprintf(why, HTTP_WHY_MAX, "unknown key: %.64s", key);
			goto fail;
		}
		if (body_set(k, v, b) == -1) {
			snprintf(why, HTTP_WHY_MAX, "%s: not a %s", k->key,
			    k->type == KEY_STRING ? "string" :
			    "whole number");
			goto fail;
		}
	}
	for (k = keys; k->key != NULL; k++) {
		if (k->required && json_object_get(b->root, k->key) == NULL) {
			snprintf(why, HTTP_WHY_MAX, "missing key: %s", k->key);
			goto fail;
		}
	}
	return (0);
fail:
	http_body_free(b);
	return (-1);
}

void
http_body_free(struct http_body *b)
{
	json_decref(b->root);
	memset(b, 0, sizeof(*b));
}
