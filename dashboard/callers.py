"""Who called: a record's phone as one caller (however the visitor typed it), and the callbacks we placed ourselves.

SQL over a record's fields (`Fields`, as in dashboard/channels.py), shared by the metrics, the lost leads and the
alerts, so that "the same caller" and "our own call back" mean one thing everywhere. docs/metrics.md, "Callers and
lost leads", says the same in words.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from dashboard.channels import Fields, on_records, trim

# The `referer` every "Call back now" sends with callback.CreateRequest. Newton keeps it with the request it makes,
# so after the next sync that record is recognised as ours: a recovery attempt, never a new visitor's request.
# `.invalid` is reserved (RFC 2606): no real site, so no visitor's page, can have this address.
OUR_CALLBACK_REFERER = "https://newton-dashboard.invalid/call-back"
OUR_CALLBACK_HOST = urlsplit(OUR_CALLBACK_REFERER).hostname or ""

# The separators people type inside a phone (the set of dashboard/api/validate.py's phone check). DuckDB's `\s` is
# ASCII only, unlike Python's: every space Unicode knows is named, so a number written with no-break spaces (as
# Russian typography and copied web pages write it) is the same phone.
_SEPARATORS = r"[\s\p{Z}\x{0b}\x{1c}-\x{1f}\x{85}().\-\x{2010}-\x{2015}\x{2212}]"


def phone(field: Fields = on_records) -> str:
    """The caller of a record: `clientPhone` as `+7` and 10 digits when it is a Russian number however written
    (`8…`, `7…`, `+7…`, 10 digits, with spaces, brackets and dashes), else the value as sent (its own caller);
    NULL when there is no phone at all (no caller to count or call back)."""
    blank_if_missing = f"coalesce({field('clientPhone')}, '')"
    sent = f"nullif({trim(blank_if_missing)}, '')"
    bare = f"regexp_replace({sent}, '{_SEPARATORS}', '', 'g')"
    return f"""CASE
    WHEN regexp_full_match({bare}, '(\\+7|7|8)[0-9]{{10}}') THEN '+7' || right({bare}, 10)
    WHEN regexp_full_match({bare}, '[0-69][0-9]{{9}}') THEN '+7' || {bare}
    ELSE {sent} END"""


def is_ours(field: Fields = on_records) -> str:
    """Whether a record is a callback we placed ("Call back now"): Newton shows the `referer` it was sent with as
    the request's page or referrer."""
    host = OUR_CALLBACK_HOST.replace(".", "\\.")
    return f"""coalesce(
    regexp_matches(lower(coalesce({field("referrerHost")}, '')), '^(www\\.)?{host}$')
    OR starts_with(coalesce({field("landingUrl")}, ''), '{OUR_CALLBACK_REFERER}')
    OR starts_with(coalesce({field("referrerPath")}, ''), '{OUR_CALLBACK_REFERER}')
    OR starts_with(coalesce({field("landingReferrer")}, ''), '{OUR_CALLBACK_REFERER}'), false)"""


PHONE_SQL = phone()
IS_OURS_SQL = is_ours()
# Changes whenever either meaning does: the cache then works out every stored record's phone and flag again (the
# records table keeps both, like the channel, so that no metric runs these expressions over every record).
RULES_VERSION = hashlib.sha256((PHONE_SQL + IS_OURS_SQL).encode()).hexdigest()[:16]
