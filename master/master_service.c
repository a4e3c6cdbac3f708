/*
 * master_service: the services of master.conf as the master runs them:
 * each with its listening socket (created here, as root) and its counts
 * of children.  No hostile input: the service table is root-owned (the
 * children's status pipes are read in master_spawn.c).  Runs in the
 * master.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "master.h"

static struct master_service *master_service_list;

struct master_service *
master_services(void)
{
	return master_service_list;
}

/*
 * Split "addr:port", "[v6addr]:port" or "port"; an empty host means every
 * IPv4 address.  XXX a bare port does not listen on IPv6.
 */
static int
master_split_inet(const char *name, char *host, size_t size, const char **port)
{
	const char *colon = strrchr(name, ':');
	const char *start = name, *end = colon;

	if (colon == NULL) {
		host[0] = '\0';
		*port = name;
		return 0;
	}
	if (colon[1] == '\0')
		return -1;
	if (name[0] == '[') {
		if (colon == name || colon[-1] != ']')
			return -1;
		start = name + 1;
		end = colon - 1;
	}
	if ((size_t)(end - start) >= size)
		return -1;
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	*port = colon + 1;
	return 0;
}

static int
master_listen_inet(const char *name, struct buf *err)
{
	struct addrinfo hints, *res = NULL;
	char host[128];
	const char *port;
	int fd, on = 1, rc;

	if (master_split_inet(name, host, sizeof(host), &port) != 0) {
		buf_printf(err, "%s: expected ADDRESS:PORT", name);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	if (host[0] == '\0')
		hints.ai_family = AF_INET;
	rc = getaddrinfo(host[0] == '\0' ? NULL : host, port, &hints, &res);
	if (rc != 0) {
		buf_printf(err, "%s: %s", name, gai_strerror(rc));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    (res->ai_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) != 0) ||
	    bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
	    listen(fd, MASTER_LISTEN_BACKLOG) != 0) {
		buf_printf(err, "%s: %s", name, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* A unix socket, relative to queue_directory (the working directory). */
static int
master_listen_unix(const char *path, struct buf *err)
{
	struct sockaddr_un sun;
	int fd;

	if (path[0] == '/' || strstr(path, "..") != NULL) {
		buf_printf(err,
			   "%s: a unix service is a path inside "
			   "queue_directory",
			   path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		buf_printf(err, "%s: socket path too long", path);
		return -1;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		buf_printf(err, "unlink %s: %s", path, strerror(errno));
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* Who may talk to it is decided by SO_PEERCRED, not the mode. */
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    chmod(path, 0666) != 0 || listen(fd, MASTER_LISTEN_BACKLOG) != 0) {
		buf_printf(err, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void
master_service_copy(struct service *to, const struct service *from)
{
	size_t i;

	for (i = 0; to->args[i] != NULL; i++)
		free(to->args[i]);
	*to = *from;
	for (i = 0; from->args[i] != NULL && i < SERVICE_ARGS_MAX; i++)
		to->args[i] = xstrdup(from->args[i]);
	to->args[i] = NULL;
}

static struct master_service *
master_service_new(const struct service *svc, struct buf *err)
{
	struct master_service *s;
	int fd;

	fd = svc->type == SERVICE_INET ? master_listen_inet(svc->name, err)
				       : master_listen_unix(svc->name, err);
	if (fd < 0)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	master_service_copy(&s->svc, svc);
	s->listen_fd = fd;
	s->respawn = 1; /* one process of every service at start */
	s->next = master_service_list;
	master_service_list = s;
	return s;
}

/* Stop listening; the entry stays until the last child is gone. */
static void
master_service_close(struct master_service *s)
{
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		s->listen_fd = -1;
		if (SERVICE_IS_SOCKET_PATH(s->svc.type) &&
		    unlink(s->svc.name) != 0 && errno != ENOENT)
			log_warn("unlink %s: %s", s->svc.name, strerror(errno));
	}
	s->removed = 1;
}

static void
master_service_free(struct master_service *s)
{
	struct service empty;

	memset(&empty, 0, sizeof(empty));
	master_service_copy(&s->svc, &empty);
	free(s);
}

int
master_services_open(const struct service_table *t, struct buf *err)
{
	size_t i;

	for (i = 0; i < t->count; i++)
		if (master_service_new(&t->svc[i], err) == NULL)
			return -1;
	return 0;
}

static struct master_service *
master_service_find(const char *name)
{
	struct master_service *s;

	for (s = master_service_list; s != NULL; s = s->next)
		if (!s->removed && strcmp(s->svc.name, name) == 0)
			return s;
	return NULL;
}

/*
 * Apply a new service table: keep the listener of a service that is still
 * there, close those that are gone (first, so their ports are free), open
 * the new ones.  A new service that cannot listen is logged and skipped.
 */
void
master_services_reload(const struct service_table *t)
{
	struct master_service *s;
	struct buf err = BUF_INIT;
	size_t i;

	for (s = master_service_list; s != NULL; s = s->next)
		s->seen = 0;
	for (i = 0; i < t->count; i++) {
		s = master_service_find(t->svc[i].name);
		if (s != NULL && s->svc.type == t->svc[i].type)
			s->seen = 1;
	}
	for (s = master_service_list; s != NULL; s = s->next)
		if (!s->removed && !s->seen)
			master_service_close(s);
	for (i = 0; i < t->count; i++) {
		s = master_service_find(t->svc[i].name);
		if (s != NULL) {
			master_service_copy(&s->svc, &t->svc[i]);
			continue;
		}
		buf_reset(&err);
		if (master_service_new(&t->svc[i], &err) == NULL)
			log_error("reload: service %s not started: %s",
				  t->svc[i].name, buf_cstr(&err));
	}
	buf_free(&err);
}

/* Free the services removed by a reload once their children are gone. */
void
master_services_reap_removed(void)
{
	struct master_service **pp = &master_service_list, *s;

	while ((s = *pp) != NULL) {
		if (s->removed && s->total == 0) {
			*pp = s->next;
			master_service_free(s);
		} else {
			pp = &s->next;
		}
	}
}

/* At stop: close every listener and remove the unix sockets. */
void
master_services_close_all(void)
{
	struct master_service *s;

	for (s = master_service_list; s != NULL; s = s->next)
		master_service_close(s);
}

int
master_service_wants_demand(const struct master_service *s, long long now)
{
	return !s->removed && s->listen_fd >= 0 && s->idle == 0 &&
	       s->total < (unsigned)s->svc.maxproc && now >= s->throttle_until;
}
