"""Writers for general questions (no profile needed): each answers in its first sentence, then
supports the answer with whole passages of the documents retrieved for the turn, cited.

A writer takes the knowledge base, the turn's context and the citation list, and returns
Markdown, or ``""`` when the passages it needs were not found (the engine then says so).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from advisor.chat.compose import Citations, lead_sentence, paragraphs, passage, readable, sentences
from advisor.chat.context import TurnContext, kinds_asked, paths_of, wants_free
from advisor.wording import KIND_WORDS, in_sentence, resource_facts
from advisor.profile_facts import weekly_hours
from knowledge.base import KnowledgeBase
from knowledge.links import source_links
from retrieval.hit import Hit

LEVEL_WORDS = {1: "basic", 2: "working", 3: "proficient", 4: "expert"}


def _title(kb: KnowledgeBase, doc_id: str) -> str:
    doc = kb.docs.get(doc_id)
    return doc.title if doc is not None else doc_id.replace("_", " ")


def _hits(ctx: TurnContext, doc_id: str) -> list[Hit]:
    return [h for h in ctx.hits if h.doc_id == doc_id]


def _quoted(hit: Hit, kb: KnowledgeBase, cites: Citations, n: int = 1, skip_lead: bool = False) -> str:
    """A whole passage with its citation; ``skip_lead`` drops a first sentence already used as the answer."""
    text = passage(hit, kb, n=n)
    if skip_lead:
        lead = readable(lead_sentence(text), kb)
        rest = text[len(lead) :].strip() if text.startswith(lead) else text
        text = rest
    return f"{text} {cites.cite(hit)}".strip() if text else ""


def _section_of(ctx: TurnContext, doc_id: str, word: str) -> Hit | None:
    return next((h for h in ctx.hits if h.doc_id == doc_id and word in h.section.lower()), None)


def role_info(kb, ctx: TurnContext, cites: Citations) -> str:
    out = []
    for role in paths_of(ctx):
        hits = _hits(ctx, role)
        if not hits:
            continue
        main = hits[0]
        text = passage(main, kb)
        out.append(f"**{_title(kb, role)}.** {text} {cites.cite(main)}")
        extra = next((h for h in hits[1:] if h.section != main.section), None)
        if extra is not None and len(paths_of(ctx)) == 1:
            out.append(_quoted(extra, kb, cites))
    return "\n\n".join(out)


def day_to_day(kb, ctx: TurnContext, cites: Citations) -> str:
    out = []
    roles = paths_of(ctx)
    for role in roles:
        for hit in _hits(ctx, role):
            name = f"**{_title(kb, role)}.** " if len(roles) > 1 and "day" in hit.section.lower() else ""
            out.append(f"{name}{passage(hit, kb)} {cites.cite(hit)}")
    out += [_quoted(h, kb, cites) for h in ctx.hits if h.kind == "market"][:1]
    return "\n\n".join(out)


def role_difference(kb, ctx: TurnContext, cites: Citations) -> str:
    differ = [h for h in ctx.hits if "differ" in h.section.lower()]
    daily = [h for h in ctx.hits if "differ" not in h.section.lower()]
    if not differ and not daily:
        return ""
    out = []
    if len(daily) >= 2:
        # Two paths: each role's own first sentence says what it is for; together they are the answer.
        out.append(" ".join(f"{readable(lead_sentence(h.snippet), kb)} {cites.cite(h)}" for h in daily[:2]))
        out += [_quoted(h, kb, cites) for h in differ[:2]]
    else:
        out += [_quoted(h, kb, cites) for h in differ[:1]]
    return "\n\n".join(x for x in out if x)


def pay(kb, ctx: TurnContext, cites: Citations) -> str:
    """Each role's official median (with its source and year), side by side; a role without a
    figure of its own says so in its document's words."""
    lines, amounts, sources = [], [], []
    for hit in [h for h in ctx.hits if h.kind == "role"]:
        role = kb.roles.get(hit.doc_id)
        if role is None:
            continue
        wage = getattr(role, "median_wage", None)
        if wage is None:
            lines.append(f"- **{role.title}**: {passage(hit, kb)} {cites.cite(hit)}")
            continue
        amounts.append((role.title, wage.amount_usd))
        lines.append(f"- **{role.title}: ${wage.amount_usd:,} a year**, the median for {wage.occupation} {cites.cite(hit)}")
        sources.append(wage.source)
    if not lines:
        return answered(kb, ctx.hits, cites, n=1)
    if len(amounts) >= 2:
        (a, x), (b, y) = amounts[0], amounts[1]
        if x == y:
            head = f"At the median, {a} and {b} pay the same in the official figures: ${x:,} a year."
        else:
            hi, lo = (amounts[0], amounts[1]) if x > y else (amounts[1], amounts[0])
            head = f"At the median, {hi[0]} pays about ${hi[1] - lo[1]:,} a year more than {lo[0]} (${hi[1]:,} against ${lo[1]:,})."
    elif amounts:
        head = f"The official median for {amounts[0][0]} is ${amounts[0][1]:,} a year."
    else:
        head = "There is no official median for that role on its own; the nearest official figure and what surveys say:"
    body = [head, "", *lines]
    if sources:
        body += ["", "Source: " + "; ".join(dict.fromkeys(sources)) + "."]
    caveat = next((h for h in ctx.hits if h.kind == "market"), None)
    if caveat is not None:
        body += ["", f"What the figures leave out: {_quoted(caveat, kb, cites)}"]
    return "\n".join(body)


