# Shared by the scripts: the project root and the system packages the build and tests need.
# Sourced, not run.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Debian packages the build needs (headers and pkg-config files), and the ones the tests use.
BUILD_PACKAGES=(pkg-config liblua5.4-dev libedit-dev libsqlite3-dev)
TEST_PACKAGES=(lua5.4 tmux curl python3 openssl socat)

# Runs a command as root: directly when we are root, through sudo when it is there.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else
    echo "livechat-lua: need root (or sudo) to run: $*" >&2
    return 1
  fi
}

# Installs whichever of the named Debian packages are missing; quiet when all are present.
ensure_packages() {
  local missing=()
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "livechat-lua: installing system packages: ${missing[*]}" >&2
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# The release build lives in its own folder, so that it never waits on (or invalidates) the
# debug build that the tests use.
RELEASE_SCRATCH="$ROOT/.build-release"
RELEASE_BIN="$RELEASE_SCRATCH/release"

# Builds the release products named (default: livechat-lua) when any source is newer than the
# binary; the Swift runtime is linked statically, which keeps start-up fast.
release_build() {
  local products=("$@")
  [ ${#products[@]} -gt 0 ] || products=(livechat-lua)
  local p stale=0
  for p in "${products[@]}"; do
    if [ ! -x "$RELEASE_BIN/$p" ] || [ -n "$(find "$ROOT/Sources" "$ROOT/Benchmarks" "$ROOT/Package.swift" -newer "$RELEASE_BIN/$p" -type f -print -quit 2>/dev/null)" ]; then
      stale=1
    fi
  done
  [ "$stale" -eq 1 ] || return 0
  ensure_packages "${BUILD_PACKAGES[@]}"
  echo "livechat-lua: building release binaries (the first build takes several minutes)…" >&2
  for p in "${products[@]}"; do
    (cd "$ROOT" && swift build -c release --static-swift-stdlib --scratch-path "$RELEASE_SCRATCH" --product "$p" >&2) || return 1
    touch "$RELEASE_BIN/$p"
  done
}
