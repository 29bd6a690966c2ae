#!/usr/bin/env bash
# Installs the real container engine, registry and image tools the engine/agent tests start
# themselves (tau_testkit::engine::Lab): Podman with runc, Debian's docker-registry, a static
# busybox for test images, and debootstrap for the gateway image's Debian base. Idempotent and
# quiet: packages already present are not fetched again.
set -euo pipefail

packages=(podman runc docker-registry busybox-static debootstrap)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "ci: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

podman --version
command -v docker-registry >/dev/null
# The lab's containers.conf selects runc (crun cannot set resources on hybrid cgroups here).
command -v runc >/dev/null
