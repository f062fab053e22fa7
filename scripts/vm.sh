#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# vm.sh - run a command inside a throwaway QEMU guest that has an emulated
# NVMe controller (QEMU "nvme" device) behind an emulated Intel IOMMU, bound
# to vfio-pci (or to the kernel nvme driver, or left unbound).
#
# The guest is a Debian kernel (or, with --kernel built, the kernel that
# scripts/kernel.sh builds with IOMMUFD and the VFIO device cdev) plus a
# busybox initramfs built on the fly.
# Only the guest command's output (stdout+stderr, relayed over a second
# serial port) is printed on stdout; the kernel console and QEMU's own
# messages go to a log that is shown on stderr when something fails.
#
# See tests/vm/README.md for details.

set -euo pipefail

readonly PROG=${0##*/}
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_ROOT=$(dirname "$SCRIPT_DIR")
readonly SCRIPT_DIR SRC_ROOT

readonly GUEST_BDF=0000:00:01.0
readonly DEFAULT_SERIAL=vfn0001
# Bump when the layout of the cached initramfs parts changes.
readonly CACHE_LAYOUT=1

# Exit statuses of the harness itself (otherwise: the guest command's).
readonly EXIT_USAGE=2
readonly EXIT_MISSING_TOOL=77
readonly EXIT_TIMEOUT=124
readonly EXIT_GUEST_FAILED=125

# Kernel modules, in load order (dependencies first). Names use '_'; the
# package may spell them with '-'. Required ones must exist as a module
# (or be built in); the others are skipped when the kernel lacks them.
readonly VFIO_MODULES=(irqbypass vfio vfio_iommu_type1 vfio_virqfd vfio_pci_core vfio_pci)
readonly NVME_MODULES=(crct10dif_common crct10dif_generic crc_t10dif crc64
	crc64_rocksoft_generic crc64_rocksoft t10_pi nvme_core nvme)
readonly REQUIRED_MODULES=(vfio vfio_iommu_type1 vfio_pci_core vfio_pci nvme_core nvme)

# ---------------------------------------------------------------------------
# Options

opt_build=build
opt_build_given=0
opt_bind=vfio
opt_drive=tmpimg
opt_img=
opt_img_size=64M
opt_nvme_opts="serial=$DEFAULT_SERIAL"
opt_ns_opts=
opt_ns_extra=()
opt_ns_img_size=1M
opt_timeout=240
opt_keep_log=
opt_append=
opt_smp=${VFN_VM_SMP:-1}
opt_kernel=debian
[[ ${VFN_VM_KERNEL:-} == built ]] && opt_kernel=built
opt_qemu_args=()
opt_qemu_pre_args=()
opt_add=()
opt_modparams=()
guest_cmd=()

usage() {
	cat <<EOF
Usage: $PROG [OPTIONS] -- CMD [ARGS...]

Boot a throwaway QEMU guest (TCG, q35, intel-iommu) with an emulated NVMe
controller at $GUEST_BDF and run CMD in it. Prints CMD's stdout+stderr on
stdout and exits with CMD's exit status.

Options:
  --build DIR         meson build dir (default: build, relative to the repo
                      root); ELF executables in DIR/{tools,examples,tests/vm}
                      are copied to /vfn/bin in the guest
  --bind MODE         vfio (default): bind the controller to vfio-pci
                      nvme: bind it to the kernel nvme driver
                      none: leave it unbound
  --img FILE          use FILE (raw) as the namespace backing store
  --img-size SIZE     size of the temporary raw image (default: 64M)
  --null              use a null-co drive that reads zeroes (no host I/O)
  --nvme-opts OPTS    extra -device nvme options (default: serial=$DEFAULT_SERIAL)
  --ns-opts OPTS      add an explicit -device nvme-ns with these options,
                      e.g. logical_block_size=4096,physical_block_size=4096
  --ns OPTS           one more namespace (nsid 2, 3, ... in order) on its own
                      temporary raw image: -device nvme-ns,OPTS (repeatable)
  --ns-img-size SIZE  size of each --ns image (default: 1M)
  --qemu-arg ARG      extra QEMU argument (repeatable)
  --qemu-pre-arg ARG  extra QEMU argument placed before the NVMe controller,
                      e.g. an nvme-subsys it joins (repeatable)
  --add FILE          copy FILE to /vfn/bin in the guest (repeatable)
  --modparam MOD:PARAMS
                      insmod parameters, e.g. vfio_iommu_type1:dma_entry_limit=64
                      (repeatable; also VFN_VM_MODPARAMS_<mod>="PARAMS")
  --append ARGS       extra kernel command line arguments
  --kernel KIND       debian (default): Debian's linux-image-*-amd64 (no
                      iommufd); built: scripts/kernel.sh's kernel (iommufd,
                      VFIO cdev, everything built in; \$VFN_VM_KERNEL=built)
  --smp N             guest CPUs (default: 1, or \$VFN_VM_SMP)
  --timeout SEC       kill the guest after SEC seconds (default: 240), exit 124
  --keep-log FILE     save the console/QEMU log to FILE
  -h, --help          show this help

