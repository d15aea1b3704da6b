#!/usr/bin/env bash
# Installs code-server 4.100.3 (VS Code 1.100.3 served to a browser) for tests/e2e/e2e.js,
# using only the npm registry and Debian packages. Idempotent: a finished step is skipped,
# so a second run takes about a second.
#
# Why not `npm install code-server`: its postinstall runs `npm install` inside lib/vscode,
# where @vscode/ripgrep downloads rg from GitHub and the native add-ons (kerberos, argon2)
# try GitHub prebuilt binaries first; offline, that fails. So every npm install here runs
# with --ignore-scripts and we do what the postinstall would have done ourselves: build
# the add-ons from source against the system's Node headers, use Debian's rg, make the
# postinstall's symlinks.
#
# Usage: tests/e2e/setup-code-server.sh [--clean] [--no-apt]
#   --clean    remove PREFIX first
#   --no-apt   never call apt-get (fail, naming the missing packages, instead)
# Env: PREFIX (default ${XDG_CACHE_HOME:-~/.cache}/azmlinfsrv-e2e/code-server),
#      CS_VERSION (default 4.100.3: the last release whose engines field is Node 20),
#      NODEDIR (default /usr: must hold include/node/node.h).
# Prints the path of code-server's entry.js on its last line (what e2e.js's CODE_SERVER wants).
# playwright-core and @vscode/vsce are devDependencies of the repository (npm ci), not installed here.
set -euo pipefail

PREFIX=${PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/azmlinfsrv-e2e/code-server}
CS_VERSION=${CS_VERSION:-4.100.3}
NODEDIR=${NODEDIR:-/usr}
APT_PACKAGES="build-essential python3 pkg-config libkrb5-dev ripgrep chromium"
USE_APT=1
for arg in "$@"; do
  case $arg in
    --clean) rm -rf "$PREFIX" ;;
    --no-apt) USE_APT=0 ;;
    *) echo "setup-code-server.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

CS_DIR=$PREFIX/node_modules/code-server
VSCODE_DIR=$CS_DIR/lib/vscode
ENTRY=$CS_DIR/out/node/entry.js
LOGS=$PREFIX/logs
# npm's own node-gyp: present wherever npm is, and it honours --nodedir (no header download).
NODE_GYP="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
export npm_config_nodedir=$NODEDIR

# run NAME FUNCTION: FUNCTION's output goes to $LOGS/NAME.log; on failure its tail is shown.
run() {
  local name=$1 fn=$2 start=$SECONDS
  printf '%-24s ' "$name"
  if ! ( set -euo pipefail; "$fn" ) >"$LOGS/$name.log" 2>&1; then
    echo "FAILED (log: $LOGS/$name.log)"
    tail -n 25 "$LOGS/$name.log" | sed 's/^/  | /'
    exit 1
  fi
  echo "ok $((SECONDS - start))s$(grep -q '^already done' "$LOGS/$name.log" && echo ' (already done)')"
}

check_node() {
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" = 20 ] || { echo "code-server $CS_VERSION runs on Node 20; this is Node $(node -v)"; exit 1; }
  [ -f "$NODE_GYP" ] || { echo "npm's node-gyp is not at $NODE_GYP"; exit 1; }
  # Without them node-gyp tries a download (no network) and fails late and unclearly.
  [ -f "$NODEDIR/include/node/node.h" ] || { echo "no Node headers in $NODEDIR/include/node"; exit 1; }
  echo "node $(node -v), node-gyp $NODE_GYP"
}

