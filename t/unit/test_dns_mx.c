/*
 * test_dns_mx: the delivery plan of RFC 5321 5.1 over injected answers and
 * random numbers: MX order and the shuffle of equal preferences, implicit
 * MX, null MX, this host among the MX hosts, failures of MX and address
 * lookups, smtp_address_preference, smtp_mx_address_limit, DNSSEC flags.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns_mx.h"
#include "tap.h"

/* One canned answer: records as "10 mx1.t,20 mx2.t" or "192.0.2.1,::1". */
struct fake {
	const char *name;
	int type;
	enum dns_status status;
	enum dns_dnssec dnssec;
	const char *records;
	const char *canon;
};

static const struct fake *fakes;
static int lookups, mx_lookups;
static uint32_t rng_value;

static void
fake_record(int type, const char *text, struct dns_rr *rr)
{
	memset(rr, 0, sizeof(*rr));
	rr->type = type;
	if (type == DNS_T_MX) {
		rr->pref = (unsigned)strtoul(text, NULL, 10);
		strlcpy(rr->name, strchr(text, ' ') + 1, sizeof(rr->name));
	} else {
		dns_addr_parse(text, &rr->addr);
	}
}

static int
fake_lookup(void *arg, const char *name, int type, struct dns_result *out)
{
	const struct fake *f;
	char *list, *item, *save = NULL;

	lookups++;
	mx_lookups += type == DNS_T_MX;
	memset(out, 0, sizeof(*out));
	out->type = type;
	strlcpy(out->qname, name, sizeof(out->qname));
	strlcpy(out->canonname, name, sizeof(out->canonname));
	out->status = DNS_NXDOMAIN;
	for (f = fakes; f->name != NULL; f++)
		if (strcmp(f->name, name) == 0 && f->type == type)
			break;
	if (f->name == NULL)
		return 0;
	out->status = f->status;
	out->dnssec = f->dnssec;
	if (f->canon != NULL)
		strlcpy(out->canonname, f->canon, sizeof(out->canonname));
	if (f->records == NULL)
		return 0;
	out->rr = calloc(DNS_RR_MAX, sizeof(*out->rr));
	list = strdup(f->records);
	for (item = strtok_r(list, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save))
		fake_record(type, item, &out->rr[out->count++]);
	free(list);
	return 0;
}

static uint32_t
fake_random(void *arg)
{
	return rng_value;
}

static struct dns_mx_policy pol;
static struct dns_plan plan;
static const char *const own_names[] = {"self.t"};
static struct dns_addr own_addrs[1];

static void
policy_reset(void)
{
	memset(&pol, 0, sizeof(pol));
	pol.own_names = own_names;
	pol.own_names_count = 1;
	dns_addr_parse("192.0.2.99", &own_addrs[0]);
	pol.own_addrs = own_addrs;
	pol.own_addrs_count = 1;
	pol.pref = DNS_PREF_ANY;
	pol.addr_limit = 5;
	pol.lookup = fake_lookup;
	pol.random = fake_random;
	rng_value = 0;
	lookups = mx_lookups = 0;
}

/* The plan's targets as "host/addr host/addr". */
static const char *
targets(void)
{
	static char text[2048];
	char addr[64];

	text[0] = '\0';
	for (size_t i = 0; i < plan.count; i++) {
		dns_addr_text(&plan.target[i].addr, addr, sizeof(addr));
		if (i > 0)
			strlcat(text, " ", sizeof(text));
		strlcat(text, plan.target[i].host, sizeof(text));
		strlcat(text, "/", sizeof(text));
		strlcat(text, addr, sizeof(text));
	}
	return text;
}

/* The plan for domain fails with status, dsn and text. */
static void
plan_fails(const char *domain, enum dns_plan_status status, const char *dsn,
	   const char *text, const char *what)
{
	dns_mx_plan(domain, 0, &pol, &plan);
	ok(plan.status == status && strcmp(plan.dsn, dsn) == 0 &&
	       plan.count == 0,
	   "%s: %s", what, dsn);
	if (text != NULL)
		is_str(plan.text, text, "  in Postfix's words");
}

#define NOT_FOUND "Host or domain name not found. Name service error for "
#define F DNS_FOUND
#define I DNS_INSECURE
#define S DNS_SECURE

