#!/usr/bin/env bash
# End-to-end test of the packaged extension in a real VS Code (code-server 4.100.3 = VS Code
# 1.100.3), driven by Debian's chromium through playwright-core. Installs what is missing (apt
# packages, code-server into a tools folder outside the repository), packages the .vsix, installs
# it into a code-server with its own folders, and runs test/vscode/e2e.mjs. Screenshots go to
# test-artifacts/vscode-e2e/.
#
# Environment: ENGRAM_E2E_TOOLS (default ~/.cache/engram-e2e) holds code-server;
# ENGRAM_E2E_PORT (default 18080) is the 127.0.0.1 port; ENGRAM_E2E_SKIP_PACKAGE=1 reuses the last .vsix;
# ENGRAM_E2E_ATTEMPTS (default 2) is how many times a failing run is tried.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
tools="${ENGRAM_E2E_TOOLS:-$HOME/.cache/engram-e2e}"
code_server_version=4.100.3
# @vscode/ripgrep 1.15.11, a code-server dependency, downloads rg in its postinstall unless this
# cached tarball exists. The script packs the rg that apt installed into that tarball.
ripgrep_cache_name=vscode-ripgrep-cache-1.15.11
ripgrep_tarball=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz

log() { printf '[vscode-e2e] %s\n' "$*" >&2; }

install_apt_packages() {
  local missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v rg >/dev/null 2>&1 || missing+=(ripgrep)
  # Headers for code-server's native modules (kerberos, native-keymap, keytar), built by its postinstall.
  local package
  for package in pkg-config libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  if ((${#missing[@]} > 0)); then
    log "installing ${missing[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

install_code_server() {
  local bin="$tools/code-server/node_modules/.bin/code-server"
  if [[ -x "$bin" ]] && "$bin" --version 2>/dev/null | grep -q "^$code_server_version"; then
    return
  fi
  log "installing code-server $code_server_version into $tools/code-server (about 45 s)"
  local tmp="${TMPDIR:-/tmp}"
  mkdir -p "$tmp/$ripgrep_cache_name" "$tools/code-server"
  if [[ ! -f "$tmp/$ripgrep_cache_name/$ripgrep_tarball" ]]; then
    local staging
    staging="$(mktemp -d)"
    cp "$(command -v rg)" "$staging/rg"
    tar -czf "$tmp/$ripgrep_cache_name/$ripgrep_tarball" -C "$staging" rg
    rm -rf "$staging"
  fi
  (
    cd "$tools/code-server"
    [[ -f package.json ]] || echo '{"name":"engram-e2e-tools","private":true}' > package.json
    npm_config_unsafe_perm=true npm_config_yes=true npm install --no-audit --no-fund --loglevel=error "code-server@$code_server_version" >&2
  )
}

package_extension() {
  if [[ "${ENGRAM_E2E_SKIP_PACKAGE:-}" == 1 && -f "$root/test-artifacts/engram-studio.vsix" ]]; then
    return
  fi
  log "building and packaging the extension"
  mkdir -p "$root/test-artifacts/vscode-e2e"
  (cd "$root" && node scripts/build.mjs --production && npx vsce package --no-update-package-json --no-rewrite-relative-links --allow-missing-repository -o test-artifacts/engram-studio.vsix >&2)
}

install_apt_packages
install_code_server
[[ -d "$root/node_modules/playwright-core" ]] || (cd "$root" && npm install --no-audit --no-fund >&2)
package_extension

export CODE_SERVER_BIN="$tools/code-server/node_modules/.bin/code-server"
export CHROMIUM_BIN="$(command -v chromium)"
export ENGRAM_VSIX="$root/test-artifacts/engram-studio.vsix"
# The browser-driven steps depend on rendering timing on a loaded machine. So a failed run is
# tried once more in a fresh code-server, and the first failure stays in the log above.
attempts="${ENGRAM_E2E_ATTEMPTS:-2}"
for ((attempt = 1; attempt <= attempts; attempt++)); do
  if node "$root/test/vscode/e2e.mjs" "$@"; then
    exit 0
  fi
  if ((attempt < attempts)); then
    log "attempt $attempt of $attempts failed; retrying once in a fresh code-server"
  fi
done
exit 1
