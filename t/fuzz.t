#!/usr/bin/env bash
# Runs every fuzz target (built by `make fuzz` into build/fuzz) for a short
# while on its seed corpus, as a TAP test: a crash, leak or sanitizer report
# fails.  Longer runs: build/fuzz/fuzz_NAME -max_total_time=600 fuzz/corpus/NAME
cd "$(dirname "$0")/.." || exit 1
secs=${MOAT_FUZZ_SECONDS:-8}
bins=(build/fuzz/bin/fuzz_*)
if [ ! -x "${bins[0]}" ]; then
	echo "1..0 # SKIP no fuzz targets built (make fuzz needs clang)"
	exit 0
fi
n=0
fail=0
for bin in "${bins[@]}"; do
	name=${bin##*/fuzz_}
	n=$((n + 1))
	work=$(mktemp -d)
	seeds=fuzz/corpus/$name
	[ -d "$seeds" ] || seeds=
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$work.crash-" \
		"$work" $seeds >"$work.log" 2>&1; then
		echo "ok $n - fuzz_$name ran ${secs}s without a finding"
	else
		echo "not ok $n - fuzz_$name found a crash"
		tail -n 30 "$work.log" | sed 's/^/# /'
		fail=1
	fi
	rm -rf "$work" "$work.log" "$work".crash-*
done
echo "1..$n"
exit $fail
