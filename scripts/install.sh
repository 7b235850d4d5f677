#!/usr/bin/env bash
# Install everything edgekit and its lab need on a fresh Debian machine (as root): the lab's real
# daemons (and Prometheus: promtool for the alert rules, the server for a lab test) from Debian, edgekit
# itself with its test and lab extras from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq -o DPkg::Lock::Timeout=300
  apt-get install -y -qq -o DPkg::Lock::Timeout=300 frr openssh-server haproxy keepalived wireguard-go iproute2 iputils-ping curl socat openssl nftables \
    >/dev/null
  # Without --no-install-recommends wireguard-tools pulls a whole kernel image (lab-notes.md), and
  # prometheus a node exporter that a systemd machine would start listening in the root namespace.
  apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends wireguard-tools prometheus >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check -e '.[test,lab]'
