/*
 * service_table: parse master.conf, the table of services the master runs.
 * The file is root-owned and trusted, but every field is checked strictly
 * (names, users, commands become socket paths, setuid targets and program
 * names), and an error names the file and line.  Pure parser plus a loader;
 * run by the master, by every daemon before it drops privileges, and by
 * `moat check`.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"
#include "params_state.h"
#include "service_table.h"

#define SERVICE_MAX 1000 /* services in one table */
#define SERVICE_MAXPROC_MAX 1000

static int __attribute__((format(printf, 4, 5)))
svc_error(struct buf *err, const char *filename, unsigned lineno,
	  const char *fmt, ...)
{
	va_list ap;

	buf_reset(err);
	buf_printf(err, "%s:%u: ", filename, lineno);
	va_start(ap, fmt);
	buf_vprintf(err, fmt, ap);
	va_end(ap);
	return -1;
}

static int
svc_port_ok(const char *s)
{
	long port = 0;

	if (*s == '\0' || strlen(s) > 5)
		return 0;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return 0;
		port = port * 10 + (*s - '0');
	}
	return port >= 1 && port <= 65535;
}

/* ADDR:PORT, [V6ADDR]:PORT, or PORT. */
static int
svc_inet_name_ok(const char *name)
{
	char addr[64];
	const char *colon;
	unsigned char bin[16];
	size_t n;

	if (name[0] == '[') {
		const char *close = strchr(name, ']');
		if (close == NULL || close[1] != ':')
			return 0;
		n = (size_t)(close - name - 1);
		if (n == 0 || n >= sizeof(addr))
			return 0;
		memcpy(addr, name + 1, n);
		addr[n] = '\0';
		return inet_pton(AF_INET6, addr, bin) == 1 &&
		       svc_port_ok(close + 2);
	}
	if ((colon = strrchr(name, ':')) == NULL)
		return svc_port_ok(name);
	n = (size_t)(colon - name);
	if (n == 0 || n >= sizeof(addr))
		return 0;
	memcpy(addr, name, n);
	addr[n] = '\0';
	return inet_pton(AF_INET, addr, bin) == 1 && svc_port_ok(colon + 1);
}

/* A relative path of [A-Za-z0-9_/.-] without empty, "." or ".." parts. */
static int
svc_unix_name_ok(const char *name)
{
	const char *seg = name;

	if (name[0] == '\0' || name[0] == '/')
		return 0;
	for (const char *s = name;; s++) {
		if (*s == '/' || *s == '\0') {
			size_t n = (size_t)(s - seg);
			if (n == 0 || (n == 1 && seg[0] == '.') ||
			    (n == 2 && seg[0] == '.' && seg[1] == '.'))
				return 0;
			if (*s == '\0')
				return 1;
			seg = s + 1;
		} else if (!isalnum((unsigned char)*s) && *s != '_' &&
			   *s != '.' && *s != '-') {
			return 0;
		}
	}
}

static int
svc_user_ok(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || *s == '_'))
		return 0;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || isdigit((unsigned char)*s) ||
		      *s == '_' || *s == '-'))
			return 0;
	return 1;
}

static int
svc_command_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || isdigit((unsigned char)*s) ||
		      *s == '_' || *s == '-'))
			return 0;
	return 1;
}

static int
svc_maxproc(const char *s)
{
	int n = 0;

	if (*s == '\0' || strlen(s) > 4)
		return -1;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		n = n * 10 + (*s - '0');
	}
	return n >= 1 && n <= SERVICE_MAXPROC_MAX ? n : -1;
}

/* Split a line (NUL-terminated copy) into white-space separated fields. */
static size_t
svc_split(char *line, char **field, size_t max)
{
	size_t n = 0;
	char *save = NULL, *tok;

	for (char *p = line; (tok = strtok_r(p, " \t\r", &save)); p = NULL) {
		if (n == max)
			return max + 1;
		field[n++] = tok;
	}
	return n;
}

