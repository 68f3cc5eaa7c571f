# Every check casebook makes itself: one fixture each under tests/check/
# (see check_fixtures.sh), the exact report in text, GitHub and JSON form.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/check_fixtures.sh"
n=0
for dir in "$FIX"/*/; do
	dir=${dir%/}
	case "$(basename "$dir")" in base) continue ;; esac
	[ -f "$dir/needs-plugins" ] && continue
	check_fixture "$dir"
	n=$((n + 1))
done
[ $n -ge 20 ] || fail "only $n fixtures ran"
