#!/bin/sh
# sendmail-links.sh: the symbolic links that make Moat's sendmail the one
# programs find, for make install, uninstall, install-sendmail and
# uninstall-sendmail.
#
#   sendmail-links.sh ACTION DESTDIR TARGET LINK...
#
# TARGET is Moat's installed sendmail and each LINK a path where a sendmail,
# mailq or newaliases is looked for, both absolute and without DESTDIR.
# A link is Moat's when it is a symbolic link to .../libexec/moat/sendmail;
# the links made here are relative, so they work inside DESTDIR too.
#
#   add        make LINK Moat's when nothing is there; anything else is
#              left alone (make install)
#   remove     remove LINK when it is Moat's (make uninstall)
#   install    save what is at LINK as LINK.pre-moat, once, and make LINK
#              Moat's (make install-sendmail); a backup is never overwritten
#   uninstall  remove Moat's LINK and put LINK.pre-moat back (renamed, so it
#              is exactly what was there) (make uninstall-sendmail)
#
# Each action may be run again: what is done already is left as it is.
set -eu

usage() {
	echo "usage: $0 add|remove|install|uninstall DESTDIR TARGET LINK..." >&2
	exit 2
}

[ $# -ge 4 ] || usage
action=$1 destdir=$2 target=$3
shift 3
case $target in /*) ;; *) usage ;; esac
status=0

present() { [ -e "$1" ] || [ -L "$1" ]; }

is_moat() {
	[ -L "$1" ] || return 1
	case $(readlink "$1") in */libexec/moat/sendmail) return 0 ;; esac
	return 1
}

# The path of absolute $2 relative to absolute directory $1.
relative() {
	dir=${1%/} up=
	while [ -n "$dir" ]; do
		case $2 in "$dir"/*) break ;; esac
		dir=${dir%/*} up=../$up
	done
	printf '%s%s\n' "$up" "${2#"$dir"/}"
}

make_link() {
	ln -s "$(relative "${1%/*}" "$target")" "$destdir$1"
	echo "$destdir$1 -> $(readlink "$destdir$1")"
}

link_add() {
	if is_moat "$destdir$1"; then
		return 0
	elif present "$destdir$1"; then
		echo "$destdir$1 is not Moat's: left alone" \
		     "(make install-sendmail replaces it)"
	else
		mkdir -p "$destdir${1%/*}"
		make_link "$1"
	fi
}

link_remove() {
	if is_moat "$destdir$1"; then
		rm -f "$destdir$1"
		echo "removed $destdir$1"
	fi
}

link_install() {
	link=$destdir$1 saved=$destdir$1.pre-moat
	if is_moat "$link"; then
		return 0
	elif [ -d "$link" ] && [ ! -L "$link" ]; then
		echo "$link is a directory: left alone" >&2
		status=1
		return 0
	elif present "$link" && present "$saved"; then
		echo "$link is not Moat's, and $saved already holds an earlier" \
		     "one: move one of them away, then run this again" >&2
		status=1
		return 0
	elif present "$link"; then
		mv "$link" "$saved"
		echo "saved $link as $saved"
	fi
	mkdir -p "$destdir${1%/*}"
	make_link "$1"
}

link_uninstall() {
	link=$destdir$1 saved=$destdir$1.pre-moat
	link_remove "$1"
	if present "$saved" && present "$link"; then
		echo "$link is not Moat's: left alone; the saved one is" \
		     "still $saved" >&2
		status=1
	elif present "$saved"; then
		mv "$saved" "$link"
		echo "restored $link"
	fi
}

if [ "$action" = install ] && [ ! -x "$destdir$target" ]; then
	echo "$destdir$target is missing: run make install first" >&2
	exit 1
fi
for name in "$@"; do
	case $name in /*) ;; *) usage ;; esac
	case $action in
	add) link_add "$name" ;;
	remove) link_remove "$name" ;;
	install) link_install "$name" ;;
	uninstall) link_uninstall "$name" ;;
	*) usage ;;
	esac
done
exit $status
