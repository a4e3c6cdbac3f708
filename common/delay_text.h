/*
 * delay_text: the delay= and delays= figures of per-recipient log lines,
 * printed the way Postfix prints them so that log readers (pflogsumm)
 * read them.  Pure.  Used by qmgr and remote, which both write such lines.
 */
#ifndef MOAT_DELAY_TEXT_H
#define MOAT_DELAY_TEXT_H

#include <stddef.h>

/*
 * A delay in milliseconds as text: "0" for under 5 ms, two decimals below
 * 1 s ("0.12"), one below 10 s ("1.3"), whole seconds above ("28"),
 * trailing zeros dropped.  Returns the length or -1 when it does not fit.
 */
int delay_text(long long ms, char *out, size_t size);

#endif
