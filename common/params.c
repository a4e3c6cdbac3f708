/*
 * params: the parameter store.  params_load() reads main.conf over the
 * defaults of params_table.c, expands every $name reference and checks
 * every value against its type at load time, so a bad setting stops the
 * start with its file and line, and the accessors afterwards only return
 * cached results (no I/O: they are safe in a chrooted, sandboxed daemon).
 * main.conf is root-owned and trusted, but it is still parsed as bytes
 * that may be wrong.  Runs in every program at start-up.
 */
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "params.h"
#include "params_state.h"

struct param_slot {
	char *value;     /* from main.conf or params_set; NULL: default */
	unsigned lineno; /* line in main.conf; 0: params_set */
	char *expanded;  /* cached by params_state_build */
	long long num;   /* INT, SIZE, TIME, BOOL */
	char **items;    /* LIST: NULL-terminated */
	size_t nitems;
	char *items_text; /* LIST: storage of the items */
};

struct params_state {
	struct param_slot *slot;
	char *conf_dir;     /* config_directory; NULL: the default */
	char *filename;     /* for messages */
	char hostname[256]; /* the system's name, for an empty myhostname */
	int quiet;          /* no warnings (validation of an edit) */
};

static struct params_state *params_global;

static size_t
param_index(const char *name)
{
	const struct param_def *def = param_find(name);

	if (def == NULL)
		log_fatal("parameter %s is not declared", name);
	return (size_t)(def - param_table);
}

struct params_state *
params_state_new(const char *conf_dir, int quiet)
{
	struct params_state *st = xcalloc(1, sizeof(*st));

	st->slot = xcalloc(param_count, sizeof(*st->slot));
	st->conf_dir = conf_dir ? xstrdup(conf_dir) : NULL;
	st->filename = xstrdup("main.conf");
	st->quiet = quiet;
	return st;
}

static void
params_slot_clear_cache(struct param_slot *s)
{
	free(s->expanded);
	free(s->items);
	free(s->items_text);
	s->expanded = NULL;
	s->items = NULL;
	s->items_text = NULL;
	s->nitems = 0;
	s->num = 0;
}

void
params_state_free(struct params_state *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < param_count; i++) {
		params_slot_clear_cache(&st->slot[i]);
		free(st->slot[i].value);
	}
	free(st->slot);
	free(st->conf_dir);
	free(st->filename);
	free(st);
}

/* The value as written: main.conf's, else the default. */
const char *
params_state_raw(const struct params_state *st, size_t i, int defaults_only)
{
	if (defaults_only)
		return param_table[i].defval;
	if (strcmp(param_table[i].name, "config_directory") == 0)
		return st->conf_dir ? st->conf_dir : param_table[i].defval;
	return st->slot[i].value ? st->slot[i].value : param_table[i].defval;
}

static int
params_cb(const char *name, const char *value, unsigned lineno, void *ctx,
	  struct buf *err)
{
	struct params_state *st = ctx;
	const struct param_def *def = param_find(name);
	struct param_slot *s;

	if (def == NULL) {
		if (!st->quiet)
			log_warn("%s:%u: unknown parameter %s", st->filename,
				 lineno, name);
		return 0;
	}
	if (strcmp(name, "config_directory") == 0) {
		if (!st->quiet)
			log_warn("%s:%u: config_directory is set by -c, "
				 "not in main.conf; ignored",
				 st->filename, lineno);
		return 0;
	}
	s = &st->slot[def - param_table];
	free(s->value);
	s->value = xstrdup(value);
	s->lineno = lineno;
	return 0;
}

int
params_state_parse(struct params_state *st, const char *text, size_t len,
		   const char *filename, struct buf *err)
{
	free(st->filename);
	st->filename = xstrdup(filename);
	return config_parse(text, len, filename, params_cb, st, err);
}

