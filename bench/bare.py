"""The yardstick of the ingest bench: a bare ASGI endpoint that does what an answer must do, nothing else.

It checks the Slack signature (as any endpoint must), reads the button's value, and in one transaction
records the participation and increments the counter, exactly as `storage.repositories.pulses` does, then
answers 200. No framework beyond Starlette, no Bolt, no router, no de-duplication, no card update.

    uv run python -m bench.bare --port 8010 --database-url sqlite+aiosqlite:///bench.db --round 1
"""

from __future__ import annotations

import argparse
import json
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from storage.db import Database


def build(database_url: str, signing_secret: str) -> Starlette:
    database = Database(database_url)
    verifier = SignatureVerifier(signing_secret)
    ignore = "ON CONFLICT DO NOTHING" if database.is_postgres else ""
    insert = text(
        f"INSERT {'' if database.is_postgres else 'OR IGNORE '}INTO pulse_participation "
        f"(round_id, member_id, question_id) VALUES (:round, :member, :question) {ignore}"
    )
    count = text(
        "UPDATE pulse_tallies SET count = count + 1 WHERE round_id = :round AND question_id = :question "
        "AND department_id = 0 AND value = :value"
    )

    async def answer(request: Request) -> Response:
        body = (await request.body()).decode()
        if not verifier.is_valid(
            body=body,
            timestamp=request.headers.get("X-Slack-Request-Timestamp", ""),
            signature=request.headers.get("X-Slack-Signature", ""),
        ):
            return JSONResponse({"error": "invalid signature"}, status_code=401)
        payload: dict[str, Any] = json.loads(parse_qs(body)["payload"][0])
        value: dict[str, Any] = json.loads(payload["actions"][0]["value"])
        async with database.transaction() as session:
            inserted = await session.execute(
                insert, {"round": value["round"], "member": value["member"], "question": value["question"]}
            )
            if getattr(inserted, "rowcount", 0) == 1:
                await session.execute(
                    count, {"round": value["round"], "question": value["question"], "value": value["value"]}
                )
        return Response(status_code=200)

    return Starlette(routes=[Route("/slack/events", answer, methods=["POST"])])


def main() -> None:
    parser = argparse.ArgumentParser(description="The bare answer endpoint (the ingest bench's yardstick).")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--signing-secret", required=True)
    arguments = parser.parse_args()
    uvicorn.run(
        build(arguments.database_url, arguments.signing_secret),
        host="127.0.0.1",
        port=arguments.port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
