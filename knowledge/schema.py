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
    """One skill a role asks for, at mid level, and how much it matters (1-5).

    ``junior``/``senior`` override the level for those seniorities; without them a
    junior needs one level less (at least 1) and a senior one level more (at most 4).
    """

    model_config = ConfigDict(extra="forbid")

    skill: Slug
    level: Level
    importance: Annotated[int, Field(ge=1, le=5)]
    junior: Level | None = None
    senior: Level | None = None

    def level_for(self, seniority: Seniority = "mid") -> int:
        if seniority == "junior":
            return self.junior or max(1, self.level - 1)
        if seniority == "senior":
            return self.senior or min(4, self.level + 1)
        return self.level


class MedianWage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_usd: Annotated[int, Field(gt=0)]
    occupation: str
    source: str


class RoleDoc(_Base):
    kind: Literal["role"]
    requirements: Annotated[list[Requirement], Field(min_length=1)]
    median_wage: MedianWage | None = None

    @model_validator(mode="after")
    def _unique_requirements(self) -> RoleDoc:
        seen = [r.skill for r in self.requirements]
        dupes = sorted({s for s in seen if seen.count(s) > 1})
        if dupes:
            raise ValueError(f"requirements list a skill more than once: {', '.join(dupes)}")
        return self


class SkillDoc(_Base):
    kind: Literal["skill"]
    category: Literal["foundation", "analytics", "bi", "engineering", "ml", "mlops", "data_engineering", "llm", "business"]
    aliases: list[Annotated[str, Field(min_length=1, max_length=60)]] = []
    prerequisites: list[Slug] = []
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
