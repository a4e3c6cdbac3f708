/*
 * conf_defaults: the text of the default configuration files, as `moat
 * init` and `moat setup` write them: conf/main.conf, conf/master.conf and
 * conf/aliases, compiled in by the Makefile (build/gen/conf_text.c), so
 * the files people read and the text Moat writes are one.
 * t/unit/test_conf_defaults.c checks the generated text against the files
 * byte for byte, and that each parses.  No input.
 */
#ifndef MOAT_CONF_DEFAULTS_H
#define MOAT_CONF_DEFAULTS_H

extern const char conf_default_main[];
extern const char conf_default_master[];
extern const char conf_default_aliases[];

/* The lines of the defaults that `moat init` rewrites for an instance. */
#define CONF_DEFAULT_LISTEN "127.0.0.1:2525"    /* master.conf screen name */
#define CONF_DEFAULT_ROOT_ALIAS "#root:\t\tyou" /* aliases: a whole line */

#endif