In the guest: cwd /vfn, PATH=/vfn/bin:/bin:/sbin, VFN_BDF=$GUEST_BDF,
VFN_GUEST=1, VFN_SERIAL (the controller's serial), and every VFN_* and
*SAN_OPTIONS variable of the host environment.

Exit status: CMD's status; $EXIT_TIMEOUT on timeout; $EXIT_GUEST_FAILED if the guest did not
boot or did not finish CMD; $EXIT_USAGE on usage errors; $EXIT_MISSING_TOOL if a host tool is
missing; 1 on other host-side errors (e.g. the kernel download failed).
Cache: \${VFN_CACHE:-\$HOME/.cache/vfn} (kernel and busybox initramfs parts).
EOF
}

die() {
	printf '%s: error: %s\n' "$PROG" "$1" >&2
	exit "${2:-1}"
}

usage_error() {
	printf '%s: %s\n' "$PROG" "$1" >&2
	printf "Try '%s --help'.\n" "$PROG" >&2
	exit "$EXIT_USAGE"
}

parse_args() {
	local opt val
	while (($#)); do
		opt=$1
		val=
		case $opt in
		--*=*)
			val=${opt#*=}
			opt=${opt%%=*}
			set -- "$opt" "$val" "${@:2}"
			;;
		esac
		case $opt in
		--build | --bind | --img | --img-size | --nvme-opts | --ns-opts | \
			--qemu-arg | --add | --modparam | --append | --smp | --timeout | --keep-log | --kernel | \
			--qemu-pre-arg | --ns | --ns-img-size)
			(($# >= 2)) || usage_error "option $opt needs an argument"
			val=$2
			shift 2
			;;
		*)
			shift
			;;
		esac
		case $opt in
		--build) opt_build=$val opt_build_given=1 ;;
		--bind) opt_bind=$val ;;
		--img) opt_drive=img opt_img=$val ;;
		--img-size) opt_drive=tmpimg opt_img_size=$val ;;
		--null) opt_drive=null ;;
		--nvme-opts) opt_nvme_opts=$val ;;
		--ns-opts) opt_ns_opts=$val ;;
		--ns) opt_ns_extra+=("$val") ;;
		--ns-img-size) opt_ns_img_size=$val ;;
		--qemu-arg) opt_qemu_args+=("$val") ;;
		--qemu-pre-arg) opt_qemu_pre_args+=("$val") ;;
		--add) opt_add+=("$val") ;;
		--modparam) opt_modparams+=("$val") ;;
		--append) opt_append+=" $val" ;;
		--smp) opt_smp=$val ;;
		--kernel) opt_kernel=$val ;;
		--timeout) opt_timeout=$val ;;
		--keep-log) opt_keep_log=$val ;;
		-h | --help)
			usage
			exit 0
			;;
		--)
			guest_cmd=("$@")
			break
			;;
		*) usage_error "unknown option: $opt" ;;
		esac
	done

	((${#guest_cmd[@]})) || usage_error "no command given (use: $PROG [OPTIONS] -- CMD [ARGS...])"
	case $opt_bind in vfio | nvme | none) ;; *) usage_error "--bind must be vfio, nvme or none" ;; esac
	case $opt_kernel in debian | built) ;; *) usage_error "--kernel must be debian or built" ;; esac
	[[ $opt_timeout =~ ^[1-9][0-9]*$ ]] || usage_error "--timeout must be a positive number of seconds"
	[[ $opt_smp =~ ^[1-9][0-9]*$ ]] || usage_error "--smp must be a positive number"
	if [[ $opt_drive == img && ! -f $opt_img ]]; then
		usage_error "--img: no such file: $opt_img"
	fi
	# Keep the default serial unless the user chose one.
	if [[ ,$opt_nvme_opts, != *,serial=* ]]; then
		opt_nvme_opts="serial=$DEFAULT_SERIAL${opt_nvme_opts:+,$opt_nvme_opts}"
	fi
	[[ $opt_build == /* ]] || opt_build=$SRC_ROOT/$opt_build
	if ((opt_build_given)) && [[ ! -d $opt_build ]]; then
		usage_error "--build: no such directory: $opt_build"
	fi
	local f
	for f in "${opt_add[@]}"; do
		[[ -f $f ]] || usage_error "--add: no such file: $f"
	done
}

# ---------------------------------------------------------------------------
# Host prerequisites

require_tool() { # TOOL PACKAGE
	command -v "$1" >/dev/null 2>&1 ||
		die "'$1' not found; install the Debian package '$2' (apt-get install $2)" "$EXIT_MISSING_TOOL"
}

check_host_tools() {
	require_tool qemu-system-x86_64 qemu-system-x86
	require_tool cpio cpio
	require_tool timeout coreutils
	require_tool flock util-linux
	require_tool ldd libc-bin
	require_tool awk mawk
	BUSYBOX=${VFN_VM_BUSYBOX:-/bin/busybox}
	[[ -x $BUSYBOX ]] ||
		die "$BUSYBOX not found; install the Debian package 'busybox-static'" "$EXIT_MISSING_TOOL"
	if ldd "$BUSYBOX" >/dev/null 2>&1; then
		die "$BUSYBOX is dynamically linked; install the Debian package 'busybox-static'" "$EXIT_MISSING_TOOL"
	fi
}

# ---------------------------------------------------------------------------
# Cache: kernel + modules, busybox initramfs part

CACHE_DIR=${VFN_CACHE:-${HOME:-/tmp}/.cache/vfn}

# Serialise cache updates between concurrent vm.sh runs (meson runs tests
# in parallel). Released once the cached parts are ready.
lock_cache() {
	mkdir -p "$CACHE_DIR"
	exec {cache_lock_fd}>"$CACHE_DIR/.lock"
	flock "$cache_lock_fd"
}

unlock_cache() {
	exec {cache_lock_fd}>&-
}

# Newest complete kernel-<abi> in the cache, or nothing.
cached_kernel_abi() {
	local d abis=()
	for d in "$CACHE_DIR"/kernel-*/; do
		[[ -f $d/.complete ]] && abis+=("$(basename "$d")")
	done
	((${#abis[@]})) || return 0
	printf '%s\n' "${abis[@]}" | sort -V | tail -n 1 | sed 's/^kernel-//'
}

# Resolve linux-image-amd64 -> linux-image-<abi>-amd64 -> <abi>-amd64.
resolve_kernel_abi() {
	local dep
	dep=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }') || true
	if [[ -z $dep ]]; then
		note "apt lists look empty; running apt-get update"
		apt-get update >>"$LOG" 2>&1 ||
			die "apt-get update failed (need root?); see $LOG or set VFN_CACHE to a prepared cache"
		dep=$(apt-cache depends linux-image-amd64 2>/dev/null |
			awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }') || true
	fi
	[[ -n $dep ]] || die "cannot resolve linux-image-amd64 to a kernel package with apt-cache"
	printf '%s\n' "${dep#linux-image-}"
}

# Unpack a module file (possibly compressed) to DEST.
install_module_file() { # SRC DEST
	case $1 in
	*.ko) cp "$1" "$2" ;;
	*.ko.xz) xz -dc "$1" >"$2" ;;
	*.ko.zst) zstd -qdc "$1" >"$2" ;;
	*.ko.gz) gzip -dc "$1" >"$2" ;;
	*) die "unsupported module file: $1" ;;
	esac
}

