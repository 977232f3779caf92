#ifndef RELAY_H
#define RELAY_H

struct conn;

void	 relay_new(const struct conn *, int);
void	 relay_close_all(void);

#endif /* RELAY_H */
