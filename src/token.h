#ifndef TOKEN_H
#define TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "heartbeatd.h"

#define TOKEN_SECRET_MIN	32		/* bytes of key */
#define TOKEN_SECRET_MAX	HB_SECRET_MAX	/* bytes of key */
/* "v1." expiry "." mac NUL */
#define TOKEN_MAX		(3 + 20 + 1 + 64 + 1)

/*
 * Client tokens (SPEC §9). The secret functions return 0, or -1 and leave
 * the secret as it was. Hex digits may be upper- or lower-case.
 */

/* 64 or more hex digits (an even count, at most 2*TOKEN_SECRET_MAX). */
int	token_secret_parse(const char *hex, struct hb_secret *,
	    const char **why);
/*
 * The first line of the file at path, parsed as above once its line end
 * and the blanks around it are dropped; *cause malloc'd.
 */
int	token_secret_load(const char *path, struct hb_secret *,
	    char **cause);
/* Writes "v1.<expiry>.<mac>" into buf (TOKEN_MAX bytes); needs a secret. */
void	token_mint(const struct hb_secret *, const char *name,
	    uint64_t expiry, char *buf);
/*
 * 0 when tok (toklen bytes, not NUL-terminated) is a valid token for name
 * at Unix time now; else -1 with *why one of "malformed", "expired",
 * "bad mac" (static strings). Without a secret no token is valid.
 */
int	token_verify(const struct hb_secret *, const char *name,
	    const char *tok, size_t toklen, uint64_t now, const char **why);
/* Overwrites the key (OPENSSL_cleanse). */
void	token_secret_clear(struct hb_secret *);

#endif /* TOKEN_H */
