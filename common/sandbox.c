/*
 * sandbox: turn a profile of sandbox_profiles.c into a seccomp filter with
 * libseccomp and load it: the listed calls are allowed (each narrowed by
 * its enum sandbox_arg), every other call of the native ABI, and any call
 * of another ABI (x32, i386), kills the whole process
 * (SECCOMP_RET_KILL_PROCESS; the kernel logs it, the master names it).
 * Called by the server skeleton after privilege_drop() and before the
 * first byte from a client, and by local's delivery child; no input.
 *
 * Under AddressSanitizer (BUILD=build/san SAN=1, unit tests only) the
 * runtime makes calls of its own after the filter is on (sigaltstack, as
 * the process exits; sched_getaffinity in a new thread), so that build
 * adds rules_sanitizer to every profile;
 * the production build never has it.  Its allocator's mappings are plain
 * mmap and munmap, which every profile allows anyway.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "sandbox_table.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_SANITIZER 1
#endif
#endif

#define SANDBOX_VALUES_MAX 5
/* Bits of openat's flags that write, create or truncate something. */
#define SANDBOX_OPEN_WRITE                                                     \
	(O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND |                    \
	 (O_TMPFILE & ~O_DIRECTORY))
#define SANDBOX_OPEN_NEW_MASK (SANDBOX_OPEN_WRITE | O_EXCL)

/* An argument test: (arg & mask) == one of values. */
struct sandbox_cond {
	unsigned arg;
	scmp_datum_t mask;
	scmp_datum_t values[SANDBOX_VALUES_MAX];
	unsigned count;
};

/* A second test that must hold too, for the kinds that have one. */
struct sandbox_also {
	unsigned arg;
	scmp_datum_t mask; /* 0: no second test */
	scmp_datum_t value;
};

/* Indexed by enum sandbox_arg; SB_ANY and SB_SELF are handled apart. */
static const struct sandbox_cond sandbox_conds[] = {
    [SB_NOEXEC] = {2, PROT_EXEC, {0}, 1},
    [SB_UNIX] = {0, ~(scmp_datum_t)0, {AF_UNIX}, 1},
    [SB_INET] = {0, ~(scmp_datum_t)0, {AF_INET, AF_INET6}, 2},
    [SB_INET_TCP] = {0, ~(scmp_datum_t)0, {AF_INET, AF_INET6}, 2},
    [SB_OPEN_READ] = {2, SANDBOX_OPEN_WRITE, {O_RDONLY}, 1},
    [SB_OPEN_RW] = {2, SANDBOX_OPEN_WRITE & ~(O_WRONLY | O_RDWR), {0}, 1},
    [SB_OPEN_NEW] = {2,
		     SANDBOX_OPEN_NEW_MASK,
		     {O_WRONLY | O_CREAT | O_EXCL},
		     1},
    [SB_OPEN_NOTRUNC] = {2,
			 O_TRUNC | O_APPEND | (O_TMPFILE & ~O_DIRECTORY),
			 {0},
			 1},
    [SB_FCNTL] = {1, ~(scmp_datum_t)0, {F_GETFD, F_SETFD, F_GETFL, F_SETFL}, 4},
    [SB_FCNTL_LOCK] = {1, ~(scmp_datum_t)0, {F_GETLK, F_SETLK, F_SETLKW}, 3},
    [SB_PRCTL_GET] = {0,
		      ~(scmp_datum_t)0,
		      {PR_GET_SECCOMP, PR_GET_NO_NEW_PRIVS},
		      2},
    /* x86_64's clone takes its flags first */
    [SB_THREAD] = {0, CLONE_THREAD, {CLONE_THREAD}, 1},
};

/* Indexed like sandbox_conds. */
static const struct sandbox_also
    sandbox_also[sizeof(sandbox_conds) / sizeof(sandbox_conds[0])] = {
	/* the type, without SOCK_NONBLOCK and SOCK_CLOEXEC */
	[SB_INET_TCP] = {1, 0xf, SOCK_STREAM},
};

#ifdef SANDBOX_SANITIZER
/* The sanitizer runtime's own calls (see the comment at the top). */
static const struct sandbox_rule rules_sanitizer[] = {
    {SCMP_SYS(sigaltstack), SB_ANY},
    /* a new thread (remote's libunbound) asks for its CPUs */
    {SCMP_SYS(sched_getaffinity), SB_ANY},
    {-1, SB_ANY},
};
#endif

