"""Turns any failure a worker hits into words an on-call engineer can act on."""

from __future__ import annotations

from dataclasses import dataclass

from wizard.domain.errors import (
    AuthFailed,
    BadInput,
    Forbidden,
    GatewayError,
    NotFound,
    Throttled,
    Unreachable,
)


@dataclass(frozen=True)
class Explanation:
    """What failed, in one line, and what the operator can do about it."""

    headline: str
    detail: str
    advice: str


def explain(error: BaseException, *, doing: str) -> Explanation:
    """Explain an error raised while `doing` something; unknown errors are reported, not raised."""
    detail = str(error) or type(error).__name__
    if isinstance(error, AuthFailed):
        return Explanation(
            f"Could not sign in to Azure while {doing}",
            detail,
            "Sign in with `az login` (on an SSH host: `az login --use-device-code`, "
            "or start the wizard with `--auth device-code`), then press r to retry.",
        )
    if isinstance(error, Forbidden):
        needs = error.needs or "Reader on the subscription that holds the cluster"
        return Explanation(
            f"You may not read this while {doing}",
            detail,
            f"You need {needs}. Ask an owner to grant it, then press r to retry.",
        )
    if isinstance(error, NotFound):
        return Explanation(
            f"Not found while {doing}",
            detail,
            "Check the resource ID, the subscription and that you are signed in to "
            "the right tenant (`az account show`).",
        )
    if isinstance(error, Throttled):
        return Explanation(
            f"Azure is throttling requests while {doing}", detail, "Wait a minute, then press r to retry."
        )
    if isinstance(error, Unreachable):
        return Explanation(
            f"Could not reach Azure while {doing}",
            detail,
            "Check the network, proxy or VPN of this host, then press r to retry.",
        )
    if isinstance(error, GatewayError):
        return Explanation(
            f"Azure did not give a usable answer while {doing}",
            detail,
            "Press r to retry; if it persists, note the request ID in the detail.",
        )
    if isinstance(error, BadInput):
        return Explanation(f"Bad input while {doing}", detail, "Correct the value and try again.")
    return Explanation(
        f"Unexpected error while {doing}",
        f"{type(error).__name__}: {detail}",
        "This is a bug in cmk-wizard: please report it. Press r to retry.",
    )
