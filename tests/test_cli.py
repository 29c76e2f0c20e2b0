"""The reskill command line, run as a real process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from retrieval.hit import Hit


def reskill(*args: str, kb_dir, data_dir, **env) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, RESKILL_KNOWLEDGE_DIR=str(kb_dir), RESKILL_DATA_DIR=str(data_dir), **env)
    return subprocess.run(
        [sys.executable, "-m", "advisor.cli", *args], capture_output=True, text=True, env=full_env, timeout=300
    )


@pytest.fixture
def run(kb_dir, tmp_path):
    return lambda *args, **env: reskill(*args, kb_dir=kb_dir, data_dir=tmp_path / "data", **env)


@pytest.mark.parametrize(
    "args, message",
    [
        (["search", "   "], "query is empty"),
        (["search", "sql", "--k", "0"], "k must be between 1 and 50"),
        (["search", "sql", "--kind", "recipe"], "unknown kind 'recipe'"),
        (["search", "sql", "--role", "astronaut"], "unknown role 'astronaut'"),
        (["search", "sql", "--k", "many"], "invalid int value"),
        (["recommend"], "one of the arguments"),
        (["nosuchcommand"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run, args, message):
    proc = run(*args)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_validate_reports_errors_and_counts(run, kb_dir):
    ok = run("validate")
    assert ok.returncode == 0 and "3 role" in ok.stdout and "8 skill" in ok.stdout
    (kb_dir / "skills/sql.md").write_text((kb_dir / "skills/sql.md").read_text().replace("level: 3", "level: 7"))
    path = kb_dir / "roles/bi_analyst.md"
    path.write_text(path.read_text().replace("{skill: power_bi,", "{skill: tableau,"))
    bad = run("validate")
    assert bad.returncode == 1
    assert "roles/bi_analyst.md: requirements.1.skill: unknown skill id 'tableau'" in bad.stdout


def test_index_search_json_and_reindex(run, kb_dir):
    first = run("index")
    assert first.returncode == 0, first.stderr
    assert "14 added" in first.stdout and "chunks in the index" in first.stdout
    hits = json.loads(run("search", "containers for ML models", "--k", "3", "--json").stdout)
    assert len(hits) == 3 and set(hits[0]) == set(Hit.model_fields)
    assert "docker" in [h["doc_id"] for h in hits]
    again = run("index")
    assert "0 added, 0 updated, 0 removed, 14 unchanged" in again.stdout and "0 embedded" in again.stdout
    rebuilt = run("index", "--rebuild")
    assert "14 added" in rebuilt.stdout or "14 updated" in rebuilt.stdout


def test_recommend_profile_and_ask(run, tmp_path):
    rec = json.loads(run("recommend", "--text", "Python daily, some SQL, no Docker", "--targets", "ml_engineer,bi_analyst", "--hours", "8", "--json").stdout)
    assert [r["role_id"] for r in rec["roles"]] and rec["plan"]["weekly_hours"] == 8
    resources = [r for st in rec["plan"]["stages"] for r in st["resources"]]
    assert resources, "the plan recommends resources"
    for r in resources:  # cited as the API cites them: title, document path, source links
        assert r["title"] and r["title"] != r["id"] and r["document_url"] == f"/v1/knowledge/{r['id']}"
        assert all(s["url"].startswith("http") for s in r["sources"])
    table = run("recommend", "--text", "Python daily, some SQL, basic Docker")
    assert "weeks to ready to apply" in table.stdout and "Plan toward" in table.stdout
    assert "resource: " in table.stdout and "resources: " not in table.stdout, "resources by title, not bare ids"
    assert re.search(r"resource: .+ \((?:[^)]*, )?(?:free|paid|free tier, paid extras)\)", table.stdout), "what it is and costs, as on the other faces"
    assert "the full plan" in table.stdout
    cited = table.stdout.split("\nsources:\n", 1)[1].splitlines()
    assert cited and all(re.fullmatch(r"  \S.* \([a-z0-9_]+\)( · https?://\S+)?", line) for line in cited), "sources by title, id after"
    few = run("recommend", "--text", "some SQL")
    assert "can't give you a fit" in few.stdout and "weeks to ready" not in few.stdout
    no_prior = run("profile", "--text", "Python daily, some SQL", "--no-prior")
    assert "assumed" not in no_prior.stdout
    profile = run("profile", "--text", "Expert in Python. Never used Docker.")
    assert "level 4" in profile.stdout and "Docker" in profile.stdout
    (tmp_path / "p.json").write_text(json.dumps({"skills": [{"skill_id": "cobol", "level": 2}]}))
    bad = run("recommend", "--profile", str(tmp_path / "p.json"))
    assert bad.returncode == 2 and "unknown skill id 'cobol'" in bad.stderr
    answer = json.loads(run("ask", "What does an ML engineer do?", "--json").stdout)
    assert answer["intent"] == "role_info" and answer["citations"] and answer["engine"] == "grounded"
    for c in answer["citations"]:  # the same links /v1/chat gives
        assert c["title"] and c["document_url"] == f"/v1/knowledge/{c['doc_id']}"
        assert isinstance(c["sources"], list) and all(s["url"].startswith("http") for s in c["sources"])
    missing = run("recommend", "--resume", str(tmp_path / "nope.pdf"))
    assert missing.returncode == 2 and "cannot read resume" in missing.stderr


def test_serve_refuses_workers_in_embedded_mode(run):
    proc = run("serve", "--workers", "2")
    assert proc.returncode == 2 and "server mode" in proc.stderr and "RESKILL_CHROMA_URL" in proc.stderr


def test_chat_reads_turns_from_stdin(kb_dir, tmp_path):
    env = dict(os.environ, RESKILL_KNOWLEDGE_DIR=str(kb_dir), RESKILL_DATA_DIR=str(tmp_path / "d"))
    proc = subprocess.run(
        [sys.executable, "-m", "advisor.cli", "chat"],
        input="I use Python daily and some SQL\nWhat should I learn first?\nquit\n",
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "updated your" in proc.stdout and "plan" in proc.stdout.lower() and "[1]" in proc.stdout
