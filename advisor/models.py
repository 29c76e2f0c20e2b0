"""The JSON shapes Reskill returns. They are the public contract of every face; change with care."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from knowledge.schema import Seniority
from retrieval.hit import Hit

SkillLevel = Annotated[int, Field(ge=0, le=4)]


class SkillEvidence(BaseModel):
    model_config = ConfigDict(extra="forbid")

    skill_id: str
    name: str = ""
    level: SkillLevel
    evidence: list[str] = []
    """The phrases that set the level, oldest first."""
    source: Literal["stated", "implied", "assumed"] = "stated"
    """stated: the person said it; implied: another skill implies it (``implied_by``);
    assumed: taken from the typical levels of the person's current role (the role prior)."""
    implied_by: str | None = None


class Extraction(BaseModel):
    """How sure we are that the profile reflects the person (never silently empty)."""

    confidence: float = Field(ge=0, le=1)
    reason: str


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    skills: list[SkillEvidence] = []
    years_experience: Annotated[float, Field(ge=0, le=60)] | None = None
    weekly_hours: Annotated[float, Field(gt=0, le=80)] = 6
    current_role: str | None = "data_scientist"
    current_seniority: Seniority | None = None
    """The seniority the person holds now, when they say it ("senior data scientist"); the role
    prior uses it before years of experience. ``seniority`` is the level of the job they aim for."""
    background: str | None = None
    """When the current role has no role document: a background from
    ``knowledge/lexicon/backgrounds.yml`` (statistician, actuary, researcher), whose modest typical
    levels are the prior instead of a data scientist's."""
    target_roles: list[str] = []
    seniority: Seniority = "mid"
    preferences: list[str] = []
    """Free-form tags such as 'business_facing' or 'engineering'."""
    extraction: Extraction | None = None
    role_prior: StrictBool = True
    """Fill unmentioned skills with the current role's typical levels (marked ``assumed``)."""

    def level(self, skill_id: str) -> int:
        return next((s.level for s in self.skills if s.skill_id == skill_id), 0)

    def levels(self) -> dict[str, int]:
        return {s.skill_id: s.level for s in self.skills}


class Gap(BaseModel):
    skill_id: str
    name: str
    current_level: int
    required_level: int
    importance: int
    priority: float
    """importance x missing levels, raised for skills that unlock other gaps; higher first."""
    hours: int
    need: Literal["core", "plus"] = "core"
    """core: needed to be ready to apply; plus: raises fit, never blocks readiness."""
    group: str | None = None
    """For a requirement with alternatives, its name ("a BI tool (Power BI, Tableau or Looker)"):
    this gap names the member that is cheapest to learn from where the person stands."""


class SkillMatch(BaseModel):
    skill_id: str
    name: str
    current_level: int
    required_level: int
    importance: int
    need: Literal["core", "plus"] = "core"
    group: str | None = None
    source: Literal["stated", "implied", "assumed"] = "stated"
    """Where the person's level came from (see :class:`SkillEvidence`)."""


class RoleFit(BaseModel):
    role_id: str
    title: str
    fit: float = Field(ge=0, le=1)
    matched: list[SkillMatch]
    transferable: list[SkillMatch]
    gaps: list[Gap]
    hours_to_ready: int
    """Study hours until every *core* requirement is met ('ready to apply'), prerequisites included."""
    weeks_to_ready: float
    """``hours_to_ready`` at the profile's weekly hours: shown as "weeks to ready to apply"."""
    hours_full_plan: int = 0
    """Study hours until core *and* plus requirements are met."""
    weeks_full_plan: float = 0
    """``hours_full_plan`` at the profile's weekly hours: shown as "weeks for the full plan"."""
    why: str
    variant: str | None = None
    """The kind of posting the weeks and gaps count against when it is not the role's own list
    ("platform-leaning ML engineer postings"); ``fit`` is the best over the kinds."""
    preference: str | None = None
    """How the person's stated preferences bear on this path, when they do."""
    on_the_job: list[str] = []
    """Skill ids a senior posting asks at expert level (4) that the person has not shown: depth
    built by doing the job, counted in fit but not in the study weeks."""


class PlanStage(BaseModel):
    number: int
    title: str
    skills: list[Gap]
    hours: int
    weeks: float
    start_week: float
    end_week: float = 0
    """Stages follow each other: a stage starts at the week the previous one ends."""
    core: bool = True
    """True while the stage still builds core requirements; after the last core stage you are ready to apply."""
    resources: list[str]
    """Resource document ids that build this stage's skills."""
    project: str


class Plan(BaseModel):
    role_id: str
    weekly_hours: float
    total_hours: int
    total_weeks: float
    """The full plan: core and plus requirements."""
    hours_to_ready: int = 0
    weeks_to_ready: float = 0
    """Where in the plan the core requirements are met: ready to apply."""
    stages: list[PlanStage]


class Recommendation(BaseModel):
    profile: Profile
    seniority: Seniority
    roles: list[RoleFit]
    plan: Plan | None
    sources: list[str]
    warnings: list[str] = []
    """E.g. 'only 1 skill was found in the text': a caller must show these, not 'no gaps'."""
    show_numbers: bool = True
    """False while the profile says too little for a fit or weeks to mean anything: show ``ask`` instead."""
    ask: str | None = None
    """What the advisor needs to know before it can give figures (set when ``show_numbers`` is False)."""
    lean: str | None = None
    """The path the stated preferences lean towards, when they lean (even without skills)."""


class PathOutlook(BaseModel):
    role_id: str
    title: str
    fit: float
    weeks_to_ready: float
    weeks_full_plan: float = 0
    top_gaps: list[Gap]
    outlook: list[Hit]


class Comparison(BaseModel):
    profile: Profile
    paths: list[PathOutlook]
    summary: str


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant", "system"]
    content: Annotated[str, Field(max_length=20_000)]


Intent = Literal[
    "role_info",
    "compare",
    "fit",
    "plan",
    "skill_info",
    "resources",
    "market",
    "profile_update",
    "greeting",
    "out_of_scope",
    "need_profile",
    "search",
    # The question types read by the learned classifier (knowledge/reading/) and their answers.
    "day_to_day",
    "role_difference",
    "learn_first",
    "how_long",
    "skill_order",
    "skill_need",
    "pay",
    "education",
    "interview",
    "portfolio",
    "ai_impact",
    "preference",
    "correction",
    "follow_up",
    "why",
    "thanks",
    "capabilities",
    "clarify",
]


class Answer(BaseModel):
    text: str
    citations: list[Hit]
    intent: Intent
    profile: Profile
    recommendation: Recommendation | None = None
    engine: str
    grounded: bool
    notes: list[str] = []
    """Why the engine fell back, what was trimmed, and similar; shown to the user when non-empty."""
    confidence: float | None = None
    """How sure the reading of the question was (the classifier's probability for its type)."""
    suggestions: list[str] = []
    """Short follow-ups a face may offer as buttons, e.g. "show the whole plan"."""
