"""Hypothesis drives the nemesis schedule of the simulation, so a failure shrinks to a minimal
sequence of faults. `CLUSTER_HYPOTHESIS_EXAMPLES` sets the number of examples (default 200)."""

from __future__ import annotations

import os

from cluster_chaos import ACTIONS, chaos_run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("CLUSTER_HYPOTHESIS_EXAMPLES", "200"))

schedules = st.lists(
    st.tuples(st.floats(min_value=0.01, max_value=0.8), st.sampled_from(ACTIONS)), min_size=1, max_size=12
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(seed=st.integers(min_value=0, max_value=2**31), schedule=schedules)
def test_any_fault_schedule_keeps_the_invariants(seed: int, schedule: list[tuple[float, str]]) -> None:
    result = chaos_run(seed, schedule)
    assert result.violations == []
    assert result.converge_s is not None
