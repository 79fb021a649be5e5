"""Repositories: one per aggregate, all sharing the caller's session (and so its transaction)."""

from __future__ import annotations

from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncSession

from storage.repositories.audit import AuditRepository
from storage.repositories.campaigns import CampaignRepository
from storage.repositories.channels import ChannelRepository
from storage.repositories.dashboard import DashboardRepository
from storage.repositories.deliveries import DeliveryRepository
from storage.repositories.events import EventRepository
from storage.repositories.feedback import FeedbackRepository
from storage.repositories.leadership import LeadershipRepository
from storage.repositories.members import MemberRepository
from storage.repositories.pulses import PulseRepository
from storage.repositories.ritual import RitualRepository
from storage.repositories.schedules import ScheduleRepository
from storage.repositories.stories import StoryRepository
from storage.repositories.teams import TeamsStoreRepository
from storage.repositories.telegram import TelegramRepository
from storage.repositories.tokens import TokenRepository
from storage.repositories.web import WebMessageRepository


class Repos:
    """The repositories bound to one session. Handlers reach them as ``ctx.repo``."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @cached_property
    def members(self) -> MemberRepository:
        return MemberRepository(self.session)

    @cached_property
    def channels(self) -> ChannelRepository:
        return ChannelRepository(self.session)

    @cached_property
    def deliveries(self) -> DeliveryRepository:
        return DeliveryRepository(self.session)

    @cached_property
    def events(self) -> EventRepository:
        return EventRepository(self.session)

    @cached_property
    def schedules(self) -> ScheduleRepository:
        return ScheduleRepository(self.session)

    @cached_property
    def tokens(self) -> TokenRepository:
        return TokenRepository(self.session)

    @cached_property
    def audit(self) -> AuditRepository:
        return AuditRepository(self.session)

    @cached_property
    def web(self) -> WebMessageRepository:
        return WebMessageRepository(self.session)

    @cached_property
    def dashboard(self) -> DashboardRepository:
        return DashboardRepository(self.session)

    @cached_property
    def stories(self) -> StoryRepository:
        return StoryRepository(self.session)

    @cached_property
    def telegram(self) -> TelegramRepository:
        return TelegramRepository(self.session)

    @cached_property
    def feedback(self) -> FeedbackRepository:
        return FeedbackRepository(self.session)

    @cached_property
    def teams(self) -> TeamsStoreRepository:
        return TeamsStoreRepository(self.session)

    @cached_property
    def leadership(self) -> LeadershipRepository:
        return LeadershipRepository(self.session)

    @cached_property
    def ritual(self) -> RitualRepository:
        return RitualRepository(self.session)

    @cached_property
    def pulses(self) -> PulseRepository:
        return PulseRepository(self.session)

    @cached_property
    def campaigns(self) -> CampaignRepository:
        return CampaignRepository(self.session)
