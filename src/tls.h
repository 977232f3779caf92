#ifndef TLS_H
#define TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

struct hb_config;

int	 tls_prepare(const struct hb_config *, char **);
void	 tls_commit(void);
void	 tls_abort(void);
void	 tls_free(void);
SSL	*tls_accept_new(int);
int	 tls_peer_name(SSL *, char *, size_t);

#endif /* TLS_H */
