"""The ``reskill`` command line. A face: it parses, calls the Advisor, prints."""

from __future__ import annotations

import argparse
import json
import sys

from advisor.errors import BadInput
from advisor.settings import Settings, load_settings


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit code 2, no usage dump
        print(f"reskill: error: {message}", file=sys.stderr)
        sys.exit(2)


def _fail(message: str, code: int = 2):
    print(f"reskill: error: {message}", file=sys.stderr)
    sys.exit(code)


def _load_advisor(settings: Settings, quiet: bool = False, rebuild: bool = False):
    from tqdm import tqdm

    from advisor.core import Advisor

    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if quiet:
            return
        if bar is None:
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
    print(adv.last_report.summary())
    return 0


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


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="reskill", description="Reskill: career-reskilling advice for data scientists.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("validate", help="check every knowledge document; exit 1 on any error")
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser("index", help="bring the search index in step with the Markdown")
    s.add_argument("--rebuild", action="store_true", help="drop the index and embed everything again")
    s.set_defaults(func=cmd_index)

    s = sub.add_parser("search", help="hybrid search over the knowledge base")
    s.add_argument("query")
    s.add_argument("--k", type=int, default=5)
    s.add_argument("--kind")
    s.add_argument("--role")
    s.add_argument("--json", action="store_true", help="print the hits as JSON")
    s.set_defaults(func=cmd_search)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except Exception as exc:  # pydantic ValidationError: show which setting is wrong
        _fail(f"invalid settings: {exc}".splitlines()[0] + " " + " ".join(str(exc).splitlines()[1:3]))
    try:
        return args.func(args, settings)
    except BadInput as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