static const struct fake world[] = {
    {"multi.t", DNS_T_MX, F, I, "20 c.t,10 a.t,10 b.t", NULL},
    {"a.t", DNS_T_A, F, I, "192.0.2.1", NULL},
    {"b.t", DNS_T_A, F, I, "192.0.2.2", NULL},
    {"c.t", DNS_T_A, F, I, "192.0.2.3", NULL},
    {"nomx.t", DNS_T_MX, DNS_NODATA, I, NULL, NULL},
    {"nomx.t", DNS_T_A, F, I, "192.0.2.10", NULL},
    {"nomx.t", DNS_T_AAAA, DNS_NODATA, I, NULL, NULL},
    {"bare.t", DNS_T_MX, DNS_NODATA, I, NULL, NULL},
    {"bare.t", DNS_T_A, DNS_NODATA, I, NULL, NULL},
    {"bare.t", DNS_T_AAAA, DNS_NODATA, I, NULL, NULL},
    {"fail.t", DNS_T_MX, DNS_TEMPFAIL, I, NULL, NULL},
    {"bogus.t", DNS_T_MX, DNS_TEMPFAIL, DNS_BOGUS, NULL, NULL},
    {"null.t", DNS_T_MX, F, I, "0 .", NULL},
    {"nullmix.t", DNS_T_MX, F, I, "0 .,10 a.t", NULL},
    {"loop.t", DNS_T_MX, F, I, "10 self.t,20 c.t", NULL},
    {"below.t", DNS_T_MX, F, I, "10 a.t,20 self.t,30 c.t", NULL},
    {"loopaddr.t", DNS_T_MX, F, I, "10 me.t,20 c.t", NULL},
    {"me.t", DNS_T_A, F, I, "192.0.2.99", NULL},
    {"tie.t", DNS_T_MX, F, I, "10 a.t,10 me.t,20 c.t", NULL},
    {"skip.t", DNS_T_MX, F, I, "10 down.t,20 c.t", NULL},
    {"down.t", DNS_T_A, DNS_TEMPFAIL, I, NULL, NULL},
    {"down.t", DNS_T_AAAA, DNS_TEMPFAIL, I, NULL, NULL},
    {"alldown.t", DNS_T_MX, F, I, "10 down.t,20 gone.t", NULL},
    {"nohost.t", DNS_T_MX, F, I, "10 gone.t", NULL},
    {"dual.t", DNS_T_MX, F, I, "10 d.t", NULL},
    {"d.t", DNS_T_A, F, I, "192.0.2.21,192.0.2.22", NULL},
    {"d.t", DNS_T_AAAA, F, I, "2001:db8::21,2001:db8::22", NULL},
    {"sec.t", DNS_T_MX, F, S, "10 smx.t", NULL},
    {"smx.t", DNS_T_A, F, S, "192.0.2.30", "real.t"},
    {"smx.t", DNS_T_AAAA, DNS_NODATA, S, NULL, NULL},
    {"many.t", DNS_T_MX, F, I, "10 d.t,20 a.t,30 b.t", NULL},
    {NULL, 0, 0, 0, NULL, NULL},
};

static void
test_order(void)
{
	int first_a = 0, first_b = 0;

	policy_reset();
	for (uint32_t r = 0; r < 4; r++) {
		rng_value = r;
		dns_mx_plan("multi.t", 0, &pol, &plan);
		ok(plan.status == DNS_PLAN_OK && plan.count == 3 &&
		       strcmp(plan.target[2].host, "c.t") == 0,
		   "multi.t (random %u): the preference 20 host comes last", r);
		first_a += strcmp(plan.target[0].host, "a.t") == 0;
		first_b += strcmp(plan.target[0].host, "b.t") == 0;
	}
	ok(first_a > 0 && first_b > 0,
	   "equal preferences: both orders appear (a first %d, b first %d)",
	   first_a, first_b);
	is_int(plan.target[0].pref, 10, "preference carried");
}

static void
test_implicit_and_errors(void)
{
	policy_reset();
	dns_mx_plan("nomx.t", 0, &pol, &plan);
	is_str(targets(), "nomx.t/192.0.2.10", "no MX: the domain's address");
	ok(plan.target[0].flags & DNS_TARGET_IMPLICIT, "flagged implicit");
	plan_fails("bare.t", DNS_PLAN_BOUNCE, "5.4.4",
		   NOT_FOUND "name=bare.t type=A: Host found but no data "
			     "record of requested type",
		   "no MX, no address: bounce");
	plan_fails("nx.t", DNS_PLAN_BOUNCE, "5.4.4",
		   NOT_FOUND "name=nx.t type=MX: Host not found",
		   "NXDOMAIN bounces");
	plan_fails("fail.t", DNS_PLAN_DEFER, "4.4.3",
		   NOT_FOUND "name=fail.t type=MX: Host not found, try again",
		   "a failed MX lookup defers");
	dns_mx_plan("bogus.t", 0, &pol, &plan);
	is_int(plan.status, DNS_PLAN_DEFER, "a bogus MX answer defers");
	dns_mx_plan("bad name.t", 0, &pol, &plan);
	is_int(plan.status, DNS_PLAN_BOUNCE, "the fake's NXDOMAIN bounces");
}

static void
test_null_mx(void)
{
	policy_reset();
	plan_fails("null.t", DNS_PLAN_BOUNCE, "5.1.10",
		   "Domain null.t does not accept mail (nullMX)",
		   "null MX bounces");
	is_int(lookups, 1, "and looks nothing else up");
	dns_mx_plan("nullmix.t", 0, &pol, &plan);
	is_str(targets(), "a.t/192.0.2.1",
	       "a '0 .' among other MX records is ignored");
}

