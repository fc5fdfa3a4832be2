#!/usr/bin/env bash
# Install the policy scanner the Kubernetes tests run (checkov, its Kubernetes checks) in
# a virtualenv of its own: it pins packaging<24, which pytest cannot run with. Idempotent;
# prints the path of the checkov command. Override the place with DOCKERGEN_TOOLS.
set -euo pipefail
version=3.3.30
root="${DOCKERGEN_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/dockergen-tools}"
venv="$root/checkov-$version"
if ! "$venv/bin/checkov" --version >/dev/null 2>&1; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  log="$(mktemp)"
  if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "checkov==$version" >"$log" 2>&1; then
    cat "$log" >&2
    exit 1
  fi
  rm -f "$log"
fi
echo "$venv/bin/checkov"
