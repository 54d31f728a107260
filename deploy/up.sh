#!/usr/bin/env bash
# Installs what is needed, builds, and starts a local kube-apiserver on the embedded store.
# Prints the kubeconfig to use. State lives in $KUBE_LOCAL_DIR (default ~/.kube-local);
# running it again restarts the server on the same data.
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/install.sh
cargo build --release -p kube-apiserver

dir="${KUBE_LOCAL_DIR:-$HOME/.kube-local}"
port="${KUBE_LOCAL_PORT:-6443}"
mkdir -p "$dir"
if [ ! -s "$dir/tokens.csv" ]; then
  token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  echo "$token,admin,admin,\"system:masters\"" > "$dir/tokens.csv"
  chmod 600 "$dir/tokens.csv"
fi
token=$(cut -d, -f1 "$dir/tokens.csv")

if [ -f "$dir/apiserver.pid" ] && kill -0 "$(cat "$dir/apiserver.pid")" 2>/dev/null; then
  kill "$(cat "$dir/apiserver.pid")" && sleep 1
fi
nohup ./target/release/kube-apiserver \
  --secure-port "$port" --bind-address 127.0.0.1 --advertise-address 127.0.0.1 \
  --cert-dir "$dir/certs" --data-dir "$dir/data" --token-auth-file "$dir/tokens.csv" \
  --service-cluster-ip-range 10.96.0.0/12 >"$dir/apiserver.log" 2>&1 &
echo $! > "$dir/apiserver.pid"

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
echo "kube-apiserver is running (pid $(cat "$dir/apiserver.pid"), log $dir/apiserver.log)"
echo "export KUBECONFIG=$dir/kubeconfig"
