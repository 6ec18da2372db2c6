"""One place that composes a decision: every rule that sets or limits the rung writes its own reason.

A controller runs its rules in order on a :class:`Verdict`: ``set`` replaces the rung (a rule that
chooses), ``limit`` lowers it when the rule's own output is lower (a cap or clamp). The decision is
the last step's rung, and its reason names that step's rule, so the logged reason always describes
the rule whose output is the decided rung (``switch`` events and QA read these reasons).
"""

from __future__ import annotations

from dataclasses import dataclass

from abr.api import Decision


@dataclass(frozen=True, slots=True)
class Step:
    rule: str
    rung: int
    reason: str


class Verdict:
    """The steps of one decision, in the order the rules ran."""

    __slots__ = ("steps",)

    def __init__(self) -> None:
        self.steps: list[Step] = []

    @property
    def rung(self) -> int:
        if not self.steps:
            raise ValueError("no rule has set a rung yet")
        return self.steps[-1].rung

    def set(self, rule: str, rung: int, reason: str) -> int:
        """A rule chose ``rung`` (replacing any earlier choice)."""
        self.steps.append(Step(rule, rung, reason))
        return rung

    def limit(self, rule: str, rung: int, reason: str) -> int:
        """A cap or clamp whose output is ``rung``: it takes over only when it lowers the current rung."""
        if rung < self.rung:
            self.steps.append(Step(rule, rung, reason))
        return self.rung

    def decision(self) -> Decision:
        last = self.steps[-1]
        return Decision(last.rung, f"{last.rule}: {last.reason}", rule=last.rule)
