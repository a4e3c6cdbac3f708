/*
 * remote_sasl: the credentials remote uses for AUTH (RFC 4954) to a
 * server that wants them, typically the relayhost of a host without a
 * mail domain of its own.  smtp_sasl_password_maps is an LMDB map of
 *   [smtp.example.net]:587   user@example.net:secret
 * looked up by the server's host name, then by the next hop as written
 * (Postfix's order).  The map holds passwords: it must be root's and
 * readable by no one else, and it is opened as root before the chroot
 * and the privilege drop (remote cannot open it afterwards); a rebuilt
 * map makes remote finish its work and exit, so a fresh process opens
 * the new one.  The engine sends the credentials only over TLS.  Input:
 * the map's values (root's), checked for length and control bytes.
 * Runs in remote; the value parser is tested by test_remote_sasl.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "maps.h"
#include "params.h"
#include "remote_tls.h"

static struct map *sasl_map;

/* Bytes a credential may hold: printable, no control bytes. */
static int
sasl_field_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n >= SASL_FIELD_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return 0;
	return 1;
}

int
sasl_creds_parse(const char *value, size_t len, struct sasl_creds *c,
		 const char **why)
{
	const char *colon = value != NULL ? memchr(value, ':', len) : NULL;
	size_t u;

	memset(c, 0, sizeof(*c));
	if (colon == NULL) {
		*why = "not user:password";
		return -1;
	}
	u = (size_t)(colon - value);
	if (!sasl_field_ok(value, u) ||
	    !sasl_field_ok(colon + 1, len - u - 1)) {
		*why = "an empty, over-long or unprintable user name or "
		       "password";
		return -1;
	}
	memcpy(c->user, value, u);
	memcpy(c->pass, colon + 1, len - u - 1);
	return 0;
}

void
remote_sasl_clear(struct sasl_creds *c)
{
	explicit_bzero(c, sizeof(*c));
}

int
remote_sasl_open(struct buf *err)
{
	const char *source = param_str("smtp_sasl_password_maps");
	struct buf path = BUF_INIT;
	struct stat st;
	int rc = -1;

	if (source[0] == '\0')
		return 0;
	buf_printf(&path, "%s.lmdb", source);
	if (lstat(buf_cstr(&path), &st) != 0)
		buf_printf(err, "smtp_sasl_password_maps: %s: %s",
			   buf_cstr(&path), strerror(errno));
	else if (!S_ISREG(st.st_mode) || st.st_uid != 0 ||
		 (st.st_mode & 077) != 0)
		buf_printf(err,
			   "smtp_sasl_password_maps: %s holds passwords but "
			   "is not a file only root can read (owner %u, mode "
			   "%04o): chmod 600 %s and run moat map build %s",
			   buf_cstr(&path), (unsigned)st.st_uid,
			   (unsigned)(st.st_mode & 07777), source, source);
	else if ((sasl_map = map_open(source, err)) != NULL) {
		if (map_still_at(sasl_map, source))
			rc = 0;
		else
			buf_printf(err,
				   "smtp_sasl_password_maps: %s changed "
				   "while it was opened",
				   buf_cstr(&path));
	}
	buf_free(&path);
	return rc;
}

/* One key: 1 with c, 0 not there, -1 a bad value. */
static int
sasl_try(const char *key, struct sasl_creds *c, const char **why)
{
	struct buf v = BUF_INIT;
	int r = map_lookup(sasl_map, key, &v);

	if (r < 0)
		*why = "cannot read smtp_sasl_password_maps";
	else if (r == 1 && sasl_creds_parse(v.data, v.len, c, why) != 0)
		r = -1;
	if (v.data != NULL)
		explicit_bzero(v.data, v.len);
	buf_free(&v);
	return r;
}

int
remote_sasl_lookup(const char *host, const char *nexthop, struct sasl_creds *c,
		   const char **why)
{
	int r;

	memset(c, 0, sizeof(*c));
	if (sasl_map == NULL)
		return 0;
	r = sasl_try(host, c, why);
	if (r == 0 && strcmp(host, nexthop) != 0)
		r = sasl_try(nexthop, c, why);
	return r;
}

int
remote_sasl_changed(void)
{
	return sasl_map != NULL && map_changed(sasl_map);
}
