"""Role fit, skill gaps and the learning plan: plain arithmetic over the knowledge base.

Fit of a role = sum(importance x min(level, required) / required) / sum(importance), over
the role's requirements at the chosen seniority. A skill at or above the requirement is
*matched*, one above 0 but below it *transferable*, and every requirement not met is a
*gap* costing the skill document's hours for the missing level steps.

The plan for a target adds missing prerequisites of the gaps (to level 2), orders the
skills so every prerequisite comes first and, among skills that are ready, the highest
priority goes first; then it cuts the sequence into at most six stages of similar length.
Weeks to ready count the study hours to the ready bar (see ``ON_THE_JOB``); they can only
shrink when a level rises, because each skill's hours do.
"""

from __future__ import annotations

import heapq
import math

from advisor.models import Gap, Plan, PlanStage, Profile, RoleFit, SkillMatch
from knowledge.base import KnowledgeBase
from knowledge.document import first_sentence, section_text
from knowledge.schema import RoleDoc, Seniority

PREREQUISITE_LEVEL = 2
ON_THE_JOB = 3
"""'Ready to apply' means every requirement of importance above this at its full level, and the
others at one level below: few hires meet every line of a job description, and the minor
requirements are the ones people finish learning on the job."""
MAX_STAGES = 6
STAGE_WEEKS = 8
_CATEGORY_LABEL = {
    "foundation": "foundations",
    "analytics": "analytics methods",
    "bi": "BI modelling and tools",
    "business": "business communication",
    "engineering": "software engineering",
    "ml": "machine learning",
    "mlops": "production ML",
    "data_engineering": "data pipelines",
    "llm": "LLM applications",
}


def required_levels(role: RoleDoc, seniority: Seniority) -> dict[str, tuple[int, int]]:
    """skill id -> (required level, importance) for a role at a seniority."""
    return {r.skill: (r.level_for(seniority), r.importance) for r in role.requirements}


