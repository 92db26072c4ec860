#!/usr/bin/env bash
# Builds the native TensorFlow backend (@tensorflow/tfjs-node) without its install script.
#
# The package's own install script downloads libtensorflow from Google's storage. This script
# takes the TensorFlow C library from the tensorflow-cpu wheel instead, which pip can fetch from
# PyPI or a local wheel index. It compiles the N-API binding against it with node-gyp and checks
# that the project's copy of @tensorflow/tfjs-core then has the 'tensorflow' backend.
#
# Linux x86_64 only. Needs node, npm, python3 with pip, unzip, make and a C++ compiler.
# Environment:
#   TFJS_TENSORFLOW_WHEEL  path of an already downloaded tensorflow-cpu 2.21.0 wheel; skips pip
#
# A later plain `npm install` removes @tensorflow/tfjs-node again, because package.json does
# not list it; run this script again after one.
set -euo pipefail

readonly TFJS_NODE_VERSION=4.22.0
readonly TENSORFLOW_VERSION=2.21.0
# tfjs-node 4.22.0 loads lib/napi-v<N>/tfjs_binding.node, where N is the highest N-API version
# in its package.json "binary.napi_versions" list that Node supports. That list ends at 8.
readonly NAPI_BUILD_VERSION=8

project_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
package_dir="$project_root/node_modules/@tensorflow/tfjs-node"
gpu_package_dir="$project_root/node_modules/@tensorflow/tfjs-node-gpu"
cd "$project_root"

log() { printf 'build-native-backend: %s\n' "$*" >&2; }
fail() {
  log "error: $*"
  exit 1
}

# Prints 'ok' when tfjs-node loads and selects the 'tensorflow' backend on the project's
# tfjs-core, which tfjs-node and @tensorflow/tfjs must both resolve. Otherwise it prints the
# reason. The exit status is 0 in both cases, so callers can show the reason.
check_native_backend() {
  TF_CPP_MIN_LOG_LEVEL=2 node -e '
    const path = require("path");
    try {
      const rootCore = require.resolve("@tensorflow/tfjs-core");
      for (const consumer of ["@tensorflow/tfjs-node", "@tensorflow/tfjs"]) {
        const consumerDir = path.dirname(require.resolve(consumer + "/package.json"));
        const consumerCore = require.resolve("@tensorflow/tfjs-core", { paths: [consumerDir] });
        if (consumerCore !== rootCore) {
          console.log(consumer + " uses a second copy of @tensorflow/tfjs-core at " + consumerCore);
          process.exit(0);
        }
      }
      const native = require("@tensorflow/tfjs-node");
      const core = require("@tensorflow/tfjs-core");
      if (native.getBackend() !== "tensorflow") {
        console.log("tfjs-node loaded but the active backend is " + native.getBackend());
      } else if (!core.findBackend("tensorflow")) {
        console.log("the tfjs-core at " + rootCore + " has no tensorflow backend after loading tfjs-node");
      } else {
        console.log("ok");
      }
    } catch (error) {
      console.log(String(error && error.message ? error.message : error).split("\n")[0]);
    }
  ' 2>/dev/null || echo "node exited with status $?"
}

# --- Preconditions -------------------------------------------------------------------------

if [[ "$(uname -s)" != "Linux" || "$(uname -m)" != "x86_64" ]]; then
  fail "this script supports Linux x86_64 only (found $(uname -s) $(uname -m)). On other systems run 'npm install @tensorflow/tfjs-node@$TFJS_NODE_VERSION', whose install script downloads a prebuilt binding."
fi

for tool in node npm unzip make; do
  command -v "$tool" >/dev/null || fail "'$tool' is not on PATH; install it and run this script again."
done
if ! command -v c++ >/dev/null && ! command -v g++ >/dev/null; then
  fail "no C++ compiler found (c++ or g++); install one (Debian: apt-get install g++) and run this script again."
fi

