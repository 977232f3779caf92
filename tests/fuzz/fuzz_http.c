/*
 * libFuzzer harness for the JSON bodies of the HTTP API (http_body.c).
 * Byte 0 picks the endpoint (send, kick, push, session); the rest is the
 * body, parsed as the server parses it.
 *
 * A body that parses holds every key its endpoint needs, as strings
 * without a NUL byte of the length said, and parses the same again; one
 * that does not says why, as "json" or "syntax", in a bounded reason.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http_body.h"

#include "fuzz_common.h"

static void	 check_string(const char *, const char *, size_t);

/* A key's value is there, and a C string of its length. */
static void
check_string(const char *key, const char *s, size_t len)
{
	if (s == NULL)
		fuzz_fail("%s missing from a body that parsed", key);
	if (strlen(s) != len)
		fuzz_fail("%s: length %zu, strlen %zu", key, len, strlen(s));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_body	 b, again;
	enum http_body_kind	 kind;
	const char		*code, *code2, *body;
	char			 why[HTTP_WHY_MAX], why2[HTTP_WHY_MAX];
	int			 rv;

	if (size == 0)
		return (0);
	kind = data[0] % 4;
	body = (const char *)data + 1;
	memset(why, 'x', sizeof(why));
	rv = http_body_parse(kind, body, size - 1, &b, &code, why);
	if (rv == -1) {
		if (strcmp(code, "json") != 0 && strcmp(code, "syntax") != 0)
			fuzz_fail("code \"%s\"", code);
		if (memchr(why, '\0', sizeof(why)) == NULL || why[0] == '\0')
			fuzz_fail("no bounded reason");
		if (b.root != NULL)
			fuzz_fail("a refused body kept its JSON");
	} else if (rv != 0)
		fuzz_fail("parse returned %d", rv);
	if (http_body_parse(kind, body, size - 1, &again, &code2, why2) !=
	    rv)
		fuzz_fail("a second parse differs");
	http_body_free(&again);
	if (rv == -1)
		return (0);
	switch (kind) {
	case BODY_SEND:
		check_string("target", b.target, b.targetlen);
		check_string("message", b.message, b.messagelen);
		break;
	case BODY_KICK:
		check_string("select", b.select, b.selectlen);
		break;
	case BODY_PUSH:
		check_string("name", b.name, b.namelen);
		check_string("message", b.message, b.messagelen);
		if (b.ttl > INT64_MAX)
			fuzz_fail("ttl %llu", (unsigned long long)b.ttl);
		break;
	case BODY_SESSION:
		check_string("token", b.token, b.tokenlen);
		break;
	}
	http_body_free(&b);
	return (0);
}
