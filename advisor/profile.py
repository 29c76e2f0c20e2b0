"""Profiles from JSON and resumes, and merging what a person says over several turns."""

from __future__ import annotations

import io
from pathlib import Path

from pydantic import ValidationError

from advisor.errors import BadInput
from advisor.extraction import confidence
from advisor.models import Profile, SkillEvidence
from knowledge.base import KnowledgeBase

RESUME_TYPES = (".txt", ".md", ".pdf", ".docx")
MAX_RESUME_BYTES = 5_000_000


def profile_from_dict(data: dict, kb: KnowledgeBase) -> Profile:
    """Validate a profile given as JSON; every problem is listed in one :class:`BadInput`."""
    if isinstance(data, Profile):
        data = data.model_dump()
    if not isinstance(data, dict):
        raise BadInput("a profile must be a JSON object with a 'skills' list")
    problems = []
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            problems.append(f"{where}: {err['msg']}")
        profile = None
    for i, s in enumerate(data.get("skills") or []):
        sid = s.get("skill_id") if isinstance(s, dict) else None
        if sid is not None and sid not in kb.skills:
            problems.append(f"skills.{i}.skill_id: unknown skill id '{sid}'")
    for i, r in enumerate(data.get("target_roles") or []):
        if r not in kb.roles:
            problems.append(f"target_roles.{i}: unknown role id '{r}'")
    if problems:
        raise BadInput("invalid profile: " + "; ".join(problems))
    for s in profile.skills:
        s.name = s.name or kb.skills[s.skill_id].title
    return profile


def merge(base: Profile, update: Profile) -> Profile:
    """Apply what ``update`` states on top of ``base``: a restated skill takes the new level
    and keeps both evidences; fields the update did not state stay as they were."""
    skills = {s.skill_id: s.model_copy(deep=True) for s in base.skills}
    for s in update.skills:
        old = skills.get(s.skill_id)
        evidence = (old.evidence if old else []) + [e for e in s.evidence if not old or e not in old.evidence]
        skills[s.skill_id] = SkillEvidence(skill_id=s.skill_id, name=s.name, level=s.level, evidence=evidence)
    data = base.model_dump()
    for name in update.model_fields_set - {"skills", "extraction"}:
        data[name] = getattr(update, name)
    data["skills"] = list(skills.values())
    known = sum(1 for s in skills.values() if s.level > 0)
    data["extraction"] = confidence(known, len(skills) - known)
    return Profile.model_validate(data)


def read_resume(name: str, data: bytes) -> str:
    """Text of a resume file (.txt, .md, .pdf, .docx); a clear error when it cannot be read."""
    suffix = Path(name).suffix.lower()
    if suffix not in RESUME_TYPES:
        raise BadInput(f"cannot read resume '{name}': use one of {', '.join(RESUME_TYPES)}")
    if len(data) > MAX_RESUME_BYTES:
        raise BadInput(f"resume '{name}' is larger than {MAX_RESUME_BYTES // 1_000_000} MB")
    try:
        if suffix in (".txt", ".md"):
            text = data.decode("utf-8", errors="strict")
        elif suffix == ".pdf":
            from pypdf import PdfReader

            text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
        else:
            import docx

            text = "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)
    except Exception as exc:  # every parser has its own error types; the user needs one message
        raise BadInput(f"cannot read resume '{name}': {type(exc).__name__}: {exc}".rstrip(": ")) from None
    if not text.strip():
        raise BadInput(f"resume '{name}' contains no text (a scanned PDF needs OCR first)")
    return text


def read_resume_file(path: Path) -> str:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read resume '{path}': {exc.strerror or exc}") from None
    return read_resume(Path(path).name, data)
