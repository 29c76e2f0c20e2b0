"""How a title reads inside a sentence: one rule for every face (chat, plan page, Markdown)."""

from __future__ import annotations

import functools
import re

import yaml

from advisor.settings import REPO_ROOT

NAMES = REPO_ROOT / "knowledge" / "reading" / "names.yaml"


@functools.cache
def _names() -> frozenset[str]:
    data = yaml.safe_load(NAMES.read_text(encoding="utf-8")) or {}
    return frozenset(data.get("names", []))


def kind_of_posting(variant: str | None) -> str:
    """The sentence that says which kind of posting the weeks count against (empty for the role's own list)."""
    return f" Counted against {variant}, the kind you are closest to being ready for." if variant else ""


def depth_on_the_job(titles: list[str], role_title: str = "") -> str:
    """The sentence that names the level-4 depth a senior posting asks for and study does not give
    (see ``advisor.recommender.STUDY_CEILING``); empty when there is none."""
    if not titles:
        return ""
    shown = titles if len(titles) <= 4 else [*titles[:3], f"{len(titles) - 3} more skills"]
    names = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
    postings = f"senior {role_title} postings" if role_title else "at senior level, postings"
    return (f" {postings[:1].upper()}{postings[1:]} also ask for expert depth (level 4: leading the work, setting a team's standards)"
            f" in {names}; that comes from years of doing the job, not from courses, so the weeks count study to level 3.")


def in_sentence(title: str) -> str:
    """A title as it reads mid-sentence: "Retrieval-augmented generation (RAG)" -> "retrieval-
    augmented generation (RAG)", "Deep learning" -> "deep learning"; names and acronyms keep their
    case ("SQL", "Power BI", "Docker and containers", "NumPy", "pandas")."""
    first = re.match(r"[^\s(/-]+", title)
    if first is None:
        return title
    word = first.group(0)
    if word in _names() or not word[:1].isupper() or any(c.isupper() for c in word[1:]):
        return title
    long_words = [w for w in title.split() if w.isalpha() and len(w) > 3]
    if len(long_words) > 1 and all(w[:1].isupper() for w in long_words):
        return title  # a title in Title Case is a name: "Business Intelligence Analyst"
    return title[:1].lower() + title[1:]


COST_WORDS = {"free": "free", "freemium": "free tier, paid extras", "paid": "paid"}
KIND_WORDS = {"book": "book", "course": "course", "practice": "practice site", "certification": "certification", "documentation": "documentation"}


def resource_facts(meta) -> str:
    """What a resource is, in the words every face uses: "course, beginner, about 20 hours, free"."""
    facts = [KIND_WORDS.get(meta.resource_type, meta.resource_type), getattr(meta, "level", None)]
    hours = getattr(meta, "effort_hours", None)
    facts += [f"about {hours:g} hours" if hours else None, COST_WORDS.get(meta.cost, meta.cost)]
    return ", ".join(str(f) for f in facts if f)


def resource_line(kb, doc_id: str) -> str:
    """A plan's resource as one Markdown line (without the list marker), the same on the My plan
    page and in the Markdown export: its title linked to its page (else its first source with a web
    address), then what it is and what it costs. A resource no longer in the knowledge base is named
    by its id."""
    from knowledge.links import first_link

    doc = kb.docs.get(doc_id) if kb is not None else None
    if doc is None or not hasattr(doc.meta, "resource_type"):
        return f"`{doc_id}`" if doc is None else doc.title
    link = first_link(kb, doc_id)
    title = f"[{doc.meta.title}]({link})" if link else doc.meta.title
    return f"{title} ({resource_facts(doc.meta)})"
