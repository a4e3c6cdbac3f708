/*
 * moat_audit_proc: the facts of every process of a running instance,
 * read from /proc: the tree under the master, each process's ids, groups,
 * capabilities, root directory, seccomp mode, no_new_privs and open
 * descriptors (with listening sockets named from the master's
 * /proc/PID/net tables).  Input: the kernel's /proc (trusted, but parsed
 * with bounds: a process may exit halfway and leave a partial view, which
 * is reported, not believed).  Runs in `moat audit`.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "moat.h"
#include "moat_audit.h"

#define AUDIT_PROC_FILE_MAX 65536
#define AUDIT_LISTEN_MAX 4096
#define AUDIT_SETTLE_MS 500 /* a second look at a child still root */

struct audit_listen {
	unsigned long inode;
	char text[AUDIT_TEXT_MAX];
};

static struct audit_listen audit_listen[AUDIT_LISTEN_MAX];
static size_t audit_nlisten;

/* Read a small /proc file into out (NUL-terminated); -1 when unreadable. */
static int
audit_read(const char *path, char *out, size_t size)
{
	ssize_t n;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (len < size - 1 && (n = read(fd, out + len, size - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	out[len] = '\0';
	return 0;
}

static pid_t
audit_ppid(pid_t pid)
{
	char path[64], text[1024], *close_paren;
	long ppid;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if (audit_read(path, text, sizeof(text)) != 0)
		return -1;
	/* "pid (comm) state ppid ...": comm may hold anything. */
	close_paren = strrchr(text, ')');
	if (close_paren == NULL ||
	    sscanf(close_paren + 1, " %*c %ld", &ppid) != 1)
		return -1;
	return (pid_t)ppid;
}

/* "127.0.0.1:2525" from /proc/net/tcp's "0100007F:09DD". */
static void
audit_inet_text(const char *hex, int v6, char *out, size_t size)
{
	unsigned char a[16];
	unsigned port = 0;
	size_t i, n = v6 ? 16 : 4;
	unsigned word;

	for (i = 0; i < n / 4; i++) {
		if (sscanf(hex + i * 8, "%8x", &word) != 1)
			word = 0;
		/* Each 32-bit word is in host (little-endian) order. */
		memcpy(a + i * 4, &word, 4);
	}
	(void)sscanf(hex + n * 2, ":%x", &port);
	if (!v6) {
		snprintf(out, size, "tcp %u.%u.%u.%u:%u", a[0], a[1], a[2],
			 a[3], port);
		return;
	}
	snprintf(out, size, "tcp6 [%x:%x:%x:%x:%x:%x:%x:%x]:%u",
		 a[0] << 8 | a[1], a[2] << 8 | a[3], a[4] << 8 | a[5],
		 a[6] << 8 | a[7], a[8] << 8 | a[9], a[10] << 8 | a[11],
		 a[12] << 8 | a[13], a[14] << 8 | a[15], port);
}

static void
audit_listen_add(unsigned long inode, const char *text)
{
	if (audit_nlisten == AUDIT_LISTEN_MAX)
		return;
	audit_listen[audit_nlisten].inode = inode;
	strlcpy(audit_listen[audit_nlisten].text, text,
		sizeof(audit_listen[0].text));
	audit_nlisten++;
}

/* Listening TCP sockets of the master's network namespace. */
static void
audit_load_tcp(pid_t master, int v6, char *text)
{
	char path[64], local[64], addr[AUDIT_TEXT_MAX], *line, *save = NULL;
	unsigned state;
	unsigned long inode;

	snprintf(path, sizeof(path), "/proc/%ld/net/tcp%s", (long)master,
		 v6 ? "6" : "");
	if (audit_read(path, text, AUDIT_PROC_FILE_MAX) != 0)
		return;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, " %*s %63s %*s %x %*s %*s %*s %*s %*s %lu",
			   local, &state, &inode) != 3 ||
		    state != 0x0A)
			continue;
		audit_inet_text(local, v6, addr, sizeof(addr));
		audit_listen_add(inode, addr);
	}
}

/* Listening unix sockets (flag __SO_ACCEPTCON) with their paths. */
static void
audit_load_unix(pid_t master, char *text)
{
	char path[64], name[AUDIT_TEXT_MAX], *line, *save = NULL;
	unsigned long inode, flags;
	int n;

	snprintf(path, sizeof(path), "/proc/%ld/net/unix", (long)master);
	if (audit_read(path, text, AUDIT_PROC_FILE_MAX) != 0)
		return;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		/* Num RefCount Protocol Flags Type St Inode Path */
		name[0] = '\0';
		n = sscanf(line, "%*s %*s %*s %lx %*s %*s %lu %150s", &flags,
			   &inode, name);
		if (n < 2 || !(flags & 0x10000))
			continue;
		snprintf(path, sizeof(path), "unix %.50s",
			 name[0] ? name : "(unnamed)");
		audit_listen_add(inode, path);
	}
}

