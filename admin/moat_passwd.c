/*
 * moat_passwd: `moat passwd [-d] [-s SCHEME] USER` sets (or with -d
 * removes) USER's password in smtpd_sasl_password_maps, the map auth(8)
 * checks AUTH against.  The password is read from the terminal without
 * echo, twice, or else as one line of standard input (for scripts);
 * never from the arguments, which any user can see in ps.  It is hashed
 * with libxcrypt (yescrypt unless -s bcrypt or sha512-crypt), the source
 * is rewritten with every other line kept (a new file, synced, renamed
 * over the old one; mode 600, root's), the map rebuilt, and a running
 * instance reloaded so that auth reads it.  Input: the administrator's
 * arguments and password (root only); the existing source, which must be
 * root's and open to no one else.  Runs in the moat command.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "maps.h"
#include "moat.h"
#include "params.h"
#include "passwd_hash.h"
#include "safe_open.h"

#define PASSWD_USER_MAX 255
#define PASSWD_PASS_MAX 1024

static int
moat_passwd_usage(void)
{
	moat_error("usage: moat passwd [-d] [-s yescrypt|bcrypt|sha512-crypt] "
		   "USER");
	return 2;
}

/* A user name: printable ASCII, no blank, no '#' (a comment in the map). */
static int
moat_passwd_user_ok(const char *u)
{
	size_t i, n = strlen(u);

	if (n == 0 || n > PASSWD_USER_MAX || u[0] == '#')
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)u[i] <= ' ' || (unsigned char)u[i] >= 0x7f)
			return 0;
	return 1;
}

