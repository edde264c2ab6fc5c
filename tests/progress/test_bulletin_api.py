"""Bulletins over HTTP on a real nats-server: draft, edit, publish, the renderings, who may do what, bad input."""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import subprocess
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import nats
import pdfplumber
import pytest
from docx import Document
from docx.oxml.ns import qn
from fastapi import FastAPI
from openpyxl import load_workbook
from sqlmodel import Session, select

from proto.clock import ClockTicked
from proto.escalation import EscalationRaised
from proto.subjects import Subjects, unit_token
from services.common.clock import ManualClock
from services.common.natsserver import NatsServer
from services.progress.models import Bulletin, BulletinMark
from tests.helpers import eventually
from tests.progress.support import bearer, office_token
from tests.progress.support import unit_token as issue_unit_token
from tests.progress.test_api import DOC_NO, HOST, P, _error, _tasks, running

pytestmark = pytest.mark.nats
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"


def _rows(app: FastAPI, model: Any) -> list[Any]:
    runtime = app.state.apps["progress"].state.runtime
    with Session(runtime.engine) as session:
        return list(session.exec(select(model)).all())


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


async def _bad_input(client: httpx.AsyncClient) -> None:
    bad: list[tuple[dict[str, Any], int, str]] = [
        ({"notices": ["无此通知"], "period": "2026-03"}, 404, "notice_not_found"),
        ({"notices": [DOC_NO], "period": "2026-13"}, 422, "period_invalid"),
        ({"notices": [DOC_NO], "from": "2026-03-20", "to": "2026-03-01"}, 422, "period_reversed"),
        ({"notices": [DOC_NO], "period": "2026-06"}, 422, "period_in_future"),
        ({"notices": [DOC_NO], "period": "2026-04"}, 422, "period_not_over"),
        ({"notices": [], "period": "2026-03"}, 422, "invalid_request"),
        ({"notices": [DOC_NO], "period": "2026-03", "extra": 1}, 422, "invalid_request"),
        ({"notices": [DOC_NO], "from": "2026-02-30", "to": "2026-03-01"}, 422, "invalid_request"),
    ]
    for body, status, code in bad:
        _error(await client.post(f"{P}/bulletins", json=body), status, code)
    assert (await client.get(f"{P}/bulletins")).json()["count"] == 0


def _check_docx(content: bytes, doc_no: str, title: str) -> None:
    doc = Document(io.BytesIO(content))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == doc_no and texts[1] == title
    assert texts[-3:] == ["督查室", "2026年4月5日", "抄送：县政府办公室。"]
    assert "主送" not in texts[2] and texts[2].endswith("：")
    assert "一、总体情况" in texts and "三、各单位落实情况及排名" in texts
    heading = next(p for p in doc.paragraphs if p.text == "一、总体情况")
    run = heading.runs[0]
    assert (run.font.name, run._element.rPr.rFonts.get(qn("w:eastAsia"))) == ("黑体", "黑体")
    body = doc.paragraphs[4].runs[0]
    assert body._element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert doc.tables, "the sections' tables"
    overall = doc.tables[0]
    assert [c.text for c in overall.rows[0].cells] == ["指标", "数值"]
    assert [c.text for c in overall.rows[1].cells] == ["任务总数", "5"]
    for table in doc.tables:
        assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    footer = doc.sections[0].footer.paragraphs[0]._p.xml
    assert "PAGE" in footer and "fldChar" in footer


