"""The channel a call came from, decided by its own fields only (UTM tags, referrer, landing page).

SQL over a record's fields, shared by the metrics (which group and filter by it) and the cache (which stores each
record's channel when it is written, so that a filter on channels does not run the rules over every record again).
Each rule takes where the record's fields are (`Fields`); CHANNEL_SQL is the rules over a record aliased `r`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

# Where a query finds a record field: its name → SQL (`r.landingUrl` over `records r`).
Fields = Callable[[str], str]

CHANNELS = ("paid_search", "organic_search", "social", "email", "referral", "direct", "other")


# Surrounding space in a visitor's value is any character Python's str.isspace() accepts (tabs, NBSP, em space…),
# the same set the CSV exporter uses. A regular expression, because DuckDB's trim() with a character set is
# three times slower on long values such as URLs.
_SPACE_CLASS = r"[\s\p{Z}\x{0b}\x{1c}-\x{1f}\x{85}]"


def trim(expr: str) -> str:
    """`expr` without surrounding space of any kind."""
    return f"regexp_replace({expr}, '^{_SPACE_CLASS}+|{_SPACE_CLASS}+$', '', 'g')"


def blank(expr: str) -> str:
    """Whether `expr` is missing or nothing but space: `nullif(trim(expr), '') IS NULL`, a match that fails at the
    first letter of a value instead of rewriting every value (half the time of a million records' headline)."""
    return f"({expr} IS NULL OR regexp_full_match({expr}, '{_SPACE_CLASS}*'))"


def _lower(expr: str) -> str:
    blank_if_missing = f"coalesce({expr}, '')"
    return f"lower({trim(blank_if_missing)})"


def _host(url: str) -> str:
    """The host of a URL, lower-case, without `www.`; '' when there is none."""
    return (
        f"regexp_replace(lower(coalesce(regexp_extract({url}, "
        "'^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/:?#]+)', 1), '')), '^www\\.', '')"
    )


_SEARCH_HOSTS = (
    r"(^|\.)(yandex\.[a-z.]+|ya\.ru|google\.[a-z.]+|bing\.com|go\.mail\.ru|duckduckgo\.com|yahoo\.com|rambler\.ru)$"
)
_SOCIAL_HOSTS = (
    r"(^|\.)(vk\.com|vk\.ru|ok\.ru|t\.me|telegram\.(org|me)|facebook\.com|fb\.com|instagram\.com|twitter\.com|"
    r"x\.com|youtube\.com|dzen\.ru|tiktok\.com|pinterest\.[a-z.]+|linkedin\.com|max\.ru)$"
)


def on_records(name: str) -> str:
    """A field of the record aliased `r`."""
    return f"r.{name}"


def referrer_host(field: Fields = on_records) -> str:
    """Where the visitor came from: the referrer's host."""
    return _host(field("landingReferrer"))


def channel_rules(field: Fields = on_records) -> str:
    """The channel grouping: the first rule that matches wins. docs/metrics.md lists the same rules in words."""
    referrer = referrer_host(field)
    medium = _lower(field("landingUtmMedium"))
    referrer_type = _lower(field("landingReferrerType"))
    has_utm = (
        f"coalesce(nullif({trim(field('landingUtmSource'))}, ''), nullif({trim(field('landingUtmMedium'))}, ''), "
        f"nullif({trim(field('landingUtmCampaign'))}, '')) IS NOT NULL"
    )
    external_referrer = f"({referrer} <> '' AND {referrer} <> {_host(field('landingUrl'))})"
    return f"""CASE
    WHEN regexp_full_match({medium}, '(cpc|ppc|cpa|sem|paid.*|.*[-_]cpc)')
         OR nullif({trim(field("landingOpenstatService"))}, '') IS NOT NULL
         OR {referrer_type} IN ('ad', 'adv', 'advert', 'paid')
        THEN 'paid_search'
    WHEN {medium} IN ('email', 'e-mail', 'e_mail', 'mail', 'newsletter', 'mailing') OR {referrer_type} = 'email'
        THEN 'email'
    WHEN {medium} IN ('social', 'social-network', 'social_network', 'socialnetwork', 'social-media', 'social_media',
                       'smm', 'sm')
         OR {referrer_type} = 'social'
         OR ({referrer_type} = '' AND regexp_matches({referrer}, '{_SOCIAL_HOSTS}'))
        THEN 'social'
    WHEN {referrer_type} LIKE '%.search' OR {referrer_type} IN ('search', 'organic')
         OR ({referrer_type} = '' AND NOT ({has_utm}) AND regexp_matches({referrer}, '{_SEARCH_HOSTS}'))
        THEN 'organic_search'
    WHEN {medium} = 'referral' OR {referrer_type} = 'referral'
         OR ({referrer_type} = '' AND NOT ({has_utm}) AND {external_referrer})
        THEN 'referral'
    WHEN NOT ({has_utm}) AND NOT {external_referrer} AND {referrer_type} IN ('', 'direct')
        THEN 'direct'
    ELSE 'other'
END"""


CHANNEL_SQL = channel_rules()
REFERRER_HOST = referrer_host()
# Changes whenever the rules do: the cache then works out every stored record's channel again.
RULES_VERSION = hashlib.sha256(CHANNEL_SQL.encode()).hexdigest()[:16]
