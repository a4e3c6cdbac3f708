/*
 * tap.h: a tiny Test Anything Protocol emitter for the C unit tests, read
 * by prove.  Each check prints "ok N - name" or "not ok N - name" with what
 * was expected and what came back.
 */
#ifndef MOAT_TAP_H
#define MOAT_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static void __attribute__((format(printf, 2, 3)))
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

#define is_int(got, want, name)                                              \
	do {                                                                 \
		long long g_ = (long long)(got), w_ = (long long)(want);     \
		ok(g_ == w_, "%s", name);                                    \
		if (g_ != w_)                                                \
			printf("#   expected %lld, got %lld\n", w_, g_);     \
	} while (0)

#define is_str(got, want, name)                                              \
	do {                                                                 \
		const char *g_ = (got), *w_ = (want);                        \
		int same_ = g_ && w_ ? strcmp(g_, w_) == 0 : g_ == w_;       \
		ok(same_, "%s", name);                                       \
		if (!same_)                                                  \
			printf("#   expected \"%s\", got \"%s\"\n",           \
			       w_ ? w_ : "(null)", g_ ? g_ : "(null)");      \
	} while (0)

static int
done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
