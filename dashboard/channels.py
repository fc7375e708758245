"""The channel a call came from, decided by its own fields only (UTM tags, referrer, landing page).

SQL over a record aliased `r`, shared by the metrics (which group and filter by it) and the cache (which stores each
record's channel when it is written, so that a filter on channels does not run the rules over every record again).
"""

from __future__ import annotations

import hashlib

CHANNELS = ("paid_search", "organic_search", "social", "email", "referral", "direct", "other")


# Surrounding space in a visitor's value is any character Python's str.isspace() accepts (tabs, NBSP, em space…),
# the same set the CSV exporter uses. A regular expression, because DuckDB's trim() with a character set is
# three times slower on long values such as URLs.
_SPACE_CLASS = r"[\s\p{Z}\x{0b}\x{1c}-\x{1f}\x{85}]"


def trim(expr: str) -> str:
    """`expr` without surrounding space of any kind."""
    return f"regexp_replace({expr}, '^{_SPACE_CLASS}+|{_SPACE_CLASS}+$', '', 'g')"


def _lower(expr: str) -> str:
    blank_if_missing = f"coalesce({expr}, '')"
    return f"lower({trim(blank_if_missing)})"


def _host(url: str) -> str:
    """The host of a URL, lower-case, without `www.`; '' when there is none."""
    return (
        f"regexp_replace(lower(coalesce(regexp_extract({url}, "
        "'^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/:?#]+)', 1), '')), '^www\\.', '')"
    )


REFERRER_HOST = _host("r.landingReferrer")  # where the visitor came from
_LANDING_HOST = _host("r.landingUrl")
_MEDIUM = _lower("r.landingUtmMedium")
_REFERRER_TYPE = _lower("r.landingReferrerType")
_HAS_UTM = (
    f"coalesce(nullif({trim('r.landingUtmSource')}, ''), nullif({trim('r.landingUtmMedium')}, ''), "
    f"nullif({trim('r.landingUtmCampaign')}, '')) IS NOT NULL"
)
_EXTERNAL_REFERRER = f"({REFERRER_HOST} <> '' AND {REFERRER_HOST} <> {_LANDING_HOST})"
_SEARCH_HOSTS = (
    r"(^|\.)(yandex\.[a-z.]+|ya\.ru|google\.[a-z.]+|bing\.com|go\.mail\.ru|duckduckgo\.com|yahoo\.com|rambler\.ru)$"
)
_SOCIAL_HOSTS = (
    r"(^|\.)(vk\.com|vk\.ru|ok\.ru|t\.me|telegram\.(org|me)|facebook\.com|fb\.com|instagram\.com|twitter\.com|"
    r"x\.com|youtube\.com|dzen\.ru|tiktok\.com|pinterest\.[a-z.]+|linkedin\.com|max\.ru)$"
)
# The channel grouping: the first rule that matches wins. docs/metrics.md lists the same rules in words.
CHANNEL_SQL = f"""CASE
    WHEN regexp_full_match({_MEDIUM}, '(cpc|ppc|cpa|sem|paid.*|.*[-_]cpc)')
         OR nullif({trim("r.landingOpenstatService")}, '') IS NOT NULL
         OR {_REFERRER_TYPE} IN ('ad', 'adv', 'advert', 'paid')
        THEN 'paid_search'
    WHEN {_MEDIUM} IN ('email', 'e-mail', 'e_mail', 'mail', 'newsletter', 'mailing') OR {_REFERRER_TYPE} = 'email'
        THEN 'email'
    WHEN {_MEDIUM} IN ('social', 'social-network', 'social_network', 'socialnetwork', 'social-media', 'social_media',
                       'smm', 'sm')
         OR {_REFERRER_TYPE} = 'social'
         OR ({_REFERRER_TYPE} = '' AND regexp_matches({REFERRER_HOST}, '{_SOCIAL_HOSTS}'))
        THEN 'social'
    WHEN {_REFERRER_TYPE} LIKE '%.search' OR {_REFERRER_TYPE} IN ('search', 'organic')
         OR ({_REFERRER_TYPE} = '' AND NOT ({_HAS_UTM}) AND regexp_matches({REFERRER_HOST}, '{_SEARCH_HOSTS}'))
        THEN 'organic_search'
    WHEN {_MEDIUM} = 'referral' OR {_REFERRER_TYPE} = 'referral'
         OR ({_REFERRER_TYPE} = '' AND NOT ({_HAS_UTM}) AND {_EXTERNAL_REFERRER})
        THEN 'referral'
    WHEN NOT ({_HAS_UTM}) AND NOT {_EXTERNAL_REFERRER} AND {_REFERRER_TYPE} IN ('', 'direct')
        THEN 'direct'
    ELSE 'other'
END"""

# Changes whenever the rules do: the cache then works out every stored record's channel again.
RULES_VERSION = hashlib.sha256(CHANNEL_SQL.encode()).hexdigest()[:16]
