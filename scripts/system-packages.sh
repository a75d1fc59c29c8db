#!/usr/bin/env bash
# Install the Debian packages pacsguard's demo and tests run (real Orthanc, DCMTK, nmap; podman, runc,
# debootstrap and nftables for the test hosts; headless Chromium to open the HTML report), if missing.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(orthanc orthanc-dicomweb dcmtk nmap python3-venv podman runc debootstrap nftables openssh-client openssl curl stunnel4 shellcheck chromium)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "pacsguard needs these Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "== apt-get install ${missing[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
