"""Role fit, skill gaps and the learning plan: plain arithmetic over the knowledge base.

Fit of a role = sum(importance x min(level, required) / required) / sum(importance), over
the role's requirements at the chosen seniority. A requirement with alternatives (``any_of``)
counts the member the person is best at; when it is a gap, the member that adds the fewest hours to
the plan from where they stand is the one named. A requirement met is *matched*, one above 0 but below the
level *transferable*, and every requirement not met is a *gap* costing the skill document's
hours for the missing level steps.

Requirements are *core* (needed to be ready to apply) or *plus* (they raise fit and appear in
the full plan, but never block readiness). Weeks to ready count the hours to meet every core
requirement, prerequisites included; the full plan adds the plus ones. Weeks to ready can only
shrink when a level rises (tests/test_recommender.py checks it); a group's member is costed with
the prerequisites it would add.

The plan adds missing prerequisites of the gaps (to level 2), orders the skills so every
prerequisite comes first and, among skills that are ready, the highest priority goes first;
core skills come before plus skills, and each part is cut into stages of similar length.
"""

from __future__ import annotations

import heapq
import math
import re
from dataclasses import dataclass

from advisor.models import Gap, Plan, PlanStage, Profile, RoleFit, SkillMatch
from advisor.wording import depth_on_the_job, in_sentence, kind_of_posting
from knowledge.base import KnowledgeBase, normalise_alias
from knowledge.document import first_sentence, section_text
from knowledge.schema import Requirement, Seniority

PREREQUISITE_LEVEL = 2
GROUP_SLACK = 1.2
"""A group's gap names its first-listed (most asked) member unless another is over 20% cheaper
from where the person stands; a member already started is usually the cheapest."""
ASSUMED_CREDIT = 0.7
"""A requirement met only by an *assumed* level (the role prior) earns 70% of its weight in fit:
what the person has not confirmed is less certain than what they said. Hours are unaffected."""
PLUS_WEIGHT = 0.5
"""A plus requirement counts half its importance in fit: it raises fit, but a person who meets
every core requirement and none of the plus ones is most of the way to the job."""
STUDY_CEILING = 3
"""The highest level study reaches. Level 4 in every skill document is leading the work (setting a
team's standards, designing for an organisation), and senior postings ask for it as years of
experience (mle-14: "5+ years of professional experience building and shipping ML and/or
optimization systems to production"), not as courses: a senior target's level-4 requirements count
toward fit, while the weeks count study to level 3 and the rest is named as
depth built on the job (``RoleFit.on_the_job``). Counting 150 h of SQL study for each level-4
step told a data scientist with four years' experience seven years to a senior post."""
MAX_STAGES = 6
STAGE_WEEKS = 8
_CATEGORY_LABEL = {
    "foundation": "foundations",
    "analytics": "analytics methods",
    "bi": "BI reporting",
    "business": "business skills",
    "engineering": "software engineering",
    "ml": "machine learning",
    "mlops": "production ML",
    "data_engineering": "data pipelines",
    "llm": "LLM applications",
}


@dataclass(frozen=True)
class _Row:
    """A requirement not met, before it becomes a :class:`Gap`: the skill to learn and from where."""

    skill_id: str
    current_level: int
    required_level: int
    importance: int
    need: str
    group: str | None


@dataclass(frozen=True)
class Standing:
    """Where a person stands on one requirement: the member they are best at, and the one
    cheapest to learn (the same skill for a single-skill requirement)."""

    requirement: Requirement
    need: int
    have: int
    best: str
    to_learn: str


