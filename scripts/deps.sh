#!/bin/bash
# Install every Debian package textmill needs to build, run and test
# (the list is scripts/debian-packages.txt).  Run as root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" != 0 ]; then
    echo "scripts/deps.sh: run as root (it calls apt-get)" >&2
    exit 1
fi
mapfile -t pkgs < <(grep -v '^[[:space:]]*\(#\|$\)' "$here/debian-packages.txt")
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
echo "deps: ${#pkgs[@]} Debian packages installed"