static int
svc_fields(struct service *svc, char **f, size_t nf, const char *filename,
	   unsigned lineno, struct buf *err)
{
	if (strcmp(f[1], "inet") == 0)
		svc->type = SERVICE_INET;
	else if (strcmp(f[1], "unix") == 0)
		svc->type = SERVICE_UNIX;
	else if (strcmp(f[1], "pass") == 0)
		svc->type = SERVICE_PASS;
	else
		return svc_error(err, filename, lineno,
				 "bad type \"%s\" (expected inet, unix or "
				 "pass)",
				 f[1]);
	if (strlen(f[0]) >= sizeof(svc->name) ||
	    !(svc->type == SERVICE_INET ? svc_inet_name_ok(f[0])
					: svc_unix_name_ok(f[0])))
		return svc_error(err, filename, lineno,
				 svc->type == SERVICE_INET
				     ? "bad inet service name \"%s\" (expected "
				       "ADDR:PORT, [ADDR]:PORT or PORT)"
				     : "bad unix service name \"%s\" (expected "
				       "a relative path without ..)",
				 f[0]);
	if (strlen(f[2]) >= sizeof(svc->user) || !svc_user_ok(f[2]))
		return svc_error(err, filename, lineno, "bad user name \"%s\"",
				 f[2]);
	if (strcmp(f[3], "y") != 0 && strcmp(f[3], "n") != 0)
		return svc_error(err, filename, lineno,
				 "bad chroot \"%s\" (expected y or n)", f[3]);
	if ((svc->maxproc = svc_maxproc(f[4])) < 0)
		return svc_error(err, filename, lineno,
				 "bad maxproc \"%s\" (expected 1..1000)", f[4]);
	if (strlen(f[5]) >= sizeof(svc->command) || !svc_command_ok(f[5]))
		return svc_error(err, filename, lineno,
				 "bad command \"%s\" (expected [a-z0-9_-]+)",
				 f[5]);
	strlcpy(svc->name, f[0], sizeof(svc->name));
	strlcpy(svc->user, f[2], sizeof(svc->user));
	svc->chroot = f[3][0] == 'y';
	strlcpy(svc->command, f[5], sizeof(svc->command));
	for (size_t i = 6; i < nf; i++)
		svc->args[i - 6] = xstrdup(f[i]);
	svc->lineno = lineno;
	return 0;
}

static int
svc_line(struct service_table *t, char *line, const char *filename,
	 unsigned lineno, struct buf *err)
{
	char *f[6 + SERVICE_ARGS_MAX];
	size_t nf = svc_split(line, f, 6 + SERVICE_ARGS_MAX);
	struct service *svc;

	if (nf == 0 || f[0][0] == '#')
		return 0;
	if (nf < 6)
		return svc_error(err, filename, lineno, "%s",
				 "expected name type user chroot maxproc "
				 "command [args]");
	if (nf > 6 + SERVICE_ARGS_MAX)
		return svc_error(err, filename, lineno,
				 "more than %d arguments", SERVICE_ARGS_MAX);
	for (size_t i = 0; i < t->count; i++)
		if (strcmp(t->svc[i].name, f[0]) == 0) {
			return svc_error(err, filename, lineno,
					 "duplicate service \"%s\" (first on "
					 "line %u)",
					 f[0], t->svc[i].lineno);
		}
	if (t->count == SERVICE_MAX)
		return svc_error(err, filename, lineno, "more than %d services",
				 SERVICE_MAX);
	t->svc = xreallocarray(t->svc, t->count + 1, sizeof(*t->svc));
	svc = &t->svc[t->count];
	memset(svc, 0, sizeof(*svc));
	if (svc_fields(svc, f, nf, filename, lineno, err) != 0)
		return -1;
	t->count++;
	return 0;
}

/* Comments may hold any text; service lines are printable ASCII. */
static int
svc_line_bytes_ok(const char *line, size_t n)
{
	size_t i = 0;

	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i < n && line[i] == '#')
		return memchr(line, '\0', n) == NULL;
	for (; i < n; i++) {
		unsigned char c = (unsigned char)line[i];
		if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f ||
		    c >= 0x80)
			return 0;
	}
	return 1;
}

int
service_table_parse(const char *text, size_t len, const char *filename,
		    struct service_table *t, struct buf *err)
{
	unsigned lineno = 0;
	size_t pos = 0;
	int rc = 0;

	t->svc = NULL;
	t->count = 0;
	while (pos < len && rc == 0) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char *line;

