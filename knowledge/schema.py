"""Front matter of knowledge documents, as pydantic models.

Every document is a Markdown file whose YAML front matter validates against one
of the models below, chosen by its ``kind``. Levels mean the same everywhere:

0 none · 1 basic (follows tutorials) · 2 working (routine tasks with some help)
· 3 proficient (independent, production quality) · 4 expert (designs, leads, teaches)
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

SLUG = r"^[a-z0-9][a-z0-9_-]*$"
Slug = Annotated[str, Field(pattern=SLUG, max_length=80)]
Level = Annotated[int, Field(ge=1, le=4)]
KINDS = ("role", "skill", "transition", "resource", "market")
Kind = Literal["role", "skill", "transition", "resource", "market"]
SENIORITIES = ("junior", "mid", "senior")
Seniority = Literal["junior", "mid", "senior"]


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: Slug
    title: Annotated[str, Field(min_length=3, max_length=140)]
    kind: Kind
    roles: list[Slug] = []
    skills: list[Slug] = []
    updated: dt.date
    sources: list[Annotated[str, Field(min_length=3)]] = []


class Requirement(BaseModel):
    """One skill a role asks for (or a group of alternatives), at mid level, and how much it matters (1-5).

    ``any_of`` makes it a group met by its best member ("one of Power BI, Tableau or Looker");
    ``skill`` names a single skill; exactly one of the two is given. ``need`` is ``core`` when a
    candidate must have it to be ready to apply, ``plus`` when it raises fit but never blocks
    readiness. ``junior``/``senior`` override the level for those seniorities; without them a
    junior needs one level less (at least 1) and a senior one level more (at most 4).
    """

    model_config = ConfigDict(extra="forbid")

    skill: Slug | None = None
    any_of: Annotated[list[Slug], Field(min_length=2)] | None = None
    name: Annotated[str, Field(min_length=3, max_length=80)] | None = None
    """How a person reads a group ("a BI tool"); a single skill is shown by its title."""
    level: Level
    importance: Annotated[int, Field(ge=1, le=5)]
    need: Literal["core", "plus"] = "core"
    junior: Level | None = None
    senior: Level | None = None

    @model_validator(mode="after")
    def _skill_or_group(self) -> Requirement:
        if (self.skill is None) == (self.any_of is None):
            raise ValueError("give either 'skill' (one skill) or 'any_of' (a group of alternatives), not both")
        if self.any_of is not None and len(set(self.any_of)) != len(self.any_of):
            raise ValueError("any_of lists a skill more than once")
        return self

    @property
    def members(self) -> list[str]:
        return list(self.any_of) if self.any_of else [self.skill]

    @property
    def key(self) -> str:
        """A stable name for the requirement: the skill id, or the group's first member."""
        return self.skill or self.any_of[0]

    def level_for(self, seniority: Seniority = "mid") -> int:
        if seniority == "junior":
            return self.junior or max(1, self.level - 1)
        if seniority == "senior":
            return self.senior or min(4, self.level + 1)
        return self.level


class Implication(BaseModel):
    """Knowing this skill at level ``when`` or above implies ``skill`` at ``level`` at least
    (scikit-learn at 3 implies machine-learning fundamentals at 2)."""

    model_config = ConfigDict(extra="forbid")

    skill: Slug
    level: Level
    when: Level = 2


class MedianWage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_usd: Annotated[int, Field(gt=0)]
    occupation: str
    source: str


class RoleVariant(BaseModel):
    """Another kind of posting under the same title, as its requirements differ from the role's list.

    ML engineer postings come in two kinds: most want modelling and software together, while
    platform postings (serving, MLOps, training platforms) want models at working level and the
    platform deeper. ``levels`` sets a requirement's mid level (named by its key: the skill, or a
    group's first member; junior and senior levels move by the same steps); ``core`` makes plus
    requirements core for this kind, at the mid level given. ``postings`` cites the sampled
    postings (tests/eval/postings) of this kind.
    """

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=3, max_length=80)]
    """How a person reads it: "platform-leaning ML engineer postings"."""
    postings: Annotated[list[Slug], Field(min_length=1)]
    levels: dict[Slug, Level] = {}
    core: dict[Slug, Level] = {}


