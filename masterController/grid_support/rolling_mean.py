"""The TR's 300 s rolling means at 1 s resolution (NEM_current, AEM f_ref), O(1) per sample."""

from __future__ import annotations


class RollingMean:
    def __init__(self, initial: float, window: int = 300, sample_period_s: float = 1.0) -> None:
        if window < 1 or sample_period_s <= 0:
            raise ValueError("window must be >= 1 sample and the sample period positive")
        self._samples = [initial] * window
        self._sum = initial * window
        self._index = 0
        self._period_s = sample_period_s
        self._next_sample_s: float | None = None

    @property
    def mean(self) -> float:
        return self._sum / len(self._samples)

    def update(self, value: float, now_s: float) -> float:
        """Record `value` for every sample instant reached by `now_s`; return the mean."""
        if self._next_sample_s is None:
            self._next_sample_s = now_s
        while now_s >= self._next_sample_s:
            self._push(value)
            self._next_sample_s += self._period_s
        return self.mean

    def _push(self, value: float) -> None:
        samples = self._samples
        self._sum += value - samples[self._index]
        samples[self._index] = value
        self._index += 1
        if self._index == len(samples):
            self._index = 0
            self._sum = sum(samples)  # re-sum once per window so float drift cannot build up
