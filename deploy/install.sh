#!/usr/bin/env bash
# Installs the system packages the build and the test suite need on a Debian 12 machine.
# Idempotent: packages already present are left alone.
set -euo pipefail

need=()
command -v protoc >/dev/null 2>&1 || need+=(protobuf-compiler)
[ -f /usr/include/google/protobuf/descriptor.proto ] || need+=(libprotobuf-dev)
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v openssl >/dev/null 2>&1 || need+=(openssl)

if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -o DPkg::Lock::Timeout=120 -qq
  # protobuf-compiler needs its recommended packages (libprotobuf-dev: google/protobuf/*.proto).
  $sudo apt-get install -y -qq -o DPkg::Lock::Timeout=120 "${need[@]}"
fi
