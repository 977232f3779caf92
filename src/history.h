#ifndef HISTORY_H
#define HISTORY_H

#include <stddef.h>
#include <stdint.h>

/*
 * The number of connected clients, sampled every HISTORY_INTERVAL
 * seconds over the last HISTORY_MAX samples (an hour), for the
 * dashboard's chart.
 */
#define HISTORY_INTERVAL	10	/* s */
#define HISTORY_MAX		360

void	 history_start(void);
void	 history_stop(void);
size_t	 history_get(uint64_t *, size_t);

#endif /* HISTORY_H */