/* The system's host name, fully qualified when the resolver knows it. */
static void
params_system_hostname(struct params_state *st)
{
	struct addrinfo hints, *res = NULL;
	char *h = st->hostname;

	if (h[0] != '\0')
		return;
	if (gethostname(h, sizeof(st->hostname) - 1) != 0 || h[0] == '\0')
		strlcpy(h, "localhost", sizeof(st->hostname));
	h[sizeof(st->hostname) - 1] = '\0';
	if (strchr(h, '.') != NULL)
		return;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_flags = AI_CANONNAME;
	if (getaddrinfo(h, NULL, &hints, &res) == 0 && res != NULL &&
	    res->ai_canonname != NULL && strchr(res->ai_canonname, '.'))
		strlcpy(h, res->ai_canonname, sizeof(st->hostname));
	if (res != NULL)
		freeaddrinfo(res);
}

struct params_expansion {
	struct params_state *st;
	unsigned char *active; /* parameters being expanded now */
	struct buf *reason;
};

static int params_expand_text(struct params_expansion *x, const char *text,
			      struct buf *out, unsigned depth);

static int
params_expand_derived(struct params_expansion *x, size_t i, struct buf *out,
		      unsigned depth)
{
	const char *name = param_table[i].name;
	struct buf host = BUF_INIT;
	const char *dot;
	int rc;

	if (strcmp(name, "myhostname") == 0) {
		params_system_hostname(x->st);
		buf_append_str(out, x->st->hostname);
		return 0;
	}
	/* mydomain: myhostname less its first label. */
	rc = params_expand_text(x, "$myhostname", &host, depth);
	if (rc == 0) {
		dot = strchr(buf_cstr(&host), '.');
		buf_append_str(out, dot && dot[1] ? dot + 1 : "localdomain");
	}
	buf_free(&host);
	return rc;
}

/* Append the expanded value of parameter i to out. */
static int
params_expand_param(struct params_expansion *x, size_t i, struct buf *out,
		    unsigned depth)
{
	const char *raw = params_state_raw(x->st, i, 0);
	const char *name = param_table[i].name;
	int rc;

	if (x->active[i]) {
		buf_printf(x->reason, "$%s refers to itself (a $ loop)", name);
		return -1;
	}
	if (depth > PARAM_EXPAND_DEPTH) {
		buf_printf(x->reason, "$ references nested more than %d deep",
			   PARAM_EXPAND_DEPTH);
		return -1;
	}
	x->active[i] = 1;
	if (raw[0] == '\0' &&
	    (strcmp(name, "myhostname") == 0 || strcmp(name, "mydomain") == 0))
		rc = params_expand_derived(x, i, out, depth + 1);
	else
		rc = params_expand_text(x, raw, out, depth + 1);
	x->active[i] = 0;
	return rc;
}

/* The name after '$' at text[*pos]; advances *pos past it. */
static int
params_ref_name(const char *text, size_t *pos, char *name, size_t size,
		struct buf *reason)
{
	size_t i = *pos, n = 0;
	int braced = text[i] == '{';

	if (braced)
		i++;
	while ((text[i] >= 'a' && text[i] <= 'z') ||
	       (text[i] >= '0' && text[i] <= '9') || text[i] == '_') {
		if (n + 1 >= size) {
			buf_printf(reason, "parameter name too long after $");
			return -1;
		}
		name[n++] = text[i++];
	}
	name[n] = '\0';
	if (n == 0 || (braced && text[i] != '}')) {
		buf_printf(reason, "bad $ reference (use $name, ${name} or "
				   "$$ for a dollar sign)");
		return -1;
	}
	*pos = i + (braced ? 1 : 0);
	return 0;
}

static int
params_too_long(struct params_expansion *x, const struct buf *out)
{
	if (out->len <= PARAM_EXPAND_MAX)
		return 0;
	buf_printf(x->reason, "longer than %d bytes after $ expansion",
		   PARAM_EXPAND_MAX);
	return 1;
}

static int
params_expand_text(struct params_expansion *x, const char *text,
		   struct buf *out, unsigned depth)
{
	char name[129];
	size_t i = 0;

