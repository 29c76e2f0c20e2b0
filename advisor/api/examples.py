"""Example payloads shown in the OpenAPI document (/docs). Taken from real answers, trimmed."""

from __future__ import annotations

HIT = {
    "doc_id": "model_serving",
    "title": "Model serving",
    "kind": "skill",
    "roles": ["ml_engineer"],
    "skills": [],
    "section": "What Model serving is",
    "score": 0.0325,
    "snippet": "Model serving exposes a trained model behind a REST or gRPC endpoint with latency, scaling and versioning handled.",
}

LINKED_HIT = {
    **HIT,
    "document_url": "/v1/knowledge/model_serving",
    "sources": [{"label": "FastAPI documentation", "url": "https://fastapi.tiangolo.com"}],
}
"""A cited passage as the API returns it: with the links to its document and the document's sources."""

PROFILE = {
    "skills": [
        {"skill_id": "python", "name": "Python", "level": 3, "evidence": ["I use Python daily"]},
        {"skill_id": "sql", "name": "SQL", "level": 3, "evidence": ["SQL at a working level"]},
        {"skill_id": "docker", "name": "Docker", "level": 2, "evidence": ["some Docker"]},
    ],
    "years_experience": None,
    "weekly_hours": 8.0,
    "current_role": "data_scientist",
    "target_roles": [],
    "seniority": "mid",
    "preferences": [],
    "extraction": {"confidence": 0.6, "reason": "3 skills from what you said"},
}

ANSWER = {
    "text": "**Machine Learning Engineer**\n\nAn ML engineer puts models into production: packaging them in containers, "
    "serving them behind APIs, and monitoring them once live. [1]",
    "citations": [
        {
            "doc_id": "ml_engineer",
            "title": "Machine Learning Engineer",
            "kind": "role",
            "roles": ["ml_engineer"],
            "skills": [],
            "section": "What an ML engineer does",
            "score": 0.0328,
            "snippet": "An ML engineer puts models into production: packaging them in containers, serving them behind APIs, and monitoring them once live.",
            "document_url": "/v1/knowledge/ml_engineer",
            "sources": [
                {"label": "O*NET-SOC: no Machine Learning Engineer occupation; closest 15-1252.00 Software Developers", "url": "https://www.onetonline.org/link/summary/15-1252.00"}
            ],
        }
    ],
    "intent": "role_info",
    "profile": {**PROFILE, "skills": [], "extraction": None, "weekly_hours": 6.0},
    "recommendation": None,
    "engine": "grounded",
    "grounded": True,
    "notes": [],
}

_GAP = {"skill_id": "model_serving", "name": "Model serving", "current_level": 0, "required_level": 3, "importance": 5, "priority": 15.0, "hours": 110}

RECOMMENDATION = {
    "profile": PROFILE,
    "seniority": "mid",
    "roles": [
        {
            "role_id": "ml_engineer",
            "title": "Machine Learning Engineer",
            "fit": 0.451,
            "matched": [{"skill_id": "python", "name": "Python", "current_level": 3, "required_level": 3, "importance": 5}],
            "transferable": [{"skill_id": "docker", "name": "Docker", "current_level": 2, "required_level": 3, "importance": 4}],
            "gaps": [_GAP],
            "hours_to_ready": 110,
            "weeks_to_ready": 13.8,
            "hours_full_plan": 110,
            "weeks_full_plan": 13.8,
            "why": "Machine Learning Engineer: 45% fit, carried by Python and partly by Docker. The largest gap is Model serving.",
        }
    ],
    "plan": {
        "role_id": "ml_engineer",
        "weekly_hours": 8.0,
        "total_hours": 110,
        "total_weeks": 13.8,
        "hours_to_ready": 110,
        "weeks_to_ready": 13.8,
        "stages": [
            {
                "number": 1,
                "title": "Production ML",
                "skills": [_GAP],
                "hours": 110,
                "weeks": 13.8,
                "start_week": 0.0,
                "end_week": 13.8,
                "core": True,
                "resources": [
                    {
                        "id": "course_mlops_zoomcamp",
                        "title": "DataTalksClub MLOps Zoomcamp (free course)",
                        "document_url": "/v1/knowledge/course_mlops_zoomcamp",
                        "sources": [{"label": "DataTalksClub MLOps Zoomcamp (free course)", "url": "https://github.com/DataTalksClub/mlops-zoomcamp"}],
                    }
                ],
                "project": "Build a small project that uses Model serving end to end and write up what you learned.",
            }
        ],
    },
    "sources": ["ml_engineer", "model_serving", "course_mlops_zoomcamp"],
    "warnings": [],
}

