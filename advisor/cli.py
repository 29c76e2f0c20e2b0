"""The ``reskill`` command line. A face: it parses, calls the Advisor, prints."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from advisor.errors import BadInput

if TYPE_CHECKING:
    from advisor.settings import Settings
# The rest (settings, chromadb through retrieval.index, the report) is imported by main() or the
# command that needs it.


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit code 2, no usage dump
        print(f"reskill: error: {message}", file=sys.stderr)
        sys.exit(2)


def _fail(message: str, code: int = 2):
    print(f"reskill: error: {message}", file=sys.stderr)
    sys.exit(code)


def _load_advisor(settings: Settings, quiet: bool = False, rebuild: bool = False):
    from advisor.core import Advisor

    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if quiet and not sys.stderr.isatty():  # a person waiting for an index build sees its progress
            return
        if bar is None:
            from tqdm import tqdm  # only when something is embedded: a warm start draws no bar

            bar = tqdm(total=total, desc="embedding", unit="chunk", file=sys.stderr)
        bar.update(done - bar.n)

    adv = Advisor.load(settings, progress=progress, rebuild=rebuild)
    if bar:
        bar.close()
    return adv


# -- commands ------------------------------------------------------------------------------
def cmd_validate(args, settings: Settings) -> int:
    from knowledge.base import load_knowledge

    kb = load_knowledge(settings.knowledge_dir)
    for err in kb.errors:
        print(f"error: {err}")
    counts = kb.counts()
    print("documents: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()) + f" ({sum(counts.values())} valid)")
    if kb.errors:
        print(f"{len(kb.errors)} error(s)")
        return 1
    print("knowledge base is valid")
    return 0


def cmd_index(args, settings: Settings) -> int:
    adv = _load_advisor(settings, rebuild=args.rebuild)
    for err in adv.kb.errors:
        print(f"skipped (invalid): {err}", file=sys.stderr)
    for problem in adv.repairs:
        print(f"repaired: {problem}")
    print(adv.last_report.summary())
    from advisor.chat.context import chat_reader

    chat_reader(adv).warm()  # train or load the chat's question reader now, not in the first answer
    if args.repair:
        problems = adv.repair()
        print("\n".join(f"repaired: {p}" for p in problems) or "index verified: in step with the Markdown, vector search sound")
    return 0


def cmd_export_embedder(args, settings: Settings) -> int:
    """Make the ONNX export the serving path uses (once, at set-up; `make setup` runs it)."""
    from retrieval.embeddings import export_embedder_for, resolve_model
    from retrieval.onnx_export import export_dir, read_manifest, usable_export

    source = resolve_model(settings.embedding_model)
    folder = export_dir(settings.model_cache_dir, source)
    if usable_export(folder, source) and not args.force:
        m = read_manifest(folder)
        print(f"ONNX embedder up to date in {folder}: {m['quantisation']} ({m['file']}); `--force` exports again")
    else:
        if args.force:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
        m = export_embedder_for(source, settings.model_cache_dir, settings.knowledge_dir, quantise=not args.fp32, say=print)
        print(f"fp32 cosine vs torch {m['fp32_cosine']}; int8 {m.get('qint8_cosine', 'not tried')}; serving {m['file']}")
    _prepare_claim_reader(settings)
    return 0


def _prepare_claim_reader(settings: Settings) -> None:
    """Train the claim reader (advisor/claims.py) now, so the first start does not (about 30 s once)."""
    import time

    from advisor.extraction import SkillExtractor
    from knowledge.base import load_knowledge
    from retrieval.embeddings import load_embedder

    start = time.perf_counter()
    embedder = load_embedder(settings.embedding_model, **settings.embedder_options())
    SkillExtractor(load_knowledge(settings.knowledge_dir), embedder, claims_cache=settings.model_cache_dir / "claims").claims.warm()
    print(f"claim reader ready in {settings.model_cache_dir / 'claims'} ({time.perf_counter() - start:.1f} s)")


def cmd_search(args, settings: Settings) -> int:
    from advisor.core import check_search
    from knowledge.base import load_knowledge

    check_search(args.query, args.k, args.kind, args.role, load_knowledge(settings.knowledge_dir))
    adv = _load_advisor(settings, quiet=True)
    hits = adv.search(args.query, k=args.k, kind=args.kind, role=args.role)
    if args.json:
        print(json.dumps([h.model_dump() for h in hits], indent=2))
        return 0
    if not hits:
        print("no results")
    for n, h in enumerate(hits, 1):
        print(f"{n}. {h.title} [{h.kind}] — {h.section}  (score {h.score:.4f}, {h.doc_id})")
        snippet = " ".join(h.snippet.split())
        print(f"   {snippet[:220]}{'…' if len(snippet) > 220 else ''}")
    return 0


def _profile_source(args, settings: Settings):
    """The profile input of `recommend`/`profile`/`ask`: text, a resume file or a JSON profile."""
    from advisor.profile import read_resume_file

    if getattr(args, "text", None) is not None:
        return args.text
    if getattr(args, "resume", None):
        return read_resume_file(Path(args.resume))
    if getattr(args, "profile", None):
        try:
            return json.loads(Path(args.profile).read_text(encoding="utf-8"))
        except OSError as exc:
            raise BadInput(f"cannot read profile '{args.profile}': {exc.strerror or exc}") from None
        except json.JSONDecodeError as exc:
            raise BadInput(f"profile '{args.profile}' is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    return None


def _roles_arg(value: str | None) -> list[str] | None:
    return [r.strip() for r in value.split(",") if r.strip()] if value else None


def _read_profile(adv, source, no_prior: bool):
    """The profile, with the role prior switched off when asked (``--no-prior``)."""
    if not no_prior:
        return adv.profile(source)
    from advisor.models import Profile

    return adv.profile(source, base=Profile(role_prior=False))


def cmd_profile(args, settings: Settings) -> int:
    source = _profile_source(args, settings)
    adv = _load_advisor(settings, quiet=True)
    profile = _read_profile(adv, source, args.no_prior)
    if args.json:
        print(profile.model_dump_json(indent=2))
        return 0
    ex = profile.extraction
    if ex:
        print(f"confidence {ex.confidence:.0%}: {ex.reason}")
    for s in sorted(profile.skills, key=lambda s: (s.source != "stated", -s.level, s.skill_id)):
        said = f"from: \"{'; '.join(s.evidence)[:90]}\"" if s.source == "stated" else s.evidence[-1]
        print(f"  {s.name:<48} level {s.level}   {said}")
    print(f"weekly hours {profile.weekly_hours:g}; current role {profile.current_role}; seniority target {profile.seniority}")
    return 0


def cmd_recommend(args, settings: Settings) -> int:
    source = _profile_source(args, settings)
    adv = _load_advisor(settings, quiet=True)
    profile = _read_profile(adv, source, args.no_prior)
    rec = adv.recommend(profile, targets=_roles_arg(args.targets), hours=args.hours, seniority=args.seniority)
    if args.json:
        from knowledge.links import linked_recommendation

        print(json.dumps(linked_recommendation(rec.model_dump(mode="json"), adv.kb), indent=2, ensure_ascii=False))
        return 0
    if args.markdown:
        from advisor.report import recommendation_markdown

        print(recommendation_markdown(rec, adv.kb))
        return 0
    for w in rec.warnings:
        print(f"warning: {w}")
    if not rec.show_numbers:
        print(rec.ask)
        return 0
    print(f"{'role':<34}{'fit':>6}{'met':>5}{'gaps':>6}{'weeks to ready to apply':>25}{'weeks full plan':>17}")
    for f in rec.roles:
        print(f"{f.title:<34}{f.fit:>6.0%}{len(f.matched):>5}{len(f.gaps):>6}{f.weeks_to_ready:>25g}{f.weeks_full_plan:>17g}")
    plan = rec.plan
    if plan:
        from advisor.report import plan_summary

        chosen = next(f for f in rec.roles if f.role_id == plan.role_id)
        kind = f" (counted against {chosen.variant}, the kind you are closest to)" if chosen.variant else ""
        print(f"\nPlan toward {adv.kb.roles[plan.role_id].title}{kind}. {plan_summary(plan)}")
        for st in plan.stages:
            part = "core" if st.core else "plus"
            print(f"  {st.number}. weeks {st.start_week:g}-{st.end_week:g}  {st.title} ({part})")
            for g in st.skills:
                print(f"       {g.name} {g.current_level}->{g.required_level} ({g.hours} h, importance {g.importance})")
            for r in st.resources:
                print("       " + _resource_line(r, adv.kb))
            print(f"       project: {st.project}")
    print("\nsources:")
    for sid in rec.sources:
        print("  " + _source_line(sid, adv.kb))
    return 0


def _source_line(doc_id: str, kb) -> str:
    """A cited document by its title and first web address, with its id to open it in the KB."""
    from knowledge.links import first_link

    doc = kb.docs.get(doc_id)
    link = first_link(kb, doc_id)
    return f"{doc.title if doc else doc_id} ({doc_id})" + (f" · {link}" if link else "")


def _resource_line(rid: str, kb) -> str:
    """A plan's resource by its title, in the words the other faces use for what it is and costs,
    with its own web address (never the internal id alone)."""
    from advisor.wording import resource_facts
    from knowledge.links import resource_ref

    ref, doc = resource_ref(kb, rid), kb.docs.get(rid)
    facts = f" ({resource_facts(doc.meta)})" if doc is not None and hasattr(doc.meta, "resource_type") else ""
    return f"resource: {ref['title']}{facts}" + (f" · {ref['sources'][0]['url']}" if ref["sources"] else "")


def _print_answer(answer, as_json: bool, kb=None) -> None:
    if as_json:
        from knowledge.links import linked_citations, linked_recommendation

        data = answer.model_dump(mode="json")
        data["citations"] = linked_citations(data["citations"], kb)
        data["recommendation"] = linked_recommendation(data.get("recommendation"), kb)
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return
    print(answer.text)
    for note in answer.notes:
        print(f"note: {note}")
    if answer.citations:
        print()
        for n, h in enumerate(answer.citations, 1):
            print(_citation_line(n, h, kb))


def _citation_line(n: int, hit, kb) -> str:
    """A numbered source as the terminal shows it, with the document's web address when it has one."""
    from knowledge.links import first_link

    link = first_link(kb, hit.doc_id) if kb is not None else None
    return f"[{n}] {hit.title} ({hit.kind}) — {hit.section}" + (f" · {link}" if link else "")