/* One line from fd 0 without its line end; -1 at EOF, error or length. */
static int
moat_passwd_line(char *out, size_t size)
{
	size_t n = 0;
	ssize_t r;
	char c;

	for (;;) {
		r = read(0, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return n > 0 ? 0 : -1;
		if (c == '\n')
			break;
		if (n + 1 >= size)
			return -1;
		out[n++] = c;
		out[n] = '\0';
	}
	if (n > 0 && out[n - 1] == '\r')
		out[--n] = '\0';
	out[n] = '\0';
	return 0;
}

/* Prompt on the terminal with echo off. */
static int
moat_passwd_prompt(const char *prompt, char *out, size_t size)
{
	struct termios old, quiet;
	int rc;

	fprintf(stderr, "%s", prompt);
	fflush(stderr);
	if (tcgetattr(0, &old) != 0)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	if (tcsetattr(0, TCSAFLUSH, &quiet) != 0)
		return -1;
	rc = moat_passwd_line(out, size);
	(void)tcsetattr(0, TCSAFLUSH, &old);
	fprintf(stderr, "\n");
	return rc;
}

/* The password: twice from a terminal, once from anything else. */
static int
moat_passwd_read(const char *user, char *pass, size_t size)
{
	char again[PASSWD_PASS_MAX + 2], prompt[PASSWD_USER_MAX + 32];
	int rc;

	if (!isatty(0)) {
		rc = moat_passwd_line(pass, size);
	} else {
		snprintf(prompt, sizeof(prompt), "Password for %s: ", user);
		rc = moat_passwd_prompt(prompt, pass, size);
		if (rc == 0 &&
		    (moat_passwd_prompt("Again: ", again, sizeof(again)) != 0 ||
		     strcmp(pass, again) != 0)) {
			moat_error("the passwords differ");
			rc = -1;
		}
		explicit_bzero(again, sizeof(again));
	}
	if (rc == 0 && pass[0] == '\0') {
		moat_error("an empty password is no password");
		rc = -1;
	} else if (rc != 0 && isatty(0) == 0) {
		moat_error("no password on standard input (one line, at most "
			   "%d bytes)",
			   PASSWD_PASS_MAX);
	}
	return rc;
}

/* The source as it is ("" when it does not exist yet); -1 when unsafe. */
static int
moat_passwd_source(const char *path, struct buf *text)
{
	struct buf why = BUF_INIT;
	struct stat st;
	int fd, rc;

	fd = safe_open(AT_FDCWD, path, O_RDONLY, 0, 0, SAFE_NOT_GROUP_WRITABLE,
		       &st, &why);
	if (fd < 0 && errno == ENOENT) {
		buf_free(&why);
		return 0;
	}
	if (fd < 0 || (st.st_mode & 077) != 0) {
		moat_error("%s: %s", path,
			   fd < 0 ? buf_cstr(&why)
				  : "readable by others: chmod 600 it first");
		if (fd >= 0)
			close(fd);
		buf_free(&why);
		return -1;
	}
	buf_free(&why);
	rc = buf_read_fd(text, fd, MOAT_PASSWORDS_MAX);
	if (rc != 0)
		moat_error("%s: %s", path, strerror(errno));
	close(fd);
	return rc;
}

/* 1 when line sets user (its first word, in any case). */
static int
moat_passwd_line_is(const char *line, size_t len, const char *user)
{
	size_t n = strlen(user);

	while (len > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	return len > n && strncasecmp(line, user, n) == 0 &&
	       (line[n] == ' ' || line[n] == '\t');
}

/* The new text: every line but user's, then user's (unless hash NULL). */
static int
moat_passwd_edit(const struct buf *old, const char *user, const char *hash,
		 struct buf *out)
{
	size_t off = 0, len;
	const char *nl;
	int found = 0;

	while (off < old->len) {
		nl = memchr(old->data + off, '\n', old->len - off);
		len = nl ? (size_t)(nl - old->data) - off : old->len - off;
		if (moat_passwd_line_is(old->data + off, len, user))
			found = 1;
		else {
			buf_append(out, old->data + off, len);
			buf_append_char(out, '\n');
		}
		off += len + 1;
	}
	if (hash != NULL)
		buf_printf(out, "%s %s\n", user, hash);
	return found;
}

/* Replace path with text: a new file of mode 600, synced, renamed. */
static int
moat_passwd_write(const char *path, const struct buf *text)
{
	struct buf tmp = BUF_INIT;
	int rc;

	buf_printf(&tmp, "%s.tmp", path);
	(void)unlink(buf_cstr(&tmp));
	rc = moat_write_file(buf_cstr(&tmp), text->data ? text->data : "",
			     text->len, 0600);
	if (rc == 0 && rename(buf_cstr(&tmp), path) != 0) {
		moat_error("rename %s: %s", buf_cstr(&tmp), strerror(errno));
		rc = -1;
	}
	if (rc != 0)
		(void)unlink(buf_cstr(&tmp));
	buf_free(&tmp);
	return rc;
}

struct moat_passwd_args {
	int remove;
	const char *prefix;
	const char *user;
};

static int
moat_passwd_args(int argc, char **argv, struct moat_passwd_args *a)
{
	int c;

	a->remove = 0;
	a->prefix = passwd_hash_prefix("yescrypt");
	optind = 1;
	while ((c = getopt(argc, argv, "ds:")) != -1) {
		if (c == 'd')
			a->remove = 1;
		else if (c == 's' && passwd_hash_prefix(optarg) != NULL)
			a->prefix = passwd_hash_prefix(optarg);
		else
			return -1;
	}
	if (optind + 1 != argc || !moat_passwd_user_ok(argv[optind]))
		return -1;
	a->user = argv[optind];
	return 0;
}

/* Write the new source, build its map, tell a running instance. */
static int
moat_passwd_save(const char *conf_dir, const char *path, const char *user,
		 const char *hash)
{
	struct buf old = BUF_INIT, text = BUF_INIT, err = BUF_INIT;
	int rc = -1, found;

	if (moat_passwd_source(path, &old) != 0)
		goto done;
	found = moat_passwd_edit(&old, user, hash, &text);
	if (hash == NULL && !found) {
		moat_error("%s: no password for %s", path, user);
		goto done;
	}
	if (moat_passwd_write(path, &text) != 0)
		goto done;
	if (map_build(path, MAP_TABLE, &err) != 0) {
		moat_error("%s", buf_cstr(&err));
		goto done;
	}
	moat_say("%s: %s %s", path, hash ? "password set for" : "removed",
		 user);
	rc = moat_reload_if_running(conf_dir);
done:
	explicit_bzero(old.data, old.cap);
	explicit_bzero(text.data, text.cap);
	buf_free(&old);
	buf_free(&text);
	buf_free(&err);
	return rc;
}

int
moat_passwd(const char *conf_dir, int argc, char **argv)
{
	char pass[PASSWD_PASS_MAX + 2], hash[PASSWD_HASH_MAX];
	struct moat_passwd_args a;
	const char *path;
	int rc;

	if (moat_passwd_args(argc, argv, &a) != 0)
		return moat_passwd_usage();
	if (moat_need_root("passwd") != 0 || moat_load_params(conf_dir) != 0)
		return 1;
	path = param_str("smtpd_sasl_password_maps");
	if (path[0] == '\0') {
		moat_error("smtpd_sasl_password_maps is empty: no map to set "
			   "a password in");
		return 1;
	}
	path = xstrdup(path); /* params are reloaded on the way */
	if (a.remove) {
		rc = moat_passwd_save(conf_dir, path, a.user, NULL);
		free((char *)path);
		return rc == 0 ? 0 : 1;
	}
	rc = moat_passwd_read(a.user, pass, sizeof(pass));
	if (rc == 0 &&
	    passwd_hash_make(pass, a.prefix, hash, sizeof(hash)) != 0) {
		moat_error("crypt_r could not hash the password");
		rc = -1;
	}
	explicit_bzero(pass, sizeof(pass));
	if (rc == 0)
		rc = moat_passwd_save(conf_dir, path, a.user, hash);
	free((char *)path);
	return rc == 0 ? 0 : 1;
}
