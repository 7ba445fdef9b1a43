# Shared by the scripts: the project root and the system packages the build and tests need.
# Sourced, not run.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Debian packages the build needs (headers and pkg-config files), and the ones the tests use.
BUILD_PACKAGES=(pkg-config liblua5.4-dev libedit-dev libsqlite3-dev)
TEST_PACKAGES=(lua5.4 tmux)

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
