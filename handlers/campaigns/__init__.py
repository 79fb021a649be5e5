"""Campaigns: CX managers schedule stories, pulses, the ritual, leader nudges and messages over time.

See ``docs/campaigns.md``. The public surface (what the dashboard and the CLI call):

- `apply_campaign(ctx, spec, actor, dry_run=False)` → `ApplyResult` — create or update from a `CampaignSpec`
  (`load_yaml(text, holidays=…)`, `templates.load(name, …)` or `validate(data, holidays=…)` make one);
- `preview(ctx, campaign, n, locale)` → `AudiencePreview`s — the next sends per audience;
- `pause`, `resume`, `archive` (ctx, campaign, actor);
- `campaign_stats(ctx, campaign, actor)` → `CampaignStats`.
- `manage.overview`, `manage.save`, `manage.change_state` — what the chat's forms and the dashboard's page use
  (a new campaign or a draft stays a draft unless started; the key stays fixed; the owner is kept);
- `files.dump_yaml(spec)` — a campaign as a file again.

Schedule kinds: ``campaign.send``, ``campaign.journey``, ``campaign.restore``, ``campaign.sync``.
"""

from handlers.campaigns import commands, jobs  # noqa: F401  (they register their routes)
from handlers.campaigns.demo import seed_demo
from handlers.campaigns.files import load_yaml
from handlers.campaigns.jobs import on_start
from handlers.campaigns.preview import AudiencePreview, PreviewSend, preview
from handlers.campaigns.problems import Problem, SpecInvalid
from handlers.campaigns.routes import router
from handlers.campaigns.service import ApplyResult, Change, apply_campaign, archive, pause, resume, spec_of
from handlers.campaigns.spec import CampaignSpec, validate
from handlers.campaigns.stats import CampaignStats, RoundFigures, campaign_stats

__all__ = [
    "ApplyResult",
    "AudiencePreview",
    "CampaignSpec",
    "CampaignStats",
    "Change",
    "PreviewSend",
    "Problem",
    "RoundFigures",
    "SpecInvalid",
    "apply_campaign",
    "archive",
    "campaign_stats",
    "load_yaml",
    "on_start",
    "pause",
    "preview",
    "resume",
    "router",
    "seed_demo",
    "spec_of",
    "validate",
]
