"""The LLM answer engine: any LangChain chat model, writing from the same passages and facts.

Its output is checked, not trusted: citations must name passages retrieved for this turn
(others are removed, the rest renumbered); an answer left without one, a provider error
or a timeout falls back to the grounded engine, and the answer says so.
"""

from __future__ import annotations

import concurrent.futures
import html
import json
import re
from collections.abc import Iterator

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.messages.utils import count_tokens_approximately, trim_messages

from advisor.chat.compose import cited_numbers
from advisor.chat.context import NEEDS_PROFILE, TurnContext, assumed_skills
from advisor.chat.grounded import GroundedEngine, stream_answer
from advisor.chat.intents import ABOUT_ME, FIXED
from advisor.models import Answer
from advisor.prompts import load_prompt

_CITE = re.compile(r"\[(\d{1,3})\]")
# Types whose answer is a fixed message or an exact profile change; an LLM adds nothing there.
_FIXED = (*FIXED, *ABOUT_ME)
_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="llm")


def documents_block(ctx: TurnContext) -> str:
    """Passages as delimited data; markup inside them is escaped so they cannot close the block."""
    parts = []
    for n, h in enumerate(ctx.hits, 1):
        body = html.escape(h.snippet, quote=False)
        parts.append(f'<document n="{n}" id="{h.doc_id}" title="{html.escape(h.title)}" section="{html.escape(h.section)}">\n{body}\n</document>')
    return "\n".join(parts) or "(no documents)"


def reading_block(ctx: TurnContext, kb=None) -> str:
    """What the question was read as: its type, the roles and skills it is about, the profile."""
    r, p = ctx.reading, ctx.profile
    title = (lambda i: kb.docs[i].title if kb is not None and i in kb.docs else i.replace("_", " "))
    reading = {
        "type": r.intent,
        "roles": [title(x) for x in ctx.paths or r.roles],
        "skills": [title(x) for x in r.skills],
        "follow_up": r.follow_up,
        "profile": {
            "skills": {title(s.skill_id): s.level for s in p.skills},
            "weekly_hours": p.weekly_hours,
            "current_role": p.current_role,
            "seniority": p.seniority,
            "preferences": p.preferences,
        },
    }
    return json.dumps(reading, ensure_ascii=False)


def facts_block(ctx: TurnContext, kb=None) -> str:
    facts: dict = {}
    if kb is not None:
        for role in ctx.paths if ctx.reading.intent == "pay" else []:
            wage = getattr(kb.roles.get(role), "median_wage", None)
            if wage is not None:
                facts.setdefault("median_wages", []).append({"role": kb.docs[role].title, "usd_per_year": wage.amount_usd, "source": wage.source})
        for sid in ctx.reading.skills[:2] if ctx.reading.intent in ("how_long", "skill_order", "skill_info") else []:
            skill = kb.skills.get(sid)
            if skill is not None:
                facts.setdefault("skills", []).append(
                    {"skill": skill.title, "hours_per_level_step": skill.hours, "prerequisites": [kb.docs[x].title for x in skill.prerequisites if x in kb.docs]}
                )
    rec = ctx.recommendation
    if rec is None:
        return json.dumps(facts, ensure_ascii=False) if facts else "(none)"
    if not getattr(rec, "show_numbers", True):
        facts["withhold_figures"] = rec.ask or "the profile says too little for a fit or weeks"
    facts.update({
        "weekly_hours": ctx.profile.weekly_hours,
        "fits": [
            {
                "role": f.title,
                "fit": f"{f.fit:.0%}",
                "weeks_to_ready_to_apply": f.weeks_to_ready,
                "weeks_for_the_full_plan": getattr(f, "weeks_full_plan", 0),
                "top_gaps": [g.name for g in f.gaps[:4]],
            }
            for f in rec.roles[:4]
        ],
    })
    assumed = assumed_skills(rec)
    if assumed:
        facts["assumed_from_your_role"] = assumed
    if rec.plan:
        facts["plan"] = [
            {"stage": s.number, "title": s.title, "weeks": s.weeks, "skills": [g.name for g in s.skills], "resources": [kb.docs[r].title if kb is not None and r in kb.docs else r for r in s.resources]}
            for s in rec.plan.stages
        ]
    if ctx.changes:
        facts["profile_changes"] = ctx.changes
    return json.dumps(facts, ensure_ascii=False)