# Download the kernel package and keep vmlinuz + the modules we load.
fetch_kernel() { # ABI DESTDIR
	local abi=$1 dest=$2 work deb m f modroot
	require_tool apt-get apt
	require_tool dpkg-deb dpkg
	require_tool tar tar
	printf '%s: fetching kernel linux-image-%s into %s\n' "$PROG" "$abi" "$dest" >&2
	note "fetching kernel linux-image-$abi into $dest"
	work=$(mktemp -d "$CACHE_DIR/.fetch.XXXXXX")
	TMP_DIRS+=("$work")
	(cd "$work" && apt-get download "linux-image-$abi") >>"$LOG" 2>&1 ||
		die "apt-get download linux-image-$abi failed: $(tail -n 1 "$LOG")"
	deb=$(find "$work" -maxdepth 1 -name 'linux-image-*.deb' | head -n 1)
	[[ -n $deb ]] || die "apt-get download produced no .deb"

	# Extract only what we need instead of the whole package.
	local patterns=('./boot/vmlinuz-*' '*/modules.builtin')
	for m in "${VFIO_MODULES[@]}" "${NVME_MODULES[@]}"; do
		patterns+=("*/${m//_/[-_]}.ko*")
	done
	mkdir "$work/x" "$work/kernel"
	dpkg-deb --fsys-tarfile "$deb" |
		tar -x -C "$work/x" --wildcards --wildcards-match-slash "${patterns[@]}" 2>>"$LOG" ||
		die "extracting $deb failed"

	f=$(find "$work/x" -path '*/boot/vmlinuz-*' | head -n 1)
	[[ -n $f ]] || die "no vmlinuz in $deb"
	cp "$f" "$work/kernel/vmlinuz"
	extract_vmlinux "$work/kernel/vmlinuz" "$work/kernel/vmlinux" || true
	modroot=$(find "$work/x" -name modules.builtin -printf '%h\n' | head -n 1)
	mkdir "$work/kernel/modules"
	for m in "${VFIO_MODULES[@]}" "${NVME_MODULES[@]}"; do
		f=$(find "$work/x" -name "${m//_/[-_]}.ko*" | head -n 1)
		if [[ -n $f ]]; then
			install_module_file "$f" "$work/kernel/modules/$m.ko"
		elif [[ -n $modroot ]] && grep -Eq "/${m//_/[-_]}\.ko" "$modroot/modules.builtin"; then
			: # built in
		elif [[ " ${REQUIRED_MODULES[*]} " == *" $m "* ]]; then
			die "kernel $abi has no module $m"
		fi
	done
	touch "$work/kernel/.complete"
	rm -rf "$dest"
	mv "$work/kernel" "$dest"
}