static const char *
audit_listen_find(unsigned long inode)
{
	size_t i;

	for (i = 0; i < audit_nlisten; i++)
		if (audit_listen[i].inode == inode)
			return audit_listen[i].text;
	return NULL;
}

static int
audit_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return n > 0 && strncmp(path, dir, n) == 0 && path[n] == '/';
}

static enum audit_fd_kind
audit_file_kind(const struct audit_world *w, const char *path)
{
	static const char *const passwd[] = {
	    "/etc/passwd", "/etc/shadow", "/etc/group", "/etc/gshadow", NULL};
	static const char *const queues[] = {"incoming", "active",  "deferred",
					     "hold",     "corrupt", NULL};
	char dir[PATH_MAX];
	size_t i;

	if (w->log_path[0] != '\0' &&
	    strncmp(path, w->log_path, strlen(w->log_path)) == 0)
		return AUDIT_FD_LOG;
	for (i = 0; i < w->ntls_keys; i++)
		if (strcmp(path, w->tls_keys[i]) == 0)
			return AUDIT_FD_TLS_KEY;
	for (i = 0; passwd[i] != NULL; i++)
		if (strncmp(path, passwd[i], strlen(passwd[i])) == 0)
			return AUDIT_FD_PASSWD;
	for (i = 0; queues[i] != NULL; i++) {
		int n =
		    snprintf(dir, sizeof(dir), "%s/%s", w->spool, queues[i]);
		if (n > 0 && (size_t)n < sizeof(dir) && audit_under(path, dir))
			return AUDIT_FD_QUEUE;
	}
	if (strncmp(path, "/dev/", 5) == 0)
		return AUDIT_FD_DEVICE;
	return AUDIT_FD_FILE;
}

static void
audit_classify(const struct audit_world *w, const char *link,
	       struct audit_fd *f)
{
	unsigned long inode;
	const char *l;

	strlcpy(f->text, link, sizeof(f->text));
	if (sscanf(link, "socket:[%lu]", &inode) == 1) {
		l = audit_listen_find(inode);
		f->kind = l != NULL ? AUDIT_FD_LISTEN : AUDIT_FD_SOCKET;
		if (l != NULL)
			strlcpy(f->text, l, sizeof(f->text));
	} else if (strncmp(link, "pipe:", 5) == 0)
		f->kind = AUDIT_FD_PIPE;
	else if (strncmp(link, "anon_inode:", 11) == 0)
		f->kind = AUDIT_FD_ANON;
	else
		f->kind = audit_file_kind(w, link);
}

static void
audit_fds(const struct audit_world *w, struct audit_proc *p)
{
	char path[320], link[PATH_MAX];
	struct dirent *de;
	ssize_t n;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)p->pid);
	if ((d = opendir(path)) == NULL)
		return;
	p->fds_readable = 1;
	while ((de = readdir(d)) != NULL && p->nfds < AUDIT_FDS_MAX) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/fd/%s", (long)p->pid,
			 de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = '\0';
		p->fds[p->nfds].fd = atoi(de->d_name);
		audit_classify(w, link, &p->fds[p->nfds]);
		p->nfds++;
	}
	closedir(d);
}

static void
audit_ids(const char *line, unsigned long v[4])
{
	v[0] = v[1] = v[2] = v[3] = (unsigned long)-1;
	(void)sscanf(line, "%lu %lu %lu %lu", &v[0], &v[1], &v[2], &v[3]);
}

/* Fill p from /proc/PID/status; -1 when the process is gone. */
static int
audit_status(struct audit_proc *p, char *text)
{
	char path[64], *line, *save = NULL, *v;
	unsigned long ids[4], g;
	int i;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)p->pid);
	if (audit_read(path, text, AUDIT_PROC_FILE_MAX) != 0)
		return -1;
	p->seccomp = p->no_new_privs = -1;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if ((v = strchr(line, ':')) == NULL)
			continue;
		*v++ = '\0';
		while (*v == ' ' || *v == '\t')
			v++;
		if (strcmp(line, "Uid") == 0 || strcmp(line, "Gid") == 0) {
			audit_ids(v, ids);
			for (i = 0; i < 4; i++)
				if (line[0] == 'U')
					p->uid[i] = (uid_t)ids[i];
				else
					p->gid[i] = (gid_t)ids[i];
		} else if (strcmp(line, "Groups") == 0) {
			for (p->ngroups = 0; p->ngroups < AUDIT_GROUPS_MAX &&
					     sscanf(v, "%lu%n", &g, &i) == 1;
			     v += i)
				p->groups[p->ngroups++] = (gid_t)g;
		} else if (strcmp(line, "CapEff") == 0)
			strlcpy(p->cap_eff, v, sizeof(p->cap_eff));
		else if (strcmp(line, "CapPrm") == 0)
			strlcpy(p->cap_prm, v, sizeof(p->cap_prm));
		else if (strcmp(line, "CapBnd") == 0)
			strlcpy(p->cap_bnd, v, sizeof(p->cap_bnd));
		else if (strcmp(line, "Seccomp") == 0)
			p->seccomp = atoi(v);
		else if (strcmp(line, "NoNewPrivs") == 0)
			p->no_new_privs = atoi(v);
	}
	return 0;
}