def answered(kb, hits: list[Hit], cites: Citations, n: int = 2) -> str:
    """Question-led sections answer in their first sentence: the best one whole, then one more
    under its heading."""
    out = []
    for i, hit in enumerate(hits[:n]):
        text = _quoted(hit, kb, cites)
        if not text:
            continue
        out.append(text if i == 0 else f"**{hit.section}** {text}")
    return "\n\n".join(out)


def certificate_or_portfolio(kb, ctx: TurnContext, cites: Citations) -> str:
    """A verdict for this person first (from what they said about the certificate's main skill),
    then the rule for choosing as it applies to this certificate, then each option with its own
    passage."""
    choose = next((h for h in ctx.hits if h.doc_id == "degrees_and_credentials"), None)
    cert = next((h for h in ctx.hits if h.kind == "resource"), None)
    show = next((h for h in ctx.hits if "portfolio" in h.section.lower()), None)
    out = []
    if cert is not None and choose is not None:
        out.append(_verdict(kb, ctx, cert, cites.cite(choose)))
    if choose is not None:
        rule = _about_certificate(passage(choose, kb), kb.docs[cert.doc_id].meta.title if cert else "")
        out.append(f"**How to choose.** {rule} {cites.cite(choose)}")
    if cert is not None:
        m = kb.docs[cert.doc_id].meta
        link = where(kb, cert.doc_id, limit=1)
        out.append(f"**The certificate — {m.title}** ({_facts(m)}). {_quoted(cert, kb, cites)}" + (f" Details: {link}." if link else ""))
    if show is not None:
        what = f"a project that shows {in_sentence(_short(_title(kb, show.doc_id)))}" if show.kind == "skill" else "projects that show you can make the move"
        out.append(f"**The portfolio — {what}.** {_quoted(show, kb, cites)}")
    return "\n\n".join(out)