# True unless readelf (binutils) is there and finds no PVH entry note
# (Xen note 0x12, XEN_ELFNOTE_PHYS32_ENTRY) in ELF kernel $1.
has_pvh_entry() {
	command -v readelf >/dev/null 2>&1 || return 0
	readelf -n "$1" 2>/dev/null | grep -Eq 'Xen .*(0x00000012|PHYS32_ENTRY)'
}

# The uncompressed ELF kernel inside a bzImage. QEMU boots it through its
# PVH entry point, which skips the in-guest decompression: under TCG that
# saves about 2.5 s per boot. Fails if no payload decompresses to an ELF
# with a PVH entry point.
extract_vmlinux() { # BZIMAGE OUT
	local magic tool off
	for magic in '\xfd7zXZ\x00:xz' '\x28\xb5\x2f\xfd:zstd' '\x1f\x8b\x08:gzip'; do
		tool=${magic##*:}
		command -v "$tool" >/dev/null 2>&1 || continue
		while read -r off; do
			tail -c +"$((off + 1))" "$1" | "$tool" -dc >"$2.tmp" 2>/dev/null || true
			if is_elf "$2.tmp" && has_pvh_entry "$2.tmp"; then
				mv "$2.tmp" "$2"
				return 0
			fi
		done < <(LC_ALL=C grep -obUaP "${magic%:*}" "$1" 2>/dev/null | cut -d: -f1 | head -n 4)
	done
	rm -f "$2.tmp"
	return 1
}

# The kernel scripts/kernel.sh builds (cached; built on first use, which
# takes minutes): everything built in, so no modules part.
prepare_built_kernel() {
	KERNEL_DIR=$("$SCRIPT_DIR"/kernel.sh) || die "scripts/kernel.sh failed to provide the guest kernel"
	KERNEL_IMAGE=$KERNEL_DIR/vmlinux
	[[ -z ${VFN_VM_BZIMAGE:-} ]] || KERNEL_IMAGE=$KERNEL_DIR/bzImage
	MODULES_CPIO=/dev/null
	KERNEL_ABI="built ($(sed -n 's/^source=//p' "$KERNEL_DIR/build-info"))"
}

# Sets KERNEL_DIR (vmlinuz, vmlinux, modules/*.ko, modules.cpio),
# KERNEL_IMAGE and MODULES_CPIO.
prepare_kernel() {
	local abi
	if [[ $opt_kernel == built ]]; then
		prepare_built_kernel
		return
	fi
	abi=${VFN_VM_KERNEL:-}
	[[ $abi != built ]] || abi=
	[[ -n $abi ]] || abi=$(cached_kernel_abi)
	[[ -n $abi ]] || abi=$(resolve_kernel_abi)
	KERNEL_DIR=$CACHE_DIR/kernel-$abi
	if [[ ! -f $KERNEL_DIR/.complete ]]; then
		fetch_kernel "$abi" "$KERNEL_DIR"
	fi
	if [[ ! -f $KERNEL_DIR/vmlinux && ! -f $KERNEL_DIR/.no-vmlinux ]]; then
		extract_vmlinux "$KERNEL_DIR/vmlinuz" "$KERNEL_DIR/vmlinux" ||
			touch "$KERNEL_DIR/.no-vmlinux"
	fi
	KERNEL_IMAGE=$KERNEL_DIR/vmlinuz
	if [[ -f $KERNEL_DIR/vmlinux && -z ${VFN_VM_BZIMAGE:-} ]]; then
		KERNEL_IMAGE=$KERNEL_DIR/vmlinux
	fi
	if [[ ! -f $KERNEL_DIR/modules.cpio ]]; then
		local stage
		stage=$(mktemp -d "$TMP/stage-modules.XXXXXX")
		mkdir -p "$stage/lib/modules"
		cp "$KERNEL_DIR"/modules/*.ko "$stage/lib/modules/"
		make_cpio "$stage" >"$KERNEL_DIR/modules.cpio.tmp"
		mv "$KERNEL_DIR/modules.cpio.tmp" "$KERNEL_DIR/modules.cpio"
	fi
	MODULES_CPIO=$KERNEL_DIR/modules.cpio
	KERNEL_ABI=$abi
}

# newc archive of a staging directory, owned by root, on stdout.
make_cpio() { # DIR
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet)
}

# The busybox part of the initramfs: busybox, applet symlinks, base dirs.
# Sets BUSYBOX_CPIO.
prepare_busybox() {
	local key stage applet
	key=$(sha256sum "$BUSYBOX" | cut -c1-16)
	BUSYBOX_CPIO=$CACHE_DIR/busybox-$key-v$CACHE_LAYOUT.cpio
	[[ -f $BUSYBOX_CPIO ]] && return 0
	stage=$(mktemp -d "$TMP/stage-busybox.XXXXXX")
	mkdir -p "$stage"/{bin,dev,etc,lib64,proc,root,run,sys,tmp,usr,vfn/bin,vfn/lib}
	ln -s bin "$stage/sbin"
	ln -s ../bin "$stage/usr/bin"
	ln -s ../bin "$stage/usr/sbin"
	cp "$BUSYBOX" "$stage/bin/busybox"
	chmod 0755 "$stage/bin/busybox"
	while read -r applet; do
		# The list contains "busybox" itself; never replace the binary.
		[[ -z $applet || $applet == busybox || $applet == */* ]] && continue
		ln -s busybox "$stage/bin/$applet"
	done < <("$BUSYBOX" --list)
	echo 'root:x:0:0:root:/root:/bin/sh' >"$stage/etc/passwd"
	echo 'root:x:0:' >"$stage/etc/group"
	make_cpio "$stage" >"$BUSYBOX_CPIO.tmp"
	mv "$BUSYBOX_CPIO.tmp" "$BUSYBOX_CPIO"
}

