/*
 * params_parse: the pure half of the params module: the main.conf line
 * syntax (config_parse) and the check of one value against its declared
 * type (param_check_value).  The text is trusted (root-owned) but parsed
 * as if hostile: lengths counted, NUL and control bytes refused.  No I/O,
 * no logging, no globals.  Runs in every program at start-up.
 */
#include <ctype.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "params.h"
#include "params_state.h"

#define CONFIG_NAME_MAX 128

static int
config_name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static int
config_blank(int c)
{
	return c == ' ' || c == '\t';
}

/* One logical line being collected: name, value and first line number. */
struct config_pending {
	struct buf name;
	struct buf value;
	unsigned lineno;
	int active;
};

static void
config_fail(struct buf *err, const char *filename, unsigned lineno,
	    const char *reason)
{
	buf_reset(err);
	buf_printf(err, "%s:%u: %s", filename, lineno, reason);
}

/* Trim white space at both ends of [*s, *s + *n). */
static void
config_trim(const char **s, size_t *n)
{
	while (*n > 0 && config_blank((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && config_blank((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

static int
config_flush(struct config_pending *p, const char *filename, config_line_cb cb,
	     void *ctx, struct buf *err)
{
	struct buf reason = BUF_INIT;
	int rc = 0;

	if (!p->active)
		return 0;
	p->active = 0;
	if (cb(buf_cstr(&p->name), buf_cstr(&p->value), p->lineno, ctx,
	       &reason) != 0) {
		config_fail(err, filename, p->lineno,
			    reason.len ? buf_cstr(&reason) : "rejected");
		rc = -1;
	}
	buf_free(&reason);
	return rc;
}

/* A "name = value" line starting a new setting. */
static int
config_start(struct config_pending *p, const char *line, size_t n,
	     unsigned lineno, const char *filename, struct buf *err)
{
	size_t i = 0;

	while (i < n && config_name_char((unsigned char)line[i]))
		i++;
	if (i == 0 || (i < n && !config_blank((unsigned char)line[i]) &&
		       line[i] != '=')) {
		config_fail(err, filename, lineno,
			    "bad parameter name (expected [a-z0-9_]+)");
		return -1;
	}
	if (i > CONFIG_NAME_MAX) {
		config_fail(err, filename, lineno, "parameter name too long");
		return -1;
	}
	buf_reset(&p->name);
	buf_append(&p->name, line, i);
	while (i < n && config_blank((unsigned char)line[i]))
		i++;
	if (i >= n || line[i] != '=') {
		config_fail(err, filename, lineno, "missing '='");
		return -1;
	}
	line += i + 1;
	n -= i + 1;
	config_trim(&line, &n);
	buf_reset(&p->value);
	buf_append(&p->value, line, n);
	p->lineno = lineno;
	p->active = 1;
	return 0;
}

static int
config_check_bytes(const char *line, size_t n, unsigned lineno,
		   const char *filename, struct buf *err)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c == '\0') {
			config_fail(err, filename, lineno, "NUL byte");
			return -1;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			config_fail(err, filename, lineno, "control character");
			return -1;
		}
	}
	return 0;
}

static int
config_line(struct config_pending *p, const char *line, size_t n,
	    unsigned lineno, const char *filename, config_line_cb cb, void *ctx,
	    struct buf *err)
{
	const char *t = line;
	size_t tn = n;

	if (tn > 0 && t[tn - 1] == '\r')
		tn--;
	if (config_check_bytes(t, tn, lineno, filename, err) != 0)
		return -1;
	config_trim(&t, &tn);
	if (tn == 0 || t[0] == '#')
		return 0;
	if (config_blank((unsigned char)line[0])) {
		if (!p->active) {
			config_fail(err, filename, lineno,
				    "continuation line without a setting");
			return -1;
		}
		if (p->value.len > 0)
			buf_append_char(&p->value, ' ');
		buf_append(&p->value, t, tn);
		return 0;
	}
	if (config_flush(p, filename, cb, ctx, err) != 0)
		return -1;
	return config_start(p, t, tn, lineno, filename, err);
}

int
config_parse(const char *text, size_t len, const char *filename,
	     config_line_cb cb, void *ctx, struct buf *err)
{
	struct config_pending p = {BUF_INIT, BUF_INIT, 0, 0};
	unsigned lineno = 0;
	size_t pos = 0;
	int rc = 0;

	while (pos < len && rc == 0) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		if (lineno == UINT_MAX) {
			config_fail(err, filename, lineno, "too many lines");
			rc = -1;
			break;
		}
		lineno++;
		rc = config_line(&p, text + pos, n, lineno, filename, cb, ctx,
				 err);
		pos += n + (nl ? 1 : 0);
	}
	if (rc == 0)
		rc = config_flush(&p, filename, cb, ctx, err);
	buf_free(&p.name);
	buf_free(&p.value);
	return rc;
}

const struct param_def *
param_find(const char *name)
{
	for (size_t i = 0; i < param_count; i++)
		if (strcmp(param_table[i].name, name) == 0)
			return &param_table[i];
	return NULL;
}

/* Decimal digits then an optional one-letter unit; -1 on bad syntax. */
static int
param_parse_number(const char *value, long long *num, char *unit)
{
	const char *s = value;
	long long n = 0;
	int neg = 0;

	if (*s == '-') {
		neg = 1;
		s++;
	}
	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		int d = *s - '0';
		if (n > (LLONG_MAX - d) / 10)
			return -2;
		n = n * 10 + d;
	}
	*unit = *s ? (char)tolower((unsigned char)*s++) : '\0';
	if (*s != '\0')
		return -1;
	*num = neg ? -n : n;
	return 0;
}

static long long
param_unit_factor(enum param_type type, char unit)
{
	if (unit == '\0')
		return 1;
	if (type == PARAM_SIZE)
		return unit == 'k'   ? 1024LL
		       : unit == 'm' ? 1024LL * 1024
		       : unit == 'g' ? 1024LL * 1024 * 1024
				     : -1;
	if (type == PARAM_TIME)
		return unit == 's'   ? 1
		       : unit == 'm' ? 60
		       : unit == 'h' ? 3600
		       : unit == 'd' ? 86400
		       : unit == 'w' ? 7 * 86400
				     : -1;
	return -1;
}

static const char *
param_type_syntax(enum param_type type)
{
	switch (type) {
	case PARAM_INT:
		return "a decimal integer";
	case PARAM_SIZE:
		return "a number of bytes with an optional k, m or g suffix";
	case PARAM_TIME:
		return "a time with an optional s, m, h, d or w suffix";
	default:
		return "a value";
	}
}

static int
param_check_number(const struct param_def *def, const char *value,
		   struct buf *err)
{
	long long n, factor;
	char unit;
	int rc = param_parse_number(value, &n, &unit);

	factor = rc == 0 ? param_unit_factor(def->type, unit) : 0;
	if (rc == -1 || factor < 0 || (n < 0 && def->min >= 0)) {
		buf_printf(err, "expected %s, not \"%s\"",
			   param_type_syntax(def->type), value);
		return -1;
	}
	if (rc == -2 || (n > 0 && n > LLONG_MAX / factor) ||
	    (n < 0 && n < LLONG_MIN / factor) || n * factor < def->min ||
	    n * factor > def->max) {
		buf_printf(err, "\"%s\" is out of range (%lld..%lld%s)", value,
			   def->min, def->max,
			   def->type == PARAM_SIZE   ? " bytes"
			   : def->type == PARAM_TIME ? " seconds"
						     : "");
		return -1;
	}
	return 0;
}

static int
param_bool_word(const char *value)
{
	if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "true") == 0)
		return 1;
	if (strcasecmp(value, "no") == 0 || strcasecmp(value, "false") == 0)
		return 0;
	return -1;
}

int
param_check_value(const struct param_def *def, const char *value,
		  struct buf *err)
{
	for (const char *s = value; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t') {
			buf_printf(err, "control character in value");
			return -1;
		}
	switch (def->type) {
	case PARAM_BOOL:
		if (param_bool_word(value) < 0) {
			buf_printf(err, "expected yes or no, not \"%s\"",
				   value);
			return -1;
		}
		return 0;
	case PARAM_INT:
	case PARAM_SIZE:
	case PARAM_TIME:
		return param_check_number(def, value, err);
	case PARAM_PATH:
		if (value[0] != '\0' && value[0] != '/') {
			buf_printf(err, "expected an absolute path, not \"%s\"",
				   value);
			return -1;
		}
		return 0;
	case PARAM_STR:
	case PARAM_LIST:
		return 0;
	}
	buf_printf(err, "unknown parameter type");
	return -1;
}

long long
param_number_value(const struct param_def *def, const char *value)
{
	long long n = 0;
	char unit = '\0';

	if (param_parse_number(value, &n, &unit) != 0)
		return 0;
	return n * param_unit_factor(def->type, unit);
}

int
param_bool_value(const char *value)
{
	return param_bool_word(value) == 1;
}
