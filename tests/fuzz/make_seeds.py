#!/usr/bin/env python3
"""Writes the hand-made seeds of tests/fuzz/corpus/ from the examples and fixtures the
repository keeps (examples/, the API bodies of docs/api.md and README.md,
tests/fixtures/openstack/). Run from anywhere; existing seeds of the same name are replaced.
The campaigns' merged corpora (`./dev fuzz`, then -merge=1) sit next to these seeds."""
import hashlib
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests/fuzz/corpus"
FIXTURES = ROOT / "tests/fixtures/openstack"

READ_KEY = "fuzz-read-key-0123456789"
WRITE_KEY = "fuzz-write-key-0123456789"
DEPLOYMENT = "00000000-0000-4000-8000-000000000001"

EXAMPLE = (ROOT / "examples/web-app-stack.json").read_text()
API_TEMPLATE = json.dumps({
    "name": "web-app-stack", "description": "3-tier web application",
    "vm_config": {
        "web": {"flavor": "m1.small", "image": "ubuntu-22.04", "count": 2},
        "app": {"flavor": "m1.medium", "image": "ubuntu-22.04", "count": 3,
                "volumes": [{"size_gb": 20}], "min_count": 1},
        "db": {"flavor": "m1.large", "image": "ubuntu-22.04", "count": 1}},
    "network_config": {"cidr": "10.0.0.0/16",
                       "subnets": {"web": "10.0.1.0/24", "app": "10.0.2.0/24",
                                   "db": "10.0.3.0/24"},
                       "router": True, "external_network": "public"}})
BAD_TEMPLATE = ('{"name":"bad","vm_config":{"Web":{"flavor":"m1.small","image":"x","count":2000}},'
                '"network_config":{"cidr":"10.0.0.0/16","subnets":{"a":"10.1.0.0/24"}}}')
V6_TEMPLATE = json.dumps({
    "name": "v6", "vm_config": {"web": {"flavor": "m1.small", "image": "debian-12", "count": 1}},
    "network_config": {"cidr": "fd00::/48", "subnets": {"web": "fd00:0:0:1::/64"},
                       "router": False}})
CREATE = '{"name": "my-app", "template": "web-app-stack", "cloud_region": "RegionOne", ' \
         '"parameters": {"web_count": 2}}'
CREATE_INLINE = json.dumps({"name": "inline-app", "template": json.loads(EXAMPLE),
                            "cloud_region": "RegionOne",
                            "parameters": {"web_count": 3, "db_flavor": "m1.xlarge",
                                           "web_image": "debian-12"}})


def write(harness, name, data):
    folder = CORPUS / harness
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (folder / f"seed-{name}").write_bytes(data)


def http(method, target, headers=(), body=None):
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1:8000"]
    lines += [f"{k}: {v}" for k, v in headers]
    if body is not None:
        lines.append(f"Content-Length: {len(body.encode())}")
    return "\r\n".join(lines) + "\r\n\r\n" + (body or "")


