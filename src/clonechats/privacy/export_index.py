"""What the export's `index.html` shows, shaped for reading: chats and debates as transcripts
(speaker, time, text), personas as cards, every other record as a compact table, each part
linked to its raw `data/<holder>.json`. Only shapes plain values; the template renders them
with autoescaping (persona text and messages are user input)."""

import json
from collections.abc import Mapping
from typing import Any

from clonechats.personas.repo import Persona
from clonechats.web.timestamps import moment

TRANSCRIPT_LINES = ("messages", "turns")
SPEAKERS = {"user": "You", "assistant": None, "system": "System"}
CARD_FIELDS = (("tagline", "Tagline"), ("tone", "Tone"), ("greeting", "Greeting"),
               ("example_dialogue", "Example dialogue"),
               ("system_prompt", "Character description"), ("visibility", "Visibility"),
               ("share_path", "Public link"), ("created_at", "Created"),
               ("updated_at", "Updated"))


def raw_file(holder: str) -> str:
    return f"data/{holder}.json"


def label(key: str) -> str:
    return key.replace("_", " ").capitalize()


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def compact(value: Any) -> str:
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict) and all(not isinstance(v, dict | list) for v in value.values()):
        return " · ".join(f"{label(k)}: {v}" for k, v in value.items())
    return json.dumps(value, ensure_ascii=False, default=str)


def cell(key: str, value: Any) -> dict[str, Any]:
    """One value as text, with a link for an archived file and a time for `*_at` fields."""
    if is_empty(value):
        return {"text": "—", "empty": True}
    when = moment(value) if key == "at" or key.endswith("_at") else None
    if when:
        return {"text": when["text"], "time": when["iso"]}
    if isinstance(value, bool):
        return {"text": "yes" if value else "no"}
    if isinstance(value, str) and value.startswith("files/"):
        return {"text": value, "href": value}
    if isinstance(value, dict | list):
        return {"text": compact(value)}
    return {"text": str(value)}


def fields(record: Mapping[str, Any], skip: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return [{"label": label(key), "value": cell(key, value)}
            for key, value in record.items() if key not in skip]


def table(key: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Columns empty in every row are left out (the raw file still has them)."""
    columns = [column for column in dict.fromkeys(c for row in rows for c in row)
               if not all(is_empty(row.get(column)) for row in rows)]
    return {"kind": "table", "title": label(key), "columns": [label(c) for c in columns],
            "rows": [[cell(c, row.get(c)) for c in columns] for row in rows]}


def transcript(record: dict[str, Any], lines_key: str) -> dict[str, Any]:
    other = record.get("persona_name") or "Persona"
    lines = []
    for line in record[lines_key]:
        speaker = line.get("speaker") or SPEAKERS.get(line.get("role"), line.get("role")) or other
        lines.append({"speaker": speaker, "role": line.get("role") or "speaker",
                      "time": cell("created_at", line.get("created_at")),
                      "text": line.get("text") or ""})
    title = record.get("title") or record.get("topic") or "Untitled"
    return {"title": title, "lines": lines, "details": fields(record, skip=(lines_key,))}


def persona_card(persona: Persona, files: dict[str, str]) -> dict[str, Any]:
    sliders = persona.get("sliders") or {}
    return {
        "name": persona.get("name") or "Unnamed", "traits": persona.get("traits") or [],
        "avatar": files.get(persona.get("avatar_media_id") or ""),
        "facts": [{"label": name, "value": cell(key, persona.get(key))}
                  for key, name in CARD_FIELDS if not is_empty(persona.get(key))]
        + ([{"label": "Sliders", "value": cell("sliders", sliders)}] if sliders else []),
        "details": fields(persona),
    }


def part(holder: str, key: str, value: Any, files: dict[str, str]) -> dict[str, Any]:
    if is_empty(value):
        return {"kind": "empty", "title": label(key)}
    records = value if isinstance(value, list) and all(isinstance(v, dict) for v in value) else None
    if records and holder == "personas" and key == "personas":
        return {"kind": "personas", "title": label(key),
                "cards": [persona_card(p, files) for p in records]}
    lines_key = next((k for k in TRANSCRIPT_LINES if records and k in records[0]), None)
    if records and lines_key:
        return {"kind": "transcripts", "title": label(key),
                "items": [transcript(r, lines_key) for r in records]}
    if records:
        return table(key, records)
    if isinstance(value, dict):
        return {"kind": "fields", "title": label(key), "rows": fields(value)}
    return {"kind": "fields", "title": label(key), "rows": [{"label": label(key),
                                                              "value": cell(key, value)}]}


def archived_files(data: dict[str, Any]) -> dict[str, str]:
    """Media id → its path inside the archive."""
    media = data.get("media")
    entries = media.get("files", []) if isinstance(media, dict) else []
    return {entry["id"]: entry["file"] for entry in entries if entry.get("file")}


def sections(doc: dict[str, Any]) -> list[dict[str, Any]]:
    files = archived_files(doc["data"])
    shaped = []
    for holder, data in doc["data"].items():
        items = data.items() if isinstance(data, dict) else [(holder, data)]
        parts = [part(holder, key, value, files) for key, value in items]
        shaped.append({"id": holder, "title": label(holder), "raw": raw_file(holder),
                       "description": doc["contents"].get(holder, ""),
                       "parts": parts if any(p["kind"] != "empty" for p in parts) else []})
    return shaped
