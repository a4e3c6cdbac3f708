/*
 * params_file: the file side of the params module: reading a bounded
 * configuration file, `moat config` printing every setting, and
 * `moat config -e` editing main.conf atomically (temporary file in the same
 * directory, fsync, rename, fsync of the directory), after checking that
 * the edited file loads cleanly.  Values come from the administrator
 * (root) but are checked like any other input.  Runs in every program
 * (reading) and in the moat command (printing, editing).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "params.h"
#include "params_state.h"

int
config_read_file(const char *path, size_t max, struct buf *out, struct buf *err)
{
	struct stat st;
	char chunk[8192];
	ssize_t n;
	int fd;

	buf_reset(out);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		buf_reset(err);
		buf_printf(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		buf_reset(err);
		buf_printf(err, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || out->len + (size_t)n > max) {
			buf_reset(err);
			if (n < 0)
				buf_printf(err, "%s: %s", path,
					   strerror(errno));
			else
				buf_printf(err, "%s: larger than %zu bytes",
					   path, max);
			close(fd);
			return -1;
		}
		buf_append(out, chunk, (size_t)n);
	}
	close(fd);
	return 0;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

void
params_print(int fd, int defaults_only)
{
	struct params_state *st = params_global_state();
	struct buf out = BUF_INIT;

	for (size_t i = 0; i < param_count; i++) {
		const char *v = params_state_raw(st, i, defaults_only);
		buf_printf(&out, "%s =%s%s\n", param_table[i].name,
			   v[0] ? " " : "", v);
	}
	(void)write_all(fd, out.data ? out.data : "", out.len);
	buf_free(&out);
}

/* The parameter name that a setting line starts with, or 0 if none. */
static size_t
setting_name_len(const char *line, size_t n)
{
	size_t i = 0;

	while (i < n && ((line[i] >= 'a' && line[i] <= 'z') ||
			 (line[i] >= '0' && line[i] <= '9') || line[i] == '_'))
		i++;
	if (i == n || (line[i] != '=' && line[i] != ' ' && line[i] != '\t'))
		return 0;
	return i;
}

/* The first non-blank byte of a line, or '\0' when it is blank. */
static char
line_first(const char *line, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			return line[i];
	return '\0';
}

/* Copy text to out with the setting of name replaced (or appended). */
static void
edit_text(const char *text, size_t len, const char *name, const char *value,
	  struct buf *out)
{
	size_t pos = 0, nlen = strlen(name);
	int in_target = 0, replaced = 0;

	while (pos < len) {
		const char *line = text + pos, *nl;
		size_t n;
		char first;

		nl = memchr(line, '\n', len - pos);
		n = nl ? (size_t)(nl - line) + 1 : len - pos;
		pos += n;
		first = line_first(line, n);
		if (first != '\0' && first != '#' && line[0] != ' ' &&
		    line[0] != '\t') {
			size_t k = setting_name_len(line, n);
			in_target = k == nlen && memcmp(line, name, k) == 0;
			if (in_target && !replaced)
				buf_printf(out, "%s = %s\n", name, value);
			replaced |= in_target;
			if (in_target)
				continue;
		} else if (first != '\0' && first != '#' && in_target) {
			continue;
		}
		buf_append(out, line, n);
		if (nl == NULL)
			buf_append_char(out, '\n');
	}
	if (!replaced)
		buf_printf(out, "%s = %s\n", name, value);
}

static int
edit_check(const char *conf_dir, const char *path, const struct buf *text,
	   struct buf *err)
{
	struct params_state *st = params_state_new(conf_dir, 1);
	int rc;

	rc = params_state_parse(st, text->data ? text->data : "", text->len,
				path, err);
	if (rc == 0)
		rc = params_state_build(st, err);
	params_state_free(st);
	return rc;
}

static int
edit_replace(const char *conf_dir, const char *path, const struct buf *text,
	     const struct stat *old, struct buf *err)
{
	struct buf tmp = BUF_INIT;
	int fd, dfd, rc = -1;

	buf_printf(&tmp, "%s/.main.conf.XXXXXX", conf_dir);
	if ((fd = mkstemp(tmp.data)) < 0) {
		buf_printf(err, "%s: %s", buf_cstr(&tmp), strerror(errno));
		buf_free(&tmp);
		return -1;
	}
	if (fchmod(fd, old ? old->st_mode & 07777 : 0644) == 0 &&
	    (old == NULL || fchown(fd, old->st_uid, old->st_gid) == 0 ||
	     geteuid() != 0) &&
	    write_all(fd, text->data ? text->data : "", text->len) == 0 &&
	    fsync(fd) == 0 && close(fd) == 0) {
		fd = -1;
		if (rename(tmp.data, path) == 0)
			rc = 0;
	}
	if (rc != 0) {
		buf_printf(err, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp.data);
	} else if ((dfd = open(conf_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >=
		   0) {
		(void)fsync(dfd);
		close(dfd);
	}
	buf_free(&tmp);
	return rc;
}

static int
edit_validate(const char *name, const char *value, struct buf *err)
{
	const struct param_def *def = param_find(name);

	if (def == NULL || strcmp(name, "config_directory") == 0) {
		buf_printf(err, "%s: %s", name,
			   def ? "set by -c, not in main.conf"
			       : "no such parameter");
		return -1;
	}
	for (const char *s = value; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f) {
			buf_printf(err, "bad value for %s: control character",
				   name);
			return -1;
		}
	if (value[0] == ' ' || (value[0] && value[strlen(value) - 1] == ' ')) {
		buf_printf(err, "bad value for %s: white space at an end",
			   name);
		return -1;
	}
	return 0;
}

int
params_write_setting(const char *conf_dir, const char *name, const char *value,
		     struct buf *err)
{
	struct buf path = BUF_INIT, text = BUF_INIT, edited = BUF_INIT;
	struct stat st;
	int have = 0, rc = -1;

	buf_reset(err);
	if (edit_validate(name, value, err) != 0)
		return -1;
	buf_printf(&path, "%s/main.conf", conf_dir);
	if (stat(buf_cstr(&path), &st) == 0)
		have = 1;
	else if (errno != ENOENT)
		buf_printf(err, "%s: %s", buf_cstr(&path), strerror(errno));
	if (err->len == 0 &&
	    (!have || config_read_file(buf_cstr(&path), PARAMS_FILE_MAX, &text,
				       err) == 0)) {
		edit_text(text.data ? text.data : "", text.len, name, value,
			  &edited);
		if (edit_check(conf_dir, buf_cstr(&path), &edited, err) == 0)
			rc = edit_replace(conf_dir, buf_cstr(&path), &edited,
					  have ? &st : NULL, err);
	}
	buf_free(&path);
	buf_free(&text);
	buf_free(&edited);
	return rc;
}
