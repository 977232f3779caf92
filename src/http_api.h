#ifndef HTTP_API_H
#define HTTP_API_H

/*
 * What http.c (listener, routing, access), http_api.c (the /api/v1/
 * endpoints) and http_sse.c (the event stream) share, and nothing more.
 */

#include <stddef.h>

#include <jansson.h>

#include "http_body.h"

struct evhttp_request;

#define HTTP_BODY_MAX		65536	/* bytes of a request body */

/* http.c */
void	 http_json(struct evhttp_request *, int, json_t *);
void	 http_error(struct evhttp_request *, int, const char *,
	    const char *, ...) __attribute__((__format__(printf, 4, 5)));
void	 http_session(struct evhttp_request *);
void	 http_abandon(struct evhttp_request *);

/* http_api.c */
void	 api_dispatch(struct evhttp_request *, const char *);
int	 http_body_read(struct evhttp_request *, enum http_body_kind,
	    struct http_body *);

/* http_sse.c */
void	 sse_open(struct evhttp_request *, const char *);
void	 sse_close_all(void);

#endif /* HTTP_API_H */