def cmd_ask(args, settings: Settings) -> int:
    profile = _profile_source(args, settings)
    adv = _load_advisor(settings, quiet=True)
    if isinstance(profile, str):
        profile = adv.profile(profile)
    _print_answer(adv.ask(args.question, history=[], profile=profile), args.json, adv.kb)
    return 0


def cmd_chat(args, settings: Settings) -> int:
    from advisor.models import Answer

    print("Loading Reskill…", file=sys.stderr)
    adv = _load_advisor(settings)
    print(f"Reskill chat ({adv.engine_name}). Tell me about yourself or ask a question; 'quit' to leave.")
    if adv.engine_note:
        print(f"note: {adv.engine_note}")
    history: list[dict] = []
    profile = None
    while True:
        try:
            question = input("\nyou> ").strip()
        except EOFError:
            print()
            return 0
        if question.lower() in ("quit", "exit", ":q"):
            return 0
        if not question:
            continue
        try:
            answer = None
            print()
            for piece in adv.stream(question, history=history, profile=profile):
                if isinstance(piece, Answer):
                    answer = piece
                else:
                    print(piece, end="", flush=True)
        except BadInput as exc:
            print(f"error: {exc}")
            continue
        print()
        for note in answer.notes:
            print(f"note: {note}")
        for n, h in enumerate(answer.citations, 1):
            print("  " + _citation_line(n, h, adv.kb))
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]
        profile = answer.profile


