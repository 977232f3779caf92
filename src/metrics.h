#ifndef METRICS_H
#define METRICS_H

struct evbuffer;

#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

void	 metrics_render(struct evbuffer *);

#endif /* METRICS_H */
