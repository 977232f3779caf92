#ifndef ADMIN_H
#define ADMIN_H

#include <stddef.h>

struct hb_config;

int	 admin_check(const struct hb_config *, char **);
int	 admin_prepare(const struct hb_config *, char **);
void	 admin_commit(const struct hb_config *);
void	 admin_abort(void);
void	 admin_close_all(void);
void	 admin_names(char *, size_t);
void	 admin_session_new(int, const char *, int);

/* The whole answer of admin_exec()'s command, or NULL if it never came. */
typedef void	(*admin_exec_cb)(void *, const char *, size_t);
void	 admin_exec(const char *, size_t, admin_exec_cb, void *);

#endif /* ADMIN_H */
