"""Edits a person makes to their profile by hand (the app's sidebar, "mark as learned").

Each edit returns a new :class:`Profile`; the old one is never changed. An edit records
its own evidence, so the profile still says why every level is what it is.
"""

from __future__ import annotations

from advisor.errors import BadInput
from advisor.models import Profile, SkillEvidence
from advisor.profile import merge
from advisor.role_prior import complete, describe
from knowledge.base import KnowledgeBase
from knowledge.schema import SENIORITIES

EDITED = "you set level {level} in the profile editor"
LEARNED = "you marked it as learned (level {level}) in the plan"


def _check_skill(skill_id: str, level: int, kb: KnowledgeBase) -> None:
    if skill_id not in kb.skills:
        raise BadInput(f"unknown skill id '{skill_id}'")
    if not isinstance(level, int) or not 0 <= level <= 4:
        raise BadInput(f"a skill level must be 0 to 4, got {level!r}")


def set_level(profile: Profile, skill_id: str, level: int, kb: KnowledgeBase, evidence: str = EDITED) -> Profile:
    """Set (or add) one skill at ``level``; the edit is kept as evidence."""
    _check_skill(skill_id, level, kb)
    if profile.level(skill_id) == level and any(s.skill_id == skill_id for s in profile.skills):
        return profile
    change = SkillEvidence(skill_id=skill_id, name=kb.skills[skill_id].title, level=level, evidence=[evidence.format(level=level)])
    return complete(merge(profile, Profile(skills=[change])), kb)


def mark_learned(profile: Profile, skill_id: str, level: int, kb: KnowledgeBase) -> Profile:
    """Raise a skill to the level a role requires, as if the plan's stage were done."""
    return set_level(profile, skill_id, max(level, profile.level(skill_id)), kb, evidence=LEARNED)


def remove_skill(profile: Profile, skill_id: str) -> Profile:
    skills = [s for s in profile.skills if s.skill_id != skill_id]
    if len(skills) == len(profile.skills):
        return profile
    return profile.model_copy(update={"skills": skills, "extraction": describe(skills, None)})


def update_settings(
    profile: Profile,
    kb: KnowledgeBase,
    weekly_hours: float | None = None,
    target_roles: list[str] | None = None,
    seniority: str | None = None,
) -> Profile:
    """Change weekly hours, target roles or seniority; a :class:`BadInput` names a bad value."""
    updates: dict = {}
    if weekly_hours is not None:
        if not 0 < weekly_hours <= 80:
            raise BadInput(f"hours a week must be between 1 and 80, got {weekly_hours:g}")
        updates["weekly_hours"] = float(weekly_hours)
    if target_roles is not None:
        unknown = [r for r in target_roles if r not in kb.roles]
        if unknown:
            raise BadInput(f"unknown role(s) {', '.join(unknown)}; use: {', '.join(sorted(kb.roles))}")
        updates["target_roles"] = list(dict.fromkeys(target_roles))
    if seniority is not None:
        if seniority not in SENIORITIES:
            raise BadInput(f"unknown seniority '{seniority}'; use one of: {', '.join(SENIORITIES)}")
        updates["seniority"] = seniority
    return profile.model_copy(update=updates) if updates else profile
