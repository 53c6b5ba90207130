"""The `limit` and `cursor` query parameters of the list routes, defined once.

`limit` is how many items a page holds, from 1 to a cap; `cursor` is where the page starts (an
opaque keyset cursor of `storage.pagination`), at most a cap of characters. The caps differ by
route and each route keeps its own, so the names say them; a router imports the pair it takes
as its `Limit` and `Cursor`:

- `OptionalLimit100` / `OptionalLimit200`: lists whose service picks the page size when none is
  asked (`None`); 100 is the `PAGE_MAX` of personas, rooms, scheduled messages and clips, 200
  the `MESSAGE_PAGE_MAX` of a conversation's messages;
- `Limit100` / `Limit200`: lists whose route names the page size (memories and a user's orders
  and ledger up to 100, the admin lists up to 200);
- `Cursor`: `pagination.MAX_LENGTH` (500) characters, the user lists; `Cursor300`: the order
  lists; `Cursor100`: the admin lists and memories; `Cursor20`: the contact inbox (an offset).
"""

from typing import Annotated

from fastapi import Query

from clonechats.storage.pagination import MAX_LENGTH

Limit100 = Annotated[int, Query(ge=1, le=100)]
Limit200 = Annotated[int, Query(ge=1, le=200)]
OptionalLimit100 = Annotated[int | None, Query(ge=1, le=100)]
OptionalLimit200 = Annotated[int | None, Query(ge=1, le=200)]

Cursor = Annotated[str | None, Query(max_length=MAX_LENGTH)]
Cursor300 = Annotated[str | None, Query(max_length=300)]
Cursor100 = Annotated[str | None, Query(max_length=100)]
Cursor20 = Annotated[str | None, Query(max_length=20)]