static void
test_self(void)
{
	policy_reset();
	plan_fails("loop.t", DNS_PLAN_BOUNCE, "5.4.6",
		   "mail for loop.t loops back to myself",
		   "best MX named myhostname: a loop");
	dns_mx_plan("below.t", 0, &pol, &plan);
	is_str(targets(), "a.t/192.0.2.1",
	       "hosts at and below this host's preference are dropped");
	dns_mx_plan("loopaddr.t", 0, &pol, &plan);
	is_str(plan.dsn, "5.4.6", "best MX at one of this host's addresses");
	for (uint32_t r = 0; r < 2; r++) {
		rng_value = r;
		dns_mx_plan("tie.t", 0, &pol, &plan);
		ok(plan.status == DNS_PLAN_BOUNCE &&
		       strcmp(plan.dsn, "5.4.6") == 0,
		   "this host tied for best (random %u): the tie is dropped "
		   "too, a loop",
		   r);
	}
	dns_mx_plan("self.t", 1, &pol, &plan);
	is_str(plan.dsn, "5.4.6", "a [host] next hop that is this host");
}

static void
test_address_failures(void)
{
	policy_reset();
	dns_mx_plan("skip.t", 0, &pol, &plan);
	is_str(targets(), "c.t/192.0.2.3",
	       "an MX host whose lookup fails is skipped");
	plan_fails("alldown.t", DNS_PLAN_DEFER, "4.4.3",
		   NOT_FOUND "name=down.t type=AAAA: Host not found, try again",
		   "nothing left and one failed temporarily: defer");
	plan_fails("nohost.t", DNS_PLAN_BOUNCE, "5.4.4",
		   NOT_FOUND "name=gone.t type=A: Host not found",
		   "the only MX host does not exist: bounce");
}

static void
test_preference(void)
{
	static const struct {
		enum dns_addr_pref pref;
		const char *want, *what;
	} cases[] = {
	    {DNS_PREF_ANY,
	     "d.t/2001:db8::21 d.t/192.0.2.21 d.t/2001:db8::22 d.t/192.0.2.22",
	     "any: families interleaved, IPv6 first"},
	    {DNS_PREF_IPV4,
	     "d.t/192.0.2.21 d.t/192.0.2.22 d.t/2001:db8::21 d.t/2001:db8::22",
	     "ipv4: IPv4 addresses first"},
	    {DNS_PREF_IPV6,
	     "d.t/2001:db8::21 d.t/2001:db8::22 d.t/192.0.2.21 d.t/192.0.2.22",
	     "ipv6: IPv6 addresses first"},
	};

	policy_reset();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pol.pref = cases[i].pref;
		dns_mx_plan("dual.t", 0, &pol, &plan);
		is_str(targets(), cases[i].want, cases[i].what);
	}
	is_int(dns_addr_pref_parse("IPv4", &pol.pref), 0, "parse ipv4");
	is_int(dns_addr_pref_parse("both", &pol.pref), -1, "refuse both");
}

static void
test_limit(void)
{
	policy_reset();
	pol.addr_limit = 3;
	dns_mx_plan("many.t", 0, &pol, &plan);
	is_int(plan.count, 3, "smtp_mx_address_limit caps the addresses");
	is_int(lookups, 3, "and hosts past the limit are not looked up");
	pol.addr_limit = 0;
	dns_mx_plan("many.t", 0, &pol, &plan);
	is_int(plan.count, 6, "limit 0: every address");
}

static void
test_dnssec_and_host(void)
{
	policy_reset();
	dns_mx_plan("sec.t", 0, &pol, &plan);
	ok(plan.count == 1 && (plan.target[0].flags & DNS_TARGET_MX_SECURE) &&
	       (plan.target[0].flags & DNS_TARGET_ADDR_SECURE),
	   "secure MX and address answers are flagged");
	is_str(plan.target[0].canon, "real.t", "the canonical host name");
	dns_mx_plan("multi.t", 0, &pol, &plan);
	is_int(plan.target[0].flags, 0, "insecure answers are not");
	lookups = mx_lookups = 0;
	dns_mx_plan("d.t", 1, &pol, &plan);
	ok(plan.count == 4 && mx_lookups == 0,
	   "a [host] next hop: its addresses, no MX lookup");
}

static void
test_many_hosts(void)
{
	static struct fake many[2];
	char *list = calloc(1, 64 * 16);

	for (int i = 0; i < 64; i++) {
		char one[32];

		snprintf(one, sizeof(one), "%s%d h%d.t", i ? "," : "", i, i);
		strlcat(list, one, 64 * 16);
	}
	many[0] = (struct fake){"big.t", DNS_T_MX, F, I, list, NULL};
	fakes = many;
	policy_reset();
	dns_mx_plan("big.t", 0, &pol, &plan);
	is_int(plan.status, DNS_PLAN_BOUNCE, "64 MX hosts that do not exist");
	is_int(lookups, 1 + 16 * 2, "at most 16 hosts are looked up");
	fakes = world;
	free(list);
}

int
main(void)
{
	fakes = world;
	test_order();
	test_implicit_and_errors();
	test_null_mx();
	test_self();
	test_address_failures();
	test_preference();
	test_limit();
	test_dnssec_and_host();
	test_many_hosts();
	return done_testing();
}
