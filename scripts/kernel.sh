#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# kernel.sh - build (once) the guest kernel of the iommufd/cdev guest tests.
#
# Debian's own kernels are built without IOMMUFD, so the guest tests of the
# iommufd backend and the VFIO device cdev boot a kernel built here from
# Debian's linux-source-6.12 package (trixie): `make tinyconfig` plus
# scripts/kernel.config, everything built in, no modules.  The package is
# fetched with `apt-get download` through a private apt configuration under
# the cache (the machine's own apt sources are not touched).
#
# The result is cached in ${VFN_CACHE:-~/.cache/vfn}/built-kernel-<source
# version>-<config hash>/ (vmlinux, bzImage, config, build-info) and its path
# printed on stdout.  A cached build with the same config is reused without
# any network access unless --update is given.
#
# Usage: scripts/kernel.sh [--update] [--jobs N]
set -euo pipefail

readonly PROG=${0##*/}
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SCRIPT_DIR
readonly SOURCE_PKG=linux-source-6.12
readonly SUITE=trixie
readonly MIRROR=${VFN_KERNEL_MIRROR:-http://deb.debian.org/debian}
readonly FRAGMENT=$SCRIPT_DIR/kernel.config
# Bump when what this script does to the tree changes (not the fragment:
# that is hashed).
readonly BUILD_LAYOUT=1

CACHE_DIR=${VFN_CACHE:-${HOME:-/tmp}/.cache/vfn}
opt_update=0
opt_jobs=$(nproc 2>/dev/null || echo 2)

die() {
	printf '%s: error: %s\n' "$PROG" "$1" >&2
	exit 1
}

note() {
	printf '%s: %s\n' "$PROG" "$*" >&2
}

usage() {
	cat <<EOF
Usage: $PROG [--update] [--jobs N]

Builds the vfn guest kernel (Debian's $SOURCE_PKG from $SUITE, tinyconfig
plus scripts/kernel.config, no modules) unless a build with the same config
is cached, and prints the directory holding vmlinux and bzImage.
  --update    look up the newest $SOURCE_PKG and build it if not cached
  --jobs N    make -j N (default: the number of CPUs)
Cache: \${VFN_CACHE:-\$HOME/.cache/vfn}.
EOF
}

while (($#)); do
	case $1 in
	--update) opt_update=1 ;;
	--jobs)
		(($# >= 2)) || die "--jobs needs a number"
		opt_jobs=$2
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	*) die "unknown option: $1 (see $PROG --help)" ;;
	esac
	shift
done
[[ $opt_jobs =~ ^[1-9][0-9]*$ ]] || die "--jobs must be a positive number"

CONFIG_HASH=$( (
	echo "layout $BUILD_LAYOUT"
	cat "$FRAGMENT"
) | sha256sum | cut -c1-12)
readonly CONFIG_HASH

# Newest complete build of this config in the cache, or nothing.
cached_build() {
	local d found=()
	for d in "$CACHE_DIR"/built-kernel-*-"$CONFIG_HASH"/; do
		[[ -f $d/.complete ]] && found+=("${d%/}")
	done
	((${#found[@]})) || return 0
	printf '%s\n' "${found[@]}" | sort -V | tail -n 1
}

# apt-get/apt-cache with a private trixie source list, lists and archive
# cache under $CACHE_DIR/apt-$SUITE; dpkg's status is not consulted.
APT_DIR=$CACHE_DIR/apt-$SUITE
apt_private() { # apt-get|apt-cache ARGS...
	local tool=$1
	shift
	"$tool" -o Dir::Etc::SourceList="$APT_DIR/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State::Lists="$APT_DIR/lists" \
		-o Dir::State::status=/dev/null \
		-o Dir::Cache="$APT_DIR/cache" \
		-o Acquire::Languages=none \
		-o APT::Sandbox::User=root \
		"$@"
}

# The candidate version of $SOURCE_PKG in trixie (refreshes the lists).
resolve_version() {
	mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
	echo "deb $MIRROR $SUITE main" >"$APT_DIR/sources.list"
	apt_private apt-get -qq update >&2 ||
		die "apt-get update of the private $SUITE source failed (network? root?)"
	apt_private apt-cache show --no-all-versions "$SOURCE_PKG" 2>/dev/null |
		awk '$1 == "Version:" { print $2; exit }'
}

# Verifies that every option of the fragment has its value in .config $1.
check_config() { # CONFIG
	local line opt bad=()
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			grep -qxF "$line" "$1" || bad+=("$line")
			;;
		'# CONFIG_'*' is not set')
			opt=${line#\# }
			opt=${opt%% *}
			grep -q "^$opt=" "$1" && bad+=("$line")
			;;
		esac
	done <"$FRAGMENT"
	((${#bad[@]} == 0)) || die "Kconfig did not keep: ${bad[*]} (a missing dependency?)"
}

# The build's scratch directory (source, objects: ~1.7 GB), removed on exit.
WORK=
trap '[[ -z $WORK ]] || rm -rf "$WORK"' EXIT

build() { # VERSION DEST
	local version=$1 dest=$2 work deb tree t0 t1 load0 load1
	"$SCRIPT_DIR"/deps.sh kernel >&2
	WORK=$(mktemp -d "$CACHE_DIR/.kbuild.XXXXXX")
	work=$WORK
	note "fetching $SOURCE_PKG $version ($SUITE)"
	(cd "$work" && apt_private apt-get -qq download "$SOURCE_PKG=$version") >&2 ||
		die "apt-get download $SOURCE_PKG=$version failed"
	deb=$(find "$work" -maxdepth 1 -name "${SOURCE_PKG}_*.deb" | head -n 1)
	[[ -n $deb ]] || die "apt-get download produced no .deb"
	note "unpacking the source"
	dpkg-deb --fsys-tarfile "$deb" |
		tar -x -C "$work" --wildcards "./usr/src/$SOURCE_PKG.tar.xz" ||
		die "no $SOURCE_PKG.tar.xz in $deb"
	rm -f "$deb"
	tar -xJf "$work/usr/src/$SOURCE_PKG.tar.xz" -C "$work" || die "unpacking the source failed"
	rm -rf "${work:?}/usr"
	tree=$work/$SOURCE_PKG
	[[ -f $tree/Makefile ]] || die "no kernel tree in $SOURCE_PKG"

	local make=(nice -n 10 make -C "$tree" O="$work/out" ARCH=x86_64 -j"$opt_jobs"
		KBUILD_BUILD_USER=vfn KBUILD_BUILD_HOST=vfn
		KBUILD_BUILD_TIMESTAMP="$SOURCE_PKG $version")
	# Kconfig warns for every option the fragment overrides: log, not noise.
	"${make[@]}" -s tinyconfig >"$work/config.log" 2>&1 || die "make tinyconfig failed: $(tail -n 5 "$work/config.log")"
	cat "$FRAGMENT" >>"$work/out/.config"
	"${make[@]}" -s olddefconfig >>"$work/config.log" 2>&1 ||
		die "make olddefconfig failed: $(tail -n 5 "$work/config.log")"
	check_config "$work/out/.config"

	note "building bzImage with make -j$opt_jobs (nice 10)"
	load0=$(cut -d' ' -f1-3 /proc/loadavg)
	t0=$(date +%s)
	"${make[@]}" -s bzImage >"$work/build.log" 2>&1 || {
		tail -n 40 "$work/build.log" >&2
		die "the kernel build failed"
	}
	t1=$(date +%s)
	load1=$(cut -d' ' -f1-3 /proc/loadavg)

	mkdir "$work/result"
	cp "$work/out/vmlinux" "$work/result/vmlinux"
	cp "$work/out/arch/x86/boot/bzImage" "$work/result/bzImage"
	cp "$work/out/.config" "$work/result/config"
	{
		echo "source=$SOURCE_PKG $version"
		echo "config_hash=$CONFIG_HASH"
		echo "jobs=$opt_jobs"
		echo "build_seconds=$((t1 - t0))"
		echo "loadavg_before=$load0"
		echo "loadavg_after=$load1"
		echo "compiler=$(gcc --version | head -n 1)"
	} >"$work/result/build-info"
	touch "$work/result/.complete"
	rm -rf "$dest"
	mv "$work/result" "$dest"
	note "built in $((t1 - t0)) s (load average before: $load0, after: $load1): $dest"
}

main() {
	local dir version lock_fd
	[[ -f $FRAGMENT ]] || die "missing $FRAGMENT"
	mkdir -p "$CACHE_DIR"
	# Not vm.sh's .lock: vm.sh runs this script while it holds that one.
	exec {lock_fd}>"$CACHE_DIR/.kernel-build.lock"
	flock "$lock_fd"
	dir=$(cached_build)
	if [[ -n $dir ]] && ((!opt_update)); then
		printf '%s\n' "$dir"
		return 0
	fi
	version=$(resolve_version)
	[[ -n $version ]] || die "$SOURCE_PKG not found in $SUITE"
	dir=$CACHE_DIR/built-kernel-$version-$CONFIG_HASH
	[[ -f $dir/.complete ]] || build "$version" "$dir"
	printf '%s\n' "$dir"
}

main
