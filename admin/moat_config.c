/*
 * moat_config: `moat config [-d] [-e] [name[=value]...]` shows the settings
 * of main.conf as written (unexpanded), every parameter or the named ones,
 * the defaults with -d; with -e it edits main.conf, one name=value at a
 * time, each edit checked by loading the edited file before it replaces
 * main.conf (params.h does the editing).  Input: the administrator's
 * arguments and main.conf.  Runs in the moat command.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "moat.h"
#include "params.h"

static int
moat_config_usage(void)
{
	moat_error("usage: moat config [-d] [name...] | "
		   "moat config -e name=value...");
	return 2;
}

static int
moat_config_edit(const char *conf_dir, int argc, char **argv)
{
	struct buf err = BUF_INIT;
	char name[128];
	const char *eq;
	size_t n;
	int i, rc = 0;

	if (moat_need_root("config -e") != 0)
		return 1;
	for (i = 0; i < argc && rc == 0; i++) {
		eq = strchr(argv[i], '=');
		if (eq == NULL || eq == argv[i] ||
		    (size_t)(eq - argv[i]) >= sizeof(name)) {
			moat_error("-e %s: expected name=value", argv[i]);
			rc = -1;
			break;
		}
		memcpy(name, argv[i], (size_t)(eq - argv[i]));
		name[eq - argv[i]] = '\0';
		for (n = strlen(name);
		     n > 0 && (name[n - 1] == ' ' || name[n - 1] == '\t');)
			name[--n] = '\0';
		/* Like "name = value" in the file: blanks around it go. */
		while (eq[1] == ' ' || eq[1] == '\t')
			eq++;
		rc = params_write_setting(conf_dir, name, eq + 1, &err);
		if (rc != 0)
			moat_error("%s", buf_cstr(&err));
	}
	buf_free(&err);
	return rc == 0 ? 0 : 1;
}

static int
moat_config_show(int defaults, int argc, char **argv)
{
	const struct param_def *def;
	const char *v;
	int i, rc = 0;

	if (argc == 0) {
		fflush(stdout);
		params_print(1, defaults);
		return 0;
	}
	for (i = 0; i < argc; i++) {
		if ((def = param_find(argv[i])) == NULL) {
			moat_error("unknown parameter %s", argv[i]);
			rc = 1;
			continue;
		}
		v = defaults ? def->defval : param_raw(argv[i]);
		printf("%s =%s%s\n", def->name, v[0] ? " " : "", v);
	}
	return rc;
}

int
moat_config(const char *conf_dir, int argc, char **argv)
{
	int defaults = 0, edit = 0, c;

	while ((c = getopt(argc, argv, "de")) != -1) {
		if (c == 'd')
			defaults = 1;
		else if (c == 'e')
			edit = 1;
		else
			return moat_config_usage();
	}
	argc -= optind;
	argv += optind;
	if (edit && (defaults || argc == 0))
		return moat_config_usage();
	if (edit)
		return moat_config_edit(conf_dir, argc, argv);
	if (!defaults && moat_load_params(conf_dir) != 0)
		return 1;
	return moat_config_show(defaults, argc, argv);
}