	while (text[i] != '\0') {
		const char *dollar = strchr(text + i, '$');
		size_t n =
		    dollar ? (size_t)(dollar - (text + i)) : strlen(text + i);
		const struct param_def *def;

		buf_append(out, text + i, n);
		i += n;
		if (params_too_long(x, out))
			return -1;
		if (text[i] == '\0')
			break;
		i++;
		if (text[i] == '$') {
			buf_append_char(out, '$');
			i++;
			continue;
		}
		if (params_ref_name(text, &i, name, sizeof(name), x->reason) !=
		    0)
			return -1;
		if ((def = param_find(name)) == NULL) {
			buf_printf(x->reason, "$%s: no such parameter", name);
			return -1;
		}
		if (params_expand_param(x, (size_t)(def - param_table), out,
					depth) != 0 ||
		    params_too_long(x, out))
			return -1;
	}
	return 0;
}

/* Split a list at commas and white space into NULL-terminated items. */
static void
params_split_list(struct param_slot *s)
{
	char *p, *tok, *save = NULL;
	size_t n = 0;

	s->items_text = xstrdup(s->expanded);
	s->items =
	    xreallocarray(NULL, strlen(s->expanded) / 2 + 2, sizeof(char *));
	for (p = s->items_text; (tok = strtok_r(p, ", \t", &save)); p = NULL)
		s->items[n++] = tok;
	s->items[n] = NULL;
	s->nitems = n;
}

static void
params_build_error(struct params_state *st, size_t i, const char *reason,
		   struct buf *err)
{
	const struct param_slot *s = &st->slot[i];
	const char *name = param_table[i].name;

	buf_reset(err);
	if (s->value != NULL && s->lineno > 0)
		buf_printf(err, "%s:%u: bad value for %s: %s", st->filename,
			   s->lineno, name, reason);
	else if (s->value != NULL)
		buf_printf(err, "bad value for %s: %s", name, reason);
	else
		buf_printf(err, "%s: bad value for %s (default \"%s\"): %s",
			   st->filename, name, param_table[i].defval, reason);
}

static int
params_build_one(struct params_state *st, size_t i, unsigned char *active,
		 struct buf *err)
{
	struct param_slot *s = &st->slot[i];
	const struct param_def *def = &param_table[i];
	struct buf out = BUF_INIT, reason = BUF_INIT;
	struct params_expansion x = {st, active, &reason};
	int rc;

	params_slot_clear_cache(s);
	rc = params_expand_param(&x, i, &out, 0);
	if (rc == 0)
		rc = param_check_value(def, buf_cstr(&out), &reason);
	if (rc != 0) {
		params_build_error(st, i, buf_cstr(&reason), err);
		buf_free(&out);
	} else {
		s->expanded = out.data ? out.data : xstrdup("");
		if (def->type == PARAM_BOOL)
			s->num = param_bool_value(s->expanded);
		else if (def->type == PARAM_INT || def->type == PARAM_SIZE ||
			 def->type == PARAM_TIME)
			s->num = param_number_value(def, s->expanded);
		else if (def->type == PARAM_LIST)
			params_split_list(s);
	}
	buf_free(&reason);
	return rc;
}

int
params_state_build(struct params_state *st, struct buf *err)
{
	unsigned char *active = xcalloc(param_count, 1);
	int rc = 0;

	for (size_t i = 0; i < param_count && rc == 0; i++)
		rc = params_build_one(st, i, active, err);
	free(active);
	return rc;
}

int
params_load(const char *conf_dir, struct buf *err)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	struct params_state *st;
	char *abs = NULL;
	int rc;

	/* config_directory is a path parameter: make a relative -c absolute. */
	if (conf_dir[0] != '/' && (abs = realpath(conf_dir, NULL)) == NULL) {
		buf_reset(err);
		buf_printf(err, "%s: %s", conf_dir, strerror(errno));
		return -1;
	}
	st = params_state_new(abs ? abs : conf_dir, 0);
	buf_printf(&path, "%s/main.conf", abs ? abs : conf_dir);
	free(abs);
	rc = config_read_file(buf_cstr(&path), PARAMS_FILE_MAX, &text, err);
	if (rc == 0)
		rc = params_state_parse(st, text.data ? text.data : "",
					text.len, buf_cstr(&path), err);
	if (rc == 0)
		rc = params_state_build(st, err);
	if (rc == 0) {
		params_state_free(params_global);
		params_global = st;
	} else {
		params_state_free(st);
	}
	buf_free(&path);
	buf_free(&text);
	return rc;
}

