"""The check every section makes of the vendor or backend it chose: its key is set."""


from pydantic import BaseModel, SecretStr


def secret_set(value: SecretStr | None) -> bool:
    return value is not None and bool(value.get_secret_value().strip())


def require(section: BaseModel, name: str, *fields: str, switch: str = "provider") -> None:
    """Refuse the settings `section` (called `name`) unless every one of `fields` is set (not
    blank), for the vendor or backend its `switch` field chose; the message names the
    variables to set, so a misconfigured server stops at start-up saying what is missing."""
    values = [getattr(section, field) for field in fields]
    if all(secret_set(v) if isinstance(v, SecretStr) else (v or "").strip() for v in values):
        return
    needed = " and ".join(f"{name}.{field}" for field in fields)
    variables = " and ".join(f"CLONECHATS_{name.upper()}__{field.upper()}" for field in fields)
    raise ValueError(f"{name}.{switch} {getattr(section, switch)!r} needs {needed} "
                     f"(set {variables})")