/* argv[0]'s base name and the -n SERVICE the master passed. */
static void
audit_cmdline(struct audit_proc *p, char *text)
{
	char path[64], *arg, *end, *slash;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)p->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, text, AUDIT_PROC_FILE_MAX - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return;
	text[n] = '\0';
	end = text + n;
	slash = strrchr(text, '/');
	strlcpy(p->program, slash != NULL ? slash + 1 : text,
		sizeof(p->program));
	for (arg = text; arg < end; arg += strlen(arg) + 1)
		if (strcmp(arg, "-n") == 0 && arg + 3 <= end) {
			strlcpy(p->service, arg + 3, sizeof(p->service));
			break;
		}
}

static int
audit_fill(struct audit_world *w, struct audit_proc *p, char *text)
{
	char path[64];
	ssize_t n;

	audit_cmdline(p, text);
	if (audit_status(p, text) != 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/root", (long)p->pid);
	n = readlink(path, p->root, sizeof(p->root) - 1);
	p->root[n > 0 ? n : 0] = '\0';
	if (n <= 0)
		strlcpy(p->root, "?", sizeof(p->root));
	audit_fds(w, p);
	return 0;
}

/*
 * A daemon's child is root for an instant between fork and its drop (local
 * forks as root): look again a little later before calling that a fault.
 */
static void
audit_settle(struct audit_world *w, char *text)
{
	size_t i;
	int again = 0;

	for (i = 0; i < w->count; i++)
		if (w->proc[i].depth > 1 && w->proc[i].uid[0] == 0)
			again = 1;
	if (!again)
		return;
	usleep(AUDIT_SETTLE_MS * 1000);
	for (i = 0; i < w->count; i++) {
		struct audit_proc *p = &w->proc[i];
		if (p->depth <= 1 || p->uid[0] != 0)
			continue;
		p->nfds = 0;
		if (audit_fill(w, p, text) != 0)
			p->program[0] = '\0';
	}
}

/* Every pid whose parent is in the tree, level by level from the master. */
int
audit_collect(struct audit_world *w, pid_t master)
{
	char *text = xmalloc(AUDIT_PROC_FILE_MAX);
	pid_t *pids = NULL, *ppids = NULL, pid;
	size_t npid = 0, cap = 0, i, j, level_start;
	struct dirent *de;
	DIR *d;

	if ((d = opendir("/proc")) == NULL) {
		moat_error("/proc: %s", strerror(errno));
		free(text);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)atol(de->d_name);
		if (npid == cap) {
			cap = cap ? cap * 2 : 256;
			pids = xreallocarray(pids, cap, sizeof(*pids));
			ppids = xreallocarray(ppids, cap, sizeof(*ppids));
		}
		pids[npid] = pid;
		ppids[npid++] = audit_ppid(pid);
	}
	closedir(d);
	audit_nlisten = 0;
	audit_load_tcp(master, 0, text);
	audit_load_tcp(master, 1, text);
	audit_load_unix(master, text);

	w->proc = xcalloc(npid + 1, sizeof(*w->proc));
	w->proc[0].pid = master;
	w->proc[0].ppid = audit_ppid(master);
	w->count = 1;
	for (level_start = 0; level_start < w->count;) {
		size_t level_end = w->count;
		for (i = level_start; i < level_end; i++)
			for (j = 0; j < npid; j++) {
				if (ppids[j] != w->proc[i].pid ||
				    w->count > npid)
					continue;
				w->proc[w->count].pid = pids[j];
				w->proc[w->count].ppid = ppids[j];
				w->proc[w->count].depth = w->proc[i].depth + 1;
				w->proc[w->count].daemon =
				    w->proc[i].depth == 0 ? w->count
							  : w->proc[i].daemon;
				w->count++;
			}
		level_start = level_end;
	}
	for (i = 0; i < w->count; i++)
		if (audit_fill(w, &w->proc[i], text) != 0)
			w->proc[i].program[0] = '\0'; /* gone meanwhile */
	audit_settle(w, text);
	free(pids);
	free(ppids);
	free(text);
	return 0;
}