struct params_state *
params_global_state(void)
{
	struct buf err = BUF_INIT;

	if (params_global == NULL) {
		params_global = params_state_new(NULL, 0);
		if (params_state_build(params_global, &err) != 0)
			log_fatal("%s", buf_cstr(&err));
	}
	return params_global;
}

int
params_set(const char *name, const char *value, struct buf *err)
{
	struct params_state *st = params_global_state();
	const struct param_def *def = param_find(name);
	struct param_slot *s;
	char *old_value;
	unsigned old_lineno;
	struct buf ignored = BUF_INIT;

	if (def == NULL || strcmp(name, "config_directory") == 0) {
		buf_reset(err);
		buf_printf(err, "%s: %s", name,
			   def ? "set by -c, not as a parameter"
			       : "no such parameter");
		return -1;
	}
	s = &st->slot[def - param_table];
	old_value = s->value;
	old_lineno = s->lineno;
	s->value = xstrdup(value);
	s->lineno = 0;
	if (params_state_build(st, err) == 0) {
		free(old_value);
		return 0;
	}
	free(s->value);
	s->value = old_value;
	s->lineno = old_lineno;
	if (params_state_build(st, &ignored) != 0)
		log_fatal("params_set: cannot restore %s", name);
	buf_free(&ignored);
	return -1;
}

static const struct param_slot *
param_slot_typed(const char *name, unsigned types, const char *what)
{
	struct params_state *st = params_global_state();
	size_t i = param_index(name);

	if (!(types & (1u << param_table[i].type)))
		log_fatal("parameter %s is not %s", name, what);
	return &st->slot[i];
}

const char *
param_str(const char *name)
{
	return param_slot_typed(
		   name, 1u << PARAM_STR | 1u << PARAM_PATH | 1u << PARAM_LIST,
		   "a string")
	    ->expanded;
}

long long
param_int(const char *name)
{
	return param_slot_typed(
		   name, 1u << PARAM_INT | 1u << PARAM_SIZE | 1u << PARAM_TIME,
		   "a number")
	    ->num;
}

int
param_bool(const char *name)
{
	return (int)param_slot_typed(name, 1u << PARAM_BOOL, "a boolean")->num;
}

size_t
param_list(const char *name, const char *const **items)
{
	const struct param_slot *s =
	    param_slot_typed(name, 1u << PARAM_LIST, "a list");

	*items = (const char *const *)s->items;
	return s->nitems;
}

int
param_is_set(const char *name)
{
	return params_global_state()->slot[param_index(name)].value != NULL;
}

const char *
param_raw(const char *name)
{
	return params_state_raw(params_global_state(), param_index(name), 0);
}

int
params_expand(const char *text, struct buf *out, struct buf *err)
{
	struct params_state *st = params_global_state();
	unsigned char *active = xcalloc(param_count, 1);
	struct params_expansion x = {st, active, err};
	int rc;

	buf_reset(out);
	buf_reset(err);
	rc = params_expand_text(&x, text, out, 0);
	free(active);
	return rc;
}

int
param_check_override(const char *name, const char *value, struct buf *err)
{
	const struct param_def *def = param_find(name);
	struct buf out = BUF_INIT, why = BUF_INIT;
	int rc;

	buf_reset(err);
	if (def == NULL || strcmp(name, "config_directory") == 0) {
		buf_printf(err, "%s: %s", name,
			   def ? "set by -c, not as a parameter"
			       : "no such parameter");
		return -1;
	}
	rc = params_expand(value, &out, &why);
	if (rc == 0)
		rc = param_check_value(def, buf_cstr(&out), &why);
	if (rc != 0)
		buf_printf(err, "bad value for %s: %s", name, buf_cstr(&why));
	buf_free(&out);
	buf_free(&why);
	return rc;
}
