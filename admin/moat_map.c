/*
 * moat_map: `moat map build FILE [--format aliases|table]` compiles a map
 * source into FILE.lmdb (maps.h does the work, atomically).  The format is
 * aliases(5) when the file's name starts with "aliases", else "key value"
 * lines.  Input: the source file, which maps.c refuses unless only its
 * owner (root) can write it; errors name the file and line.  Runs in the
 * moat command.
 */
#include <string.h>

#include "maps.h"
#include "moat.h"

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

int
moat_map(const char *conf_dir, int argc, char **argv)
{
	const char *file = NULL, *format = NULL;
	struct buf err = BUF_INIT;
	enum map_format fmt;
	int i, rc;

	(void)conf_dir;
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
	rc = map_build(file, fmt, &err);
	if (rc != 0)
		moat_error("%s", buf_cstr(&err));
	buf_free(&err);
	return rc == 0 ? 0 : 1;
}
