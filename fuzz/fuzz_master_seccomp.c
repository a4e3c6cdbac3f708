/*
 * fuzz_master_seccomp: master_seccomp_parse on hostile bytes, two ways.
 * As a whole kmsg record: whatever it accepts has a pid, a call number and
 * an architecture in range.  As what a child controls in a real record
 * (its comm and exe, encoded the way the kernel's audit code encodes an
 * untrusted string: quoted, or in hex when it holds a space, a quote or a
 * control byte): the parse must still give the record's own pid, call and
 * architecture, so no process name can forge them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "master.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The kernel's audit_log_untrustedstring. */
static void
untrusted(struct buf *b, const uint8_t *s, size_t n)
{
	size_t i;
	int hex = 0;

	for (i = 0; i < n; i++)
		if (s[i] == '"' || s[i] < 0x21 || s[i] > 0x7e)
			hex = 1;
	if (!hex) {
		buf_append_char(b, '"');
		buf_append(b, s, n);
		buf_append_char(b, '"');
		return;
	}
	for (i = 0; i < n; i++)
		buf_printf(b, "%02X", s[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct master_seccomp_record k;
	struct buf rec = BUF_INIT;
	size_t comm = size < 16 ? size : 16;

	if (master_seccomp_parse((const char *)data, size, &k) == 0 &&
	    (k.pid <= 0 || k.nr < 0 || k.nr > 0xffff || k.arch > 0xffffffffUL))
		abort();
	buf_append_str(&rec, "5,343,952410010,-;audit: type=1326 "
			     "audit(1796603210.375:1): auid=4294967295 uid=0 "
			     "gid=0 ses=4294967295 pid=20599 comm=");
	untrusted(&rec, data, comm);
	buf_append_str(&rec, " exe=");
	untrusted(&rec, data + comm, size - comm);
	buf_append_str(&rec, " sig=31 arch=c000003e syscall=59 compat=0 "
			     "ip=0x7fe7808384f7 code=0x80000000\n");
	if (master_seccomp_parse(rec.data, rec.len, &k) != 0 ||
	    k.pid != 20599 || k.nr != 59 || k.arch != 0xc000003eUL)
		abort();
	buf_free(&rec);
	return 0;
}
