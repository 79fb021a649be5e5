"""Anonymous employee pulses: eNPS, Likert and open questions, with results people can trust.

See ``docs/pulses.md``. The public surface for other features:

- `create_round(ctx, RoundSpec(...), created_by)` — campaigns create rounds (schedule kinds ``pulse.open``,
  ``pulse.remind``, ``pulse.close``, ``pulse.sweep``);
- `read_results`, `round_results`, `enps_trend` — the CX dashboard's aggregates, anonymity rules applied;
- `open_answers_for_inbox(ctx, round_id)` and `after_close` — the feedback inbox's hook;
- `apply_retention` — the daily retention job's part (participation and raw comments).
"""

from handlers.pulses import answering, answering_many, commands, jobs, planning  # noqa: F401  (they register their routes)
from handlers.pulses.audience import Audience
from handlers.pulses.closing import after_close, close_round
from handlers.pulses.demo import seed_demo
from handlers.pulses.inbox import OpenAnswer, open_answers_for_inbox
from handlers.pulses.results import RoundResults, TrendPoint, enps_trend, read_results, round_results
from handlers.pulses.retention import apply_retention
from handlers.pulses.rounds import RoundSpec, create_round, open_round
from handlers.pulses.routes import router

__all__ = [
    "Audience",
    "OpenAnswer",
    "RoundResults",
    "RoundSpec",
    "TrendPoint",
    "after_close",
    "apply_retention",
    "close_round",
    "create_round",
    "enps_trend",
    "open_answers_for_inbox",
    "open_round",
    "read_results",
    "round_results",
    "router",
    "seed_demo",
]