def _verdict(kb, ctx: TurnContext, cert: Hit, cite: str) -> str:
    """What the rule for choosing says for this person: their stated level in the certificate's
    main skill decides between "the portfolio first" and "both"."""
    m = kb.docs[cert.doc_id].meta
    name = re.split(r"[(:,]", m.title)[0].strip()  # "Microsoft PL-300", "Certified Kubernetes Application Developer"
    skill = next((s for s in m.skills if s in kb.skills), None)
    said = {s.skill_id: s.level for s in ctx.profile.skills if s.source == "stated"}
    tool = in_sentence(_short(kb.skills[skill].title)) if skill else "the skill"
    other = _alternative_held(kb, m, skill, said)
    if skill not in said and other:
        return (f"**Short answer: the portfolio first, built in {tool}.** You already use {other}, so the work is "
                f"not new to you, only the tool, and a project in {tool} shows both. {name} (about {m.effort_hours} "
                f"hours) is worth adding when the postings you target name {tool}: a certificate pays when it makes "
                f"you learn a tool you lack. {cite}")
    if skill in said and said[skill] >= 2:
        return (f"**Short answer: the portfolio first.** You already use {tool}, and a certificate is rarely worth "
                f"it as a substitute for experience you already have; take {name} as well if the postings you "
                f"target name it. {cite}")
    tried = _alternative_held(kb, m, skill, said, at_least=1)
    if skill in said or any(lvl > 0 for lvl in said.values()):
        if skill not in said:  # a list of what they use without the tool: it is new to them, said so
            where = (f"You have used {tried} only a little and did not mention {tool}, so I take {tool} to be new to you "
                     f"(tell me if not)" if tried else f"You did not mention {tool}, so I take it to be new to you (tell me if not)")
        else:
            where = f"{tool[:1].upper() + tool[1:]} is new to you" if said[skill] == 0 else f"You know only the basics of {tool}"
        return (f"**Short answer: both, and they help each other.** {where}, and a "
                f"certificate is worth its cost when it makes you learn a tool you genuinely lack: {name} "
                f"(about {m.effort_hours} hours) gives the learning a syllabus, and the portfolio project is the "
                f"evidence reviewers read. {cite}")
    return (f"**Short answer: the portfolio carries more weight; {name} is worth it when the postings you target "
            f"name it, or when you have no other evidence of {tool}.** Tell me how well you know {tool} and I can "
            f"say which comes first for you. {cite}")


def _alternative_held(kb, meta, skill: str | None, said: dict[str, int], at_least: int = 2) -> str | None:
    """A skill the person said they use (at working level by default) that a role on the
    certificate's path accepts in place of its main skill (Tableau for a Power BI certificate), in words."""
    for role_id in meta.roles:
        role = kb.roles.get(role_id)
        for req in role.requirements if role else []:
            if skill in req.members:
                held = [s for s in req.members if s != skill and said.get(s, 0) >= at_least]
                if held:
                    return in_sentence(_short(kb.skills[held[0]].title))
    return None


_GENERIC = {"certification", "certified", "certificate", "associate", "professional", "data", "analyst", "engineer",
            "machine", "learning", "exam", "the", "and", "of", "for", "a", "an"}


def _about_certificate(rule: str, title: str) -> str:
    """The rule's first sentence and the sentences that name this certificate ("For the BI path,
    Microsoft's PL-300 ...", not "For the ML engineering path, cloud certifications ...")."""
    def words(text: str) -> set[str]:
        return {w.removesuffix("'s").removesuffix("’s") for w in re.findall(r"[\w'’-]+", text.lower())}

    names = words(title) - _GENERIC
    parts = sentences(rule)
    kept = parts[:1] + [p for p in parts[1:] if names & words(p)]
    return " ".join(kept) if parts else rule


def _short(title: str) -> str:
    """'Advanced SQL (window functions, CTEs, analytical patterns)' -> 'Advanced SQL'."""
    return re.sub(r"\s*\([^)]*\)", "", title).strip() or title


def education(kb, ctx: TurnContext, cites: Citations) -> str:
    if ctx.options:
        return certificate_or_portfolio(kb, ctx, cites)
    certs = [h for h in ctx.hits if h.kind == "resource"]
    others = [h for h in ctx.hits if h.kind != "resource"]
    out = []
    if certs:
        hit = certs[0]
        m = kb.docs[hit.doc_id].meta
        out.append(f"**{m.title}** ({_facts(m)}): {_quoted(hit, kb, cites)}")
    body = answered(kb, others, cites, n=1 if out else 2)
    return "\n\n".join(x for x in [*out, body] if x)


