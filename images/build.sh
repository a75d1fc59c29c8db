#!/usr/bin/env bash
# Build pacsguard's test-host images locally, with no registry: Debian rootfs (bookworm = Debian 12,
# trixie = Debian 13) made by debootstrap from the mirror this machine's apt already uses, imported
# into podman, then layered (systemd, Orthanc, DCMTK, a probe venv from wheels downloaded on the
# controller). The Debian 13 hosts are the same layers built on trixie-base: trixie-systemd,
# trixie-orthanc, trixie-dcmqrscp, and trixie-orthanc-dicomweb (Orthanc with Debian's DICOMweb
# plugin, one scenario host); the peer image stays on Debian 12. Cached: an image that exists
# is not rebuilt (FORCE=1 rebuilds).
# Usage: images/build.sh [base|systemd|orthanc|dcmqrscp|peer|ee-base|trixie|all]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$here/build"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"
prefix="localhost/pacsguard"
want="${1:-all}"

# The parent of an image; a trixie-NAME layer is Containerfile.NAME built on the trixie parent.
parent_of() {
  case "$1" in
    systemd) echo bookworm-base ;;
    trixie-systemd|ee-base) echo trixie-base ;;
    trixie-orthanc-dicomweb) echo trixie-orthanc ;;
    trixie-*) echo trixie-systemd ;;
    *) echo systemd ;;
  esac
}

# The recipe of a layer: its Containerfile and its parent's recipe. An image whose label differs (an
# older recipe) is rebuilt, so a changed Containerfile never leaves a stale cached image behind.
recipe() {
  local name="$1"
  case "$name" in
    bookworm-base) echo "minbase-netbase-ca-v1"; return 0 ;;
    ee-base) ;;  # a layer (Containerfile.ee-base), not a debootstrap base
    *-base) echo "minbase-netbase-ca-v1-${name%-base}"; return 0 ;;
  esac
  local extra=/dev/null
  [ "$name" = ee-base ] && extra="$here/ee-pkgmgr"
  cat "$here/Containerfile.${name#trixie-}" "$extra" <(recipe "$(parent_of "$name")") \
    | sha256sum | cut -c1-16
}

have_image() {
  local name="$1"
  [ "${FORCE:-0}" != 1 ] || return 1
  podman image exists "$prefix/$name" || return 1
  [ "$(podman image inspect -f '{{ index .Labels "pacsguard.recipe" }}' "$prefix/$name" 2>/dev/null)" \
    = "$(recipe "$name")" ]
}

# The first deb mirror for bookworm in the machine's own apt configuration.
apt_mirror() {
  local uri
  uri="$(awk '/^URIs:/{u=$2} /^Suites:/{ if ($0 ~ /bookworm( |$)/ && u != "") { print u; exit } }' \
    /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
  if [ -z "$uri" ]; then
    uri="$(awk '$1=="deb" && $3=="bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)"
  fi
  [ -n "$uri" ] || { echo "no bookworm mirror found in this machine's apt sources" >&2; exit 1; }
  echo "$uri"
}

