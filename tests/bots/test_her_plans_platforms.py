"""Check-ins, reminders, the same person and a follow-up after a case (issue #21) on Telegram
and Discord: the real adapters inside the real app against the local stand-ins, through the one
gateway. The menu and slash commands come from the one table; buttons carry the same payloads
as on the web."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from community.db import Database
from community.phrases import phrase
from community.scheduling import JobContext, follow_ups_job
from community.settings import Settings
from tests.bots.app_harness import running
from tests.bots.rasa_standin import RasaStandIn
from tests.bots.telegram_standin import BotApiStandIn, bot_api_standin
from tests.bots.test_discord import MOM as DISCORD_MOM
from tests.bots.test_discord import discord_app
from tests.bots.test_moderation_api import _staff, auth
from tests.bots.test_telegram import _settings

MOM = 5550101


@pytest.fixture
def bot_api() -> Iterator[BotApiStandIn]:
    with bot_api_standin() as server:
        yield server


def _buttons(bot_api: BotApiStandIn, index: int) -> list[str]:
    markup = bot_api.sent("sendMessage", MOM)[index].params.get("reply_markup") or {}
    return [row[0]["callback_data"] for row in markup.get("inline_keyboard", [])]


async def test_on_telegram(settings: Settings, bot_api: BotApiStandIn, rasa: RasaStandIn) -> None:
    async with running(_settings(settings, bot_api, rasa)):
        await bot_api.wait_for(lambda: bot_api.sent("setMyCommands"))
        bot_api.private_message(MOM, "/checkins")
        await bot_api.wait_for(lambda: bot_api.texts_to(MOM))
        assert bot_api.texts_to(MOM)[0] == phrase("checkins_offer", "en")
        assert _buttons(bot_api, 0) == ["/checkins_every_3", "/checkins_every_7"]
        bot_api.button_press(MOM, "/checkins_every_7", chat_id=MOM)
        await bot_api.wait_for(lambda: len(bot_api.texts_to(MOM)) >= 2)
        assert _buttons(bot_api, 1)[0] == "/checkins_set_7_540"
        bot_api.button_press(MOM, "/checkins_set_7_540", chat_id=MOM)
        await bot_api.wait_for(lambda: len(bot_api.texts_to(MOM)) >= 3)
        assert "once a week at 9:00 AM (Eastern time)" in bot_api.texts_to(MOM)[2]

        bot_api.private_message(MOM, "/remind tomorrow 9am: clinic appointment")
        await bot_api.wait_for(lambda: len(bot_api.texts_to(MOM)) >= 4)
        assert '9:00 AM (Eastern time): "clinic appointment"' in bot_api.texts_to(MOM)[3]
        bot_api.private_message(MOM, "/reminders")
        await bot_api.wait_for(lambda: len(bot_api.texts_to(MOM)) >= 5)
        (cancel,) = _buttons(bot_api, 4)
        assert cancel.startswith("/reminder_cancel_")
        bot_api.button_press(MOM, cancel, chat_id=MOM)
        await bot_api.wait_for(lambda: len(bot_api.texts_to(MOM)) >= 6)
        assert bot_api.texts_to(MOM)[5] == phrase("reminder_cancelled", "en")

        bot_api.private_message(MOM, "/same")  # nobody before: the team, said honestly
        await bot_api.wait_for(lambda: len(bot_api.texts_to(MOM)) >= 7)
        assert bot_api.texts_to(MOM)[6] == phrase("same_not_found", "en")


async def test_on_discord(settings: Settings, rasa: RasaStandIn) -> None:
    async with discord_app(settings, rasa) as (server, _):
        dm = server.dm_channel_for(DISCORD_MOM)
        token = await server.slash(DISCORD_MOM, "checkins", dm, {"days": "3", "time": "8pm"})
        await server.wait_for(lambda: len(server.interaction_replies(token)) >= 2)
        told = server.interaction_replies(token)[-1]["content"]
        assert "every 3 days at 8:00 PM (Eastern time)" in told
        await server.dm(DISCORD_MOM, "pause check-ins")
        await server.wait_for(lambda: server.texts_in(dm))
        assert server.texts_in(dm)[0] == phrase("checkins_paused", "en")
        buttons = server.posted(dm)[0]["components"][0]["components"]
        assert [b["custom_id"] for b in buttons] == ["say:/checkins_resume"]
        await server.dm(DISCORD_MOM, "recuérdame mañana a las 3pm: llamar a la clínica")
        await server.wait_for(lambda: len(server.texts_in(dm)) >= 2)
        assert '(hora del Este): "llamar a la clínica"' in server.texts_in(dm)[1]
        token = await server.slash(DISCORD_MOM, "reminders", dm, locale="es-419")
        await server.wait_for(lambda: len(server.interaction_replies(token)) >= 2)
        assert "llamar a la clínica" in server.interaction_replies(token)[-1]["content"]


async def test_a_follow_up_check_in_on_telegram(
    settings: Settings, bot_api: BotApiStandIn, rasa: RasaStandIn
) -> None:
    """After a crisis case is resolved: she agrees to a check-in on Telegram, it arrives there at
    the agreed time (sent by the scheduler's job), and "I need someone now" opens a new case."""
    quick = _settings(settings, bot_api, rasa).model_copy(
        update={
            "followup_after_minutes": 0.01,
            "research_quiet_start_hour": 0,
            "research_quiet_end_hour": 0,
        }
    )
    token = await _staff(quick, "tg-follow", "moderator", "Ana")
    async with running(quick) as app:
        api = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://peerbot")
        async with api:
            bot_api.private_message(MOM, "i want to kill myself tonight")
            await bot_api.wait_for(lambda: any("988" in t for t in bot_api.texts_to(MOM)))
            cases = (await api.get("/api/cases", headers=auth(token))).json()["cases"]
            (case,) = cases
            await api.post(f"/api/cases/{case['id']}/claim", headers=auth(token))
            resolved = await api.post(
                f"/api/cases/{case['id']}/resolve", json={"outcome": "safe"}, headers=auth(token)
            )
            assert resolved.status_code == 200
            offer = phrase("followup_offer", "en")
            await bot_api.wait_for(lambda: offer in bot_api.texts_to(MOM))
            at = bot_api.texts_to(MOM).index(offer)
            yes = _buttons(bot_api, at)[0]
            assert yes.startswith("/followup_yes_")
            told = len(bot_api.texts_to(MOM))
            bot_api.button_press(MOM, yes, chat_id=MOM)
            await bot_api.wait_for(lambda: len(bot_api.texts_to(MOM)) > told)
            assert bot_api.texts_to(MOM)[told] == phrase("followup_agreed", "en")

            await asyncio.sleep(1.0)  # past the agreed time
            database = Database.connect(quick.resolved_database_url)
            try:
                await follow_ups_job(JobContext(quick, database))
            finally:
                await database.dispose()
            checkin = phrase("checkin", "en")
            await bot_api.wait_for(lambda: checkin in bot_api.texts_to(MOM))
            at = bot_api.texts_to(MOM).index(checkin)
            better, not_great, need_now = _buttons(bot_api, at)
            assert better.startswith("/checkin_better_")
            assert not_great.startswith("/checkin_not_great_")
            assert need_now.startswith("/checkin_need_now_")
            bot_api.button_press(MOM, need_now, chat_id=MOM)
            answer = phrase("checkin_need_now", "en")
            await bot_api.wait_for(lambda: answer in bot_api.texts_to(MOM))
            cases = (await api.get("/api/cases", headers=auth(token))).json()["cases"]
            assert [c["id"] != case["id"] for c in cases] == [True]
