#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>

struct hb_config;

/*
 * The [http] listener (SPEC §8, §15): /metrics, the dashboard at / and
 * the JSON API under /api/v1/, served by libevent's evhttp.
 */
int	 http_prepare(const struct hb_config *, char **);
void	 http_commit(const struct hb_config *);
void	 http_abort(void);
void	 http_close(void);

/* The dashboard page served at /, from dashboard.c. */
extern const char	 dashboard_html[];
extern const size_t	 dashboard_html_len;

#endif /* HTTP_H */
