#!/usr/bin/env python3
"""`ray start`, keeping a loopback `--node-ip-address` (issue 14: everything on 127.0.0.1 in
tests).

    python ray_start.py start --head --node-ip-address=127.0.0.1 ...   (the `ray start` flags)

Ray 2.60's `ray start` replaces a loopback `--node-ip-address` (127.0.0.1, localhost, ::1) with
the machine's interface address (`ray._private.services.resolve_ip_for_localhost`, called by
`ray start` so that other machines can reach the node). Ray's servers bind to the node's address
(the GCS, each raylet, the object manager, the runtime-env agent, each worker's gRPC server), so
with that replacement they listen on the machine's network interface, or on every interface
(`::`), even though loopback was asked for. This wrapper runs `ray start` with that replacement
turned into the identity, so a node asked to be 127.0.0.1 is 127.0.0.1 and its servers listen
on loopback only. A client must do the same (`keep_loopback()` before `ray.init`): Ray resolves
a loopback cluster address (`RAY_ADDRESS=127.0.0.1:PORT`) the same way, and would then look for
the GCS on the machine's address, where nothing listens any more. It refuses to run when that function is not where Ray 2.60 has it (another Ray
version: check `scripts/listening.py`'s output before relying on it). For a cluster of several
machines, use plain `ray start` with the node's own address.
"""

import sys

import ray._private.services as services


def keep_loopback():
    """Make Ray keep a loopback node address as given (see the module doc). Also used by
    driver.py for its local instance (`ray.init(_node_ip_address=...)` resolves it the same
    way)."""
    if not callable(getattr(services, "resolve_ip_for_localhost", None)):
        sys.exit("ray_start.py: ray._private.services.resolve_ip_for_localhost is gone in this "
                 "Ray version; run `ray start` and check what it listens on")
    services.resolve_ip_for_localhost = lambda host: host


if __name__ == "__main__":
    from ray.scripts.scripts import main

    keep_loopback()
    sys.argv[0] = "ray"
    sys.exit(main())
