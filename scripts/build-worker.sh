#!/usr/bin/env bash
# Builds mediasoup's C++ worker offline against Debian's own libraries.
# mediasoup's postinstall would download a prebuilt binary or subprojects from GitHub, which this
# environment cannot reach; its pinned subproject versions match bookworm's packages, so each
# subproject is replaced by a stub that declares the same variables from the system library.
# Usage: build-worker.sh <mediasoup package dir> <output binary path>
set -euo pipefail
pkg_dir=$(realpath "$1")
out_bin=$(realpath -m "$2")
build_root=$(mktemp -d "${TMPDIR:-/tmp}/mediasoup-worker-build.XXXXXX")
trap 'rm -rf "$build_root"' EXIT

cp -r "$pkg_dir/worker" "$build_root/worker"
cd "$build_root/worker"

# bookworm's meson 1.0.1 builds this tree fine; only the declared minimum is newer.
sed -i "s/meson_version: '>= 1.1.0'/meson_version: '>= 0.63.0'/" meson.build

rm -f subprojects/*.wrap
stub() { # stub <subproject dir> <meson.build body> [meson_options body]
  mkdir -p "subprojects/$1"
  printf '%s\n' "project('$1', 'c', 'cpp')" "$2" > "subprojects/$1/meson.build"
  if [ $# -ge 3 ]; then printf '%s\n' "$3" > "subprojects/$1/meson_options.txt"; fi
}
empty_lib="static_library('empty', [])"

stub openssl "
openssl_dep = dependency('openssl')
libcrypto_lib = $empty_lib
libssl_lib = libcrypto_lib"
stub nlohmann_json "nlohmann_json_dep = dependency('nlohmann_json')"
stub libuv "
libuv_dep = dependency('libuv')
libuv = $empty_lib" "
option('build_tests', type: 'boolean', value: false)
option('build_benchmarks', type: 'boolean', value: false)"
# Debian puts srtp.h under srtp2/ and its .pc file does not say so; mediasoup includes <srtp.h>.
stub libsrtp2 "
libsrtp2_dep = declare_dependency(
  dependencies: dependency('libsrtp2'),
  compile_args: ['-I/usr/include/srtp2'])
libsrtp2 = $empty_lib" "
option('crypto-library', type: 'string', value: 'openssl')
option('crypto-library-kdf', type: 'string', value: 'disabled')
option('tests', type: 'string', value: 'disabled')"
stub usrsctp "
usrsctp_dep = dependency('usrsctp')
usrsctp = $empty_lib" "
option('sctp_build_programs', type: 'boolean', value: false)"
stub abseil-cpp "
absl_container_dep = dependency('absl_flat_hash_map')
absl_strings_dep = dependency('absl_strings')
absl_types_dep = dependency('absl_optional')
absl_container_lib = $empty_lib"
stub catch2 "catch2_dep = declare_dependency()"

meson setup --buildtype release -Db_ndebug=true --wrap-mode=nodownload out >"$build_root/meson.log" 2>&1 \
  || { cat "$build_root/meson.log" >&2; exit 1; }
ninja -C out mediasoup-worker
mkdir -p "$(dirname "$out_bin")"
cp out/mediasoup-worker "$out_bin.tmp"
mv "$out_bin.tmp" "$out_bin"
echo "mediasoup-worker built: $out_bin"