class Recommender:
    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.skills = kb.skills
        self.roles = kb.roles
        self._ancestors: dict[str, set[str]] = {}
        self._named: dict[str, set[str]] = {}

    # -- fit -------------------------------------------------------------------------------
    def standing(self, req: Requirement, levels: dict[str, int], seniority: Seniority, planned: frozenset[str] = frozenset()) -> Standing:
        """``planned``: skills the plan holds anyway (the role's other gaps); a member's prerequisite
        among them costs it nothing, so the member chosen is the one that adds the fewest hours."""
        need = req.level_for(seniority)
        members = req.members
        if len(members) == 1:
            return Standing(req, need, levels.get(members[0], 0), members[0], members[0])
        best = max(members, key=lambda s: (levels.get(s, 0), -members.index(s)))
        cost = {s: self._cost(s, levels, need, planned) for s in members}
        # Members are listed most-asked first: take the first one within GROUP_SLACK of the cheapest.
        cheapest = min(cost.values())
        to_learn = next(s for s in members if cost[s] <= cheapest * GROUP_SLACK)
        return Standing(req, need, levels.get(best, 0), best, to_learn)

    def _cost(self, skill_id: str, levels: dict[str, int], need: int, planned: frozenset[str] = frozenset()) -> int:
        """Hours to take a skill to ``need``, with the prerequisites it would add to the plan."""
        hours = self.skills[skill_id].hours_between(levels.get(skill_id, 0), need)
        for pre in self.ancestors(skill_id):
            have = levels.get(pre, 0)
            if have < PREREQUISITE_LEVEL and pre not in planned:
                hours += self.skills[pre].hours_between(have, PREREQUISITE_LEVEL)
        return hours

    def fit(self, profile: Profile, role_id: str, seniority: Seniority | None = None) -> RoleFit:
        """The role's fit, counted against each kind of posting it has (its own requirement list and
        its ``variants``). Weeks to ready, the gaps and the plan aim at the kind the person is closest
        to being ready for (fewest hours to ready; the role's own list on a tie), and fit is the best
        fit over the kinds, so neither can get worse when a level rises."""
        role = self.roles[role_id]
        seniority = seniority or profile.seniority
        kinds = [self._fit_against(profile, role_id, role.requirements_of(v), seniority, v and v.name) for v in [None, *role.variants]]
        closest = min(kinds, key=lambda f: f.hours_to_ready)  # min keeps the first (the role's own list) on a tie
        if len(kinds) == 1:
            return closest
        best = max(f.fit for f in kinds)
        why = (self._why(role.title, best, closest.matched, closest.transferable, closest.gaps) + self._depth(closest.on_the_job)
               + kind_of_posting(closest.variant))
        return closest.model_copy(update={"fit": best, "why": why})

    def _fit_against(self, profile: Profile, role_id: str, requirements: list[Requirement], seniority: Seniority,
                     variant: str | None) -> RoleFit:
        role = self.roles[role_id]
        levels = profile.levels()
        sources = {s.skill_id: s.source for s in profile.skills}
        weight = {id(r): r.importance * (PLUS_WEIGHT if r.need == "plus" else 1.0) for r in requirements}
        total = sum(weight.values())
        earned, matched, transferable, gap_rows, on_the_job = 0.0, [], [], [], []
        # Gaps that are not a choice (one-skill requirements), so a group's member is costed by what it adds.
        # A core group is costed against the core plan only: the plus gaps are not in the plan to ready.
        single = [r for r in requirements if len(r.members) == 1 and levels.get(r.members[0], 0) < r.level_for(seniority)]
        planned = {"core": frozenset(r.members[0] for r in single if r.need == "core"), "plus": frozenset(r.members[0] for r in single)}
        for req in requirements:
            st = self.standing(req, levels, seniority, planned[req.need])
            credit = ASSUMED_CREDIT if sources.get(st.best) == "assumed" else 1.0
            earned += credit * weight[id(req)] * min(st.have, st.need) / st.need
            if st.have > 0:
                row = SkillMatch(skill_id=st.best, name=self.skills[st.best].title, current_level=st.have, required_level=st.need,
                                 importance=req.importance, need=req.need, group=req.name, source=sources.get(st.best, "stated"))
                (matched if st.have >= st.need else transferable).append(row)
                if st.have >= st.need:
                    continue
            study = min(st.need, STUDY_CEILING)
            if st.need > study and req.need == "core":
                on_the_job.append(st.best if st.have >= study else st.to_learn)
            if st.have >= study:
                continue
            learn = st.to_learn
            gap_rows.append(_Row(learn, levels.get(learn, 0), study, req.importance, req.need, req.name))
        gaps = self._gaps(gap_rows)
        fit = earned / total if total else 0.0
        hours_ready = self._hours_with_prerequisites([g for g in gaps if g.need == "core"], levels)
        hours_full = self._hours_with_prerequisites(gaps, levels)
        return RoleFit(
            role_id=role_id,
            title=role.title,
            fit=round(fit, 4),
            matched=sorted(matched, key=lambda m: -m.importance),
            transferable=sorted(transferable, key=lambda m: -m.importance),
            gaps=gaps,
            hours_to_ready=hours_ready,
            weeks_to_ready=round(hours_ready / profile.weekly_hours, 1),
            hours_full_plan=hours_full,
            weeks_full_plan=round(hours_full / profile.weekly_hours, 1),
            why=self._why(role.title, fit, matched, transferable, gaps) + self._depth(on_the_job),
            variant=variant,
            on_the_job=on_the_job,
        )

    def _depth(self, skill_ids: list[str]) -> str:
        return depth_on_the_job([self.skills[s].title for s in skill_ids])

    def _gaps(self, rows: list[_Row]) -> list[Gap]:
        missing = {r.skill_id for r in rows}
        unlocking: dict[str, int] = {}
        for other in missing:
            for pre in self.ancestors(other) & missing:
                unlocking[pre] = unlocking.get(pre, 0) + 1
        gaps = []
        for r in rows:
            skill = self.skills[r.skill_id]
            unlocks = unlocking.get(r.skill_id, 0)
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
                    need=r.need,
                    group=r.group,
                )
            )
        return sorted(gaps, key=lambda g: (g.need != "core", -g.priority, g.skill_id))

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
        strong = [m.name for m in matched if m.source == "stated"][:3] or [m.name for m in matched[:3]]
        partial = [m.name for m in transferable[:2]]
        top = [g.name for g in gaps[:3]]
        first = f"{title}: {round(fit * 100)}% fit"
        if strong:
            first += f", carried by {join_names(strong)}"
        if partial:
            first += f" and partly by {join_names(partial)}"
        first += "."
        core = [g.name for g in gaps if g.need == "core"][:3]
        if not gaps:
            return first + " You already meet every requirement at this level."
        if not core:
            return first + f" You meet every core requirement; what is left only adds to it ({join_names(top)})."
        return first + (f" The largest gaps are {join_names(core)}." if len(core) > 1 else f" The one core gap is {core[0]}.")

    def fits(self, profile: Profile, targets: list[str] | None = None, seniority: Seniority | None = None) -> list[RoleFit]:
        ids = targets or sorted(self.roles)
        return sorted((self.fit(profile, r, seniority) for r in ids), key=lambda f: (-f.fit, f.role_id))

    def _hours_with_prerequisites(self, gaps: list[Gap], levels: dict[str, int]) -> int:
        """The hours of ``plan_skills(gaps)`` without ordering them: each gap, plus each missing
        prerequisite taken to ``PREREQUISITE_LEVEL``."""
        hours = {g.skill_id: g.hours for g in gaps}
        queue = list(hours)
        while queue:
            for pre in self.skills[queue.pop()].prerequisites:
                if pre in hours or pre not in self.skills or levels.get(pre, 0) >= PREREQUISITE_LEVEL:
                    continue
                hours[pre] = self.skills[pre].hours_between(levels.get(pre, 0), PREREQUISITE_LEVEL)
                queue.append(pre)
        return sum(hours.values())

    # -- plan ------------------------------------------------------------------------------
    def plan_skills(self, profile: Profile, gaps: list[Gap], levels: dict[str, int] | None = None) -> list[Gap]:
        """The gaps plus missing prerequisites, in learning order (prerequisites first)."""
        levels = profile.levels() if levels is None else levels
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
                    need=items[sid].need,
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
        """Core gaps first (with their prerequisites), then the plus ones; no stage mixes the two,
        so "ready to apply" falls on a stage boundary."""
        core = self.plan_skills(profile, [g for g in fit.gaps if g.need == "core"])
        taken = {g.skill_id for g in core}
        plus = [g for g in self.plan_skills(profile, fit.gaps) if g.skill_id not in taken]
        weekly = profile.weekly_hours
        core_hours, plus_hours = sum(g.hours for g in core), sum(g.hours for g in plus)
        n_core = min(MAX_STAGES - (1 if plus else 0), math.ceil(core_hours / (STAGE_WEEKS * weekly))) if core else 0
        n_plus = min(MAX_STAGES - n_core, math.ceil(plus_hours / (STAGE_WEEKS * weekly))) if plus else 0
        groups = [(g, True) for g in _split(core, max(n_core, 1 if core else 0))]
        groups += [(g, False) for g in _split(plus, max(n_plus, 1 if plus else 0))]
        avoid = self._alternatives_not_taken(fit, profile.levels())
        stages, done = [], 0
        for n, (group, is_core) in enumerate(groups, 1):
            hours = sum(g.hours for g in group)
            start, end = round(done / weekly, 1), round((done + hours) / weekly, 1)
            stages.append(
                PlanStage(
                    number=n,
                    title=self._stage_title(group),
                    skills=group,
                    hours=hours,
                    weeks=round(end - start, 1),
                    start_week=start,
                    end_week=end,
                    core=is_core,
                    resources=self.resources_for([g.skill_id for g in group], role_id=fit.role_id,
                                                 levels={g.skill_id: g.current_level for g in group}, avoid=avoid),
                    project=self._project(group, profile.levels(), [g.skill_id for s in stages for g in s.skills]),
                )
            )
            done += hours
        return Plan(
            role_id=fit.role_id,
            weekly_hours=weekly,
            total_hours=done,
            total_weeks=round(done / weekly, 1),
            hours_to_ready=core_hours,
            weeks_to_ready=round(core_hours / weekly, 1),
            stages=stages,
        )

    def _stage_title(self, group: list[Gap]) -> str:
        """The stage's main kind of skill by hours, and a second kind when it takes a quarter of
        the hours or more: "Software engineering and production ML" (each label is one phrase)."""
        cats: dict[str, int] = {}
        for g in group:
            label = _CATEGORY_LABEL.get(self.skills[g.skill_id].category, "skills")
            cats[label] = cats.get(label, 0) + g.hours
        ranked = sorted(cats.items(), key=lambda x: (-x[1], x[0]))
        total = sum(cats.values()) or 1
        labels = [c for i, (c, h) in enumerate(ranked[:2]) if i == 0 or h >= total / 4]
        title = " and ".join(labels)
        return title[:1].upper() + title[1:]

    def _alternatives_not_taken(self, fit: RoleFit, levels: dict[str, int]) -> frozenset[str]:
        """The members of the role's groups that this plan does not take and the person does not use:
        a plan that teaches Power BI for "a BI tool" recommends no Tableau or Looker course."""
        taken = {g.skill_id for g in fit.gaps} | {s for s, lvl in levels.items() if lvl > 0}
        others: set[str] = set()
        for req in self.roles[fit.role_id].requirements:
            if len(req.members) > 1 and taken & set(req.members):
                others |= set(req.members) - taken
        return frozenset(others)

    def resources_for(self, skill_ids: list[str], limit: int = 3, role_id: str | None = None, levels: dict[str, int] | None = None,
                      avoid: frozenset[str] = frozenset()) -> list[str]:
        """Up to ``limit`` resources for these skills. A resource is eligible only if its ``skills``
        name one of them and, with ``role_id``, its ``roles`` name that path (or no path at all).
        Picked one at a time: the one teaching most skills not yet covered, then the one whose level
        suits where the person starts (``levels``: a beginner's tutorial is no step from SQL at 2, a
        500-page reference none from 0), then one mainly about these skills, then the most focused,
        then the shortest. After the first, a resource that teaches nothing new is picked only when
        these skills are what it is mainly about, at a level that suits the person. A resource mainly
        about a skill in ``avoid`` (a tool the plan does not take) is never picked."""
        wanted = set(skill_ids)
        levels = levels or {}
        pool = [d for d in self.kb.of_kind("resource")
                if wanted & set(d.meta.skills) and _on_path(d, role_id) and d.meta.skills[0] not in avoid]
        picked, covered = [], set()
        while pool and len(picked) < limit:
            best = min(pool, key=lambda d: (
                -len(set(d.meta.skills) & (wanted - covered)), _level_mismatch(d.meta, wanted, levels),
                d.meta.skills[0] not in wanted, -len(set(d.meta.skills) & wanted),
                len(set(d.meta.skills) - wanted), d.meta.effort_hours, d.id,
            ))
            pool = [d for d in pool if d is not best]  # by identity: comparing documents field by field is slow
            if picked and not set(best.meta.skills) & (wanted - covered) and (
                best.meta.skills[0] not in wanted or _level_mismatch(best.meta, wanted, levels) > 0.5
            ):
                continue
            picked.append(best.id)
            covered |= set(best.meta.skills)
        return picked

    def _project(self, group: list[Gap], held: dict[str, int] | None = None, before: tuple[str, ...] | list[str] = ()) -> str:
        """The portfolio idea from the most important skill's own document whose idea uses only
        skills the person holds (``held``, level 1 or more), this stage teaches or an earlier
        stage taught (``before``); a generic idea over the stage's skills when none does."""
        known = {s for s, lvl in (held or {}).items() if lvl > 0} | set(before) | {g.skill_id for g in group}
        for gap in sorted(group, key=lambda g: -g.priority):
            idea = _idea(section_text(self.kb.docs[gap.skill_id].body, "portfolio"))
            if idea and self.project_skills(idea) <= known:
                return idea
        names = join_names([_short_name(self.skills[g.skill_id].title) for g in group])
        return f"Build a small project that uses {names} end to end and write up what you learned."

    def project_skills(self, text: str) -> set[str]:
        """The skills a portfolio idea uses: those it names by an alias (as profiles are read),
        and single-word names written with another ending ("containerised", "dashboards")."""
        if getattr(self, "_namer", None) is None:
            from advisor.extraction import SkillExtractor  # numpy and the lexicon, only when plans are made

            self._namer = SkillExtractor(self.kb)
            exact = {normalise_alias(a) for a in self._namer.lexicon.case_sensitive}
            self._stems, acronyms = {}, {}
            for sid, skill in self.skills.items():
                for name in [sid.replace("_", " "), skill.title, *skill.aliases]:
                    key = normalise_alias(name)
                    if " " not in key and len(key) >= 5 and key not in exact:
                        self._stems.setdefault(_stem(key), sid)
                    parts = re.split(r"[\s/-]+", name)  # "REST API" gives "API", "CI/CD" gives "CI"
                    if len(parts) > 1 and all(re.fullmatch(r"[A-Z0-9]+", w) for w in parts):
                        for word in (w for w in parts if re.fullmatch(r"[A-Z]{2,}", w)):
                            acronyms.setdefault(word, set()).add(sid)
            self._acronyms = {w: ids.pop() for w, ids in acronyms.items() if len(ids) == 1}
        if text in self._named:  # project ideas come from the skill documents: a small, fixed set
            return set(self._named[text])
        found = set(self._namer.skills_named(text))
        found |= {self._stems[_stem(w)] for w in re.findall(r"[a-z]+", text.lower()) if _stem(w) in self._stems}
        found |= {self._acronyms[w] for w in re.findall(r"\b([A-Z]{2,})s?\b", text) if w in self._acronyms}
        self._named[text] = found
        return set(found)


