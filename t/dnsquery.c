/*
 * dnsquery: a test driver of common/dns*.c for t/integration/45-dns.t (not
 * installed).  It opens a resolver context as the daemons do, optionally
 * chroots and drops to a user, then runs lookups and prints each result in
 * a stable, line-based form.  Input: its arguments (trusted, tests only);
 * the answers it prints come from the DNS and are printed escaped.
 *
 *   dnsquery [-c CONFDIR] [-o name=value]... [-u USER -r DIR] [-t] CMD...
 *     lookup TYPE NAME [N] a blocking lookup (N times; a NAME of "%d.zone"
 *                          asks n0.zone, n1.zone ...: no cache hits)
 *     mx DOMAIN [N]        the delivery plan for DOMAIN (N times: N plans)
 *     host NAME            the plan for a [NAME] next hop (no MX lookup)
 *     async TYPE:NAME...   all at once from an event loop; a leading !
 *                          cancels that query right after it starts
 *   -t prints "time us=..." after each lookup, plan or async batch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "dns.h"
#include "dns_mx.h"
#include "event.h"
#include "log.h"
#include "params.h"
#include "privilege.h"

static int opt_time;

static int
type_parse(const char *s)
{
	static const int types[] = {DNS_T_A,    DNS_T_AAAA, DNS_T_MX,
				    DNS_T_TXT,  DNS_T_PTR,  DNS_T_TLSA,
				    DNS_T_CNAME};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(s, dns_type_name(types[i])) == 0)
			return types[i];
	return -1;
}

static void
print_escaped(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\' && p[i] != '"')
			putchar(p[i]);
		else
			printf("\\%03o", p[i]);
}

static void
print_rr(const struct dns_rr *rr)
{
	char text[64];

	printf("%s ", dns_type_name(rr->type));
	switch (rr->type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		dns_addr_text(&rr->addr, text, sizeof(text));
		printf("%s", text);
		break;
	case DNS_T_MX:
		printf("%u %s", rr->pref, rr->name);
		break;
	case DNS_T_TLSA:
		printf("%u %u %u ", rr->usage, rr->selector, rr->mtype);
		for (size_t i = 0; i < rr->len; i++)
			printf("%02x", rr->data[i]);
		break;
	case DNS_T_TXT:
		putchar('"');
		print_escaped(rr->data, rr->len);
		putchar('"');
		break;
	default:
		printf("%s", rr->name);
	}
	putchar('\n');
}

static void
print_result(const char *tag, const struct dns_result *r)
{
	printf("%sstatus=%s dnssec=%s rcode=%d qname=%s canon=%s count=%zu",
	       tag, dns_status_name(r->status), dns_dnssec_name(r->dnssec),
	       r->rcode, r->qname, r->canonname, r->count);
	if (r->why[0] != '\0')
		printf(" why=%s", r->why);
	putchar('\n');
	for (size_t i = 0; i < r->count; i++)
		print_rr(&r->rr[i]);
}

/* Monotonic microseconds (lookups on loopback take well under 1 ms). */
static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
print_time(long long start)
{
	if (opt_time)
		printf("time us=%lld\n", now_us() - start);
}

static int
cmd_lookup(struct dns_ctx *ctx, const char *type, const char *name, int times)
{
	struct dns_result r;
	int t = type_parse(type);

	if (t < 0) {
		fprintf(stderr, "dnsquery: unknown type %s\n", type);
		return 2;
	}
	for (int i = 0; i < times; i++) {
		long long start = now_us();
		char one[DNS_NAME_MAX];

		/* "n%d.example": a new name each time (no cache hit). */
		if (strncmp(name, "%d.", 3) == 0)
			snprintf(one, sizeof(one), "n%d.%s", i, name + 3);
		else
			strlcpy(one, name, sizeof(one));
		dns_lookup(ctx, one, t, &r);
		print_result("", &r);
		print_time(start);
		dns_result_free(&r);
	}
	return 0;
}

