#!/usr/bin/env bash
# Build pacsguard's execution environment image (ee/execution-environment.yml) with podman and no
# registry: the base image from images/build.sh, the collection from this tree, and the wheels of
# every Python package the image installs, downloaded here with this machine's pip configuration
# (the build itself reaches no package index). Prints the build time and the image size.
# Usage: tools/build_ee.sh   (PYTHON: the venv's python, which has ansible-builder)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
bin="$(dirname "$python")"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$root/images/containers.conf}"
stage="$root/ee/build"
image="localhost/pacsguard/ee:latest"
started=$(date +%s)

bash "$root/images/build.sh" ee-base
rm -rf "$stage" && mkdir -p "$stage/wheels"
tarball="$("$python" "$root/tools/build_collection.py" --stage-dir "$stage/collection" --output-path "$stage")"
cp "$tarball" "$stage/pacsguard-pacs.tar.gz"

# What the stages install: ansible-core and ansible-runner (the definition's pins), bindep and its
# helpers (builder stage), dumb-init (final stage), the probe's libraries (peer-requirements.txt).
definition="$root/ee/execution-environment.yml"
pins="$("$python" - "$definition" <<'PY'
import sys, yaml
deps = yaml.safe_load(open(sys.argv[1]))["dependencies"]
print(deps["ansible_core"]["package_pip"], deps["ansible_runner"]["package_pip"])
PY
)"
arch="$(uname -m)"
# shellcheck disable=SC2086  # $pins is two requirement specifiers
"$python" -m pip download --quiet --disable-pip-version-check --only-binary=:all: \
  --python-version 3.13 --implementation cp --platform "manylinux2014_$arch" \
  --platform "manylinux_2_28_$arch" --platform "manylinux_2_34_$arch" --platform any \
  -d "$stage/wheels" $pins bindep pyyaml packaging setuptools wheel 'dumb-init==1.2.5' \
  -r "$root/images/peer-requirements.txt" 2>&1 | grep -v "^WARNING: Location" || true
ls "$stage/wheels"/ansible_core-*.whl "$stage/wheels"/pynetdicom-*.whl >/dev/null

# The image this build replaces, removed once the new one is tagged (each build would leave one).
previous="$(podman image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)"
"$bin/ansible-builder" build -f "$definition" -c "$stage/context" --container-runtime podman \
  --tag "$image" >"$stage/build.log" 2>&1 || { tail -30 "$stage/build.log" >&2; exit 1; }
if [ -n "$previous" ] && [ "$previous" != "$(podman image inspect -f '{{.Id}}' "$image")" ]; then
  podman rmi "$previous" >/dev/null 2>&1 || true
fi
size="$(podman image inspect -f '{{.Size}}' "$image")"
echo "built $image in $(( $(date +%s) - started )) s, $(( size / 1000000 )) MB"
