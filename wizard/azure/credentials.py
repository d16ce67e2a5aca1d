"""Live credentials: Azure CLI first, then the rest of azure-identity's chain, or device code."""

from __future__ import annotations

import sys
from typing import Any

from azure.core.credentials import TokenCredential

AUTH_MODES = ("auto", "cli", "device-code")


def _device_code_prompt(verification_uri: str, user_code: str, expires_on: Any) -> None:
    """Device-code sign-in for SSH hosts without a browser: say where to go, on stderr."""
    print(f"To sign in, open {verification_uri} and enter the code {user_code}", file=sys.stderr)


def live_credential(auth: str = "auto", tenant_id: str | None = None) -> TokenCredential:
    """The credential for real Azure; vaults in another tenant are allowed to ask for theirs."""
    from azure.identity import (
        AzureCliCredential,
        ChainedTokenCredential,
        DefaultAzureCredential,
        DeviceCodeCredential,
    )

    tenants = ["*"]
    if auth == "device-code":
        return DeviceCodeCredential(
            tenant_id=tenant_id, prompt_callback=_device_code_prompt, additionally_allowed_tenants=tenants
        )
    cli = AzureCliCredential(tenant_id=tenant_id or "", additionally_allowed_tenants=tenants)
    if auth == "cli":
        return cli
    rest = DefaultAzureCredential(
        exclude_cli_credential=True,
        additionally_allowed_tenants=tenants,
        exclude_interactive_browser_credential=True,
    )
    return ChainedTokenCredential(cli, rest)