# ---------------------------------------------------------------------------
# Per-run initramfs part: /init, config, /vfn/bin, shared libraries

is_elf() {
	[[ $(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ') == '177ELF' ]]
}

# Files copied to /vfn/bin: executables from the build dir, guest test
# scripts from the source tree, --add files.
collect_guest_files() {
	local dir f
	GUEST_FILES=()
	if [[ -d $opt_build ]]; then
		for dir in tools examples tests/vm; do
			[[ -d $opt_build/$dir ]] || continue
			while IFS= read -r -d '' f; do
				case $f in *.so | *.so.*) continue ;; esac
				[[ -x $f ]] && is_elf "$f" && GUEST_FILES+=("$f")
			done < <(find "$opt_build/$dir" -mindepth 1 -maxdepth 1 -type f -print0 | sort -z)
		done
	fi
	for f in "$SRC_ROOT"/tests/vm/*.sh; do
		[[ -f $f ]] && GUEST_FILES+=("$f")
	done
	GUEST_FILES+=("${opt_add[@]}")
}

# Copy the shared libraries (and the dynamic loader) needed by ELF $1.
copy_shared_libs() { # ELF STAGE
	local elf=$1 stage=$2 out kind name path
	out=$(ldd "$elf" 2>&1) || return 0 # static or not for this host
	if grep -q 'not found' <<<"$out"; then
		die "$elf: missing shared libraries:"$'\n'"$(grep 'not found' <<<"$out")"
	fi
	while read -r kind name path; do
		case $kind in
		lib) [[ -e $stage/vfn/lib/$name ]] || cp -L "$path" "$stage/vfn/lib/$name" ;;
		interp)
			if [[ ! -e $stage$name ]]; then
				mkdir -p "$stage$(dirname "$name")"
				cp -L "$name" "$stage$name"
			fi
			;;
		esac
	done < <(awk '$2 == "=>" && $3 ~ /^\// { print "lib", $1, $3; next }
		$1 ~ /^\// { print "interp", $1, "-" }' <<<"$out")
	HAVE_SHARED_LIBS=1
}

# glibc dlopen()s libgcc_s for pthread_cancel() and backtrace().
copy_dlopened_libs() { # STAGE
	local path
	path=$(ldconfig -p 2>/dev/null | awk '$1 == "libgcc_s.so.1" && /x86-64/ { print $NF; exit }') || true
	if [[ -n $path && -e $path ]]; then
		cp -L "$path" "$1/vfn/lib/libgcc_s.so.1"
	fi
}

# The arguments as a readable shell command line (for the log).
shell_words() {
	local arg out=
	for arg; do
		if [[ $arg =~ ^[-A-Za-z0-9_,./:=+@%]+$ ]]; then
			out+=" $arg"
		else
			out+=" $(sh_quote "$arg")"
		fi
	done
	printf '%s\n' "${out# }"
}

# Single-quote a string for the guest shell.
sh_quote() {
	local s=${1//\'/\'\\\'\'}
	printf "'%s'" "$s"
}

# Module parameters from VFN_VM_MODPARAMS_<mod> and --modparam.
declare -A MODPARAMS=()
collect_modparams() {
	local var mod spec
	while read -r var; do
		mod=${var#VFN_VM_MODPARAMS_}
		MODPARAMS[${mod//-/_}]=${!var}
	done < <(compgen -e | grep '^VFN_VM_MODPARAMS_' || true)
	for spec in "${opt_modparams[@]}"; do
		[[ $spec == ?*:?* ]] || usage_error "--modparam wants MODULE:PARAMS, got: $spec"
		mod=${spec%%:*}
		mod=${mod//-/_}
		MODPARAMS[$mod]="${MODPARAMS[$mod]:-}${MODPARAMS[$mod]:+ }${spec#*:}"
	done
	for mod in "${!MODPARAMS[@]}"; do
		[[ $mod =~ ^[a-z0-9_]+$ ]] || usage_error "bad module name in module parameters: $mod"
		[[ " ${VFIO_MODULES[*]} ${NVME_MODULES[*]} " == *" $mod "* ]] ||
			printf '%s: warning: parameters for %s, which the guest does not load\n' "$PROG" "$mod" >&2
	done
}

# Module parameters as kernel command line arguments (mod.param=value), for
# a kernel that has the modules built in.
modparams_cmdline() {
	local mod p out=
	for mod in "${!MODPARAMS[@]}"; do
		# shellcheck disable=SC2086 # params are whitespace-separated
		for p in ${MODPARAMS[$mod]}; do
			out+=" $mod.$p"
		done
	done
	printf '%s' "$out"
}

# /etc/vfn-vm.conf: everything that varies per run, sourced by /init.
write_guest_config() { # FILE
	local var mod arg
	{
		echo "# generated by $PROG"
		echo "VM_BIND=$(sh_quote "$opt_bind")"
		echo "VM_NONCE=$(sh_quote "$NONCE")"
		echo "VM_MODULES=$(sh_quote "${VFIO_MODULES[*]} ${NVME_MODULES[*]}")"
		for mod in "${!MODPARAMS[@]}"; do
			echo "VM_MODPARAMS_$mod=$(sh_quote "${MODPARAMS[$mod]}")"
		done
		while read -r var; do
			echo "export $var=$(sh_quote "${!var}")"
		done < <(compgen -e | grep -E '^(VFN_[A-Za-z0-9_]*|[A-Z]+SAN_OPTIONS)$' | LC_ALL=C sort || true)
		echo "export VFN_BDF=$GUEST_BDF"
		echo "export VFN_GUEST=1"
		echo "export VFN_SERIAL=$(sh_quote "$NVME_SERIAL")"
		if ((HAVE_SHARED_LIBS)); then
			echo "export LD_LIBRARY_PATH=/vfn/lib"
		fi
		printf 'set --'
		for arg in "${guest_cmd[@]}"; do
			printf ' %s' "$(sh_quote "$arg")"
		done
		printf '\n'
	} >"$1"
}

write_guest_init() { # FILE
	cat >"$1" <<'EOF'
#!/bin/sh
# /init of the vfn test guest (generated by scripts/vm.sh).
export PATH=/vfn/bin:/bin:/sbin HOME=/root TMPDIR=/tmp

log() { echo "vfn-init: $*"; }

fatal() {
	log "FATAL: $*"
	sync
	poweroff -f
	sleep 60
}

mount_filesystems() {
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mount -t devtmpfs devtmpfs /dev 2>/dev/null || true
	mkdir -p /dev/shm /dev/pts /dev/vfio
	mount -t tmpfs tmpfs /tmp
	mount -t tmpfs tmpfs /dev/shm
	mount -t devpts devpts /dev/pts 2>/dev/null || true
	# No modprobe database in the guest; do not let the kernel try.
	[ ! -e /proc/sys/kernel/modprobe ] || echo /bin/true >/proc/sys/kernel/modprobe
}

load_modules() {
	for mod in $VM_MODULES; do
		[ -e "/lib/modules/$mod.ko" ] || continue # built in or absent
		params=
		eval "params=\${VM_MODPARAMS_$mod-}"
		# shellcheck disable=SC2086 # params are whitespace-separated
		insmod "/lib/modules/$mod.ko" $params || fatal "insmod $mod $params failed"
	done
}

wait_for() { # PATH
	i=0
	while [ ! -e "$1" ]; do
		i=$((i + 1))
		[ "$i" -le 200 ] || fatal "$1 did not appear"
		sleep 0.05
	done
}

driver_of() { # SYSFS-DEV
	if [ -e "$1/driver" ]; then basename "$(readlink "$1/driver")"; fi
}

# Bind $VFN_BDF as asked. driver_override is set before the drivers are
# loaded so that nvme never grabs a controller meant for vfio-pci.
bind_device() {
	dev=/sys/bus/pci/devices/$VFN_BDF
	[ -d "$dev" ] || fatal "no PCI device at $VFN_BDF"
	case $VM_BIND in
	vfio) echo vfio-pci >"$dev/driver_override" ;;
	none) echo vfn-unbound >"$dev/driver_override" ;;
	esac
	# A built-in nvme driver took the controller at boot: let it go.
	drv=$(driver_of "$dev")
	case $VM_BIND:$drv in
	vfio:vfio-pci | *:) ;;
	vfio:* | none:*) echo "$VFN_BDF" >"$dev/driver/unbind" ;;
	esac
	load_modules
	case $VM_BIND in
	vfio)
		[ "$(driver_of "$dev")" = vfio-pci ] || echo "$VFN_BDF" >/sys/bus/pci/drivers_probe
		[ "$(driver_of "$dev")" = vfio-pci ] || fatal "$VFN_BDF did not bind to vfio-pci"
		group=$(basename "$(readlink "$dev/iommu_group")")
		wait_for /dev/vfio/vfio
		wait_for "/dev/vfio/$group"
		for cdev in "$dev"/vfio-dev/vfio*; do
			# The device cdev (Linux 6.6+ with VFIO_DEVICE_CDEV).
			[ ! -e "$cdev/dev" ] || wait_for "/dev/vfio/devices/${cdev##*/}"
		done
		;;
	nvme)
		wait_for /dev/nvme0
		wait_for /dev/ng0n1
		wait_for /dev/nvme0n1
		;;
	none)
		echo >"$dev/driver_override" # clear it; nothing probes again
		;;
	esac
	log "$VFN_BDF bound to '$(driver_of "$dev")'"
}

