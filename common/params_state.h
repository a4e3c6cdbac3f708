/*
 * params_state: the parameter store behind params.h, shared by the files of
 * the params module only (params.c, params_write.c).  A state holds the
 * values read from one main.conf and their expanded, checked forms; the
 * accessors of params.h use one global state, and params_write_setting()
 * validates an edited file with a scratch state before it writes it.
 */
#ifndef MOAT_PARAMS_STATE_H
#define MOAT_PARAMS_STATE_H

#include <stddef.h>

#include "buf.h"
#include "params.h"

#define PARAMS_FILE_MAX (1024 * 1024) /* main.conf, master.conf */
#define PARAM_EXPAND_DEPTH 10         /* nested $name references */
#define PARAM_EXPAND_MAX (64 * 1024)  /* a value after expansion */

struct params_state;

/* A state with every parameter at its default; conf_dir may be NULL. */
struct params_state *params_state_new(const char *conf_dir, int quiet);
void params_state_free(struct params_state *st);
/* Parse a main.conf text into st (quiet: no warnings logged). */
int params_state_parse(struct params_state *st, const char *text, size_t len,
		       const char *filename, struct buf *err);
/* Expand and check every value; -1 with "FILE:LINE: ..." in err. */
int params_state_build(struct params_state *st, struct buf *err);

/* The value as written (or the default) of param_table[i]. */
const char *params_state_raw(const struct params_state *st, size_t i,
			     int defaults_only);
/* The state behind the accessors (the defaults until params_load). */
struct params_state *params_global_state(void);

/* The value of a number or boolean that param_check_value() accepted. */
long long param_number_value(const struct param_def *def, const char *value);
int param_bool_value(const char *value);

#endif