apt_packages() {
  local missing=""
  for p in $APT_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
  done
  if [ -z "$missing" ]; then echo "already done"; return 0; fi
  [ $USE_APT = 1 ] || { echo "missing Debian packages:$missing"; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086  # a list of names
  apt-get install -y -qq --no-install-recommends $missing
}

code_server_package() {
  if [ -f "$CS_DIR/package.json" ] && [ "$(node -p "require('$CS_DIR/package.json').version")" = "$CS_VERSION" ]; then
    echo "already done"; return 0
  fi
  cd "$PREFIX"
  [ -f package.json ] || echo '{"name": "azmlinfsrv-e2e-code-server", "private": true}' >package.json
  npm install --ignore-scripts --no-save "code-server@$CS_VERSION"
  rm -f "$PREFIX"/.done-*   # a new code-server invalidates the steps below
}

# once STAMP DIR: npm install the production dependencies of DIR (pinned by its shrinkwrap) once.
npm_deps_once() {
  local stamp=$PREFIX/.done-$1 dir=$2
  if [ -f "$stamp" ]; then echo "already done"; return 0; fi
  cd "$dir"
  npm install --omit=dev --ignore-scripts
  touch "$stamp"
}
vscode_deps() { npm_deps_once vscode-deps "$VSCODE_DIR"; }
builtin_extension_deps() {
  npm_deps_once extension-deps "$VSCODE_DIR/extensions"
  # The local postinstall only trims the bundled typescript; nothing from the network.
  (cd "$VSCODE_DIR/extensions" && node ./postinstall.mjs)
}

# gyp_build DIR FILE: build DIR's add-on from source unless FILE (relative to DIR) exists.
gyp_build() {
  if [ -f "$1/$2" ]; then echo "$1: already built"; return 0; fi
  (cd "$1" && node "$NODE_GYP" rebuild --nodedir="$NODEDIR" -j "$(nproc)")
  [ -f "$1/$2" ]
}

native_addons() {
  local nm=$VSCODE_DIR/node_modules
  gyp_build "$nm/node-pty" build/Release/pty.node
  gyp_build "$nm/@vscode/spdlog" build/Release/spdlog.node
  gyp_build "$nm/native-watchdog" build/Release/watchdog.node
  gyp_build "$nm/kerberos" build/Release/kerberos.node
  gyp_build "$nm/@vscode/deviceid" build/Release/windows.node # a stub on Linux, as in a normal install
  # @parcel/watcher's binary is its own npm package (@parcel/watcher-linux-x64-glibc): nothing to build.
  rm -rf "$nm/node-pty/build/Release/obj.target" "$nm/@vscode/spdlog/build/Release/obj.target"
  # argon2 (password auth) sits beside code-server; node-pre-gyp would try GitHub first.
  local argon=$PREFIX/node_modules/argon2
  if ! ls "$argon"/lib/binding/napi-v*/argon2.node >/dev/null 2>&1; then
    (cd "$argon" && PATH="$(dirname "$NODE_GYP"):$PATH" \
      node ../@mapbox/node-pre-gyp/bin/node-pre-gyp install --build-from-source --nodedir="$NODEDIR")
  fi
  ls "$argon"/lib/binding/napi-v*/argon2.node
}

postinstall_links() {
  # @vscode/ripgrep wants rg in its bin/; Debian's ripgrep 13 is the release it would download.
  mkdir -p "$VSCODE_DIR/node_modules/@vscode/ripgrep/bin"
  cp -f "$(command -v rg)" "$VSCODE_DIR/node_modules/@vscode/ripgrep/bin/rg"
  cd "$VSCODE_DIR"
  ln -sfn node_modules node_modules.asar
  ln -sfn code-linux.sh bin/remote-cli/code-server
  ln -sfn browser-linux.sh bin/helpers/browser.sh
}

verify() {
  # Every native module code-server loads on Linux must load in this Node, and it must start.
  (cd "$VSCODE_DIR" && node -e "
    for (const m of ['node-pty', '@vscode/spdlog', 'native-watchdog', 'kerberos', '@parcel/watcher', '@vscode/ripgrep']) {
      require(m); console.log('loads', m);
    }")
  (cd "$PREFIX" && node -e "require('argon2'); console.log('loads argon2')")
  local config
  config=$(mktemp)
  printf 'bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n' >"$config"
  node "$ENTRY" --config "$config" --version
  rm -f "$config"
}

mkdir -p "$PREFIX" "$LOGS"
echo "code-server $CS_VERSION into $PREFIX"
run apt-packages apt_packages
run node check_node
run code-server code_server_package
run vscode-deps vscode_deps
run builtin-extensions builtin_extension_deps
run native-addons native_addons
run postinstall-links postinstall_links
run verify verify
echo "$ENTRY"
