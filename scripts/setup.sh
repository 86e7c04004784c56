#!/usr/bin/env bash
# Install the pinned Python tools of this repository into <repo>/.tools/venv (idempotent).
#
#   scripts/setup.sh            the tools the tests need (scripts/requirements.txt); what CI runs
#   scripts/setup.sh --peers    also the peer libraries Evidently and Fairlearn
#                               (scripts/requirements-peers.txt, ~70 packages, ~40 s): needed only
#                               by scripts/fixtures.py and scripts/bench-peers, not by the tests
#                               (the reference values they produce are committed)
#
#   - creates the virtualenv if missing
#   - installs scripts/requirements.txt only when it changed (stamp: .tools/requirements.sha256)
#   - writes .tools/ort-dylib-path: the absolute path of libonnxruntime.so.<version> in the venv
#     (scripts/test exports it as ORT_DYLIB_PATH), and the same path to modelgate's per-user
#     data folder, ${XDG_DATA_HOME:-~/.local/share}/modelgate/ort-dylib-path, where modelgate
#     looks for it when ORT_DYLIB_PATH is not set (never in the repository it runs in)
#   - downloads this machine's pinned onnxruntime wheel (src/batch/onnxruntime-wheels.tsv) into
#     .tools/wheels/ with `pip download --no-deps`, sha256-checked (idempotent): the tests of
#     `modelgate runtime install` serve it from 127.0.0.1
#   - makes sure ssh-keygen exists (openssh-client via apt-get, only if missing)
#   - makes sure /usr/bin/chromium exists (Debian's chromium via apt-get, only if missing), the
#     browser of scripts/browser_check.py; MODELGATE_NO_CHROMIUM=1 skips this step
#   - with --peers: installs scripts/requirements-peers.txt together with scripts/requirements.txt
#     only when either changed (stamp: .tools/requirements-peers.sha256)
set -euo pipefail

PEERS=0
for arg in "$@"; do
  case "$arg" in
    --peers) PEERS=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "setup: unknown argument: $arg (expected --peers)" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
VENV="$TOOLS/venv"
REQ="$ROOT/scripts/requirements.txt"
STAMP="$TOOLS/requirements.sha256"
PEERS_REQ="$ROOT/scripts/requirements-peers.txt"
PEERS_STAMP="$TOOLS/requirements-peers.sha256"
PYTHON="${PYTHON:-python3}"

log() { echo "setup: $*"; }

mkdir -p "$TOOLS"

if ! command -v ssh-keygen >/dev/null 2>&1; then
  log "ssh-keygen missing: installing openssh-client"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq openssh-client >/dev/null
else
  log "ssh-keygen present"
fi

if [ "${MODELGATE_NO_CHROMIUM:-0}" = 1 ]; then
  log "chromium step skipped (MODELGATE_NO_CHROMIUM=1)"
elif [ ! -x /usr/bin/chromium ]; then
  log "chromium missing: installing Debian's chromium (for scripts/browser_check.py)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
else
  log "chromium present"
fi
# Playwright (scripts/requirements.txt) drives /usr/bin/chromium: never its own browser download
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

if [ ! -x "$VENV/bin/python" ]; then
  log "creating virtualenv $VENV"
  "$PYTHON" -m venv "$VENV"
  rm -f "$STAMP" "$PEERS_STAMP"
else
  log "virtualenv present"
fi

want="$(sha256sum "$REQ" | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
if [ "$want" != "$have" ]; then
  log "installing scripts/requirements.txt"
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQ"
  echo "$want" > "$STAMP"
else
  log "requirements unchanged, nothing to install"
fi

if [ "$PEERS" = 1 ]; then
  want="$(cat "$REQ" "$PEERS_REQ" | sha256sum | cut -d' ' -f1)"
  have="$(cat "$PEERS_STAMP" 2>/dev/null || true)"
  if [ "$want" != "$have" ]; then
    log "installing scripts/requirements-peers.txt (evidently, fairlearn)"
    "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQ" -r "$PEERS_REQ"
    DO_NOT_TRACK=1 "$VENV/bin/python" -c 'import evidently, fairlearn' \
      || { echo "setup: error: evidently/fairlearn do not import" >&2; exit 1; }
    echo "$want" > "$PEERS_STAMP"
  else
    log "peer requirements unchanged, nothing to install"
  fi
