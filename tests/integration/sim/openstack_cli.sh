#!/usr/bin/env bash
# Conformance of openstack-sim with the stock OpenStack CLI (python3-openstackclient): every
# step must behave as against a real cloud. Usage: openstack_cli.sh <path to openstack-sim>
set -euo pipefail

sim_bin=${1:?usage: openstack_cli.sh <openstack-sim binary>}
command -v openstack >/dev/null || { echo "openstack CLI not installed"; exit 1; }

work=$(mktemp -d)
sim_pid=""
cleanup() {
  if [[ -n "$sim_pid" ]]; then
    kill -TERM "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# Port 0: the simulator picks a free port and prints its URL once it listens.
"$sim_bin" --host 127.0.0.1 --port 0 --boot-time uniform:100ms..300ms --delete-time fixed:200ms \
  >"$work/url" 2>"$work/stderr" &
sim_pid=$!
for _ in $(seq 1 100); do
  [[ -s "$work/url" ]] && break
  kill -0 "$sim_pid" 2>/dev/null || { cat "$work/stderr"; echo "simulator died"; exit 1; }
  sleep 0.05
done
base=$(head -1 "$work/url")
[[ "$base" == http://127.0.0.1:* ]] || { echo "no URL printed: '$base'"; exit 1; }

export OS_AUTH_URL="$base/identity/v3" OS_USERNAME=admin OS_PASSWORD=secret \
  OS_PROJECT_NAME=admin OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default \
  OS_REGION_NAME=RegionOne OS_IDENTITY_API_VERSION=3
unset OS_CLOUD OS_TOKEN OS_PROJECT_ID OS_USER_ID || true

step=0
check() { # check <description> <condition...>
  local what=$1
  shift
  step=$((step + 1))
  if "$@"; then
    echo "ok $step - $what"
  else
    echo "not ok $step - $what"
    exit 1
  fi
}
os() { openstack "$@" 2>>"$work/cli.err"; }
field() { # field <json> <key>
  python3 -c 'import json,sys; v=json.loads(sys.argv[1])[sys.argv[2]]; print(v if isinstance(v,str) else json.dumps(v))' "$1" "$2"
}

token=$(os token issue -f json)
check "token issue returns a token scoped to project admin" \
  test -n "$(field "$token" id)" -a -n "$(field "$token" project_id)"

bad=$(OS_PASSWORD=wrong openstack token issue 2>&1 || true)
check "a wrong password is a 401" grep -q "401" <<<"$bad"

net=$(os network create net1 -f json)
check "network create" test "$(field "$net" name)" = net1

subnet=$(os subnet create --network net1 --subnet-range 10.10.0.0/24 sub1 -f json)
check "subnet create gets gateway .1 and pool .2-.254" \
  test "$(field "$subnet" gateway_ip)" = 10.10.0.1 -a \
  "$(field "$subnet" allocation_pools)" = '[{"start": "10.10.0.2", "end": "10.10.0.254"}]'

router=$(os router create r1 -f json)
check "router create" test "$(field "$router" name)" = r1

os router set --external-gateway public r1
gw=$(os router show r1 -f json -c external_gateway_info)
check "router set --external-gateway allocates an address on public" \
  grep -q '"ip_address": "172.24.4.' <<<"$gw"

os router add subnet r1 sub1
iface=$(os port list --router r1 -f json)
check "router add subnet owns the gateway address" grep -q "10.10.0.1" <<<"$iface"

sg=$(os security group create web -f json)
os security group rule create --protocol tcp --dst-port 22 web >/dev/null
check "security group create comes with its two egress rules plus ours" \
  test "$(os security group rule list web -f value -c ID | wc -l)" = 3

server=$(os server create --flavor m1.tiny --image cirros --network net1 --security-group web \
  --wait vm1 -f json)
check "server create --wait reaches ACTIVE with an address from sub1" \
  test "$(field "$server" status)" = ACTIVE -a -n "$(grep -o '10\.10\.0\.2' <<<"$server")"
server_id=$(field "$server" id)

listing=$(os server list --long -f json)
check "server list --long shows the server ACTIVE on m1.tiny" \
  python3 -c 'import json,sys; s=json.loads(sys.argv[1]); assert len(s)==1 and s[0]["Status"]=="ACTIVE" and s[0]["Flavor Name"]=="m1.tiny" and s[0]["Image Name"]=="cirros", s' "$listing"

os server resize --flavor m1.small --wait vm1 >/dev/null
check "server resize --wait reaches VERIFY_RESIZE" \
  test "$(os server show vm1 -f value -c status)" = VERIFY_RESIZE
os server resize confirm vm1
for _ in $(seq 1 50); do
  [[ "$(os server show vm1 -f value -c status)" == ACTIVE ]] && break
  sleep 0.1
done
check "server resize confirm ends ACTIVE on m1.small" \
  test "$(os server show vm1 -f value -c status -c flavor | tr '\n' ' ')" = "m1.small (2) ACTIVE "

fip=$(os floating ip create public -f value -c floating_ip_address)
os server add floating ip vm1 "$fip"
check "server add floating ip shows the floating address on the server" \
  grep -q "$fip" <<<"$(os server show vm1 -f value -c addresses)"

os volume create --size 1 vol1 >/dev/null
for _ in $(seq 1 50); do
  [[ "$(os volume show vol1 -f value -c status)" == available ]] && break
  sleep 0.1
done
check "volume create reaches available" test "$(os volume show vol1 -f value -c status)" = available

os server add volume vm1 vol1 >/dev/null
for _ in $(seq 1 50); do
  [[ "$(os volume show vol1 -f value -c status)" == in-use ]] && break
  sleep 0.1
done
check "server add volume makes the volume in-use" \
  test "$(os volume show vol1 -f value -c status)" = in-use

in_use=$(openstack network delete net1 2>&1 || true)
check "deleting a network in use is refused with NetworkInUse (409)" \
  grep -q "409" <<<"$in_use"

os server delete --wait vm1
check "server delete --wait ends with the server gone" \
  test -z "$(os server list -f value -c ID)"
check "the server's ports are gone" test -z "$(os port list --device-id "$server_id" -f value -c ID)"
check "the volume is available again" test "$(os volume show vol1 -f value -c status)" = available

check "the floating IP was released with the server's port" \
  test "$(os floating ip show "$fip" -f value -c port_id)" = None
os floating ip delete "$fip"
os security group delete web
check "security group delete once unused" test -z "$(os security group list -f value -c Name | grep -x web || true)"

os router remove subnet r1 sub1
check "router remove subnet frees the interface" \
  test -z "$(os port list --router r1 --device-owner network:router_interface -f value -c ID)"

os network delete net1
check "network delete succeeds once empty" \
  test -z "$(os network list -f value -c Name | grep -x net1 || true)"

kill -TERM "$sim_pid"
sim_rc=0
wait "$sim_pid" || sim_rc=$?
sim_pid=""
check "the simulator exits 0 on SIGTERM" test "$sim_rc" = 0

echo "all $step checks passed"