# Run the command with its output on ttyS1 (raw: no CR added), then the
# exit marker. Closing the last fd of ttyS1 waits until it has been sent.
run_command() {
	exec 3>/dev/ttyS1
	stty raw -echo <&3 2>/dev/null || stty -F /dev/ttyS1 raw -echo
	cd /vfn || fatal "no /vfn"
	"$@" </dev/null >&3 2>&3 3>&-
	rc=$?
	# Stray background processes could hold ttyS1 open; then our close
	# below would not be the last one and would not wait for the drain.
	kill -KILL -1 2>/dev/null
	printf '@@VFN-EXIT %s %s\n' "$rc" "$VM_NONCE" >&3
	exec 3>&-
	log "command exited with status $rc"
}

mount_filesystems
. /etc/vfn-vm.conf
bind_device
run_command "$@"
sync
poweroff -f
sleep 60
EOF
	chmod 0755 "$1"
}

# Builds the per-run archive and concatenates the initramfs. Sets INITRD.
build_initramfs() {
	local stage f name
	stage=$TMP/stage-run
	mkdir -p "$stage"/{etc,vfn/bin,vfn/lib}
	HAVE_SHARED_LIBS=0
	collect_guest_files
	for f in "${GUEST_FILES[@]}"; do
		name=$(basename "$f")
		cp -L "$f" "$stage/vfn/bin/$name"
		chmod 0755 "$stage/vfn/bin/$name"
		if is_elf "$f"; then
			copy_shared_libs "$f" "$stage"
		fi
	done
	if ((HAVE_SHARED_LIBS)); then
		copy_dlopened_libs "$stage"
	fi
	write_guest_init "$stage/init"
	write_guest_config "$stage/etc/vfn-vm.conf"
	make_cpio "$stage" >"$TMP/run.cpio"
	INITRD=$TMP/initrd.cpio
	cat "$BUSYBOX_CPIO" "$MODULES_CPIO" "$TMP/run.cpio" >"$INITRD"
}

