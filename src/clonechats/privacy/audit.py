"""`clonechats privacy audit`: check the stored data against the privacy policy's promises.

Reads every collection (every string value and key) and every file under the data directory
(media, the embedded database's files, export archives opened member by member) and reports
each promise as kept or broken, with counts and where (never the offending values):

- no raw IP address is stored anywhere;
- no card-like number is stored anywhere;
- nothing is kept past its retention date (`retention_rules.RULES`, allowing a day for the job);
- every media file has its media record and every record its file, of an existing owner;
- nothing belongs to a user or persona that no longer exists (the registry's `Owned`
  declarations: personas, memories, conversations, favourites, sessions, ...);
- records kept after an account is deleted (payments, the security log) carry a pseudonym,
  not the old user id;
- no account belongs to a child under 13.

It only reads. `run` returns the results; the command prints them and exits 1 if any promise
is broken.
"""

from __future__ import annotations

import asyncio
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clonechats.accounts.age import MINIMUM_AGE, age_on
from clonechats.media import repo as media_repo
from clonechats.media.keys import parse_media_key
from clonechats.privacy import audit_scan, export, registry, retention
from clonechats.privacy import repo as privacy_repo

if TYPE_CHECKING:
    from clonechats.context import Ctx


CHUNK = 1024 * 1024
OVERLAP = 128
MAX_MATCH = 64  # longer than any address or card number the scan looks for


@dataclass
class Result:
    promise: str
    text: str
    found: Counter = field(default_factory=Counter)

    @property
    def kept(self) -> bool:
        return not self.found

    @property
    def count(self) -> int:
        return sum(self.found.values())

    def line(self) -> str:
        where = ", ".join(f"{place} {n}" for place, n in sorted(self.found.items()))
        state = "KEPT  " if self.kept else "BROKEN"
        return f"{state} {self.promise:<30} {self.text} ({self.count} found" + (
            f": {where})" if where else ")")


def _place(collection: str, path: str) -> str:
    head = path.split(".")[0].split("[")[0].removesuffix(" (key)")
    return f"{collection}.{head}" if head else collection


async def _scan_documents(ctx: Ctx, ips: Result, cards: Result, ignored: frozenset[str]) -> None:
    for name in sorted(await ctx.db.list_collection_names()):
        for document in await ctx.db[name].find({}).to_list():
            for path, text in audit_scan.strings(document):
                if audit_scan.find_ips(text, ignored=ignored):
                    ips.found[_place(name, path)] += 1
                if audit_scan.find_cards(text):
                    cards.found[_place(name, path)] += 1


def _scan_bytes(data: bytes, ignored: frozenset[str]) -> tuple[int, int]:
    return (len(audit_scan.find_ips_in_bytes(data, ignored=ignored)),
            len(audit_scan.find_cards_in_bytes(data)))


def _scan_file(path: Path, ignored: frozenset[str]) -> tuple[int, int]:
    if zipfile.is_zipfile(path):
        ip_hits = card_hits = 0
        with zipfile.ZipFile(path) as archive:
            for member in archive.infolist():
                found = _scan_bytes(archive.read(member), ignored)
                ip_hits, card_hits = ip_hits + found[0], card_hits + found[1]
        return ip_hits, card_hits
    ips: set[int] = set()
    cards: set[int] = set()
    with path.open("rb") as handle:
        offset, tail = 0, b""
        while chunk := handle.read(CHUNK):
            window, start = tail + chunk, offset - len(tail)
            # a match starting early in the carried tail lay wholly in the previous window;
            # seen again from a cut-off start it could look like something else
            first = max(len(tail) - MAX_MATCH, 0)
            ips.update(start + at for at in audit_scan.ip_positions(window, ignored=ignored)
                       if at >= first)
            cards.update(start + at for at in audit_scan.card_positions(window) if at >= first)
            offset += len(chunk)
            tail = window[-OVERLAP:]
    return len(ips), len(cards)


def _scan_files(data_dir: Path, ips: Result, cards: Result, ignored: frozenset[str]) -> None:
    if not data_dir.is_dir():
        return
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file() and not p.is_symlink()):
        ip_hits, card_hits = _scan_file(path, ignored)
        where = f"file {path.relative_to(data_dir)}"
        if ip_hits:
            ips.found[where] += ip_hits
        if card_hits:
            cards.found[where] += card_hits


