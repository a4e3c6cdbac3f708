/* test_buf: length-counted buffers keep NULs, grow, consume and format. */
#include "buf.h"
#include "tap.h"

int
main(void)
{
	struct buf b = BUF_INIT;

	is_str(buf_cstr(&b), "", "an empty buffer reads as the empty string");
	buf_append(&b, "a\0b", 3);
	is_int(b.len, 3, "append keeps an embedded NUL");
	ok(buf_has_nul(&b), "buf_has_nul sees the NUL");
	buf_reset(&b);
	for (int i = 0; i < 1000; i++)
		buf_append_str(&b, "0123456789");
	is_int(b.len, 10000, "growth to 10000 bytes");
	buf_consume(&b, 9995);
	is_str(buf_cstr(&b), "56789", "consume drops the front");
	buf_reset(&b);
	buf_printf(&b, "%s=%d", "x", 42);
	buf_printf(&b, ",%05d", 7);
	is_str(buf_cstr(&b), "x=42,00007", "printf appends");
	buf_set_str(&b, "new");
	is_str(buf_cstr(&b), "new", "set_str replaces");
	buf_free(&b);
	return done_testing();
}
