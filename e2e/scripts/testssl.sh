#!/usr/bin/env bash
# Opt-in TLS configuration audit with Debian's testssl.sh against a real Portico on loopback.
# Usage: e2e/scripts/testssl.sh   (after npm run build; apt-get install testssl.sh)
# Prints testssl's protocol, cipher and vulnerability summary; exits non-zero if SSLv2/SSLv3/
# TLS 1.0/TLS 1.1 are offered or any weak cipher category is offered.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v testssl >/dev/null || { echo "testssl not found: apt-get install testssl.sh" >&2; exit 2; }
dir=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$dir"' EXIT
mkdir "$dir/m"
cat > "$dir/m/site.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: site, namespace: default}
spec:
  ingressClassName: portico
  rules:
  - host: portico.local
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: none, port: {number: 80}}}}]}
YAML
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
node dist/src/cli.js --manifests "$dir/m" --bind-address 127.0.0.1 --http-port 0 --https-port "$port" --admin-port 0 --access-log=false --log-level error --shutdown-grace-period 0s &
pid=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
testssl --quiet --color 0 --warnings off --protocols --std --vulnerable --jsonfile "$dir/out.json" "127.0.0.1:$port" | tee "$dir/out.txt" | grep -E "SSLv2|SSLv3|TLS 1(\.[0-3])? |NULL|Anonymous|Export|LOW|3DES|Obsoleted|Strong|Forward|Heartbleed|CCS|Ticketbleed|ROBOT|renegotiation|CRIME|BREACH|POODLE|SWEET32|FREAK|DROWN|LOGJAM|BEAST|LUCKY13|RC4|Winshock" || true
bad=$(node -e "
const r=require('$dir/out.json');
const bad=r.filter(x=>(['SSLv2','SSLv3','TLS1','TLS1_1'].includes(x.id)&&/offered/.test(x.finding)&&!/not offered/.test(x.finding))||(/^cipherlist_(NULL|aNULL|EXPORT|LOW|3DES_IDEA)$/.test(x.id)&&!/not offered/.test(x.finding)));
console.log(bad.map(x=>x.id+': '+x.finding).join('\n'))")
if [ -n "$bad" ]; then echo "FAIL: $bad" >&2; exit 1; fi
echo "testssl: no SSLv2/SSLv3/TLS 1.0/TLS 1.1 and no weak cipher category offered"