def interview(kb, ctx: TurnContext, cites: Citations) -> str:
    out = []
    for role in paths_of(ctx):
        own = _section_of(ctx, role, "interview")
        if own is not None:
            out.append(f"**{_title(kb, role)}.** {passage(own, kb)} {cites.cite(own)}")
        moving = next((h for h in ctx.hits if h.kind == "transition" and h.doc_id.endswith(f"_to_{role}")), None)
        if moving is not None:
            out.append(f"Coming from data science: {passage(moving, kb)} {cites.cite(moving)}")
    return "\n\n".join(out)


def portfolio(kb, ctx: TurnContext, cites: Citations) -> str:
    out = []
    for hit in ctx.hits:
        items = paragraphs(hit.snippet)
        if not items:
            continue
        if hit.kind == "skill":
            out.append(f"For {_title(kb, hit.doc_id)}: {readable(items[0], kb)} {cites.cite(hit)}")
            continue
        intro = [] if re.match(r"^\d+[.)]\s", items[0]) else [items.pop(0)]
        listed = [readable(i, kb) for i in items[:2]]
        text = "\n\n".join([*(readable(i, kb) for i in intro), *listed])
        out.append(f"{text} {cites.cite(hit)}")
        if len(items) > 2:
            out.append(f"The same source describes {len(items) - 2} more; ask for *more portfolio projects* to see them.")
    return "\n\n".join(out)


def market(kb, ctx: TurnContext, cites: Citations) -> str:
    body = answered(kb, ctx.hits, cites, n=2)
    return f"{body}\n\nThese are viewpoints from our sources, with their reasoning, not certainties." if body else ""


ai_impact = market


def skill_info(kb, ctx: TurnContext, cites: Citations) -> str:
    out = []
    for sid in ctx.reading.skills[:2]:
        skill = kb.skills.get(sid)
        own = _hits(ctx, sid)
        if not skill or not own:
            continue
        # A passage retrieved for the question itself (scored; the named sections are not) is one
        # chunk of at most 600 characters: quoted whole, as the part that answers may be its second
        # paragraph (a sentence added in the editor under 'How to learn').
        text = "\n\n".join(_quoted(h, kb, cites, n=3 if h.score > 0 else 1) for h in own[:2])
        have = ctx.profile.level(sid)
        nxt = min(have + 1, 4)
        text += (
            f"\n\nLevel {nxt} ({LEVEL_WORDS[nxt]}) means: {skill.levels[nxt]} {cites.cite(own[0])} Getting from level {have} to {nxt} "
            f"takes about {skill.hours_between(have, nxt)} hours."
        )
        out.append(f"**{skill.title}**\n\n{text}")
    if not out and ctx.hits:
        out = [_quoted(h, kb, cites) for h in ctx.hits[:2]]
    return "\n\n".join(out)


