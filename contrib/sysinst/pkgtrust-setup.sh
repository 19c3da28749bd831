#!/bin/sh
#
# pkgtrust-setup.sh: what sysinst runs after the user picks a binary package
# repository. Configures signature verification in the new system with
# `pkgtrust setup`, reads its JSON answer without jq (NetBSD's base has none)
# and prints what the installer shows. The exit status is pkgtrust's (see
# README.md): 0 means continue with `pkg_add pkgin`; anything else means do
# not install binary packages from this repository.
#
# usage: pkgtrust-setup.sh [-t TARGET] REPOSITORY
#   TARGET      where the new system is mounted (default /targetroot)
#   REPOSITORY  the .../All URL the user chose, or an absolute path on the medium
# environment: PKGTRUST (the pkgtrust command, default pkgtrust),
#   HTTP_PROXY / HTTPS_PROXY (sysinst's proxy setting), passed through.

set -u

target=/targetroot
while getopts t: opt; do
	case $opt in
	t)	target=$OPTARG ;;
	*)	echo "usage: $0 [-t TARGET] REPOSITORY" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: $0 [-t TARGET] REPOSITORY" >&2
	exit 2
fi
repo=$1
pkgtrust=${PKGTRUST:-pkgtrust}

if ! command -v "$pkgtrust" >/dev/null 2>&1; then
	echo "Package signatures cannot be checked: $pkgtrust is not on this install medium."
	echo "Binary packages will not be installed; install them later with verification configured."
	exit 127
fi

mkdir -p "$target/tmp" || exit 5
json=$target/tmp/pkgtrust-setup.json
status=0
"$pkgtrust" setup --root "$target" --repo "$repo" --non-interactive --json >"$json" || status=$?

# json_field OBJECT KEY: the string value of KEY in the top-level OBJECT of
# pkgtrust's JSON ("" for a top-level KEY). pkgtrust prints its JSON with
# two-space indentation, one key per line, so a line-based reader suffices.
json_field() {
	awk -v object="$1" -v key="$2" '
	BEGIN { inside = (object == ""); indent = (object == "") ? "  " : "    " }
	object != "" && index($0, "  \"" object "\": {") == 1 { inside = 1; next }
	object != "" && inside && index($0, "  }") == 1 { inside = 0 }
	inside && index($0, indent "\"" key "\": ") == 1 {
		value = substr($0, length(indent key) + 5)
		sub(/,$/, "", value)
		if (value ~ /^".*"$/) {
			value = substr(value, 2, length(value) - 2)
			gsub(/\\\\/, "\001", value); gsub(/\\"/, "\"", value); gsub(/\\n/, " ", value); gsub(/\001/, "\\", value)
		}
		print value
		exit
	}' "$json"
}

message=$(json_field error message)
next=$(json_field error next)
code=$(json_field error code)

explain() {
	[ -n "$message" ] && echo "$message${code:+ [$code]}"
	[ -n "$next" ] && echo "$next"
	if [ "$(json_field failure unchanged)" = false ]; then
		echo "Some files could not be put back: check $target/etc/pkg_install.conf before going on."
	fi
}

case $status in
0)
	config=$(json_field "" configFile)
	tested=$(json_field testInstall package)
	echo "Package signature verification is configured for $repo"
	echo "in $config; every binary package will be verified when it is installed."
	[ -n "$tested" ] && echo "Test package $tested: signature verified."
	;;
1)
	if [ "$code" = BOOT_NO_KEY_BUNDLE ]; then
		echo "This package repository publishes no key bundle (pkg_keys.pem): its packages cannot be verified."
	else
		echo "The package repository's signing keys are not trusted."
	fi
	explain
	echo "Choose another repository, or go on without binary packages. Never install them unverified."
	;;
2)
	echo "pkgtrust was called wrongly (a bug in the installer):"
	explain
	;;
3)
	echo "The trust anchor or the repository's key bundle is malformed:"
	explain
	# The anchor and a file: repository come from the medium; anything else from the network.
	case $code in
	PEM_*|BOOT_ANCHOR_*|BOOT_BUNDLE_DAMAGED_FILE) echo "The install medium may be damaged." ;;
	esac
	;;
4)
	if [ "$code" = BOOT_BUNDLE_NOT_SERVED ]; then
		echo "The network or the mirror served something other than the repository's key bundle:"
		explain
	else
		echo "Downloading from the package repository failed:"
		explain
		echo "Check the host, the directory and the proxy, and try again."
	fi
	;;
5)
	if [ "$code" = BOOT_ANCHOR_MISSING ]; then
		echo "The new system has no pkgsrc trust anchor: the base sets on the install medium lack it."
	else
		echo "The new system's package configuration could not be written:"
	fi
	explain
	;;
6)
	echo "The repository's keys are out of date:"
	explain
	;;
*)
	echo "pkgtrust failed (exit status $status):"
	explain
	[ -s "$json" ] || echo "(it printed no answer; see the messages above)"
	echo "Go on without binary packages."
	;;
esac
exit "$status"
