#!/usr/bin/env bash
# The generated systemd unit: `systemd-analyze verify` finds nothing to say
# about it, and `systemd-analyze security --offline=yes` rates its exposure
# 2.0 or lower. verify needs ExecStart's binary to exist, so a copy of the
# unit names the built binary instead of the installed one; nothing else
# changes.
#
#   systemd_unit.sh build/systemd/cdeventsd.service build/cdeventsd
set -uo pipefail
unit=$1
bin=$2
max_exposure=2.0
passed=0
failed=0
check() { # check OK NAME [DETAIL]
	if [ "$1" = 0 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL $2"
		[ -n "${3:-}" ] && printf '%s\n' "$3"
	fi
}

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze not found; scripts/install-deps installs it (Debian package systemd)"
	exit 77
fi
echo "$(systemd-analyze --version | head -1)"

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

installed=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
case "$installed" in
/*/cdeventsd) check 0 "ExecStart names the installed binary" ;;
*) check 1 "ExecStart names the installed binary" "ExecStart=$installed" ;;
esac
grep -q '^Type=notify$' "$unit"
check $? "Type=notify"
grep -q '^ExecStart=.* -c /[^ ]*/cdeventsd/cdeventsd.yaml' "$unit"
check $? "ExecStart reads the installed configuration"
! grep -q '@[a-z]*@' "$unit"
check $? "every @variable@ is substituted"

sed "s|^ExecStart=$installed |ExecStart=$(realpath "$bin") |" "$unit" >"$dir/cdeventsd.service"

out=$(systemd-analyze verify "$dir/cdeventsd.service" 2>&1)
rc=$?
[ $rc = 0 ] && [ -z "$out" ]
check $? "systemd-analyze verify is clean" "exit $rc: $out"

out=$(systemd-analyze security --offline=yes --no-pager "$dir/cdeventsd.service" 2>&1)
rc=$?
exposure=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for cdeventsd.service: \([0-9.]*\).*/\1/p')
echo "exposure: ${exposure:-none} (at most $max_exposure)"
[ -n "$exposure" ] && awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e <= m) }'
check $? "security exposure $exposure <= $max_exposure" "exit $rc:
$out"

echo "$passed passed, $failed failed"
[ $failed = 0 ]