class RoleDoc(_Base):
    kind: Literal["role"]
    requirements: Annotated[list[Requirement], Field(min_length=1)]
    variants: list[RoleVariant] = []
    """Other kinds of posting for this role; readiness counts against the kind a person is closest to."""
    typical: dict[Slug, Annotated[int, Field(ge=0, le=4)]] = {}
    """Levels a typical mid-level holder of this role has in skills that are *not* requirements
    (a data scientist's Excel, Docker basics). With the requirements' levels they form the role
    prior: what is assumed about a person in this role until they say otherwise."""
    median_wage: MedianWage | None = None

    @model_validator(mode="after")
    def _unique_requirements(self) -> RoleDoc:
        seen = [m for r in self.requirements for m in r.members]
        dupes = sorted({s for s in seen if seen.count(s) > 1})
        if dupes:
            raise ValueError(f"requirements list a skill more than once: {', '.join(dupes)}")
        need = {r.key: r.need for r in self.requirements}
        for i, v in enumerate(self.variants):
            for field, keys in (("levels", v.levels), ("core", v.core)):
                unknown = sorted(k for k in keys if k not in need)
                if unknown:
                    raise ValueError(f"variants.{i}.{field}: {', '.join(unknown)} is not a requirement of this role "
                                     "(name a skill, or a group by its first member)")
            already = sorted(k for k in v.core if need[k] == "core")
            if already:
                raise ValueError(f"variants.{i}.core: {', '.join(already)} is already core; set its level under 'levels'")
            both = sorted(set(v.levels) & set(v.core))
            if both:
                raise ValueError(f"variants.{i}: {', '.join(both)} is under both 'levels' and 'core'")
        return self

    def requirements_of(self, variant: RoleVariant | None) -> list[Requirement]:
        """The requirement list for one kind of posting (``None``: the role's own list)."""
        if variant is None:
            return list(self.requirements)
        out = []
        for r in self.requirements:
            level = variant.levels.get(r.key) or variant.core.get(r.key)
            if level is None:
                out.append(r)
                continue
            step = level - r.level
            out.append(r.model_copy(update={
                "level": level,
                "need": "core" if r.key in variant.core else r.need,
                "junior": None if r.junior is None else min(4, max(1, r.junior + step)),
                "senior": None if r.senior is None else min(4, max(1, r.senior + step)),
            }))
        return out


class SkillDoc(_Base):
    kind: Literal["skill"]
    category: Literal["foundation", "analytics", "bi", "engineering", "ml", "mlops", "data_engineering", "llm", "business"]
    aliases: list[Annotated[str, Field(min_length=1, max_length=60)]] = []
    prerequisites: list[Slug] = []
    implies: list[Implication] = []
    levels: dict[Level, Annotated[str, Field(min_length=3)]]
    hours: Annotated[list[Annotated[int, Field(ge=1, le=2000)]], Field(min_length=4, max_length=4)]
    """Typical hours for each level step: 0→1, 1→2, 2→3, 3→4."""

    @field_validator("levels")
    @classmethod
    def _all_levels(cls, v: dict[int, str]) -> dict[int, str]:
        missing = [lvl for lvl in (1, 2, 3, 4) if lvl not in v]
        if missing:
            raise ValueError(f"descriptors missing for level(s) {missing}")
        return v

    def hours_between(self, current: int, target: int) -> int:
        return sum(self.hours[current:target])


class TransitionDoc(_Base):
    kind: Literal["transition"]
    from_role: Slug
    to_role: Slug
    essential: list[Slug] = []
    """Skills this playbook calls essential for the move: the target role must hold them as core."""
    optional: list[Slug] = []
    """Skills this playbook (or the skills' own documents) call optional: never core for the target."""
    ready_hours: Annotated[int, Field(ge=0, le=5000)] | None = None
    """Study hours to ready-to-apply that the playbook states for its typical starting point
    (the role prior of ``from_role``); tests keep it within 25% of what the recommender computes."""


class ResourceDoc(_Base):
    kind: Literal["resource"]
    resource_type: Literal["certification", "book", "course", "documentation", "practice"]
    level: Literal["beginner", "intermediate", "advanced"]
    effort_hours: Annotated[int, Field(ge=1, le=2000)]
    cost: Literal["free", "paid", "freemium"]
    provider: str | None = None
    url: str | None = None


class MarketDoc(_Base):
    kind: Literal["market"]


FrontMatter = Annotated[
    Union[RoleDoc, SkillDoc, TransitionDoc, ResourceDoc, MarketDoc], Field(discriminator="kind")
]
FRONT_MATTER = TypeAdapter(FrontMatter)
