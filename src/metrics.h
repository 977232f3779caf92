#ifndef METRICS_H
#define METRICS_H

struct evhttp_request;

void	 metrics_serve(struct evhttp_request *);

#endif /* METRICS_H */