def http_request_seeds():
    rd = ("X-API-Key", READ_KEY)
    wr = ("X-API-Key", WRITE_KEY)
    js = ("Content-Type", "application/json")
    seeds = {
        "health": http("GET", "/health"),
        "ready": http("GET", "/health/ready"),
        "metrics": http("GET", "/metrics"),
        "openapi": http("GET", "/openapi.json", [rd]),
        "templates-list": http("GET", "/templates?limit=10&offset=0",
                               [("Authorization", f"Bearer {READ_KEY}")]),
        "template-get": http("GET", "/templates/web-app-stack", [rd]),
        "template-head": http("HEAD", "/templates/web-app-stack", [rd]),
        "template-post": http("POST", "/templates", [wr, js], EXAMPLE.replace(
            '"web-app-stack"', '"my-stack"')),
        "template-post-bad": http("POST", "/templates", [wr, js], BAD_TEMPLATE),
        "template-put": http("PUT", "/templates/web-app-stack", [wr, js], API_TEMPLATE),
        "template-delete": http("DELETE", "/templates/web-app-stack", [wr]),
        "template-post-read-key": http("POST", "/templates", [rd, js], API_TEMPLATE),
        "template-post-text": http("POST", "/templates", [wr, ("Content-Type", "text/plain")],
                                   "hello"),
        "deployment-post": http("POST", "/deployments",
                                [wr, js, ("Idempotency-Key", "3f2a9c")], CREATE),
        "deployment-post-inline": http("POST", "/deployments", [wr, js], CREATE_INLINE),
        "deployment-get": http("GET", f"/deployments/{DEPLOYMENT}", [rd]),
        "deployment-list": http("GET", "/deployments?status=COMPLETED&name=my-&limit=10", [rd]),
        "deployment-list-after": http(
            "GET", f"/deployments?after={DEPLOYMENT}&include_deleted=true", [rd]),
        "deployment-delete": http("DELETE", f"/deployments/{DEPLOYMENT}", [wr]),
        "events": http("GET", f"/deployments/{DEPLOYMENT}/events?after=0&limit=10", [rd]),
        "events-sse": http("GET", f"/deployments/{DEPLOYMENT}/events",
                           [rd, ("Accept", "text/event-stream"), ("Last-Event-ID", "0")]),
        "preflight": http("OPTIONS", "/templates",
                          [("Origin", "https://ui.example"),
                           ("Access-Control-Request-Method", "POST"),
                           ("Access-Control-Request-Headers", "content-type, x-api-key")]),
        "cors-get": http("GET", "/templates", [rd, ("Origin", "https://ui.example"),
                                              ("X-Request-ID", "req-0123456789")]),
        "no-key": http("GET", "/templates"),
        "method-not-allowed": http("PATCH", "/templates", [wr, js], "{}"),
        "not-found": http("GET", "/nope/%zz?x=%41+b&&c", [rd]),
        "chunked": ("POST /templates HTTP/1.1\r\nHost: x\r\nX-API-Key: " + WRITE_KEY +
                    "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "2\r\n{}\r\n0\r\n\r\n"),
        "http10": "GET /health HTTP/1.0\r\n\r\n",
    }
    for name, text in seeds.items():
        write("http_request", name, text)


def json_bodies_seeds():
    # The first byte picks the endpoint: even = POST /templates, odd = POST /deployments.
    for name, body in {"example": EXAMPLE, "api": API_TEMPLATE, "bad": BAD_TEMPLATE,
                       "v6": V6_TEMPLATE}.items():
        write("json_bodies", f"template-{name}", b"\x00" + body.encode())
    for name, body in {"create": CREATE, "inline": CREATE_INLINE,
                       "bad": '{"name": "Bad Name", "template": "", "parameters": []}'}.items():
        write("json_bodies", f"deployment-{name}", b"\x01" + body.encode())


# The parser each fixture feeds (see openstack_responses.cpp: first byte % 22).
PARSERS = {
    "neutron/network-create-response.json": 0, "neutron/networks-list": 1,
    "neutron/subnet-create-response.json": 2, "neutron/subnets-list": 3,
    "neutron/router-create-response.json": 4, "neutron/routers-list": 5,
    "neutron/router-add-interface-response.json": 6,
    "neutron/router-remove-interface-response.json": 6,
    "neutron/ports-list": 7, "nova/server-tags-replace-resp.json": 8,
    "nova/server-create-resp.json": 9, "nova/server-get-resp": 10,
    "nova/servers-details-resp": 11, "nova/servers-list-resp": 11,
    "nova/volume-attach-resp": 12, "nova/volume-attachments-list": 13,
    "nova/flavors-detail": 14, "neutron/tags-replace-response.json": 8,
    "cinder/volume-create-response": 15,
    "cinder/volumes-list": 16, "cinder/volumes-detail": 16, "glance/images-list": 17,
    "keystone/auth-token": 18,
}


def openstack_seeds():
    for path in sorted(FIXTURES.rglob("*.json")):
        rel = path.relative_to(FIXTURES).as_posix()
        body = path.read_bytes()
        selectors = [sel for prefix, sel in PARSERS.items() if rel.startswith(prefix)]
        if path.name.startswith("error-"):
            status = int(path.name.split("-")[1])
            service = {"keystone": 0, "nova": 1, "neutron": 2, "cinder": 3, "glance": 4}[
                rel.split("/")[0]]
            selectors = []
            write("openstack_responses", rel.replace("/", "-"),
                  bytes([20, service, (status - 100) >> 8, (status - 100) & 0xff, 1]) + body)
        for sel in selectors:
            write("openstack_responses", f"{sel:02d}-" + rel.replace("/", "-"),
                  bytes([sel]) + body)
    write("openstack_responses", "retry-after",
          bytes([20, 1, (429 - 100) >> 8, (429 - 100) & 0xff, 3]) + b"Wed, 21 Oct 2015 07:28:00 GMT\n{}")
    write("openstack_responses", "allowlist",
          bytes([21]) + b"https://cloud.example:8774/compute, 127.0.0.1\n"
                        b"https://cloud.example:8774/compute/v2.1/servers?x=1")


def template_validation_seeds():
    # FuzzedDataProvider input: any bytes; a few fixed patterns give it a start.
    write("template_validation", "zeros", bytes(64))
    write("template_validation", "ones", bytes([0xff]) * 64)
    write("template_validation", "ramp", bytes(range(256)))


def last_event_id_seeds():
    # FuzzedDataProvider's random-length strings end at a backslash not followed by another.
    write("last_event_id", "resume", b"42\\\\\\ndeployment.status\\text/event-stream\\"
                                      b"{\"seq\":42}\r\nline two")
    write("last_event_id", "plain", b"0\\status\\application/json, text/event-stream;q=0.9\\x")


if __name__ == "__main__":
    http_request_seeds()
    json_bodies_seeds()
    openstack_seeds()
    template_validation_seeds()
    last_event_id_seeds()