def _render_pdf(content: bytes, name: str) -> None:
    """The .docx through LibreOffice to PDF and a PNG of its first page, kept for a person to look at."""
    soffice = shutil.which("soffice")
    if soffice is None:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    source = ARTIFACTS / f"{name}.docx"
    source.write_bytes(content)
    subprocess.run(
        [soffice, "--headless", "--convert-to", "pdf", "--outdir", str(ARTIFACTS), str(source)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pdf = ARTIFACTS / f"{name}.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    with pdfplumber.open(pdf) as pages:
        pages.pages[0].to_image(resolution=80).save(ARTIFACTS / f"{name}.png")


async def _flow(app: FastAPI, client: httpx.AsyncClient, clock: ManualClock, nats_url: str, root: str) -> None:
    subjects = Subjects(root)
    watcher = await nats.connect(nats_url)
    published: list[dict[str, Any]] = []

    async def on_published(msg: Any) -> None:
        published.append(json.loads(msg.data))

    await watcher.subscribe(subjects.bulletin_published, cb=on_published)
    try:
        ids = await _tasks(client)
        office = await office_token(app)
        host = await issue_unit_token(client, office, HOST)
        clock.set(datetime(2026, 3, 20, 2, 0))
        answer = await client.post(
            f"{P}/tasks/{ids[1]}/progress", json={"percent": 30, "period": "2026-03"}, headers=bearer(host)
        )
        assert answer.status_code == 201, answer.text

        # The ladder's top level marks task 1 for the bulletin; a repeat and a lower level add nothing.
        js = watcher.jetstream()
        head = EscalationRaised(
            occurred_at=clock.now(),
            escalation_id="esc-1",
            level="head",
            task_id=ids[1],
            unit=HOST,
            unit_id=unit_token(HOST),
            message="提级督办：连续两期未报送",
        )
        red = EscalationRaised(
            escalation_id="esc-2", level="red", task_id=ids[2], unit=HOST, unit_id=unit_token(HOST), message="督办"
        )
        for event, subject in (
            (head, subjects.escalation_raised_for_id("head", unit_token(HOST))),
            (red, subjects.escalation_raised_for_id("red", unit_token(HOST))),
        ):
            await js.publish(subject, event.model_dump_json().encode(), headers={"Nats-Msg-Id": event.event_id})
        again = head.model_copy(update={"event_id": "another-delivery"})
        await js.publish(subjects.escalation_raised_for_id("head", unit_token(HOST)), again.model_dump_json().encode())

        async def marked() -> bool:
            return len(_rows(app, BulletinMark)) >= 1

        await eventually(marked, what="progress to keep the head-level mark")
        await asyncio.sleep(0.3)
        assert [(m.escalation_id, m.task_id) for m in _rows(app, BulletinMark)] == [("esc-1", ids[1])]

        clock.set(datetime(2026, 4, 5, 2, 0))
        await _bad_input(client)
        unit_headers = bearer(host)
        _error(
            await client.post(f"{P}/bulletins", json={"notices": [DOC_NO], "period": "2026-03"}, headers=unit_headers),
            403,
            "role_forbidden",
        )

        made = await client.post(
            f"{P}/bulletins", json={"notices": [DOC_NO], "period": "2026-03", "copy_to": ["县政府办公室"]}
        )
        assert made.status_code == 201, made.text
        draft = made.json()
        bid = draft["bulletin_id"]
        assert (draft["state"], draft["doc_no"], draft["title"]) == (
            "draft",
            None,
            "关于2026年3月重点工作任务落实情况的通报",
        )
        assert draft["figures"]["overall"]["total"] == 5
        assert [r["number"] for r in draft["figures"]["marked"]] == [1]
        assert draft["links"]["docx"] == f"/api/progress/bulletins/{bid}.docx"

        # A unit sees no draft.
        assert (await client.get(f"{P}/bulletins", headers=unit_headers)).json()["count"] == 0
        _error(await client.get(f"{P}/bulletins/{bid}", headers=unit_headers), 404, "bulletin_not_found")
        _error(await client.get(f"{P}/bulletins/{bid}.docx", headers=unit_headers), 404, "bulletin_not_found")

        edited = await client.patch(
            f"{P}/bulletins/{bid}", json={"comments": "请各单位<立即>整改。", "main_to": ["各镇街", "县直各部门"]}
        )
        assert edited.status_code == 200, edited.text
        _error(await client.patch(f"{P}/bulletins/{bid}", json={"state": "published"}), 422, "invalid_request")
        _error(await client.patch(f"{P}/bulletins/nope", json={"comments": "x"}), 404, "bulletin_not_found")

        done = await client.post(f"{P}/bulletins/{bid}/publish")
        assert done.status_code == 200, done.text
        frozen = done.json()
        assert (frozen["state"], frozen["doc_no"]) == ("published", "兖督通〔2026〕1号")

        async def announced() -> bool:
            return bool(published)

        await eventually(announced, what="bulletin.published on NATS")
        event = published[0]
        assert (event["bulletin_id"], event["doc_no"], event["period"], event["period_name"]) == (
            bid,
            "兖督通〔2026〕1号",
            "2026-03",
            "2026年3月",
        )
        assert event["counts"]["total"] == 5 and event["links"]["docx"].endswith(f"{bid}.docx")
        assert (
            event["main_to"] == ["各镇街", "县直各部门"] and event["copy_to"] == ["县政府办公室"] and event["summary"]
        )

        _error(await client.post(f"{P}/bulletins/{bid}/publish"), 409, "bulletin_published")
        _error(await client.patch(f"{P}/bulletins/{bid}", json={"comments": "改"}), 409, "bulletin_published")
        [row] = _rows(app, Bulletin)
        assert (row.comments, row.doc_no) == ("请各单位<立即>整改。", "兖督通〔2026〕1号")

        # The roll-ups of one or several notices, as of a period's end, by score.
        query = [("by", "unit"), ("notice", DOC_NO), ("notice", DOC_NO), ("period", "2026-03"), ("sort", "score")]
        ranked = await client.get(f"{P}/status", params=query)
        assert ranked.status_code == 200, ranked.text
        assert ranked.json()["period"] == "2026-03" and ranked.json()["notices"] == [DOC_NO, DOC_NO]
        assert [r["rank"] for r in ranked.json()["data"]] == sorted(r["rank"] for r in ranked.json()["data"])
        _error(await client.get(f"{P}/status", params={"by": "unit", "sort": "best"}), 422, "invalid_request")
        _error(await client.get(f"{P}/status", params={"by": "unit", "period": "2026-13"}), 422, "period_invalid")
        _error(await client.get(f"{P}/status", params={"by": "unit", "notice": "x" * 201}), 422, "invalid_request")

        # Units read it once published.
        assert (await client.get(f"{P}/bulletins", headers=unit_headers)).json()["count"] == 1
        assert (await client.get(f"{P}/bulletins", params={"state": "draft"}, headers=unit_headers)).json()[
            "count"
        ] == 0
        assert (await client.get(f"{P}/bulletins", params={"state": "draft"})).json()["count"] == 0
        assert (await client.get(f"{P}/bulletins", params={"state": "published"})).json()["count"] == 1
        _error(await client.get(f"{P}/bulletins", params={"state": "old"}), 422, "invalid_request")
        docx = await client.get(f"{P}/bulletins/{bid}.docx", headers=unit_headers)
        assert docx.status_code == 200, docx.text
        _check_docx(docx.content, "兖督通〔2026〕1号", "关于2026年3月重点工作任务落实情况的通报")
        _render_pdf(docx.content, "bulletin-2026-03")

        xlsx = load_workbook(io.BytesIO((await client.get(f"{P}/bulletins/{bid}.xlsx")).content))
        assert xlsx.sheetnames == [
            "通报",
            "总体情况",
            "较上期变化",
            "单位排名",
            "牵头领导",
            "红黄灯任务",
            "未按时报送",
            "提级督办",
            "工作要求",
        ]
        assert [c.value for c in xlsx["总体情况"][3]] == ["指标", "数值"]

        html = (await client.get(f"{P}/bulletins/{bid}.html")).text
        parser = _Text()
        parser.feed(html)
        assert "script" not in parser.tags and "立即" in html and "&lt;立即&gt;" in html
        assert parser.tags.count("table") >= 3 and "兖督通〔2026〕1号" in parser.text
    finally:
        await watcher.close()


async def test_bulletins_over_http(nats_server: NatsServer, subject_root: str, tmp_path: Path) -> None:
    async with running(nats_server, subject_root, tmp_path, None) as (app, client, clock):
        await _flow(app, client, clock, nats_server.url, subject_root)


@pytest.mark.postgres
async def test_bulletins_over_http_on_postgres(
    nats_server: NatsServer, subject_root: str, tmp_path: Path, pg_databases: dict[str, str]
) -> None:
    async with running(nats_server, subject_root, tmp_path, pg_databases) as (app, client, clock):
        await _flow(app, client, clock, nats_server.url, subject_root)


async def test_a_scheduled_bulletin_is_drafted_once_on_its_day(
    nats_server: NatsServer, subject_root: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LUOSHI_PROGRESS_BULLETIN_SCHEDULE", json.dumps(["每月5日通报上月"]))
    async with running(nats_server, subject_root, tmp_path, None) as (app, client, clock):
        await _tasks(client)
        subjects = Subjects(subject_root)
        watcher = await nats.connect(nats_server.url)
        try:
            js = watcher.jetstream()
            clock.set(datetime(2026, 4, 4, 16, 5))  # 00:05 on 5 April in Beijing
            for event_id in ("tick-2026-04-05", "tick-2026-04-05-again"):
                tick = ClockTicked(event_id=event_id, source="notify", today=date(2026, 4, 5))
                await js.publish(
                    subjects.clock_tick, tick.model_dump_json().encode(), headers={"Nats-Msg-Id": event_id}
                )

            async def drafted() -> list[Any]:
                return _rows(app, Bulletin)

            await eventually(drafted, what="the scheduled draft")
            await asyncio.sleep(0.5)
            [row] = _rows(app, Bulletin)
            assert (row.state, row.period_label, row.schedule_rule, row.notices) == (
                "draft",
                "2026-03",
                "每月5日通报上月",
                [DOC_NO],
            )
        finally:
            await watcher.close()
