"""Read replicas: read-only sessions on a caught-up standby, else on the primary.

``pgrecall.connect(url, replicas=[...])`` gives the store one pool per replica. A
``store.session(tenant, read_only=True)`` asks :class:`AsyncReplicaRouter` for a replica
connection; the router takes the first healthy replica (round robin) whose replay lag is
under ``max_replica_lag`` and that has replayed every commit made through the same store
(read-your-writes), waiting up to ``replica_wait`` seconds for it. Otherwise the session
runs on the primary, read-only all the same. A replica that fails is left alone for
``replica_retry_after`` seconds.
"""

from __future__ import annotations

from .router import ReplicaRouter, ReplicaState
from .router_async import AsyncReplicaRouter

__all__ = ["AsyncReplicaRouter", "ReplicaRouter", "ReplicaState"]