fi

ORT_VERSION="$(sed -n 's/^onnxruntime==\([0-9.]*\).*/\1/p' "$REQ")"
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
LIB="$SITE/onnxruntime/capi/libonnxruntime.so.$ORT_VERSION"
if [ ! -f "$LIB" ]; then
  echo "setup: error: $LIB not found" >&2
  exit 1
fi
echo "$LIB" > "$TOOLS/ort-dylib-path"
log "onnxruntime library: $LIB (written to .tools/ort-dylib-path)"
DATA_HOME="${XDG_DATA_HOME:-}"
case "$DATA_HOME" in
  /*) ;;
  *) DATA_HOME="${HOME:?}/.local/share" ;;
esac
mkdir -p "$DATA_HOME/modelgate"
echo "$LIB" > "$DATA_HOME/modelgate/ort-dylib-path"
log "onnxruntime library written to $DATA_HOME/modelgate/ort-dylib-path (where modelgate finds it)"

# The pinned onnxruntime wheel of this machine (src/batch/onnxruntime-wheels.tsv, the pins of
# `modelgate runtime install`) in .tools/wheels/, sha256-checked: the tests serve it from
# 127.0.0.1 to install it without the network.
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) PLATFORM=linux-x86_64 ;;
  Linux-aarch64|Linux-arm64) PLATFORM=linux-aarch64 ;;
  Darwin-arm64) PLATFORM=macos-aarch64 ;;
  *) PLATFORM="" ;;
esac
if [ -z "$PLATFORM" ]; then
  echo "setup: error: no pinned onnxruntime wheel for $(uname -s)-$(uname -m) (src/batch/onnxruntime-wheels.tsv)" >&2
  exit 1
fi
PIN="$(awk -F'\t' -v p="$PLATFORM" '$1 == p' "$ROOT/src/batch/onnxruntime-wheels.tsv")"
WHEEL_URL="$(printf '%s\n' "$PIN" | cut -f2)"
WHEEL_SHA="$(printf '%s\n' "$PIN" | cut -f3)"
WHEEL="${WHEEL_URL##*/}"
WHEELS="$TOOLS/wheels"
if [ -f "$WHEELS/$WHEEL" ] && [ "$(sha256sum "$WHEELS/$WHEEL" | cut -d' ' -f1)" = "$WHEEL_SHA" ]; then
  log "onnxruntime wheel present: .tools/wheels/$WHEEL"
else
  # The tags in its name (onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl) select it.
  IFS=- read -r _ WHEEL_VERSION PY_TAG ABI_TAG PLATFORM_TAG <<< "${WHEEL%.whl}"
  log "downloading $WHEEL into .tools/wheels"
  tmp="$(mktemp -d)"
  "$PYTHON" -m pip download --disable-pip-version-check -q --no-deps --only-binary=:all: \
    --implementation cp --python-version "3.${PY_TAG#cp3}" --abi "$ABI_TAG" \
    --platform "$PLATFORM_TAG" -d "$tmp" "onnxruntime==$WHEEL_VERSION"
  got="$(sha256sum "$tmp/$WHEEL" | cut -d' ' -f1)"
  if [ "$got" != "$WHEEL_SHA" ]; then
    rm -rf "$tmp"
    echo "setup: error: $WHEEL has sha256 $got, but src/batch/onnxruntime-wheels.tsv pins $WHEEL_SHA" >&2
    exit 1
  fi
  mkdir -p "$WHEELS"
  mv "$tmp/$WHEEL" "$WHEELS/$WHEEL"
  rm -rf "$tmp"
  log "onnxruntime wheel: .tools/wheels/$WHEEL (sha256 checked)"
fi

GI="$ROOT/.gitignore"
touch "$GI"
for line in ".tools/" "/target" "/site"; do
  grep -qxF "$line" "$GI" || echo "$line" >> "$GI"
done
log "done"