# A Debian release's minbase rootfs as an image (SUITE-base), with the machine's apt sources and
# options pointed at that release.
build_base() {
  local suite="${1:-bookworm}"
  local image="$prefix/$suite-base"
  have_image "$suite-base" && return 0
  note_replaced "$image"
  local rootfs="$build/rootfs-$suite"
  unmount_inside "$rootfs"
  rm -rf --one-file-system "$rootfs" && mkdir -p "$build"
  local mirror; mirror="$(apt_mirror)"
  echo "== debootstrap $suite (minbase) from the machine's apt mirror"
  debootstrap --variant=minbase --include=netbase,ca-certificates "$suite" "$rootfs" "$mirror" \
    >"$build/debootstrap-$suite.log" 2>&1 || { tail -20 "$build/debootstrap-$suite.log" >&2; exit 1; }
  # The image uses the same sources (for its own release) and apt options as the machine.
  local src
  for src in /etc/apt/sources.list.d/*.sources; do
    [ -e "$src" ] || continue
    sed "s/\bbookworm\b/$suite/g" "$src" >"$rootfs/etc/apt/sources.list.d/$(basename "$src")"
  done
  [ -n "$(ls "$rootfs/etc/apt/sources.list.d/" 2>/dev/null)" ] && rm -f "$rootfs/etc/apt/sources.list"
  grep -h '^Acquire::Check-\(Valid-Until\|Date\)' /etc/apt/apt.conf.d/* \
    >"$rootfs/etc/apt/apt.conf.d/90pacsguard-host" 2>/dev/null || true
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb
  unmount_inside "$rootfs"
  tar -C "$rootfs" --one-file-system -cf "$build/rootfs-$suite.tar" .
  podman import --quiet --change "LABEL pacsguard.recipe=$(recipe "$suite-base")" \
    "$build/rootfs-$suite.tar" "$image" >/dev/null
  rm -rf --one-file-system "$rootfs" "$build/rootfs-$suite.tar"
}

# Unmount whatever is still mounted inside a rootfs (seen on one machine: debootstrap reported success
# and left its /proc mounted), deepest first, before anything archives or removes the tree.
unmount_inside() {
  local root mnt
  root="$(realpath -m "$1")"
  awk -v r="$root" '$2 == r || index($2, r "/") == 1 {print $2}' /proc/mounts | sort -r |
    while read -r mnt; do umount "$mnt" 2>/dev/null || umount -l "$mnt"; done
}

replaced=()
# Remember the image a rebuild replaces, to remove it once nothing is built on it any more.
note_replaced() {
  local id
  id="$(podman image inspect -f '{{.Id}}' "$1" 2>/dev/null || true)"
  [ -z "$id" ] || replaced=("$id" "${replaced[@]}")
}

build_layer() {
  local name="$1"; shift
  local image="$prefix/$name"
  have_image "$name" && return 0
  note_replaced "$image"
  echo "== podman build $image"
  podman build --quiet --layers=false --label "pacsguard.recipe=$(recipe "$name")" -t "$image" \
    --from "$prefix/$(parent_of "$name")" -f "$here/Containerfile.${name#trixie-}" "$here" >/dev/null
}

# Wheels for the probe venv inside the peer image, taken from the controller's own pip configuration.
peer_wheels() {
  local dir="$build/wheels" arch; arch="$(uname -m)"
  rm -rf "$dir" && mkdir -p "$dir"
  "${PYTHON:-python3}" -m pip download --quiet --disable-pip-version-check --only-binary=:all: \
    --python-version 3.11 --implementation cp --platform "manylinux2014_$arch" \
    --platform "manylinux_2_28_$arch" --platform "manylinux_2_34_$arch" --platform any \
    -d "$dir" -r "$here/peer-requirements.txt" 2>&1 | grep -v "^WARNING: Location" || true
  ls "$dir"/pynetdicom-*.whl >/dev/null
}

# The Debian 13 hosts: the same layers on a trixie base.
build_trixie() {
  build_base trixie; build_layer trixie-systemd; build_layer trixie-orthanc; build_layer trixie-dcmqrscp
  build_layer trixie-orthanc-dicomweb
}

case "$want" in
  base) build_base ;;
  systemd) build_base; build_layer systemd ;;
  orthanc) build_base; build_layer systemd; build_layer orthanc ;;
  dcmqrscp) build_base; build_layer systemd; build_layer dcmqrscp ;;
  peer) build_base; build_layer systemd; have_image peer || peer_wheels; build_layer peer ;;
  ee-base) build_base trixie; build_layer ee-base ;;
  trixie) build_trixie ;;
  all)
    build_base; build_layer systemd; build_layer orthanc; build_layer dcmqrscp
    have_image peer || peer_wheels; build_layer peer
    build_trixie ;;
  *) echo "usage: $0 [base|systemd|orthanc|dcmqrscp|peer|ee-base|trixie|all]" >&2; exit 2 ;;
esac
# Replaced images, newest first (children before their parents); one still in use stays.
for id in "${replaced[@]}"; do
  podman rmi "$id" >/dev/null 2>&1 || true
done