def skill_need(kb, ctx: TurnContext, cites: Citations) -> str:
    """Whether the paths in question need a skill: core (needed to be ready to apply), plus (raises
    fit, not needed to apply) or not asked, from the role documents' requirements; with where the
    person stands and the hours to the level asked. Two skills of one group ("AWS or Azure?") get
    one answer: any member meets it."""
    out, answered = [], set()
    for sid in [s for s in ctx.reading.skills if s in kb.skills][:2]:
        skill = kb.skills[sid]
        have = ctx.profile.level(sid)
        for role in paths_of(ctx):
            doc = kb.roles.get(role)
            if doc is None:
                continue
            ref = cites.cite(ctx.hit_for(role))
            req = next((r for r in doc.requirements if sid in r.members), None)
            if req is None:
                out.append(f"**{skill.title}** ({doc.title}): not among the requirements Reskill holds for the role; "
                           f"its postings rarely ask for it. {ref}".strip())
                continue
            if (role, id(req)) in answered:
                continue
            answered.add((role, id(req)))
            need = req.level_for(ctx.profile.seniority)
            names = [kb.skills[m].title for m in req.members if m in kb.skills]
            what = "it" if len(names) == 1 else f"one of {', '.join(names[:-1])} or {names[-1]} (any one meets it)"
            if req.need == "core":
                verdict = f"yes: {doc.title} postings ask for {what} at level {need} ({LEVEL_WORDS[need]}) to be ready to apply"
            else:
                verdict = (f"not to be ready to apply: {what} is a plus for {doc.title}, asked by some postings, so it "
                           f"raises your fit and is in the full plan but does not block applying")
            line = f"**{skill.title}** ({doc.title}): {verdict}. {ref}".rstrip()
            if have >= need:
                line += f" You are at level {have} already."
            else:
                hours = skill.hours_between(have, need)
                weeks = round(hours / ctx.profile.weekly_hours)
                line += (f" From level {have}, reaching {need} takes about {hours} hours "
                         f"(about {weeks} week{'' if weeks == 1 else 's'} at {ctx.profile.weekly_hours:g} hours a week).")
            out.append(line)
        why = next((h for h in _hits(ctx, sid) if h.score == 0), None)
        if why is not None and out:
            out.append(_quoted(why, kb, cites))
    return "\n\n".join(out) if out else skill_info(kb, ctx, cites)


def job_ready_level(kb, ctx: TurnContext, skill_id: str) -> tuple[int, str | None]:
    """The level the roles in question ask of a skill (the highest), and which role asks it."""
    best, who = 0, None
    for role in paths_of(ctx):
        doc = kb.roles.get(role)
        for req in getattr(doc, "requirements", []):
            members = getattr(req, "members", None) or [getattr(req, "skill", None)]
            if skill_id in members:
                level = req.level_for(ctx.profile.seniority)
                if level > best:
                    best, who = level, role
    return (best, who) if best else (3, None)


WEEKS_A_MONTH = 52 / 12


def how_long(kb, ctx: TurnContext, cites: Citations) -> str:
    hours_week = ctx.profile.weekly_hours
    out = []
    for sid in ctx.reading.skills[:2]:
        skill = kb.skills.get(sid)
        if skill is None:
            continue
        have = ctx.profile.level(sid)
        target, role = job_ready_level(kb, ctx, sid)
        target = max(target, min(have + 1, 4))
        hours = skill.hours_between(have, target)
        weeks = hours / hours_week
        hit = next(iter(_hits(ctx, sid)), None)
        why = f"the level {_title(kb, role)} roles ask for" if role else "the level most job postings expect"
        out.append(
            f"About **{hours} hours** to take {in_sentence(skill.title)} from level {have} to level {target} ({LEVEL_WORDS[target]}, {why}): "
            f"roughly **{weeks:.0f} weeks** at {hours_week:g} hours a week. {cites.cite(hit)}".strip()
        )
        out.append(f"Level {target} means: {skill.levels[target]}")
    if ctx.reading.skills and out:
        hit = next(iter(_hits(ctx, ctx.reading.skills[0])), None)
        if hit is not None:
            out.append(f"How to get there: {_quoted(hit, kb, cites)}")
        return "\n\n".join(out)
    # A move rather than a skill: the transition playbook's own estimate, at the hours the person said.
    said_hours = weekly_hours(ctx.question)
    for hit in [h for h in ctx.hits if h.kind == "transition"][:2]:
        paras = paragraphs(hit.snippet)
        if paras:
            role = hit.doc_id.split("_to_")[-1]
            out.append(f"For {_title(kb, role)}: {readable(paras[0], kb)} {cites.cite(hit)}")
            ready = getattr(kb.docs[hit.doc_id].meta, "ready_hours", None)
            if said_hours and ready:
                weeks = ready / said_hours
                out.append(f"At the {said_hours:g} hours a week you mention, those {ready} hours are about **{weeks:.0f} weeks** "
                           f"(about {weeks / WEEKS_A_MONTH:.0f} months) for a typical data scientist. {cites.cite(hit)}")
    if out:
        out.append("Tell me your skills and I'll work out the weeks for you." if said_hours
                   else "Tell me your skills and weekly hours and I'll work out the weeks for you.")
    return "\n\n".join(out)


