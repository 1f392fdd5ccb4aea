"""The curated zone: pseudonymised customers and the machine-learning pairs."""

import hashlib
from collections.abc import Callable

from stedi import zone
from stedi.trust import CONSENT_POLICIES, check_choice
from stedi.zone import ZoneResult

ML_JOINS = ("customer", "timestamp")
INPUTS = [
    "customer_landing",
    "quarantine",
    "customer_trusted",
    "accelerometer_trusted",
    "step_trainer_trusted",
]
OUTPUTS = ["customer_curated", "machine_learning_curated"]
TIMESTAMP_JOIN_WARNING = (
    "--ml-join timestamp pairs readings by timestamp alone, so readings of different"
    " customers that share a timestamp are paired (the course rubric's join)"
)
HMAC_BLOCK = 64


def curate(
    lake,
    *,
    consent: str = "customer",
    ml_join: str = "customer",
    progress: Callable[[str], None] | None = None,
) -> ZoneResult:
    """Rebuild the curated tables from trusted and replace them if every check passes.

    `ml_join` is `customer` (a step-trainer reading pairs with its owner's accelerometer
    reading at the same time) or `timestamp` (time alone, as the course rubric did; warns).
    """
    check_choice("consent", consent, CONSENT_POLICIES)
    check_choice("ml-join", ml_join, ML_JOINS)
    lake.require(INPUTS)  # before the key is made, which would make a lake
    ipad, opad = hmac_pads(lake.pseudonym_key())
    result = zone.build(
        lake,
        zone="curated",
        inputs=INPUTS,
        outputs=OUTPUTS,
        variables={
            "consent_policy": consent,
            "ml_join": ml_join,
            "key_ipad": ipad,
            "key_opad": opad,
        },
        progress=progress,
    )
    if ml_join == "timestamp":
        return result.with_warning(TIMESTAMP_JOIN_WARNING)
    return result


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """The HMAC-SHA256 inner and outer padded keys (RFC 2104), for the SQL macro customer_id."""
    if len(key) > HMAC_BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(HMAC_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)
