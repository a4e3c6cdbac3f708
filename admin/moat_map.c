/*
 * moat_map: `moat map build FILE [--format aliases|table]` compiles a map
 * source into FILE.lmdb (maps.h does the work, atomically).  The format is
 * aliases(5) when the file's name starts with "aliases", else "key value"
 * lines.  Input: the source file, which maps.c refuses unless only its
 * owner (root) can write it; errors name the file and line.  When root
 * builds the alias map of a running instance, rcptmap is asked to rebuild
 * the recipients map and the command waits for it, so smtpd accepts the
 * new aliases as soon as it returns.  The instance's smtp_tls_policy_maps
 * is built only when every value is a TLS policy remote can use.  Runs in
 * the moat command.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "ipc_proto.h"
#include "maps.h"
#include "moat.h"
#include "params.h"
#include "tls_policy.h"

#define MOAT_RCPTMAP_WAIT 10 /* seconds for rcptmap's rebuild */

static int
moat_map_usage(void)
{
	moat_error("usage: moat map build FILE [--format aliases|table]");
	return 2;
}

static enum map_format
moat_map_guess(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base != NULL ? base + 1 : path;
	return strncmp(base, "aliases", 7) == 0 ? MAP_ALIASES : MAP_TABLE;
}

/*
 * 1 when file is the map the instance's parameter names (conf_dir "": no
 * instance).
 */
static int
moat_map_is(const char *conf_dir, const char *file, const char *param)
{
	char built[PATH_MAX], named[PATH_MAX];
	struct buf err = BUF_INIT;
	int rc = conf_dir[0] != '\0' && params_load(conf_dir, &err) == 0 &&
		 param_str(param)[0] != '\0' && realpath(file, built) != NULL &&
		 realpath(param_str(param), named) != NULL &&
		 strcmp(built, named) == 0;

	buf_free(&err);
	return rc;
}

/* An entry of smtp_tls_policy_maps must be a policy remote can use. */
static int
moat_map_check_tls(const char *key, const char *value, unsigned lineno,
		   void *ctx, struct buf *err)
{
	struct tls_policy p;
	const char *why;

	(void)lineno;
	(void)ctx;
	if (tls_policy_parse(value, &p, &why) == 0)
		return 0;
	buf_printf(err, "%s: not a TLS policy: %s", key, why);
	return -1;
}

/*
 * Ask rcptmap for the recipients map now and wait for its answer.  Quiet
 * when no rcptmap listens (the instance is stopped): it builds the map
 * when it starts.
 */
static void
moat_map_wake_rcptmap(void)
{
	struct buf path = BUF_INIT;
	struct ipc_frame reply;
	const char *why = NULL, *status, *text;
	int fd, r;

	buf_printf(&path, "%s/%s", param_str("queue_directory"),
		   IPC_SOCK_RCPTMAP);
	fd = ipc_connect(buf_cstr(&path), MOAT_RCPTMAP_WAIT);
	buf_free(&path);
	if (fd < 0)
		return;
	ipc_frame_init(&reply);
	r = ipc_recv(fd, &reply, MOAT_RCPTMAP_WAIT, &why);
	status = r == 1 ? ipc_get_str(&reply, IPC_STATUS) : NULL;
	text = r == 1 ? ipc_get_str(&reply, IPC_TEXT) : NULL;
	if (status == NULL)
		moat_error("warning: no answer from rcptmap (%s); smtpd learns "
			   "the new aliases when it has rebuilt the recipients "
			   "map",
			   r == 0 ? "connection closed"
			   : why  ? why
				  : "?");
	else if (strcmp(status, IPC_STATUS_OK) != 0)
		moat_error("warning: rcptmap could not rebuild the recipients "
			   "map: %s; smtpd keeps the old one",
			   text != NULL ? text : "?");
	ipc_frame_free(&reply);
	close(fd);
}

int
moat_map(const char *conf_dir, int argc, char **argv)
{
	const char *file = NULL, *format = NULL;
	struct buf err = BUF_INIT;
	enum map_format fmt;
	int i, rc;

	if (argc < 3 || strcmp(argv[1], "build") != 0)
		return moat_map_usage();
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
			format = argv[++i];
		else if (strncmp(argv[i], "--format=", 9) == 0)
			format = argv[i] + 9;
		else if (argv[i][0] != '-' && file == NULL)
			file = argv[i];
		else
			return moat_map_usage();
	}
	if (file == NULL)
		return moat_map_usage();
	if (format == NULL)
		fmt = moat_map_guess(file);
	else if (strcmp(format, "aliases") == 0)
		fmt = MAP_ALIASES;
	else if (strcmp(format, "table") == 0)
		fmt = MAP_TABLE;
	else
		return moat_map_usage();
	if (moat_map_is(conf_dir, file, "smtp_tls_policy_maps"))
		rc = map_build_checked(file, fmt, moat_map_check_tls, NULL,
				       &err);
	else
		rc = map_build(file, fmt, &err);
	if (rc != 0)
		moat_error("%s", buf_cstr(&err));
	else if (geteuid() == 0 && moat_map_is(conf_dir, file, "alias_maps"))
		moat_map_wake_rcptmap();
	buf_free(&err);
	return rc == 0 ? 0 : 1;
}