class Recommender:
    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.skills = kb.skills
        self.roles = kb.roles
        self._ancestors: dict[str, set[str]] = {}

    # -- fit -------------------------------------------------------------------------------
    def fit(self, profile: Profile, role_id: str, seniority: Seniority | None = None) -> RoleFit:
        role = self.roles[role_id]
        seniority = seniority or profile.seniority
        levels = profile.levels()
        reqs = required_levels(role, seniority)
        total = sum(w for _, w in reqs.values())
        earned, matched, transferable, gap_rows = 0.0, [], [], []
        for sid, (need, weight) in reqs.items():
            have = levels.get(sid, 0)
            earned += weight * min(have, need) / need
            row = SkillMatch(skill_id=sid, name=self.skills[sid].title, current_level=have, required_level=need, importance=weight)
            if have >= need:
                matched.append(row)
                continue
            if have > 0:
                transferable.append(row)
            gap_rows.append(row)
        gaps = self._gaps(gap_rows)
        fit = earned / total if total else 0.0
        hours = self._hours_to_ready(profile, reqs)
        return RoleFit(
            role_id=role_id,
            title=role.title,
            fit=round(fit, 4),
            matched=sorted(matched, key=lambda m: -m.importance),
            transferable=sorted(transferable, key=lambda m: -m.importance),
            gaps=gaps,
            hours_to_ready=hours,
            weeks_to_ready=round(hours / profile.weekly_hours, 1),
            why=self._why(role.title, fit, matched, transferable, gaps),
        )

    def _hours_to_ready(self, profile: Profile, reqs: dict[str, tuple[int, int]]) -> int:
        bar = []
        for sid, (need, weight) in reqs.items():
            target = need if weight > ON_THE_JOB else max(need - 1, 1)
            have = profile.level(sid)
            if have < target:
                skill = self.skills[sid]
                bar.append(Gap(skill_id=sid, name=skill.title, current_level=have, required_level=target,
                               importance=weight, priority=0, hours=skill.hours_between(have, target)))
        return sum(g.hours for g in self.plan_skills(profile, bar))

    def _gaps(self, rows: list[SkillMatch]) -> list[Gap]:
        missing = {r.skill_id for r in rows}
        gaps = []
        for r in rows:
            skill = self.skills[r.skill_id]
            unlocks = sum(1 for other in missing if other != r.skill_id and r.skill_id in self.ancestors(other))
            priority = r.importance * (r.required_level - r.current_level) * (1 + 0.25 * unlocks)
            gaps.append(
                Gap(
                    skill_id=r.skill_id,
                    name=skill.title,
                    current_level=r.current_level,
                    required_level=r.required_level,
                    importance=r.importance,
                    priority=round(priority, 2),
                    hours=skill.hours_between(r.current_level, r.required_level),
                )
            )
        return sorted(gaps, key=lambda g: (-g.priority, g.skill_id))

    def ancestors(self, skill_id: str) -> set[str]:
        """Every skill that must come before ``skill_id`` (transitive prerequisites)."""
        if skill_id not in self._ancestors:
            self._ancestors[skill_id] = self._walk(skill_id)
        return self._ancestors[skill_id]

    def _walk(self, skill_id: str) -> set[str]:
        seen, stack = set(), list(self.skills[skill_id].prerequisites) if skill_id in self.skills else []
        while stack:
            s = stack.pop()
            if s in seen or s not in self.skills:
                continue
            seen.add(s)
            stack.extend(self.skills[s].prerequisites)
        return seen

    def _why(self, title: str, fit: float, matched, transferable, gaps: list[Gap]) -> str:
        strong = [m.name for m in matched[:3]]
        partial = [m.name for m in transferable[:2]]
        top = [g.name for g in gaps[:3]]
        first = f"{title}: {round(fit * 100)}% fit"
        if strong:
            first += f", carried by {_join(strong)}"
        if partial:
            first += f" and partly by {_join(partial)}"
        first += "."
        if not gaps:
            return first + " You already meet every requirement at this level."
        return first + (f" The largest gaps are {_join(top)}." if len(top) > 1 else f" The one gap is {top[0]}.")

    def fits(self, profile: Profile, targets: list[str] | None = None, seniority: Seniority | None = None) -> list[RoleFit]:
        ids = targets or sorted(self.roles)
        return sorted((self.fit(profile, r, seniority) for r in ids), key=lambda f: (-f.fit, f.role_id))

    # -- plan ------------------------------------------------------------------------------
    def plan_skills(self, profile: Profile, gaps: list[Gap]) -> list[Gap]:
        """The gaps plus missing prerequisites, in learning order (prerequisites first)."""
        levels = profile.levels()
        items: dict[str, Gap] = {g.skill_id: g for g in gaps}
        queue = [g.skill_id for g in gaps]
        while queue:
            sid = queue.pop()
            for pre in self.skills[sid].prerequisites:
                if pre in items or pre not in self.skills or levels.get(pre, 0) >= PREREQUISITE_LEVEL:
                    continue
                skill = self.skills[pre]
                have = levels.get(pre, 0)
                items[pre] = Gap(
                    skill_id=pre,
                    name=skill.title,
                    current_level=have,
                    required_level=PREREQUISITE_LEVEL,
                    importance=items[sid].importance,
                    priority=round(items[sid].priority + 0.01, 2),
                    hours=skill.hours_between(have, PREREQUISITE_LEVEL),
                )
                queue.append(pre)
        # Kahn's algorithm with a priority queue: ready skills, highest priority first.
        blockers = {sid: {p for p in self.ancestors(sid) if p in items} for sid in items}
        ready = [(-items[s].priority, s) for s, b in blockers.items() if not b]
        heapq.heapify(ready)
        ordered = []
        while ready:
            _, sid = heapq.heappop(ready)
            ordered.append(items[sid])
            for other, b in blockers.items():
                if sid in b:
                    b.discard(sid)
                    if not b:
                        heapq.heappush(ready, (-items[other].priority, other))
        return ordered

    def plan(self, profile: Profile, fit: RoleFit) -> Plan:
        ordered = self.plan_skills(profile, fit.gaps)
        weekly = profile.weekly_hours
        total_hours = sum(g.hours for g in ordered)
        n_stages = max(1, min(MAX_STAGES, math.ceil(total_hours / (STAGE_WEEKS * weekly))))
        budget = total_hours / n_stages
        groups: list[list[Gap]] = []
        for gap in ordered:
            if groups and (sum(g.hours for g in groups[-1]) + gap.hours / 2 <= budget or len(groups) == n_stages):
                groups[-1].append(gap)
            else:
                groups.append([gap])
        stages, start = [], 0.0
        for n, group in enumerate(groups, 1):
            hours = sum(g.hours for g in group)
            weeks = round(hours / weekly, 1)
            stages.append(
                PlanStage(
                    number=n,
                    title=self._stage_title(group),
                    skills=group,
                    hours=hours,
                    weeks=weeks,
                    start_week=round(start, 1),
                    resources=self.resources_for([g.skill_id for g in group]),
                    project=self._project(group),
                )
            )
            start += hours / weekly
        total = sum(s.hours for s in stages)
        return Plan(role_id=fit.role_id, weekly_hours=weekly, total_hours=total, total_weeks=round(total / weekly, 1), stages=stages)

    def _stage_title(self, group: list[Gap]) -> str:
        cats: dict[str, int] = {}
        for g in group:
            label = _CATEGORY_LABEL.get(self.skills[g.skill_id].category, "skills")
            cats[label] = cats.get(label, 0) + g.hours
        labels = [c for c, _ in sorted(cats.items(), key=lambda x: -x[1])][:2]
        title = " and ".join(labels)
        return title[:1].upper() + title[1:]

    def resources_for(self, skill_ids: list[str], limit: int = 3) -> list[str]:
        wanted = set(skill_ids)
        scored = []
        for doc in self.kb.of_kind("resource"):
            overlap = len(wanted & set(doc.meta.skills))
            if overlap:
                scored.append((-overlap, doc.meta.effort_hours, doc.id))
        return [doc_id for *_, doc_id in sorted(scored)[:limit]]

    def _project(self, group: list[Gap]) -> str:
        """The portfolio idea from the most important skill's own document."""
        for gap in sorted(group, key=lambda g: -g.priority):
            doc = self.kb.docs[gap.skill_id]
            text = section_text(doc.body, "portfolio")
            if text:
                return first_sentence(text)
        return f"Build a small project that uses {_join([g.name for g in group])} end to end and write up what you learned."


def _join(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
