#!/usr/bin/env bash
# Installs what is needed, builds, and starts a local control plane: kube-apiserver on the
# embedded store, kube-scheduler and kube-controller-manager. With KUBE_LOCAL_NODES=N it also
# starts N simulated nodes (node-simulator: pods on them show Running but nothing runs; the
# kubelet comes later). Prints the kubeconfig to use. State lives in $KUBE_LOCAL_DIR (default
# ~/.kube-local); running it again restarts everything on the same data.
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/install.sh
cargo build --release -p kube-apiserver -p kube-scheduler -p kube-controller-manager
cargo build --release -p e2e --bin node-simulator

dir="${KUBE_LOCAL_DIR:-$HOME/.kube-local}"
port="${KUBE_LOCAL_PORT:-6443}"
mkdir -p "$dir"
if [ ! -s "$dir/tokens.csv" ]; then
  token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  echo "$token,admin,admin,\"system:masters\"" > "$dir/tokens.csv"
  chmod 600 "$dir/tokens.csv"
fi
token=$(cut -d, -f1 "$dir/tokens.csv")

# start <name> <binary> <args...>: (re)starts a process, its pid in <name>.pid, log in <name>.log.
start() {
  local name=$1 bin=$2
  shift 2
  if [ -f "$dir/$name.pid" ] && kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null; then
    kill "$(cat "$dir/$name.pid")" && sleep 1
  fi
  nohup "./target/release/$bin" "$@" >"$dir/$name.log" 2>&1 &
  echo $! > "$dir/$name.pid"
}

start apiserver kube-apiserver \
  --secure-port "$port" --bind-address 127.0.0.1 --advertise-address 127.0.0.1 \
  --cert-dir "$dir/certs" --data-dir "$dir/data" --token-auth-file "$dir/tokens.csv" \
  --service-cluster-ip-range 10.96.0.0/12 --authorization-mode Node,RBAC

for _ in $(seq 1 100); do
  [ -f "$dir/certs/apiserver.crt" ] && curl -sk "https://127.0.0.1:$port/readyz" 2>/dev/null | grep -q ok && break
  sleep 0.1
done

cat > "$dir/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:$port
    certificate-authority: $dir/certs/apiserver.crt
users:
- name: admin
  user:
    token: $token
contexts:
- name: local
  context:
    cluster: local
    user: admin
current-context: local
KUBECONFIG
chmod 600 "$dir/kubeconfig"

start scheduler kube-scheduler --kubeconfig "$dir/kubeconfig" --bind-address 127.0.0.1
start controller-manager kube-controller-manager --kubeconfig "$dir/kubeconfig" \
  --bind-address 127.0.0.1 --root-ca-file "$dir/certs/apiserver.crt" --use-service-account-credentials
if [ "${KUBE_LOCAL_NODES:-0}" -gt 0 ]; then
  start nodes node-simulator --kubeconfig "$dir/kubeconfig" --nodes "$KUBE_LOCAL_NODES"
fi

for name in apiserver scheduler controller-manager nodes; do
  [ -f "$dir/$name.pid" ] && kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null &&
    echo "$name is running (pid $(cat "$dir/$name.pid"), log $dir/$name.log)"
done
echo "export KUBECONFIG=$dir/kubeconfig"