static void
print_plan(const struct dns_plan *p)
{
	static const char *const st[] = {"ok", "defer", "bounce"};
	char addr[64];

	printf("plan=%s dsn=%s text=%s\n", st[p->status], p->dsn, p->text);
	for (size_t i = 0; i < p->count; i++) {
		const struct dns_target *t = &p->target[i];

		dns_addr_text(&t->addr, addr, sizeof(addr));
		printf("target host=%s addr=%s pref=%u canon=%s flags=%s%s%s\n",
		       t->host, addr, t->pref, t->canon,
		       t->flags & DNS_TARGET_MX_SECURE ? "mx-secure," : "",
		       t->flags & DNS_TARGET_ADDR_SECURE ? "addr-secure," : "",
		       t->flags & DNS_TARGET_IMPLICIT ? "implicit," : "");
	}
}

static int
cmd_plan(struct dns_ctx *ctx, const char *domain, int no_mx, int times)
{
	struct dns_mx_policy pol;
	struct dns_plan *plan = xmalloc(sizeof(*plan));
	struct buf err = BUF_INIT;

	if (dns_mx_policy_init(&pol, ctx, &err) != 0) {
		fprintf(stderr, "dnsquery: %s\n", buf_cstr(&err));
		return 2;
	}
	for (int i = 0; i < times; i++) {
		long long start = now_us();

		dns_mx_plan(domain, no_mx, &pol, plan);
		print_plan(plan);
		print_time(start);
	}
	free(plan);
	return 0;
}

static void
async_done(struct dns_result *r, void *arg)
{
	char tag[64];

	snprintf(tag, sizeof(tag), "query=%s ", (const char *)arg);
	print_result(tag, r);
	fflush(stdout);
}

static int
cmd_async(struct dns_ctx *ctx, int argc, char **argv)
{
	long long start = now_us();

	event_init();
	for (int i = 0; i < argc; i++) {
		char *spec = argv[i], *colon = strchr(spec, ':');
		int cancel = spec[0] == '!', t;
		unsigned long id;

		if (colon == NULL)
			return 2;
		*colon = '\0';
		t = type_parse(spec + cancel);
		if (t < 0)
			return 2;
		*colon = ':';
		id = dns_query_start(ctx, colon + 1, t, async_done, spec);
		if (cancel)
			dns_query_cancel(ctx, id);
	}
	printf("started=%d pending=%zu\n", argc, dns_query_pending(ctx));
	while (dns_query_pending(ctx) > 0)
		event_run_once(1000);
	print_time(start);
	return 0;
}

static int
run(struct dns_ctx *ctx, int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[0], "lookup") == 0)
		return cmd_lookup(ctx, argv[1], argv[2],
				  argc > 3 ? atoi(argv[3]) : 1);
	if (argc >= 2 && strcmp(argv[0], "mx") == 0)
		return cmd_plan(ctx, argv[1], 0, argc > 2 ? atoi(argv[2]) : 1);
	if (argc >= 2 && strcmp(argv[0], "host") == 0)
		return cmd_plan(ctx, argv[1], 1, 1);
	if (argc >= 2 && strcmp(argv[0], "async") == 0)
		return cmd_async(ctx, argc - 1, argv + 1);
	fprintf(stderr, "dnsquery: bad command\n");
	return 2;
}

int
main(int argc, char **argv)
{
	const char *conf = NULL, *user = NULL, *root = NULL;
	struct buf err = BUF_INIT;
	struct dns_ctx *ctx;
	char *eq;
	int c, rc;

	log_init("dnsquery");
	while ((c = getopt(argc, argv, "+c:o:u:r:t")) != -1) {
		switch (c) {
		case 'c':
			conf = optarg;
			if (params_load(conf, &err) != 0)
				log_fatal("%s", buf_cstr(&err));
			break;
		case 'o':
			eq = strchr(optarg, '=');
			if (eq == NULL)
				log_fatal("-o wants name=value");
			*eq = '\0';
			if (params_set(optarg, eq + 1, &err) != 0)
				log_fatal("%s", buf_cstr(&err));
			break;
		case 'u':
			user = optarg;
			break;
		case 'r':
			root = optarg;
			break;
		case 't':
			opt_time = 1;
			break;
		default:
			return 2;
		}
	}
	ctx = dns_open(&err);
	if (ctx == NULL)
		log_fatal("dns_open: %s", buf_cstr(&err));
	if (user != NULL) {
		privilege_drop(user, root);
		printf("dropped uid=%d chroot=%s\n", (int)getuid(),
		       root ? root : "-");
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = run(ctx, argc - optind, argv + optind);
	dns_close(ctx);
	buf_free(&err);
	return rc;
}