_RESOURCE_LEVEL = {"beginner": 0, "intermediate": 1, "advanced": 2}
_SUITS_START = {0: 0.0, 1: 0.5, 2: 1.25, 3: 2.0, 4: 2.0}
"""The resource level (0 beginner, 1 intermediate, 2 advanced) that suits a person starting at a skill level."""


def _level_mismatch(meta, wanted: set[str], levels: dict[str, int]) -> float:
    start = min(levels.get(s, 0) for s in set(meta.skills) & wanted)
    return abs(_RESOURCE_LEVEL[meta.level] - _SUITS_START[min(start, 4)])


def _idea(section: str) -> str:
    """The first sentence of a portfolio section that describes a project: "Portfolios show this
    skill indirectly." is a preface, not an idea."""
    flat = " ".join(line.strip() for line in section.splitlines() if line.strip())
    return next((first_sentence(s) for s in re.split(r"(?<=[.!?])\s+", flat) if len(s.split()) >= 6), "")


def _short_name(title: str) -> str:
    """A skill's title without its gloss: "Docker and containers" -> "Docker", "Data modelling
    (conceptual, logical and physical)" -> "data modelling", as it reads in a sentence (names such as
    Docker keep their capital)."""
    return in_sentence(re.split(r" \(| with | and |, ", title)[0])


def _on_path(doc, role_id: str | None) -> bool:
    """A resource fits a path when its ``roles`` name it, or it names no path at all."""
    return role_id is None or not doc.meta.roles or role_id in doc.meta.roles


_ENDINGS = ("isation", "ization", "ised", "ized", "ise", "ize", "s")


def _stem(word: str) -> str:
    """'containerised', 'containerisation' and 'containers' all give 'container'."""
    for end in _ENDINGS:
        if word.endswith(end) and len(word) - len(end) >= 4:
            return word[: -len(end)]
    return word


def _split(items: list[Gap], n: int) -> list[list[Gap]]:
    """Cut an ordered list into at most ``n`` consecutive stages of similar hours."""
    if not items or n <= 0:
        return []
    budget = sum(g.hours for g in items) / n
    groups: list[list[Gap]] = []
    for gap in items:
        if groups and (sum(g.hours for g in groups[-1]) + gap.hours / 2 <= budget or len(groups) == n):
            groups[-1].append(gap)
        else:
            groups.append([gap])
    return groups


def join_names(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
