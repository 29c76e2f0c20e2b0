"""Profiles from JSON and resumes, and merging what a person says over several turns."""

from __future__ import annotations

import io
from pathlib import Path

from pydantic import ValidationError

from advisor.errors import BadInput
from advisor.role_prior import describe
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
    data["extraction"] = describe(list(skills.values()), None)
    return Profile.model_validate(data)


class ResumeTooLarge(BadInput):
    """A resume over a size limit, before or after decompression (the HTTP API answers 413)."""


# A real resume is a few pages: its DOCX inflates to well under 1 MB of XML and a few hundred
# paragraphs. The limits are far above that and far below what a decompression bomb reaches.
MAX_DOCX_INFLATED_BYTES = 20_000_000  # all members of the zip together, declared and actual
MAX_DOCX_XML_BYTES = 10_000_000  # word/document.xml alone
MAX_RESUME_PARAGRAPHS = 20_000
MAX_RESUME_CHARS = 500_000


def read_resume(name: str, data: bytes) -> str:
    """Text of a resume file (.txt, .md, .pdf, .docx); a clear error when it cannot be read.

    A DOCX is read as a stream with limits on its inflated size, paragraphs and text
    (:class:`ResumeTooLarge` as soon as one is passed), so a small zip that inflates to gigabytes
    costs a moment and no memory; PDF text is capped the same way.
    """
    suffix = Path(name).suffix.lower()
    if suffix not in RESUME_TYPES:
        raise BadInput(f"cannot read resume '{name}': use one of {', '.join(RESUME_TYPES)}")
    if len(data) > MAX_RESUME_BYTES:
        raise ResumeTooLarge(f"resume '{name}' is larger than {MAX_RESUME_BYTES // 1_000_000} MB")
    try:
        if suffix in (".txt", ".md"):
            text = data.decode("utf-8", errors="strict")
        elif suffix == ".pdf":
            from pypdf import PdfReader

            parts, size = [], 0
            for page in PdfReader(io.BytesIO(data)).pages:
                parts.append(page.extract_text() or "")
                size += len(parts[-1])
                if size > MAX_RESUME_CHARS:
                    raise ResumeTooLarge(f"resume '{name}' holds more than {MAX_RESUME_CHARS:,} characters of text; send the resume itself")
            text = "\n".join(parts)
        else:
            text = _docx_text(name, data)
    except BadInput:
        raise
    except Exception as exc:  # every parser has its own error types; the person needs to know what to do
        raise BadInput(_unreadable(name, suffix, exc)) from None
    if not text.strip():
        raise BadInput(f"resume '{name}' contains no text (a scanned PDF needs OCR first)")
    return text


def _unreadable(name: str, suffix: str, exc: Exception) -> str:
    """What is wrong with a file that could not be read and what to do, in plain words (the
    parser's own error, e.g. ``PdfStreamError: Stream has ended unexpectedly``, means nothing to a person)."""
    kind = type(exc).__name__
    instead = "or copy the text into a .txt file and upload that"
    if isinstance(exc, UnicodeDecodeError):
        return (f"cannot read resume '{name}': it is not plain text in UTF-8 (it may be a Word or PDF file renamed, "
                "or text saved in another encoding). Save it as UTF-8 text, or upload the original .docx or .pdf")  # fmt: skip
    if suffix == ".pdf":
        if kind in ("FileNotDecryptedError", "WrongPasswordError", "DependencyError") or "encrypt" in str(exc).lower():
            return f"cannot read resume '{name}': the PDF is password-protected. Save a copy without the password and upload that, {instead}"
        if kind == "EmptyFileError":
            return f"cannot read resume '{name}': the file is empty. Upload the resume itself"
        return (f"cannot read resume '{name}': the PDF is damaged or incomplete (cut off while downloading, or not really a PDF). "
                f"Open it and export or print it to PDF again, {instead}")  # fmt: skip
    if suffix == ".docx":
        return (f"cannot read resume '{name}': it is not a readable Word file (damaged, or an older .doc renamed to .docx). "
                f"Open it in Word or LibreOffice and save it as .docx or PDF again, {instead}")  # fmt: skip
    return f"cannot read resume '{name}': the file could not be read. Save it again, {instead}"


def _docx_text(name: str, data: bytes) -> str:
    """The paragraphs of ``word/document.xml``, read with a streaming parser under the limits above."""
    import zipfile
    from xml.etree.ElementTree import XMLPullParser

    W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    too_big = f"resume '{name}' is too large once unpacked"
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        infos = z.infolist()
        if sum(i.file_size for i in infos) > MAX_DOCX_INFLATED_BYTES:
            raise ResumeTooLarge(f"{too_big} (more than {MAX_DOCX_INFLATED_BYTES // 1_000_000} MB declared)")
        try:
            info = z.getinfo("word/document.xml")
        except KeyError:
            raise BadInput(f"cannot read resume '{name}': it is a zip archive but not a Word document. Save the resume from Word or LibreOffice as .docx or PDF") from None
        parser = XMLPullParser(events=("end",))
        paragraphs, current, chars, inflated = [], [], 0, 0
        with z.open(info) as stream:  # the declared size may lie: count what actually comes out
            while chunk := stream.read(256 * 1024):
                inflated += len(chunk)
                if inflated > MAX_DOCX_XML_BYTES:
                    raise ResumeTooLarge(f"{too_big} (its text part passes {MAX_DOCX_XML_BYTES // 1_000_000} MB)")
                if b"<!DOCTYPE" in chunk or b"<!ENTITY" in chunk:
                    raise BadInput(f"cannot read resume '{name}': the document declares XML entities, which Word never writes")
                parser.feed(chunk)
                for _, el in parser.read_events():
                    if el.tag == W + "t" and el.text:
                        current.append(el.text)
                        chars += len(el.text)
                    elif el.tag in (W + "tab",):
                        current.append("\t")
                    elif el.tag == W + "p":
                        paragraphs.append("".join(current))
                        current = []
                        el.clear()
                        if len(paragraphs) > MAX_RESUME_PARAGRAPHS:
                            raise ResumeTooLarge(f"resume '{name}' has more than {MAX_RESUME_PARAGRAPHS:,} paragraphs")
                    if chars > MAX_RESUME_CHARS:
                        raise ResumeTooLarge(f"resume '{name}' holds more than {MAX_RESUME_CHARS:,} characters of text")
        parser.close()
    return "\n".join(paragraphs)


def read_resume_file(path: Path) -> str:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read resume '{path}': {exc.strerror or exc}") from None
    return read_resume(Path(path).name, data)