# ---------------------------------------------------------------------------
# QEMU

# A value inside a QEMU option list: commas are doubled.
qemu_escape() {
	printf '%s' "${1//,/,,}"
}

build_qemu_cmdline() {
	local drive
	case $opt_drive in
	tmpimg)
		truncate -s "$opt_img_size" "$TMP/nvm.img" 2>/dev/null ||
			usage_error "--img-size: bad size: $opt_img_size"
		drive="file=$(qemu_escape "$TMP/nvm.img"),format=raw,cache=unsafe,discard=unmap"
		;;
	img) drive="file=$(qemu_escape "$(realpath "$opt_img")"),format=raw,discard=unmap" ;;
	null) drive="file=null-co://,file.read-zeroes=on,format=raw" ;;
	esac

	# no_timer_check: under TCG on a loaded host the kernel's early check
	# that the timer interrupt arrives through the interrupt-remapped
	# IO-APIC can miss its window and panic ("timer doesn't work through
	# Interrupt-remapped IO-APIC"); the timer itself works.
	# shellcheck disable=SC2054 # commas belong to QEMU option values
	QEMU_CMD=(qemu-system-x86_64
		-machine q35,accel=tcg -cpu max -smp "$opt_smp" -m 1G
		-nodefaults -display none -no-reboot -no-user-config
		-device intel-iommu
		-kernel "$KERNEL_IMAGE" -initrd "$INITRD"
		-append "console=ttyS0 intel_iommu=on panic=-1 quiet mitigations=off cryptomgr.notests no_timer_check${KERNEL_APPEND}${opt_append}"
		-chardev "file,id=console,path=$(qemu_escape "$LOG"),append=on" -serial chardev:console
		-chardev "file,id=cmdout,path=$(qemu_escape "$TMP/cmdout.fifo")" -serial chardev:cmdout
		-drive "id=nvm,if=none,$drive")
	QEMU_CMD+=("${opt_qemu_pre_args[@]}")
	if [[ -n $opt_ns_opts ]]; then
		QEMU_CMD+=(-device "nvme,id=nvme0,$opt_nvme_opts"
			-device "nvme-ns,drive=nvm,bus=nvme0,nsid=1,$opt_ns_opts")
	else
		QEMU_CMD+=(-device "nvme,id=nvme0,drive=nvm,$opt_nvme_opts")
	fi
	# --ns: namespaces 2, 3, ... each on its own sparse image.
	local i
	for i in "${!opt_ns_extra[@]}"; do
		truncate -s "$opt_ns_img_size" "$TMP/ns$((i + 2)).img" 2>/dev/null ||
			usage_error "--ns-img-size: bad size: $opt_ns_img_size"
		QEMU_CMD+=(-drive "id=ns$((i + 2)),if=none,file=$(qemu_escape "$TMP/ns$((i + 2)).img"),format=raw,cache=unsafe"
			-device "nvme-ns,drive=ns$((i + 2)),bus=nvme0,nsid=$((i + 2)),${opt_ns_extra[i]}")
	done
	QEMU_CMD+=("${opt_qemu_args[@]}")
}