if [[ ! -f node_modules/@tensorflow/tfjs-core/package.json ]]; then
  fail "node_modules/@tensorflow/tfjs-core is missing; run 'npm install' in $project_root first."
fi
core_version="$(node -p 'require("@tensorflow/tfjs-core/package.json").version')"
if [[ "$core_version" != "$TFJS_NODE_VERSION" ]]; then
  fail "the project has @tensorflow/tfjs-core $core_version but tfjs-node $TFJS_NODE_VERSION needs $TFJS_NODE_VERSION; align the versions in package.json."
fi

status="$(check_native_backend)"
if [[ "$status" == "ok" ]]; then
  log "@tensorflow/tfjs-node already loads and registers the 'tensorflow' backend; nothing to do."
  exit 0
fi
log "native backend not usable yet ($status); setting it up."
started=$SECONDS

# --- 1. Install the package without running its install script -----------------------------

gpu_present_before=false
[[ -e "$gpu_package_dir" ]] && gpu_present_before=true

installed_version="$(node -p 'try { require("@tensorflow/tfjs-node/package.json").version } catch { "" }')"
if [[ "$installed_version" != "$TFJS_NODE_VERSION" ]]; then
  log "installing @tensorflow/tfjs-node@$TFJS_NODE_VERSION into node_modules (install scripts off, package.json unchanged)"
  npm install --ignore-scripts --no-save --no-audit --no-fund "@tensorflow/tfjs-node@$TFJS_NODE_VERSION" >&2 \
    || fail "npm install @tensorflow/tfjs-node@$TFJS_NODE_VERSION failed; see npm's output above."
fi

# With scripts off, npm also installs the optional @tensorflow/tfjs-node-gpu without its
# binding. A normal install removes that package when its script fails, so this restores that
# state, because a present but unbuilt package would only add a misleading backend probe entry.
if [[ "$gpu_present_before" == false && -e "$gpu_package_dir" ]]; then
  log "removing the @tensorflow/tfjs-node-gpu that npm installed without its binding (no GPU build of TensorFlow is available offline)"
  rm -rf "$gpu_package_dir"
fi

# --- 2. Keep a single copy of tfjs-core ------------------------------------------------------

# tfjs-node and @tensorflow/tfjs must resolve the project's tfjs-core. tfjs-core 4.22.0 keeps its
# engine in a global, so a nested copy still shares the backend, but it loads every tfjs-core
# module twice and prints "Platform node has already been set".
root_core="$(node -p 'require.resolve("@tensorflow/tfjs-core")')"
for consumer in @tensorflow/tfjs-node @tensorflow/tfjs; do
  consumer_dir="$project_root/node_modules/$consumer"
  [[ -d "$consumer_dir" ]] || continue
  consumer_core="$(node -p 'require.resolve("@tensorflow/tfjs-core", { paths: [process.argv[1]] })' "$consumer_dir")"
  if [[ "$consumer_core" != "$root_core" ]]; then
    nested_dir="${consumer_core%%/@tensorflow/tfjs-core/*}/@tensorflow/tfjs-core"
    log "removing the second copy of @tensorflow/tfjs-core at $nested_dir so that $consumer uses $root_core"
    rm -rf "$nested_dir"
  fi
done

status="$(check_native_backend)"
if [[ "$status" == "ok" ]]; then
  log "done in $((SECONDS - started)) s: the binding was already built; require('@tensorflow/tfjs-node') selects the 'tensorflow' backend on $root_core"
  exit 0
fi

# --- 3. Take libtensorflow and its C API headers from the tensorflow-cpu wheel ---------------

work_dir="$(mktemp -d)"
trap 'rm -rf "$work_dir"' EXIT

