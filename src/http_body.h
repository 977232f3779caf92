#ifndef HTTP_BODY_H
#define HTTP_BODY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define HTTP_WHY_MAX	160	/* bytes of a reason, its NUL included */

/* The endpoints that take a JSON body, each with its own keys. */
enum http_body_kind {
	BODY_SEND,		/* {"target", "message"} */
	BODY_KICK,		/* {"select"} */
	BODY_PUSH,		/* {"name", "ttl" (optional), "message"} */
	BODY_SESSION		/* {"token"} */
};

/*
 * A parsed request body: the values of its kind's keys (NULL or 0 when
 * absent), pointing into root, which http_body_free() releases. Strings
 * hold no NUL byte.
 */
struct http_body {
	json_t		*root;
	const char	*target;
	size_t		 targetlen;
	const char	*select;
	size_t		 selectlen;
	const char	*name;
	size_t		 namelen;
	const char	*message;
	size_t		 messagelen;
	const char	*token;
	size_t		 tokenlen;
	uint64_t	 ttl;
};

int	 http_body_parse(enum http_body_kind, const char *, size_t,
	    struct http_body *, const char **, char *);
void	 http_body_free(struct http_body *);

#endif /* HTTP_BODY_H */
