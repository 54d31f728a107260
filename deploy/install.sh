#!/usr/bin/env bash
# Installs the system packages the build and the test suite need on a Debian 12 machine.
# Idempotent: packages already present are left alone.
set -euo pipefail

need=()
command -v protoc >/dev/null 2>&1 || need+=(protobuf-compiler)
[ -f /usr/include/google/protobuf/descriptor.proto ] || need+=(libprotobuf-dev)
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v curl >/dev/null 2>&1 || need+=(curl)
# Shells the completion tests drive (kubectl completion bash|zsh|fish).
command -v zsh >/dev/null 2>&1 || need+=(zsh)
command -v fish >/dev/null 2>&1 || need+=(fish)
[ -f /usr/share/bash-completion/bash_completion ] || need+=(bash-completion)

if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -o DPkg::Lock::Timeout=120 -qq
  # protobuf-compiler needs its recommended packages (libprotobuf-dev: google/protobuf/*.proto).
  $sudo apt-get install -y -qq -o DPkg::Lock::Timeout=120 "${need[@]}"
fi

# The end-to-end tests drive upstream kubectl, which this machine image provides.
if [ ! -x /usr/lib/google-cloud-sdk/bin/kubectl.1.33 ]; then
  echo "warning: /usr/lib/google-cloud-sdk/bin/kubectl.1.33 not found; the kubectl end-to-end tests need it" >&2
fi
