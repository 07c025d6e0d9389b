"""Prefect flows, the `flows` CLI and deployments.

Importing this package sets Prefect's defaults for peakdata (only where the user has not set them):
ephemeral mode with state under ~/.local/state/peakdata/prefect (per user), telemetry off, a start-up
timeout that suits 2 cores.
"""

from flows.environment import configure_prefect_environment

configure_prefect_environment()