async def _ids(ctx: Ctx, collection: str, cache: dict[str, set[Any]]) -> set[Any]:
    if collection not in cache:
        cache[collection] = set(await ctx.db[collection].distinct("_id"))
    return cache[collection]


async def _check_media(ctx: Ctx, result: Result, cache: dict[str, set[Any]]) -> None:
    users = await _ids(ctx, registry.USERS, cache)
    documents = await ctx.db[media_repo.MEDIA].find({}).to_list()
    recorded = {d["key"] for d in documents}
    async for key in ctx.media.keys(""):
        if key not in recorded:
            result.found["files without a media record"] += 1
        elif parse_media_key(key)[1] not in users:
            result.found["files of deleted users"] += 1
    stored = {key async for key in ctx.media.keys("")}
    for document in documents:
        if document["key"] not in stored:
            result.found["media records without a file"] += 1
    exports_dir = ctx.settings.data_dir / export.DIRECTORY
    recorded_exports = set(await ctx.db[privacy_repo.EXPORTS].distinct("file"))
    archives = await asyncio.to_thread(
        lambda: [p.name for p in exports_dir.glob("*.zip")] if exports_dir.is_dir() else [])
    for name in archives:
        if name not in recorded_exports:
            result.found["export archives without a record"] += 1


async def _check_owned(ctx: Ctx, orphans: Result, kept: Result,
                       cache: dict[str, set[Any]]) -> None:
    users = await _ids(ctx, registry.USERS, cache)
    for owned in registry.owned_collections():
        target = kept if owned.pseudonymised else orphans
        for document in await ctx.db[owned.collection].find({}).to_list():
            owner = document.get(owned.owner_field)
            allowed = (owner is None and owned.nullable_owner) or (
                owned.pseudonymised and registry.is_pseudonym(owner))
            if not allowed and owner not in users:
                target.found[f"{owned.collection} of deleted users"] += 1
                continue
            for field_name, parent in owned.parents:
                value = document.get(field_name)
                if value is not None and value not in await _ids(ctx, parent, cache):
                    orphans.found[f"{owned.collection} of deleted {parent}"] += 1


async def _check_ages(ctx: Ctx, result: Result, today: date) -> None:
    for user in await ctx.db[registry.USERS].find({"birth_date": {"$ne": None}}).to_list():
        try:
            born = date.fromisoformat(str(user["birth_date"]))
        except ValueError:
            continue
        if age_on(born, today) < MINIMUM_AGE:
            result.found["users"] += 1


async def run(ctx: Ctx, *, data_dir: Path | None = None) -> list[Result]:
    """Check every promise; `data_dir` (default: the configured one) is scanned for files."""
    ignored = audit_scan.server_addresses(ctx.settings.public_url)
    ips = Result("no_raw_ip", "No raw IP address is stored")
    cards = Result("no_card_numbers", "No card-like number is stored")
    kept_too_long = Result("retention", "Nothing is kept past its retention date")
    media = Result("no_orphaned_media", "Every file belongs to a record and a user")
    orphans = Result("no_orphaned_content", "Nothing belongs to a deleted user or persona")
    kept = Result("kept_records_pseudonymised",
                  "Records kept after deletion (payments, security log) name a pseudonym")
    children = Result("no_children_under_13", f"No account of a child under {MINIMUM_AGE}")
    await _scan_documents(ctx, ips, cards, ignored)
    await asyncio.to_thread(_scan_files, data_dir or ctx.settings.data_dir, ips, cards, ignored)
    for rule, count in (await retention.overdue(ctx)).items():
        if count:
            kept_too_long.found[rule] += count
    cache: dict[str, set[Any]] = {}
    await _check_media(ctx, media, cache)
    await _check_owned(ctx, orphans, kept, cache)
    await _check_ages(ctx, children, ctx.clock.now().date())
    return [ips, cards, kept_too_long, media, orphans, kept, children]


def report(results: list[Result]) -> str:
    broken = sum(1 for r in results if not r.kept)
    summary = "All promises kept." if not broken else f"{broken} promise(s) broken."
    return "\n".join([r.line() for r in results] + [summary]) + "\n"