# Relay the guest command's output from the second serial port to stdout:
# strip the CR a tty may add, stop at the exit marker, record the status.
relay_guest_output() { # RCFILE
	local awk_opts=()
	# mawk fills its input buffer before it processes a line unless told
	# otherwise; we want the output live.
	if awk -W version 2>&1 | grep -q mawk; then awk_opts=(-W interactive); fi
	LC_ALL=C awk "${awk_opts[@]}" -v nonce="$NONCE" -v rcfile="$1" '
	done { next }
	{
		i = index($0, "@@VFN-EXIT ")
		if (i > 0) {
			rest = substr($0, i + 11)
			sub(/\r$/, "", rest)
			n = split(rest, f, " ")
			if (n == 2 && f[2] == nonce && f[1] ~ /^[0-9]+$/) {
				printf "%s", substr($0, 1, i - 1)
				print f[1] > rcfile
				close(rcfile)
				done = 1
				fflush()
				next
			}
		}
		sub(/\r$/, "")
		print
		fflush()
	}'
}

QEMU_PID=
run_qemu() {
	local qemu_rc=0 guest_rc
	mkfifo "$TMP/cmdout.fifo"
	note "$(shell_words "${QEMU_CMD[@]}")"
	# The fd 3 redirection makes this background job open the fifo (it
	# blocks until the relay below opens the other end); QEMU then opens
	# it too. EOF reaches the relay once QEMU and timeout have exited.
	timeout --foreground -k 5 "$opt_timeout" "${QEMU_CMD[@]}" \
		</dev/null >>"$LOG" 2>&1 3>"$TMP/cmdout.fifo" &
	QEMU_PID=$!
	# The relay runs in the background so that a signal to this script is
	# handled at once (bash defers traps while a foreground job runs).
	relay_guest_output "$TMP/guest.rc" <"$TMP/cmdout.fifo" &
	wait "$!" || true
	wait "$QEMU_PID" || qemu_rc=$?
	QEMU_PID=
	END_TIME=$(date +%s.%N)

	if [[ -s $TMP/guest.rc ]]; then
		guest_rc=$(<"$TMP/guest.rc")
		((guest_rc == 0)) || show_log "guest command exited with status $guest_rc"
		return "$guest_rc"
	fi
	if ((qemu_rc == EXIT_TIMEOUT)); then
		show_log "timed out after ${opt_timeout}s"
		return "$EXIT_TIMEOUT"
	fi
	show_log "guest did not run the command to completion (qemu exit status $qemu_rc)"
	return "$EXIT_GUEST_FAILED"
}

# ---------------------------------------------------------------------------
# Logging, cleanup

note() {
	printf '%s: %s\n' "$PROG" "$*" >>"$LOG"
	if [[ -n ${VFN_VM_VERBOSE:-} ]]; then printf '%s: %s\n' "$PROG" "$*" >&2; fi
}

show_log() { # REASON
	{
		printf '%s: %s; console/QEMU log%s:\n' "$PROG" "$1" \
			"${opt_keep_log:+ (kept in $opt_keep_log)}"
		sed 's/\r$//; s/^/| /' "$LOG"
	} >&2
}

TMP_DIRS=()
cleanup() {
	local rc=$?
	if [[ -n $QEMU_PID ]]; then
		kill -TERM "$QEMU_PID" 2>/dev/null || true
		wait "$QEMU_PID" 2>/dev/null || true
	fi
	if [[ -n $opt_keep_log && -n ${LOG:-} && -f $LOG ]]; then
		cp "$LOG" "$opt_keep_log" || true
	fi
	rm -rf "${TMP_DIRS[@]}"
	exit "$rc"
}

on_signal() {
	printf '%s: interrupted\n' "$PROG" >&2
	exit 130
}

main() {
	parse_args "$@"
	check_host_tools

	TMP=$(mktemp -d "${TMPDIR:-/tmp}/vfn-vm.XXXXXX")
	TMP_DIRS+=("$TMP")
	trap cleanup EXIT
	trap on_signal INT TERM HUP
	LOG=$TMP/console.log
	: >"$LOG"
	NONCE=$(od -An -N8 -tx8 /dev/urandom | tr -d ' \n')
	NVME_SERIAL=$(sed -E 's/(^|.*,)serial=([^,]*).*/\2/' <<<"$opt_nvme_opts")

	local start t_ready
	start=$(date +%s.%N)
	collect_modparams
	lock_cache
	prepare_kernel
	prepare_busybox
	unlock_cache
	build_initramfs
	KERNEL_APPEND=
	if [[ $opt_kernel == built ]]; then KERNEL_APPEND=$(modparams_cmdline); fi
	build_qemu_cmdline
	t_ready=$(date +%s.%N)
	note "kernel $KERNEL_ABI, initramfs $(stat -c %s "$INITRD") bytes, prepared in $(awk -v a="$start" -v b="$t_ready" 'BEGIN { printf "%.2f", b - a }')s"

	local rc=0
	run_qemu || rc=$?
	note "total $(awk -v a="$start" -v b="$END_TIME" 'BEGIN { printf "%.2f", b - a }')s, exit status $rc"
	return "$rc"
}

main "$@"
