#!/usr/bin/env bash
# Create (or update) the project's virtual environment with the whole pinned stack.
#
#   tools/setup_env.sh [VENV_DIR]        (default: .venv; `make test` and `make demo` call this)
#
# mmcv 2.1.0 has no wheel on PyPI: its source is downloaded, checked against a known sha256, patched for
# torch 2.14's C++20 headers and built once per machine into a wheel cache
# ($CLIPSELF_WHEEL_CACHE, default ~/.cache/clipself/wheels), keyed by mmcv, torch, Python and arch.
set -euo pipefail

cd "$(dirname "$0")/.."
VENV=${1:-.venv}
PYTHON=${PYTHON:-python3}
CONSTRAINTS=requirements/constraints.txt
MMCV_VERSION=2.1.0
MMCV_SHA256=d387bcab66b467479b6660310e23746cfc79c6e57acf04094680adb499a5cd3f
TORCH_VERSION=2.14.1
CACHE=${CLIPSELF_WHEEL_CACHE:-$HOME/.cache/clipself/wheels}

log() { printf '[setup] %s\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV with $($PYTHON --version)"
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip -q --disable-pip-version-check)
pipc() { "${PIP[@]}" "$@" -c "$CONSTRAINTS" 2>&1 | grep -v "^WARNING: Location" || true; }

log "torch $TORCH_VERSION, torchvision, build tools"
pipc install 'setuptools<81' wheel "torch==$TORCH_VERSION" torchvision
"$VENV/bin/python" -c "import torch, torchvision, pkg_resources" \
  || { log "torch/torchvision/setuptools did not install; see the output above"; exit 1; }

pyver=$("$VENV/bin/python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
cuda=$("$VENV/bin/python" -c 'import torch, shutil; print("cuda" if torch.cuda.is_available() and shutil.which("nvcc") else "cpu")')
key="mmcv-$MMCV_VERSION-torch$TORCH_VERSION-$pyver-$(uname -m)-$cuda"
wheeldir="$CACHE/$key"
if ! ls "$wheeldir"/mmcv-*.whl >/dev/null 2>&1; then
  log "building mmcv $MMCV_VERSION with compiled ops ($cuda): about 9 minutes, once per machine"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  "${PIP[@]}" download --no-deps --no-binary :all: --no-build-isolation "mmcv==$MMCV_VERSION" -d "$work" \
    2>&1 | grep -v "^WARNING: Location" || true
  archive="$work/mmcv-$MMCV_VERSION.tar.gz"
  [ -f "$archive" ] || { log "could not download mmcv $MMCV_VERSION source"; exit 1; }
  echo "$MMCV_SHA256  $archive" | sha256sum -c --quiet - \
    || { log "sha256 of $archive does not match $MMCV_SHA256"; exit 1; }
  tar -xzf "$archive" -C "$work"
  src="$work/mmcv-$MMCV_VERSION"
  # torch 2.14's headers need C++20; mmcv appends -std=c++17 after torch's flag (the last one wins).
  sed -i "s/'-std=c++17'/'-std=c++20'/g" "$src/setup.py"
  grep -q "'-std=c++20'" "$src/setup.py" || { log "C++20 patch did not apply to $src/setup.py"; exit 1; }
  export MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)}
  [ "$cuda" = cuda ] && export FORCE_CUDA=1
  mkdir -p "$work/dist"
  "$VENV/bin/python" -m pip wheel -q --no-build-isolation --no-deps "$src" -w "$work/dist"
  mkdir -p "$wheeldir"
  mv "$work"/dist/mmcv-*.whl "$wheeldir/"
  log "mmcv wheel cached in $wheeldir"
fi
pipc install "$wheeldir"/mmcv-*.whl

log "the rest of the stack and clipself (editable)"
pipc install -r requirements/runtime.txt -r requirements/tests.txt
pipc install --no-deps -e .
"$VENV/bin/python" -c "import mmcv.ops, mmdet, mmseg, open_clip, timm, clipself" \
  || { log "the environment does not import; see the output above"; exit 1; }
log "ready: $VENV ($("$VENV/bin/python" -c 'import torch, mmcv, open_clip; print("torch", torch.__version__, "mmcv", mmcv.__version__, "open_clip", open_clip.__version__)'))"
