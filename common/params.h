/*
 * params: every main.conf parameter is declared once, in params_table.c,
 * with its type, default, range and a one-line description.  params_load()
 * reads CONFDIR/main.conf (root-owned, trusted, but still parsed carefully:
 * an error names the file and line and stops the start).  Unknown names are
 * warned about.  Values may refer to other parameters as $name or ${name};
 * references are expanded when a value is read.  config_directory is not
 * set in the file: it is the directory main.conf was read from.
 *
 * myhostname and mydomain are derived when left empty: the system's host
 * name, and that name without its first label ("localdomain" when it has
 * only one); param_str() and $ expansion both see the derived value.
 *
 * Accessors take the parameter's name and are fatal for an undeclared name,
 * so a typo shows at the first run, not in production.
 */
#ifndef MOAT_PARAMS_H
#define MOAT_PARAMS_H

#include <stddef.h>

#include "buf.h"

enum param_type {
	PARAM_BOOL,	/* yes | no */
	PARAM_INT,	/* decimal integer within [min, max] */
	PARAM_SIZE,	/* bytes: integer with optional k, m, g suffix */
	PARAM_TIME,	/* seconds: integer with optional s, m, h, d, w */
	PARAM_STR,	/* free text, $name expanded */
	PARAM_LIST,	/* items separated by commas and/or white space */
	PARAM_PATH,	/* an absolute path (after expansion), or empty */
};

struct param_def {
	const char *name;
	enum param_type type;
	const char *defval;
	long long min, max;	/* PARAM_INT, PARAM_SIZE, PARAM_TIME */
	const char *desc;
};

extern const struct param_def param_table[];
extern const size_t param_count;

/*
 * Callback for each "name = value" line of a configuration text.  On error
 * it puts a reason (without file and line) in err and returns -1;
 * config_parse() adds "FILE:LINE: " in front.
 */
typedef int (*config_line_cb)(const char *name, const char *value,
			      unsigned lineno, void *ctx, struct buf *err);

/*
 * Pure parser of main.conf syntax: "name = value" lines, '#' comments,
 * blank lines, and continuation lines that start with white space.  Calls
 * cb for each setting; stops at the first error with "FILE:LINE: reason"
 * in err and returns -1.  Returns 0 on success.
 */
int config_parse(const char *text, size_t len, const char *filename,
		 config_line_cb cb, void *ctx, struct buf *err);

/* Check one value against its declared type (without $ expansion). */
int param_check_value(const struct param_def *def, const char *value,
		      struct buf *err);

const struct param_def *param_find(const char *name);

/*
 * Load CONFDIR/main.conf over the defaults.  -1 with err set on a syntax
 * error, a bad value, or an unreadable file.  Unknown names are logged as
 * warnings.  May be called again (reload): old values are discarded.
 */
int params_load(const char *conf_dir, struct buf *err);
/*
 * Set one value as if read from the file (-o overrides, tests).  Like a
 * load, it invalidates strings and lists returned before it.
 */
int params_set(const char *name, const char *value, struct buf *err);

/* Typed, expanded values.  Fatal on an undeclared name or a type mismatch. */
const char *param_str(const char *name);	/* STR, PATH, LIST (raw) */
long long param_int(const char *name);		/* INT, SIZE, TIME */
int param_bool(const char *name);
/* The items of a LIST, expanded; the array is valid until the next load. */
size_t param_list(const char *name, const char *const **items);
/* 1 when the value came from main.conf rather than the default. */
int param_is_set(const char *name);
/* The unexpanded value as written (or the default). */
const char *param_raw(const char *name);

/*
 * Expand the $name references of text with the loaded parameters (a value
 * given on a master.conf line with -o); -1 with the reason in err.
 */
int params_expand(const char *text, struct buf *out, struct buf *err);
/*
 * Check a -o name=value override as params_set would take it: a declared
 * parameter (not config_directory) whose value, expanded, fits its type.
 * Changes nothing; -1 with the reason in err.
 */
int param_check_override(const char *name, const char *value, struct buf *err);

/*
 * Edit CONFDIR/main.conf in place: the line(s) setting name (with their
 * continuation lines) are replaced by "name = value", or the setting is
 * appended.  The name must be declared and the edited file must load
 * cleanly; it is written to a temporary file in CONFDIR, synced and renamed
 * over main.conf.  -1 with err when anything fails (main.conf unchanged).
 */
int params_write_setting(const char *conf_dir, const char *name,
			 const char *value, struct buf *err);
/*
 * Print "name = value" for every parameter in table order: the effective
 * values as written (unexpanded), or with defaults_only the defaults.
 */
void params_print(int fd, int defaults_only);

/*
 * Read a whole configuration file of at most max bytes into out; -1 with
 * "PATH: reason" in err.  Used for main.conf and master.conf.
 */
int config_read_file(const char *path, size_t max, struct buf *out,
		     struct buf *err);

#endif