wheel="${TFJS_TENSORFLOW_WHEEL:-}"
if [[ -z "$wheel" ]]; then
  if command -v python3 >/dev/null; then
    pip_command=(python3 -m pip)
  elif command -v pip >/dev/null; then
    pip_command=(pip)
  else
    fail "neither python3 nor pip is on PATH; install python3 with pip, or set TFJS_TENSORFLOW_WHEEL to a tensorflow-cpu $TENSORFLOW_VERSION wheel."
  fi
  log "downloading the tensorflow-cpu $TENSORFLOW_VERSION wheel with pip"
  "${pip_command[@]}" download --no-deps --only-binary=:all: "tensorflow-cpu==$TENSORFLOW_VERSION" -d "$work_dir" >&2 \
    || fail "pip could not download tensorflow-cpu==$TENSORFLOW_VERSION; check pip's index settings, or set TFJS_TENSORFLOW_WHEEL to a downloaded wheel."
  wheel="$(find "$work_dir" -maxdepth 1 -name 'tensorflow_cpu-*.whl' | head -n 1)"
  [[ -n "$wheel" ]] || fail "pip reported success but no tensorflow_cpu-*.whl is in $work_dir."
fi
[[ -f "$wheel" ]] || fail "TFJS_TENSORFLOW_WHEEL=$wheel is not a file."

log "unpacking libtensorflow_cc.so.2, libtensorflow_framework.so.2 and the C API headers into $package_dir/deps"
rm -rf "$package_dir/deps"
mkdir -p "$package_dir/deps/lib" "$package_dir/deps/include"
unzip -q -j -o "$wheel" tensorflow/libtensorflow_cc.so.2 tensorflow/libtensorflow_framework.so.2 -d "$package_dir/deps/lib" \
  || fail "$wheel does not contain tensorflow/libtensorflow_cc.so.2 and tensorflow/libtensorflow_framework.so.2."
# The binding includes only the C API. These folders contain it and every header it includes
# (checked with g++ -MM for tensorflow-cpu 2.21.0). The wheel's full include tree is 287 MB.
unzip -q -o "$wheel" \
  'tensorflow/include/tensorflow/c/*' \
  'tensorflow/include/tensorflow/core/platform/*' \
  'tensorflow/include/tsl/*' \
  'tensorflow/include/xla/tsl/c/*' \
  -d "$work_dir/wheel" \
  || fail "$wheel does not contain the TensorFlow C API headers under tensorflow/include."
cp -R "$work_dir/wheel/tensorflow/include/." "$package_dir/deps/include/"

# binding.gyp links with -ltensorflow -ltensorflow_framework. The wheel's C API library is
# libtensorflow_cc.so.2, whose soname the binding then records and finds through its rpath.
ln -sf libtensorflow_cc.so.2 "$package_dir/deps/lib/libtensorflow.so"
ln -sf libtensorflow_framework.so.2 "$package_dir/deps/lib/libtensorflow_framework.so"

# --- 4. Compile the N-API binding --------------------------------------------------------------

gyp_args=(
  rebuild
  --module_name=tfjs_binding
  "--module_path=$package_dir/lib/napi-v$NAPI_BUILD_VERSION"
  "--napi_build_version=$NAPI_BUILD_VERSION"
)
# Headers of the running Node, when it was installed with them, spare node-gyp a download.
node_prefix="$(dirname "$(dirname "$(command -v node)")")"
if [[ -f "$node_prefix/include/node/node_api.h" ]]; then
  gyp_args+=("--nodedir=$node_prefix")
fi

log "compiling tfjs_binding.node with node-gyp 12"
(cd "$package_dir" && npx --yes node-gyp@12 "${gyp_args[@]}" >&2) \
  || fail "node-gyp could not build the binding; see its output above (a C++ compiler, make and python3 are required)."

# --- 5. Verify ---------------------------------------------------------------------------------

status="$(check_native_backend)"
if [[ "$status" != "ok" ]]; then
  fail "the build finished but the native backend does not work: $status"
fi
log "done in $((SECONDS - started)) s: require('@tensorflow/tfjs-node') selects the 'tensorflow' backend on $root_core"
