"""The order of a debate, and what the platform's moderator says. Pure functions: nothing here
stores or calls anything.

An auto-moderated debate is a fixed list of steps worked out from the room: the moderator
opens; in round 1 it introduces each speaker just before they first speak; every later round
starts with the moderator keeping time ("Round 2 of 3"); the moderator closes; the summary is
written. A user-moderated debate has no fixed list: the user opens (an interjection), passes
the floor to one speaker at a time, and the debate closes once every speaker still in it has
used their rounds, or when the user stops it.

The moderator's lines are written from templates, not by a model: they cost nothing, cannot
break the rules and say exactly what happened (a withheld turn, a speaker over the word limit).
"""

from dataclasses import dataclass
from typing import Any

MODERATOR, PERSONA, USER = "moderator", "persona", "user"


@dataclass(frozen=True)
class Step:
    key: str  # unique in the room: a resumed step finds the turn it wrote
    kind: str  # "opening" | "introduction" | "round" | "argument" | "closing" | "summary"
    round: int
    persona_id: str | None = None


def auto_steps(room: dict[str, Any]) -> list[Step]:
    people = [p["persona_id"] for p in room["participants"]]
    steps = [Step("s-opening", "opening", 0)]
    for round_no in range(1, room["rounds"] + 1):
        if round_no > 1:
            steps.append(Step(f"s-round-{round_no}", "round", round_no))
        for persona_id in people:
            if round_no == 1:
                steps.append(Step(f"s-intro-{persona_id}", "introduction", 1, persona_id))
            steps.append(Step(f"s-arg-{round_no}-{persona_id}", "argument", round_no,
                              persona_id))
    steps.append(Step("s-closing", "closing", room["rounds"]))
    steps.append(Step("s-summary", "summary", room["rounds"]))
    return steps


def participant(room: dict[str, Any], persona_id: str | None) -> dict[str, Any] | None:
    return next((p for p in room["participants"] if p["persona_id"] == persona_id), None)


def names(room: dict[str, Any]) -> str:
    listed = [p["name"] for p in room["participants"]]
    return listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " and " + listed[-1]


def opening_line(room: dict[str, Any]) -> str:
    rounds = room["rounds"]
    limit = room.get("max_turn_words")
    timing = f" Each turn is at most {limit} words." if limit else ""
    return (f"Welcome to this debate on “{room['topic']}”. Taking part: {names(room)}. "
            f"We will have {rounds} round{'s' if rounds != 1 else ''}.{timing} Speakers, "
            "keep to the topic and to the platform rules; a turn that breaks them is withheld.")


def introduction_line(room: dict[str, Any], persona_id: str) -> str:
    person = participant(room, persona_id) or {"name": "our next speaker", "tagline": ""}
    first = room["participants"][0]["persona_id"] == persona_id
    who = person["name"] + (f", {person['tagline'].rstrip('.')}" if person.get("tagline")
                            else "")
    lead = "Our first speaker is" if first else "Next we hear from"
    return f"{lead} {who}. {person['name']}, the floor is yours."


def round_line(room: dict[str, Any], round_no: int) -> str:
    first = room["participants"][0]["name"]
    last = " — the final round" if round_no == room["rounds"] else ""
    return f"Round {round_no} of {room['rounds']}{last}. {first}, you respond first."


def closing_line(room: dict[str, Any], *, stopped: bool) -> str:
    if stopped:
        return f"The debate was stopped. Thank you, {names(room)}."
    return f"That brings the debate to a close. Thank you, {names(room)}."


def withheld_line(name: str, reason: str | None) -> str:
    why = f" ({reason})" if reason else ""
    return (f"{name}'s turn was withheld because it broke the content rules{why}. "
            "The debate goes on.")


def over_time_line(name: str, limit: int) -> str:
    return f"Time, {name}: that is the {limit}-word limit, so the rest of the turn was cut."


def failed_line(name: str) -> str:
    return f"{name} could not answer just now; we move on."


def left_line(name: str) -> str:
    return f"{name} is no longer available and has left the debate."


def muted_line(name: str, muted: bool) -> str:
    return (f"The moderator muted {name}." if muted else
            f"The moderator gave {name} their voice back.")


def warning_line(name: str, text: str) -> str:
    return f"Warning to {name}: {text}" if text else (
        f"Warning to {name}: keep to the topic and to the rules.")


def user_turns_left(room: dict[str, Any], spoken: dict[str, int], persona_id: str) -> int:
    return room["rounds"] - spoken.get(persona_id, 0)


def user_mode_done(room: dict[str, Any], spoken: dict[str, int]) -> bool:
    """A user-moderated debate is over once every speaker still in it has used their rounds."""
    active = [p for p in room["participants"] if not p.get("muted") and not p.get("left")]
    return all(user_turns_left(room, spoken, p["persona_id"]) <= 0 for p in active)