		lineno++;
		if (!svc_line_bytes_ok(text + pos, n)) {
			rc = svc_error(err, filename, lineno, "%s",
				       "NUL, control or 8-bit byte");
			break;
		}
		line = xstrndup(text + pos, n);
		rc = svc_line(t, line, filename, lineno, err);
		free(line);
		pos += n + (nl ? 1 : 0);
	}
	if (rc != 0)
		service_table_free(t);
	return rc;
}

int
service_table_load(const char *conf_dir, struct service_table *t,
		   struct buf *err)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	int rc;

	t->svc = NULL;
	t->count = 0;
	buf_printf(&path, "%s/master.conf", conf_dir);
	rc = config_read_file(buf_cstr(&path), PARAMS_FILE_MAX, &text, err);
	if (rc == 0)
		rc = service_table_parse(text.data ? text.data : "", text.len,
					 buf_cstr(&path), t, err);
	buf_free(&path);
	buf_free(&text);
	return rc;
}

void
service_table_free(struct service_table *t)
{
	for (size_t i = 0; i < t->count; i++)
		for (size_t j = 0; t->svc[i].args[j] != NULL; j++)
			free(t->svc[i].args[j]);
	free(t->svc);
	t->svc = NULL;
	t->count = 0;
}

const struct service *
service_find_command(const struct service_table *t, const char *command)
{
	for (size_t i = 0; i < t->count; i++)
		if (strcmp(t->svc[i].command, command) == 0)
			return &t->svc[i];
	return NULL;
}

/*
 * Call fn for each -o value of svc, in order; stops at the first argument
 * that is no option, as getopt does, and when fn returns non-zero.
 */
static int
svc_each_option(const struct service *svc,
		int (*fn)(const char *opt, void *ctx), void *ctx)
{
	const char *a;
	size_t i;
	int rc;

	for (i = 0; (a = svc->args[i]) != NULL; i++) {
		if (strcmp(a, "--") == 0 || a[0] != '-')
			break;
		if (strcmp(a, "-o") == 0) {
			if (svc->args[i + 1] == NULL)
				return fn("", ctx);
			a = svc->args[++i];
		} else if (strncmp(a, "-o", 2) == 0) {
			a += 2;
		} else {
			continue;
		}
		if ((rc = fn(a, ctx)) != 0)
			return rc;
	}
	return 0;
}

struct svc_option_find {
	const char *name;
	const char *value;
};

static int
svc_option_match(const char *opt, void *ctx)
{
	struct svc_option_find *f = ctx;
	size_t n = strlen(f->name);

	if (strncmp(opt, f->name, n) == 0 && opt[n] == '=')
		f->value = opt + n + 1;
	return 0;
}

const char *
service_option(const struct service *svc, const char *name)
{
	struct svc_option_find f = {name, NULL};

	(void)svc_each_option(svc, svc_option_match, &f);
	return f.value;
}

struct svc_option_check {
	struct buf *err;
};

static int
svc_option_check(const char *opt, void *ctx)
{
	struct svc_option_check *c = ctx;
	const char *eq = strchr(opt, '=');
	struct buf why = BUF_INIT;
	char *name;
	int rc;

	if (eq == NULL || eq == opt) {
		buf_printf(c->err, "-o %s: expected name=value", opt);
		return -1;
	}
	name = xstrndup(opt, (size_t)(eq - opt));
	rc = param_check_override(name, eq + 1, &why);
	if (rc != 0)
		buf_printf(c->err, "-o %s: %s", opt, buf_cstr(&why));
	free(name);
	buf_free(&why);
	return rc;
}

int
service_check_options(const struct service *svc, const char *filename,
		      struct buf *err)
{
	struct buf why = BUF_INIT;
	struct svc_option_check c = {&why};
	int rc = svc_each_option(svc, svc_option_check, &c);

	if (rc != 0)
		svc_error(err, filename, svc->lineno, "%s", buf_cstr(&why));
	buf_free(&why);
	return rc;
}

int
service_param(const struct service *svc, const char *name, struct buf *out,
	      struct buf *err)
{
	const char *v = svc != NULL ? service_option(svc, name) : NULL;

	return params_expand(v != NULL ? v : param_raw(name), out, err);
}
