"""The trusted zone: consenting customers' current state and readings, deduplicated."""

from collections.abc import Callable

from stedi import zone
from stedi.errors import StediError
from stedi.zone import ZoneResult

CONSENT_POLICIES = ("customer", "since-consent")
INPUTS = ["customer_landing", "accelerometer_landing", "step_trainer_landing", "quarantine"]
OUTPUTS = ["customer_trusted", "accelerometer_trusted", "step_trainer_trusted"]


def trust(
    lake, *, consent: str = "customer", progress: Callable[[str], None] | None = None
) -> ZoneResult:
    """Rebuild the trusted tables from landing and replace them if every check passes.

    `consent` is `customer` (all readings of a consenting customer) or `since-consent`
    (only readings at or after the customer's shareWithResearchAsOfDate).
    """
    check_choice("consent", consent, CONSENT_POLICIES)
    return zone.build(
        lake,
        zone="trusted",
        inputs=INPUTS,
        outputs=OUTPUTS,
        variables={"consent_policy": consent},
        conflicts="reports/trusted_conflicts",
        progress=progress,
    )


def check_choice(option: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        msg = f"--{option} must be one of {', '.join(choices)}, not {value!r}"
        raise StediError(msg)