static int
sandbox_add_rule(scmp_filter_ctx ctx, const struct sandbox_rule *r)
{
	const struct sandbox_cond *c;
	const struct sandbox_also *also;
	unsigned i;
	int rc = 0;

	if (r->arg == SB_ANY)
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 0);
	if (r->arg == SB_ENOSYS)
		return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), r->nr, 0);
	if (r->arg == SB_SELF)
		return seccomp_rule_add(
		    ctx, SCMP_ACT_ALLOW, r->nr, 1,
		    (struct scmp_arg_cmp){0, SCMP_CMP_EQ,
					  (scmp_datum_t)getpid(), 0});
	c = &sandbox_conds[r->arg];
	also = &sandbox_also[r->arg];
	for (i = 0; i < c->count && rc == 0; i++) {
		struct scmp_arg_cmp first = {c->arg, SCMP_CMP_MASKED_EQ,
					     c->mask, c->values[i]};
		struct scmp_arg_cmp second = {also->arg, SCMP_CMP_MASKED_EQ,
					      also->mask, also->value};

		rc =
		    also->mask == 0
			? seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1, first)
			: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 2, first,
					   second);
	}
	return rc;
}

static int
sandbox_add_table(scmp_filter_ctx ctx, const struct sandbox_rule *t,
		  struct buf *err)
{
	char *name;
	int rc;

	for (; t->nr != -1; t++) {
		if ((rc = sandbox_add_rule(ctx, t)) == 0)
			continue;
		name =
		    seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, t->nr);
		buf_printf(err, "rule for %s: %s", name ? name : "?",
			   strerror(-rc));
		free(name);
		return -1;
	}
	return 0;
}

/* Build the profile's filter and load it; 0 or -1 with err. */
static int
sandbox_load(const struct sandbox_def *def, struct buf *err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	size_t i;
	int rc = -1;

	if (ctx == NULL) {
		buf_printf(err, "seccomp_init failed");
		return -1;
	}
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
			     SCMP_ACT_KILL_PROCESS) != 0) {
		buf_printf(err, "cannot kill calls of other ABIs");
		goto out;
	}
	/* A binary tree of calls: smtpd's checks stay short. */
	(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	for (i = 0; i < SANDBOX_GROUPS_MAX && def->groups[i] != NULL; i++)
		if (sandbox_add_table(ctx, def->groups[i], err) != 0)
			goto out;
#ifdef SANDBOX_SANITIZER
	if (sandbox_add_table(ctx, rules_sanitizer, err) != 0)
		goto out;
#endif
	if ((rc = seccomp_load(ctx)) != 0)
		buf_printf(err, "seccomp_load: %s", strerror(-rc));
out:
	seccomp_release(ctx);
	return rc == 0 ? 0 : -1;
}

void
sandbox_enter(enum sandbox_profile profile)
{
	struct buf err = BUF_INIT;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		log_fatal("sandbox: PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
	if ((unsigned)profile >= SANDBOX_PROFILE_COUNT)
		log_fatal("sandbox: unknown profile %d", (int)profile);
	if (profile == SANDBOX_NONE)
		return;
	if (sandbox_load(&sandbox_defs[profile], &err) != 0)
		log_fatal("sandbox %s: %s", sandbox_profile_name(profile),
			  buf_cstr(&err));
	buf_free(&err);
}

int
sandbox_verify(enum sandbox_profile profile, struct buf *why)
{
	int mode;

	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		buf_printf(why, "no_new_privs is not set");
		return -1;
	}
	mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
	if (profile != SANDBOX_NONE && mode != 2) {
		buf_printf(why, "seccomp mode is %d, not 2 (filter) for %s",
			   mode, sandbox_profile_name(profile));
		return -1;
	}
	return 0;
}

const char *
sandbox_profile_name(enum sandbox_profile profile)
{
	if ((unsigned)profile >= SANDBOX_PROFILE_COUNT ||
	    sandbox_defs[profile].name == NULL)
		return "unknown";
	return sandbox_defs[profile].name;
}

unsigned
sandbox_profile_size(enum sandbox_profile profile)
{
	const struct sandbox_rule *t;
	unsigned n = 0;
	size_t i;

	if ((unsigned)profile >= SANDBOX_PROFILE_COUNT)
		return 0;
	for (i = 0; i < SANDBOX_GROUPS_MAX; i++)
		for (t = sandbox_defs[profile].groups[i];
		     t != NULL && t->nr != -1; t++)
			n++;
	return n;
}