def prerequisites_of(kb, skill_id: str, seen: set[str] | None = None) -> set[str]:
    seen = set() if seen is None else seen
    for p in getattr(kb.skills.get(skill_id), "prerequisites", []):
        if p not in seen:
            seen.add(p)
            prerequisites_of(kb, p, seen)
    return seen


def skill_order(kb, ctx: TurnContext, cites: Citations) -> str:
    named = [s for s in ctx.reading.skills if s in kb.skills][:2]
    if len(named) < 2:
        return how_long(kb, ctx, cites)
    a, b = named
    sa, sb = kb.skills[a], kb.skills[b]
    have_a, have_b = ctx.profile.level(a), ctx.profile.level(b)
    ha, hb = sa.hours_between(have_a, max(2, have_a)), sb.hours_between(have_b, max(2, have_b))
    if a in prerequisites_of(kb, b):
        head = f"Learn {in_sentence(sa.title)} first: {in_sentence(sb.title)} builds on it (it is a prerequisite in the knowledge base)."
    elif b in prerequisites_of(kb, a):
        head = f"Learn {in_sentence(sb.title)} first: {in_sentence(sa.title)} builds on it (it is a prerequisite in the knowledge base)."
    else:
        first, second = (sa, sb) if ha <= hb else (sb, sa)
        head = (
            f"Learn {in_sentence(first.title)} first: neither needs the other, and it is the smaller step (about {min(ha, hb)} hours to a "
            f"working level, against {max(ha, hb)} for {in_sentence(second.title)})."
        )
    harder = sa if sa.hours_between(0, 3) > sb.hours_between(0, 3) else sb
    lines = [head, ""]
    pair = [(a, sa, have_a), (b, sb, have_b)]
    if head.startswith(f"Learn {in_sentence(sb.title)} first"):
        pair.reverse()
    for sid, skill, have in pair:
        own = _hits(ctx, sid)
        why = next((h for h in own if "matter" in h.section.lower()), None)
        hours = (
            f"{skill.hours_between(have, max(2, have))} h to working level (2), "
            f"{skill.hours_between(have, max(3, have))} h to proficient (3) from your level {have}"
        )
        if why is not None:  # each option gets its own case, in its document's words
            lines += [f"**{skill.title}**: {hours}.", "", _quoted(why, kb, cites), ""]
        else:
            lines.append(f"- **{skill.title}**: {hours}. {cites.cite(next(iter(own), None))}".rstrip())
    if lines[-1] == "":
        lines.pop()
    lines += ["", f"{harder.title} is the bigger effort overall (more hours to reach proficient)."]
    advice = next((h for h in ctx.hits if h.kind == "market"), None)
    if advice is not None:
        lines += ["", f"How to choose, from our sources: {_quoted(advice, kb, cites)}"]
    return "\n".join(lines)


def learn_first(kb, ctx: TurnContext, cites: Citations) -> str:
    out = []
    for hit in [h for h in ctx.hits if h.kind == "transition"][:2]:
        role = hit.doc_id.split("_to_")[-1]
        stages = [p for p in paragraphs(hit.snippet) if re.match(r"^\d+[.)]\s", p)]
        if not stages:
            continue
        first = readable(re.sub(r"^\d+[.)]\s+", "", stages[0]), kb)
        m = re.match(r"\*\*(.+?)\*\*\s*(.*)", first)
        name, rest = (m.group(1).rstrip("."), m.group(2)) if m else (lead_sentence(first), first)
        out.append(f"For {_title(kb, role)}, start with **{name}**. {rest} {cites.cite(hit)}")
    if out:
        out.append("That is the general order for a data scientist; tell me your skills and I'll start the plan where your own gaps are.")
    return "\n\n".join(out)




