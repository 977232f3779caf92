/*
 * heartbeatd: types and limits shared by every module.
 */

#ifndef HEARTBEATD_H
#define HEARTBEATD_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

/* libbsd leaves __unused undefined, which RB_*_STATIC rely on. */
#define RB_STATIC	__attribute__((__unused__)) static

#define HB_NAME_MAX		64	/* bytes in a client name */
#define HB_READ_CHUNK		16384	/* bytes read from a socket at once */

/*
 * Why a connection ends. The words are the contract's (SPEC §3): they go on
 * the wire after BYE and into the logs, from reason_names[] only.
 */
enum hb_reason {
	REASON_CLOSED,
	REASON_RESET,
	REASON_TIMEOUT,
	REASON_QUIT,
	REASON_KICKED,
	REASON_REPLACED,
	REASON_TOOLONG,
	REASON_OVERFLOW,
	REASON_SHUTDOWN,
	REASON_FULL,
	REASON_PER_IP,
	REASON_HANDSHAKE,
	REASON_AUTH,
	REASON_PROXY,
	REASON_FLAPPING,
	REASON__COUNT
};

enum hb_dup_policy {
	DUP_REPLACE,
	DUP_REJECT
};

/* What a client's data line is answered with (SPEC §3). */
enum hb_data_reply {
	DATA_REPLY_NONE,
	DATA_REPLY_OK,
	DATA_REPLY_ECHO
};

/* [tls] verify_client: whether a client certificate is asked for. */
enum hb_verify {
	VERIFY_NO,
	VERIFY_OPTIONAL,
	VERIFY_REQUIRE
};

/* [auth] mode: how a connection proves the name it takes (SPEC §9). */
enum hb_auth_mode {
	AUTH_NONE,
	AUTH_TOKEN,
	AUTH_CERT,
	AUTH_ANY
};

/* The [auth] secret, its hex decoded. */
#define HB_SECRET_MAX		128	/* bytes */

struct hb_secret {
	unsigned char		 key[HB_SECRET_MAX];
	size_t			 len;		/* 0: none */
};

/* A numeric socket address from the config, e.g. 127.0.0.1:7000. */
struct hb_addr {
	struct sockaddr_storage	 ss;
	socklen_t		 len;
};

struct hb_addrlist {
	struct hb_addr		*v;
	size_t			 n;
};

/* A network such as 10.0.0.0/8 or 2001:db8::/32 (proxy_from, @<cidr>). */
struct hb_cidr {
	struct sockaddr_storage	 net;	/* address with host bits cleared */
	unsigned int		 bits;	/* prefix length */
};

struct hb_cidrlist {
	struct hb_cidr		*v;
	size_t			 n;
};

/*
 * A loaded, validated config. config_load() builds a fresh one; the daemon
 * swaps it in only when it is whole. It owns every string and array in it.
 */
struct hb_config {
	char			*path;

	/* [server] */
	struct hb_addrlist	 listen;
	double			 heartbeat_timeout;	/* s */
	double			 heartbeat_timeout_min;	/* s; 0: the above */
	double			 heartbeat_timeout_max;	/* s; 0: the above */
	uint64_t		 max_clients;
	uint64_t		 max_clients_per_ip;	/* 0: unlimited */
	size_t			 max_line;		/* bytes */
	size_t			 send_buffer_limit;	/* bytes */
	enum hb_dup_policy	 duplicate_name;
	int			 data_reply;	/* enum hb_data_reply */
	struct hb_addrlist	 tls_listen;
	struct hb_cidrlist	 proxy_from;
	double			 hello_timeout;		/* s */
	uint64_t		 flap_limit;	/* sessions a minute; 0: off */
	uint64_t		 flap_hold;		/* s */

	/* [admin] */
	struct hb_addrlist	 admin_listen;
	char			*admin_socket;		/* NULL: disabled */
	mode_t			 admin_socket_mode;
	char			*admin_token;		/* NULL: no AUTH */
	size_t			 watch_backlog;		/* events */
	struct hb_addrlist	 admin_tls_listen;

	/* [http]: /metrics, the dashboard and the API (SPEC §8, §15) */
	struct hb_addrlist	 http_listen;
	struct hb_addrlist	 http_alias;	/* [metrics] listen, as read */

	/* [tls]: files; tls.c loads them into a context */
	char			*tls_cert;
	char			*tls_key;
	char			*tls_ca;
	enum hb_verify		 tls_verify_client;
	int			 tls_min_version;	/* TLS1_2_VERSION, ... */

	/* [auth] */
	enum hb_auth_mode	 auth_mode;
	struct hb_secret	 auth_secret;		/* from secret or file */
	char			*auth_secret_file;

	/* [state]: the last-seen registry (SPEC §11) */
	char			*state_file;		/* NULL: memory */
	uint64_t		 state_remember;	/* names */
	uint64_t		 state_forget_after;	/* s */

	/* [push]: pushes with acknowledgement (SPEC §13) */
	uint64_t		 push_ttl;		/* s, when PUSH says 0 */
	uint64_t		 push_max_per_name;
	uint64_t		 push_max_total;
	double			 push_redeliver;	/* s */

	/* [log] */
	int			 log_syslog;		/* 0 or 1 */
	char			*log_ident;
	int			 log_facility;		/* LOG_DAEMON, ... */
	int			 log_level;		/* LOG_ERR ... LOG_DEBUG */
};

#endif /* HEARTBEATD_H */