def cmd_eval(args, settings: Settings) -> int:
    from advisor.evaluation import evaluate, THRESHOLDS

    adv = _load_advisor(settings, quiet=True)
    report = evaluate(adv, Path(args.dir))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for name, value in report["metrics"].items():
            bar = THRESHOLDS.get(name)
            mark = "" if bar is None else ("  ok" if value >= bar else f"  BELOW {bar}")
            print(f"{name:<36}{value:8.3f}{mark}")
        for line in report["failures"][: args.show]:
            print(f"  miss: {line}")
    return 0 if report["passed"] else 1


def cmd_import_esco(args, settings: Settings) -> int:
    from tqdm import tqdm

    adv = _load_advisor(settings, quiet=True)
    with tqdm(total=0, desc="embedding ESCO", unit="text", file=sys.stderr) as bar:

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        result = adv.import_esco(limit=args.limit, progress=progress)
    print(
        f"{result['items']} ESCO texts: {result['embedded']} embedded, {result['skipped']} already stored; "
        f"{result['seconds']:.1f} s. Search them with RESKILL_INCLUDE_EXTERNAL=true."
    )
    return 0


def cmd_serve(args, settings: Settings) -> int:
    if args.workers > 1 and not settings.chroma_url:
        raise BadInput(
            "--workers > 1 needs Chroma's server mode: the embedded store is not safe for several processes. "
            "Start `chroma run --path <dir>` and set RESKILL_CHROMA_URL=http://127.0.0.1:8000"
        )
    from advisor.api.server import run

    run(settings, host=args.host, port=args.port, workers=args.workers)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="reskill", description="Reskill: career-reskilling advice for data scientists.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("validate", help="check every knowledge document; exit 1 on any error")
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser("index", help="bring the search index in step with the Markdown")
    s.add_argument("--rebuild", action="store_true", help="drop the index and embed everything again")
    s.add_argument("--repair", action="store_true", help="verify the index and rebuild whatever is damaged")
    s.set_defaults(func=cmd_index)

    s = sub.add_parser("export-embedder", help="export the embedding model to ONNX for the serving path and train the claim reader (set-up)")
    s.add_argument("--force", action="store_true", help="export again even if an up-to-date export exists")
    s.add_argument("--fp32", action="store_true", help="do not try the int8 quantisation")
    s.set_defaults(func=cmd_export_embedder)

    s = sub.add_parser("search", help="hybrid search over the knowledge base")
    s.add_argument("query")
    s.add_argument("--k", type=int, default=5)
    s.add_argument("--kind")
    s.add_argument("--role")
    s.add_argument("--json", action="store_true", help="print the hits as JSON")
    s.set_defaults(func=cmd_search)

    def profile_inputs(s, required=True, json_profile=True):
        g = s.add_mutually_exclusive_group(required=required)
        g.add_argument("--text", help="describe your experience in your own words")
        g.add_argument("--resume", help="a resume file: .txt, .md, .pdf or .docx")
        if json_profile:
            g.add_argument("--profile", help="a profile JSON file")
        s.add_argument("--no-prior", action="store_true",
                       help="do not assume the typical levels of your current role for skills you did not mention")

    s = sub.add_parser("recommend", help="role fit, gaps and a learning plan for a profile")
    profile_inputs(s)
    s.add_argument("--targets", help="comma-separated role ids, e.g. bi_analyst,ml_engineer")
    s.add_argument("--hours", type=float, help="hours a week for learning")
    s.add_argument("--seniority", choices=["junior", "mid", "senior"])
    out = s.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true")
    out.add_argument("--markdown", action="store_true", help="the plan as a Markdown document")
    s.set_defaults(func=cmd_recommend)

    s = sub.add_parser("profile", help="show the profile read from text or a resume, with evidence")
    profile_inputs(s, json_profile=False)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_profile)

    s = sub.add_parser("ask", help="ask one question")
    s.add_argument("question")
    profile_inputs(s, required=False)
    s.add_argument("--json", action="store_true", help="print the Answer as JSON")
    s.set_defaults(func=cmd_ask)

    s = sub.add_parser("chat", help="an interactive conversation in the terminal")
    s.set_defaults(func=cmd_chat)

    s = sub.add_parser("eval", help="retrieval and recommender quality on the labelled sets")
    s.add_argument("--dir", default=str(Path(__file__).resolve().parent.parent / "tests" / "eval"))
    s.add_argument("--json", action="store_true")
    s.add_argument("--show", type=int, default=10, help="how many misses to list")
    s.set_defaults(func=cmd_eval)

    s = sub.add_parser("import-esco", help="index the ESCO occupations and skills as an external corpus")
    s.add_argument("--limit", type=int, help="import only the first N texts")
    s.set_defaults(func=cmd_import_esco)

    s = sub.add_parser("serve", help="the HTTP API")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=1)
    s.set_defaults(func=cmd_serve)
    return p


LOADS_ADVISOR = frozenset({"index", "search", "profile", "recommend", "ask", "chat", "eval", "import-esco", "serve"})
"""The commands that load the Advisor in this process, and so its embedding model."""


def main(argv: list[str] | None = None) -> int:
    from advisor.settings import load_settings

    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except Exception as exc:  # pydantic ValidationError: show which setting is wrong
        _fail(f"invalid settings: {exc}".splitlines()[0] + " " + " ".join(str(exc).splitlines()[1:3]))
    if args.command in LOADS_ADVISOR and getattr(args, "workers", 1) == 1:
        from retrieval.embeddings import preload_embedder

        # Before chromadb is imported: the model loads beside the imports (see preload_embedder).
        preload_embedder(settings.embedding_model, **settings.embedder_options())
    from retrieval.index import IndexUnavailable
    from retrieval.lock import StoreLocked

    try:
        return args.func(args, settings)
    except BadInput as exc:
        _fail(str(exc))
    except (StoreLocked, IndexUnavailable) as exc:
        _fail(str(exc), code=1)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