def where(kb, doc_id: str, limit: int = 3, host: bool = False) -> str:
    """The resource's web addresses as Markdown links: where to find it (labelled by the site's
    name with ``host``, where the title is already written beside it)."""
    doc = kb.docs.get(doc_id)
    links = source_links(doc.meta)[:limit] if doc is not None else []
    def label(link) -> str:
        if host or link.label == doc.meta.title:
            return re.sub(r"^www\.", "", urlsplit(link.url).netloc)
        return _link_label(link.label)

    return ", ".join(f"[{label(link)}]({link.url})" for link in links)


def _link_label(label: str) -> str:
    return re.sub(r"[\[\]]", "", label)


def _facts(m) -> str:
    return resource_facts(m)


def resources(kb, ctx: TurnContext, cites: Citations) -> str:
    """The best resource in full (what it covers, what it costs, where it is, cited), then one or
    two others in a line each; free ones first when the question asks for free."""
    order = list(dict.fromkeys(h.doc_id for h in ctx.hits if h.kind == "resource"))
    about = next((in_sentence(_short(_title(kb, s))) for s in ctx.reading.skills if s in kb.docs), "this")
    if not order:
        learn = next((h for h in ctx.hits if h.kind == "skill"), None)
        if learn is None:
            return ""
        return f"I have no course or book for {about} in the knowledge base; this is how to learn it: {_quoted(learn, kb, cites)}"
    top = kb.docs[order[0]].meta
    covers = next(h for h in ctx.hits if h.doc_id == order[0])
    cost = next((h for h in ctx.hits if h.doc_id == order[0] and h is not covers), None)
    free = wants_free(ctx.question)
    if free and top.cost == "paid":
        head = f"Nothing free in the knowledge base covers {about}; the best fit is **{top.title}** ({_facts(top)})."
    else:
        verb = "practise" if "practice" in kinds_asked(ctx.question) else "learn"
        goal = f"To {verb} {about}{' without paying' if free else ''}, s" if about != "this" else ("For free, s" if free else "S")
        head = f"{goal}tart with **{top.title}** ({_facts(top)})."
    kinds = {kb.docs[d].meta.resource_type for d in order}
    missing = [KIND_WORDS[k] for k in kinds_asked(ctx.question) if k not in kinds and k in KIND_WORDS]
    if missing:
        head += f" I have no {' or '.join(missing)} for {about} in the knowledge base."
    out = [head, "", _quoted(covers, kb, cites)]
    if cost is not None:
        out += ["", f"What it costs: {_quoted(cost, kb, cites)}"]
    link = where(kb, order[0])
    if link:
        out += ["", f"Where: {link}."]
    others = []
    for doc_id in order[1:3]:
        m = kb.docs[doc_id].meta
        hit = next(h for h in ctx.hits if h.doc_id == doc_id)
        line = f"- **{m.title}** ({_facts(m)}): {lead_sentence(passage(hit, kb))} {cites.cite(hit)}"
        link = where(kb, doc_id, limit=1, host=True)
        others.append(line + (f" {link}" if link else ""))
    if others:
        out += ["", "Also worth a look:", "", *others]
    return "\n".join(out)


def search(kb, ctx: TurnContext, cites: Citations) -> str:
    return "\n\n".join(_quoted(h, kb, cites) for h in ctx.hits[:2])


WRITERS = {
    "role_info": role_info,
    "day_to_day": day_to_day,
    "role_difference": role_difference,
    "pay": pay,
    "education": education,
    "interview": interview,
    "portfolio": portfolio,
    "market": market,
    "ai_impact": ai_impact,
    "skill_info": skill_info,
    "skill_need": skill_need,
    "how_long": how_long,
    "skill_order": skill_order,
    "learn_first": learn_first,
    "resources": resources,
    "search": search,
}
