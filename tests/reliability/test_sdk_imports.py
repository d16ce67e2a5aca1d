"""The Azure SDK's first imports happen one thread at a time: the connect worker, a diagnosis's
concurrent reads and the client prewarm thread once raced into `_DeadlockError` and "partially
initialized module" ImportErrors (seen as "not connected: Unexpected error while connecting")."""

from __future__ import annotations

import inspect
import subprocess
import sys

from wizard.azure.clients import ClientFactory

NOT_CLIENTS = {"session", "prewarm", "open_connections", "resolve_vault_url", "close"}
"""Public methods of ClientFactory that import no SDK package of their own."""


def test_every_client_accessor_imports_under_the_sdk_lock() -> None:
    accessors = [
        name
        for name, member in inspect.getmembers(ClientFactory, inspect.isfunction)
        if not name.startswith("_") and name not in NOT_CLIENTS
    ]
    assert "mongo" in accessors
    assert "keys" in accessors
    unguarded = [name for name in accessors if not hasattr(getattr(ClientFactory, name), "__wrapped__")]
    assert unguarded == [], "each accessor imports its SDK package: wrap it in imports_serialised"


def test_azure_core_is_loaded_with_the_factory_module_before_any_thread_needs_it() -> None:
    probe = (
        "import sys; import wizard.azure.clients; "
        "print(all(m in sys.modules for m in ('azure.core.exceptions', 'azure.core.pipeline', "
        "'azure.core.polling', 'azure.mgmt.core')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "True"
