#!/usr/bin/env python3
"""Push a policy module to a plain-HTTP OCI registry as `kwctl push` lays it out (one layer of
application/vnd.wasm.content.layer.v1+wasm, an application/vnd.wasm.config.v1+json config), with
nothing but the standard library: for benchmarks and demonstrations on a machine without kwctl.
The tests push with oci-client instead (tests/integration/support/registry.rs).

    scripts/push-policy.py HOST:PORT REPOSITORY TAG MODULE.wasm     # prints the manifest digest
"""
import hashlib
import json
import sys
import urllib.request


def blob(host, repository, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    started = urllib.request.urlopen(
        urllib.request.Request(f"http://{host}/v2/{repository}/blobs/uploads/", method="POST"))
    location = started.headers["Location"]
    if location.startswith("/"):
        location = f"http://{host}{location}"
    separator = "&" if "?" in location else "?"
    urllib.request.urlopen(urllib.request.Request(
        f"{location}{separator}digest={digest}", data=data, method="PUT",
        headers={"Content-Type": "application/octet-stream"}))
    return {"digest": digest, "size": len(data)}


def main():
    host, repository, tag, path = sys.argv[1:5]
    with open(path, "rb") as module:
        wasm = module.read()
    config = blob(host, repository, b"{}")
    layer = blob(host, repository, wasm)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.wasm.config.v1+json", **config},
        "layers": [{"mediaType": "application/vnd.wasm.content.layer.v1+wasm", **layer}],
    }).encode()
    answer = urllib.request.urlopen(urllib.request.Request(
        f"http://{host}/v2/{repository}/manifests/{tag}", data=manifest, method="PUT",
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"}))
    print(answer.headers["Docker-Content-Digest"])


if __name__ == "__main__":
    main()