COMPARISON = {
    "profile": PROFILE,
    "paths": [
        {"role_id": "ml_engineer", "title": "Machine Learning Engineer", "fit": 0.451, "weeks_to_ready": 13.8, "weeks_full_plan": 13.8, "top_gaps": [_GAP], "outlook": [LINKED_HIT]}
    ],
    "summary": "Machine Learning Engineer fits you best now (45%, about 13.8 weeks to ready at 8 h a week).",
}

DOCKER_FRONT_MATTER = {
    "id": "docker",
    "title": "Docker",
    "kind": "skill",
    "roles": ["ml_engineer"],
    "skills": [],
    "updated": "2026-11-01",
    "sources": [],
    "category": "engineering",
    "aliases": ["Docker", "containers", "Dockerfile"],
    "prerequisites": ["python"],
    "levels": {
        "1": "Can follow a tutorial on Docker.",
        "2": "Uses Docker for routine work with some help.",
        "3": "Uses Docker independently at production quality.",
        "4": "Designs, reviews and teaches Docker practice.",
    },
    "hours": [8, 25, 60, 150],
}

DOCUMENT = {
    "id": "docker",
    "front_matter": DOCKER_FRONT_MATTER,
    "body": "# Docker\n\n## What Docker is\nDocker packages an application and its dependencies into an image.\n",
    "version": "a0385cdaad1c4fb6",
}

NEW_RESOURCE = {
    "front_matter": {
        "title": "Docker for data scientists (internal workshop)",
        "kind": "resource",
        "roles": ["ml_engineer"],
        "skills": ["docker"],
        "updated": "2026-12-01",
        "resource_type": "course",
        "level": "beginner",
        "effort_hours": 6,
        "cost": "free",
    },
    "body": "# Docker for data scientists\n\n## What it covers\nImages, containers and a Dockerfile for a model service.\n",
}

SUMMARY = {
    "id": "docker",
    "kind": "skill",
    "title": "Docker",
    "path": "skills/docker.md",
    "version": "a0385cdaad1c4fb6",
    "front_matter": DOCKER_FRONT_MATTER,
}

HISTORY = {
    "id": "docker",
    "current_version": "5be1f0c2d9a47e13",
    "versions": [
        {"version": "a0385cdaad1c4fb6", "saved_at": "2026-12-01T09:30:00Z", "deleted": False, "current": False},
        {"version": "5be1f0c2d9a47e13", "saved_at": "2026-12-01T09:31:12Z", "deleted": False, "current": True},
    ],
}

ERROR = {"detail": "k must be between 1 and 50, got 90", "errors": []}
INVALID_DOCUMENT = {
    "detail": "the document is not valid: hours: List should have at least 4 items after validation, not 2",
    "errors": [{"path": "skills/docker.md", "field": "hours", "message": "List should have at least 4 items after validation, not 2"}],
}
CONFLICT = {
    "detail": "'docker' was changed by someone else: you edited version a0385cdaad1c4fb6, the current one is 5be1f0c2d9a47e13",
    "errors": [],
    "current_version": "5be1f0c2d9a47e13",
}

CHAT_COMPLETION = {
    "id": "chatcmpl-5f0c8e1f0b6a4c0e9d1f2a3b4c5d6e7f",
    "object": "chat.completion",
    "created": 1764201600,
    "model": "reskill",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": ANSWER["text"] + "\n\nSources:\n[1] Machine Learning Engineer — What an ML engineer does · document: "
                "http://127.0.0.1:8000/v1/knowledge/ml_engineer · source: https://www.onetonline.org/link/summary/15-1252.00",
            },
            "finish_reason": "stop",
            "logprobs": None,
        }
    ],
    "citations": ANSWER["citations"],
}

EMBEDDINGS = {
    "object": "list",
    "data": [{"object": "embedding", "index": 0, "embedding": [0.0123, -0.0456, 0.0789]}],
    "model": "all-MiniLM-L6-v2",
    "usage": {"prompt_tokens": 4, "total_tokens": 4},
}

