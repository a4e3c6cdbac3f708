/*
 * moat_audit_out: what `moat audit` prints: a table of the processes, their
 * descriptors, the services' sockets and the deviations, or the same as
 * one JSON object (--json) for tools.  Input: the audit's own records;
 * the text in them (paths, program names) comes from /proc and is escaped
 * for JSON and cleaned of control bytes for the table.  Runs in `moat
 * audit`.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "moat_audit.h"

void
audit_deviation(struct audit_world *w, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	buf_printf(&w->deviations, "%s\n", line);
	w->ndeviations++;
}

const char *
audit_fd_kind_name(enum audit_fd_kind kind)
{
	static const char *const names[] = {
	    [AUDIT_FD_FILE] = "file",       [AUDIT_FD_LOG] = "log",
	    [AUDIT_FD_PASSWD] = "passwd",   [AUDIT_FD_QUEUE] = "queue",
	    [AUDIT_FD_TLS_KEY] = "tls-key", [AUDIT_FD_LISTEN] = "listen",
	    [AUDIT_FD_SOCKET] = "socket",   [AUDIT_FD_PIPE] = "pipe",
	    [AUDIT_FD_ANON] = "anon",       [AUDIT_FD_DEVICE] = "device",
	    [AUDIT_FD_UNKNOWN] = "unknown",
	};

	return (unsigned)kind <= AUDIT_FD_UNKNOWN ? names[kind] : "unknown";
}

/* Text from /proc for the table: control bytes become '?'. */
static void
audit_put(const char *s)
{
	for (; *s; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static void
audit_print_ids(const unsigned long v[4])
{
	char text[96];

	snprintf(text, sizeof(text), "%lu/%lu/%lu/%lu", v[0], v[1], v[2], v[3]);
	printf(" %-23s", text);
}

static void
audit_print_row(const struct audit_proc *p)
{
	unsigned long u[4], g[4];
	char name[80];
	int i;

	for (i = 0; i < 4; i++) {
		u[i] = p->uid[i];
		g[i] = p->gid[i];
	}
	snprintf(name, sizeof(name), "%*s%s", p->depth > 1 ? 2 : 0, "",
		 p->program);
	printf("%-14s %7ld", name, (long)p->pid);
	audit_print_ids(u);
	audit_print_ids(g);
	printf(" %-16s %-16s %-16s %-7d %-3d ", p->cap_eff, p->cap_prm,
	       p->cap_bnd, p->seccomp, p->no_new_privs);
	audit_put(p->root);
	printf("\n");
}

static void
audit_print_fds(const struct audit_proc *p)
{
	size_t i;

	printf("  %s[%ld] groups", p->program, (long)p->pid);
	for (i = 0; i < (size_t)p->ngroups; i++)
		printf("%s%lu", i ? "," : " ", (unsigned long)p->groups[i]);
	printf(p->ngroups ? "\n" : " -\n");
	if (!p->fds_readable) {
		printf("    descriptors: not readable (not root)\n");
		return;
	}
	for (i = 0; i < p->nfds; i++) {
		printf("    %3d %-7s ", p->fds[i].fd,
		       audit_fd_kind_name(p->fds[i].kind));
		audit_put(p->fds[i].text);
		printf("\n");
	}
}

void
audit_print_text(const struct audit_world *w)
{
	size_t i;

	printf("%-14s %7s %-23s %-23s %-16s %-16s %-16s %-7s %-3s %s\n",
	       "PROGRAM", "PID", "UID r/e/s/fs", "GID r/e/s/fs", "CAPEFF",
	       "CAPPRM", "CAPBND", "SECCOMP", "NNP", "ROOT");
	for (i = 0; i < w->count; i++)
		if (w->proc[i].program[0] != '\0')
			audit_print_row(&w->proc[i]);
	printf("\nDESCRIPTORS\n");
	for (i = 0; i < w->count; i++)
		if (w->proc[i].program[0] != '\0')
			audit_print_fds(&w->proc[i]);
	printf("\nSOCKETS\n");
	for (i = 0; i < w->nsock; i++) {
		printf("  %-28s %-10s %-18s peers: ", w->sock[i].name,
		       w->sock[i].mode,
		       w->sock[i].is_unix ? w->sock[i].owner : "(inet)");
		audit_put(w->sock[i].peers);
		printf("\n");
	}
	printf("\nLandlock domains are not visible in /proc; not checked.\n");
	if (w->ndeviations == 0) {
		printf("\nno deviation from the declared stances\n");
		return;
	}
	printf("\nDEVIATIONS (%u)\n", w->ndeviations);
	fwrite(w->deviations.data, 1, w->deviations.len, stdout);
}

/* A JSON string: quotes, backslashes and control bytes escaped. */
static void
audit_json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void
audit_json_ids(const char *name, const unsigned *v, int n)
{
	int i;

	printf("\"%s\":[", name);
	for (i = 0; i < n; i++)
		printf("%s%u", i ? "," : "", v[i]);
	printf("]");
}

static void
audit_json_proc(const struct audit_proc *p)
{
	unsigned u[4], g[4], groups[AUDIT_GROUPS_MAX];
	size_t i;

	for (i = 0; i < 4; i++) {
		u[i] = (unsigned)p->uid[i];
		g[i] = (unsigned)p->gid[i];
	}
	for (i = 0; i < (size_t)p->ngroups; i++)
		groups[i] = (unsigned)p->groups[i];
	printf("{\"program\":");
	audit_json_str(p->program);
	printf(",\"service\":");
	audit_json_str(p->service);
	printf(",\"pid\":%ld,\"ppid\":%ld,\"depth\":%d,", (long)p->pid,
	       (long)p->ppid, p->depth);
	audit_json_ids("uid", u, 4);
	printf(",");
	audit_json_ids("gid", g, 4);
	printf(",");
	audit_json_ids("groups", groups, p->ngroups);
	printf(",\"cap_eff\":\"%s\",\"cap_prm\":\"%s\",\"cap_bnd\":\"%s\","
	       "\"seccomp\":%d,\"no_new_privs\":%d,\"root\":",
	       p->cap_eff, p->cap_prm, p->cap_bnd, p->seccomp, p->no_new_privs);
	audit_json_str(p->root);
	printf(",\"fds_readable\":%s,\"fds\":[",
	       p->fds_readable ? "true" : "false");
	for (i = 0; i < p->nfds; i++) {
		printf("%s{\"fd\":%d,\"kind\":\"%s\",\"text\":", i ? "," : "",
		       p->fds[i].fd, audit_fd_kind_name(p->fds[i].kind));
		audit_json_str(p->fds[i].text);
		printf("}");
	}
	printf("]}");
}

void
audit_print_json(const struct audit_world *w)
{
	const char *d = w->deviations.data, *nl;
	size_t i, n = 0;
	char line[1024];

	printf("{\"processes\":[");
	for (i = 0; i < w->count; i++) {
		if (w->proc[i].program[0] == '\0')
			continue;
		printf("%s", n++ ? "," : "");
		audit_json_proc(&w->proc[i]);
	}
	printf("],\"sockets\":[");
	for (i = 0; i < w->nsock; i++) {
		printf("%s{\"name\":", i ? "," : "");
		audit_json_str(w->sock[i].name);
		printf(",\"unix\":%s,\"mode\":",
		       w->sock[i].is_unix ? "true" : "false");
		audit_json_str(w->sock[i].mode);
		printf(",\"owner\":");
		audit_json_str(w->sock[i].owner);
		printf(",\"peers\":");
		audit_json_str(w->sock[i].peers);
		printf("}");
	}
	printf("],\"deviations\":[");
	for (n = 0; d != NULL && (nl = strchr(d, '\n')) != NULL; d = nl + 1) {
		snprintf(line, sizeof(line), "%.*s", (int)(nl - d), d);
		printf("%s", n++ ? "," : "");
		audit_json_str(line);
	}
	printf("],\"ok\":%s}\n", w->ndeviations == 0 ? "true" : "false");
}