def validate_citations(text: str, ctx: TurnContext) -> tuple[str, list]:
    """Drop citations that name no retrieved passage; renumber the rest in order of use."""
    order: dict[int, int] = {}
    for n in cited_numbers(text):
        if 1 <= n <= len(ctx.hits) and n not in order:
            order[n] = len(order) + 1

    def renumber(m: re.Match) -> str:
        n = int(m.group(1))
        return f"[{order[n]}]" if n in order else ""

    cleaned = re.sub(r"[ \t]+(?=[.,;:!?])", "", _CITE.sub(renumber, text)).strip()
    return cleaned, [ctx.hits[n - 1] for n in order]


def type_prompt(intent: str) -> str:
    """How to answer this type of question: ``prompts/types/<type>.md`` (a general one when none)."""
    try:
        return load_prompt(f"types/{intent}")
    except FileNotFoundError:
        return load_prompt("types/general")


class LLMEngine:
    def __init__(self, model: BaseChatModel, name: str, fallback: GroundedEngine, timeout_s: float, history_tokens: int):
        self.model = model
        self.name = name
        self.fallback = fallback
        self.timeout_s = timeout_s
        self.history_tokens = history_tokens

    def rebind(self, kb) -> None:
        self.fallback.rebind(kb)

    def messages(self, question: str, ctx: TurnContext) -> list:
        history = [
            (HumanMessage if m.role == "user" else AIMessage)(content=m.content) for m in ctx.history if m.role in ("user", "assistant")
        ]
        history = trim_messages(
            history, max_tokens=self.history_tokens, token_counter=count_tokens_approximately, strategy="last", start_on="human"
        )
        kb = self.fallback.kb
        turn = load_prompt("llm_turn").format(
            documents=documents_block(ctx),
            facts=facts_block(ctx, kb),
            reading=reading_block(ctx, kb),
            guidance=type_prompt(ctx.reading.intent),
            intent=ctx.reading.intent,
            question=question,
        )
        return [SystemMessage(content=load_prompt("llm_system")), *history, HumanMessage(content=turn)]

    def _uses_fallback(self, ctx: TurnContext) -> bool:
        needs_profile = ctx.reading.intent in NEEDS_PROFILE and ctx.recommendation is None
        return ctx.reading.intent in _FIXED or needs_profile or not ctx.hits

    def answer(self, question: str, ctx: TurnContext) -> Answer:
        if self._uses_fallback(ctx):
            return self.fallback.answer(question, ctx)
        try:
            future = _POOL.submit(self.model.invoke, self.messages(question, ctx))
            reply = future.result(timeout=self.timeout_s)
        except concurrent.futures.TimeoutError:
            return self._fall_back(question, ctx, f"the language model did not answer within {self.timeout_s:g} s")
        except Exception as exc:  # any provider failure becomes a fallback, never a traceback
            return self._fall_back(question, ctx, f"the language model failed ({type(exc).__name__})")
        return self._finish(str(reply.content), question, ctx)

    def stream(self, question: str, ctx: TurnContext) -> Iterator[str | Answer]:
        if self._uses_fallback(ctx):
            yield from stream_answer(self.fallback.answer(question, ctx))
            return
        pieces = []
        try:
            for chunk in self.model.stream(self.messages(question, ctx)):
                text = str(chunk.content)
                if text:
                    pieces.append(text)
                    yield text
        except Exception as exc:
            yield self._fall_back(question, ctx, f"the language model failed ({type(exc).__name__})")
            return
        yield self._finish("".join(pieces), question, ctx)

    def _finish(self, raw: str, question: str, ctx: TurnContext) -> Answer:
        text, citations = validate_citations(raw, ctx)
        if not citations:
            return self._fall_back(question, ctx, "the language model's answer cited none of the retrieved sources")
        return Answer(
            text=text,
            citations=citations,
            confidence=round(ctx.reading.confidence, 3),
            intent=ctx.reading.intent,
            profile=ctx.profile,
            recommendation=ctx.recommendation,
            engine=self.name,
            grounded=all(h in ctx.hits for h in citations),
        )

    def _fall_back(self, question: str, ctx: TurnContext, why: str) -> Answer:
        answer = self.fallback.answer(question, ctx)
        note = f"Answered by the grounded engine because {why}."
        return answer.model_copy(update={"engine": f"{self.fallback.name} (fallback from {self.name})", "notes": [note]})
