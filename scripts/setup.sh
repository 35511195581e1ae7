#!/usr/bin/env bash
# Installs whatever is missing for running (default) or testing (--test) the server, and skips what
# is already there, so a second run takes seconds:
#   1. Debian packages (GStreamer, the mediasoup worker's build deps; ffmpeg + chromium for tests)
#   2. npm packages (npm ci, mediasoup's download-only postinstall skipped)
#   3. the mediasoup worker, built offline from source (skipped when MEDIASOUP_WORKER_BIN is given)
#   4. the recorder's GStreamer addon (plugin/recording/recorder/gst), rebuilt when its source changed
#   5. the TypeScript build (incremental)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

MODE=run
QUIET=0
for arg in "$@"; do
  case "$arg" in
    --test) MODE=test ;;
    --quiet) QUIET=1 ;;
    *) echo "setup.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done
say() { [ "$QUIET" = 1 ] || echo "[setup] $*" >&2; }

# Two setups at once (npm start beside npm test) would run npm ci over each other's node_modules.
mkdir -p .cache
exec 9>.cache/setup.lock
flock 9

MEDIASOUP_VERSION=3.12.16
WORKER_CACHE="$ROOT/.cache/mediasoup-worker-$MEDIASOUP_VERSION/mediasoup-worker"

RUN_PACKAGES=(
  g++ make python3 pkg-config
  meson ninja-build libssl-dev libuv1-dev libsrtp2-dev libusrsctp-dev libabsl-dev nlohmann-json3-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libopus-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
)
# iproute2: tests that put a server in a network namespace of their own (ip netns + veth)
# redis-server: cluster tests start their own on a free loopback port (test/support/redisServer.ts)
TEST_PACKAGES=(ffmpeg chromium iproute2 redis-server)

# --- 1. Debian packages -------------------------------------------------------------------------
wanted=("${RUN_PACKAGES[@]}")
[ "$MODE" = test ] && wanted+=("${TEST_PACKAGES[@]}")
missing=()
for package in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "setup.sh: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  # The package starts a system Redis on 6379 and enables it at boot. Tests never use it (each starts
  # its own); stop and disable it so no one relies on it by accident. Best effort: without an init
  # system (containers) nothing was started.
  if [[ " ${missing[*]} " == *" redis-server "* ]]; then
    if [ -d /run/systemd/system ]; then
      $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
    else
      $SUDO service redis-server stop >/dev/null 2>&1 || true
      $SUDO update-rc.d redis-server disable >/dev/null 2>&1 || true
    fi
  fi
fi

# --- 2. npm packages ----------------------------------------------------------------------------
lock_hash=$(sha256sum package-lock.json package.json | sha256sum | cut -c1-16)
stamp=node_modules/.setup-lock-hash
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
  say "installing npm packages"
  # mediasoup's postinstall skips all work (download or build) when MEDIASOUP_WORKER_BIN is set;
  # the worker is built below instead.
  MEDIASOUP_WORKER_BIN="${MEDIASOUP_WORKER_BIN:-$WORKER_CACHE}" npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$lock_hash" > "$stamp"
fi

# --- 3. mediasoup worker ------------------------------------------------------------------------
if [ -n "${MEDIASOUP_WORKER_BIN:-}" ]; then
  [ -x "$MEDIASOUP_WORKER_BIN" ] || { echo "setup.sh: MEDIASOUP_WORKER_BIN=$MEDIASOUP_WORKER_BIN is not an executable" >&2; exit 1; }
  say "using user-supplied mediasoup worker $MEDIASOUP_WORKER_BIN"
else
  if [ ! -x "$WORKER_CACHE" ]; then
    say "building mediasoup-worker $MEDIASOUP_VERSION from source (about 6 minutes on 2 cores)"
    bash scripts/build-worker.sh node_modules/mediasoup "$WORKER_CACHE" >&2
  fi
  # mediasoup 3.12 looks for its worker here when MEDIASOUP_WORKER_BIN is unset.
  packaged=node_modules/mediasoup/worker/out/Release/mediasoup-worker
  if [ ! -x "$packaged" ]; then
    mkdir -p "$(dirname "$packaged")"
    cp "$WORKER_CACHE" "$packaged"
  fi
fi

# --- 4. the recorder's GStreamer addon ---------------------------------------------------------
GST_ADDON_DIR=plugin/recording/recorder/gst
GST_ADDON=$GST_ADDON_DIR/build/Release/confrec_gst.node
addon_stale() {
  [ -f "$GST_ADDON" ] || return 0
  [ -n "$(find "$GST_ADDON_DIR" -maxdepth 1 \( -name '*.c' -o -name '*.h' -o -name binding.gyp \) -newer "$GST_ADDON" -print -quit)" ]
}
if addon_stale; then
  say "building the recorder's GStreamer addon"
  # --nodedir: Node's own headers (Debian's nodejs ships them), so node-gyp downloads nothing.
  (cd "$GST_ADDON_DIR" && "$ROOT/node_modules/.bin/node-gyp" rebuild --nodedir="$(dirname "$(dirname "$(command -v node)")")" --loglevel=warn >&2)
fi

# --- 5. TypeScript build ------------------------------------------------------------------------
say "compiling TypeScript"
npx --no-install tsc -p tsconfig.json >&2
if [ -f scripts/build-web.js ]; then node scripts/build-web.js >&2; fi
# The web page is bundled by esbuild without type checks; tests check it.
if [ "$MODE" = test ] && [ -f web/tsconfig.json ]; then npx --no-install tsc -p web/tsconfig.json --noEmit >&2; fi
say "ready"
