"""URL identity: one canonical URL per article, whatever tracking, AMP or mobile variant
named it.

`canonical_url` is pure, idempotent and never raises. Rules, in order:

- only http(s) URLs are rewritten; anything else (no scheme, mailto:, ...) is returned
  stripped of surrounding whitespace, as is a URL that cannot be parsed (bad port, bad
  IPv6 literal);
- scheme and host are lower-cased, a trailing dot on the host is dropped, the scheme's
  default port (80/443) is dropped; an internationalised host takes its ASCII (IDNA 2008,
  UTS 46) form, so `münchen.de` and `xn--mnchen-3ya.de` are one host, as on the wire (a
  label idna refuses, such as one with `_`, stays as written);
- mobile and AMP hosts become the desktop host: `m.`, `mobile.` and `amp.` are replaced by
  `www.` (news desktop sites are almost always on `www.`: m.bbc.co.uk, mobile.reuters.com,
  amp.theguardian.com). A site whose desktop host is bare gets `www.` here; its mobile pages
  carry rel=canonical to the bare host, which `choose_canonical` prefers after the fetch, so
  the row is still one. `www.` itself is kept (the stored URL is the one users click);
- the fragment is dropped;
- AMP paths: a path segment `amp` (`/amp/story`, `/story/amp`, `/story/amp/`) is removed, and
  a `.amp` suffix of the last segment (`/story.amp`, `/story.amp.html`);
- the path: `.`/`..` segments resolved, repeated slashes collapsed, percent-encoding made
  uniform (upper-case hex, unreserved characters decoded, non-ASCII and stray `%` encoded).
  The trailing slash is kept, and so is a trailing `index.html`: both are the publisher's
  path (CNN's canonical URLs end in index.html) and a server need not serve `/x/` and
  `/x/index.html` alike;
- query: tracking parameters are removed (`_is_tracker`: courlan's maintained tracker
  pattern, plus `TRACKING_PARAMS` and `TRACKING_PREFIXES` for trackers from ClearURLs' global
  rules that courlan lacks, matched case-insensitively), and the AMP switches `amp`, `amp=1`,
  `amp=true`, `outputType=amp`, `output=amp`; the rest are sorted by name (stable, so repeated
  names keep their order) with their values as given, and a bare `?12345` stays bare.

Parameters that name an article are never removed (`ARTICLE_PARAMS`): courlan's pattern is
meant for crawl frontiers and also matches names that some sites use for the story itself
(`source=`, `ref=`, `cid=`, `uid=`, and `gallery` via its `ga` prefix), and merging two
stories is worse than missing a merge (the content hash still catches that one). For the same
reason a courlan match counts only as a whole word of the name (`campaign`, `x_campaign`,
`utm_...`), not as a prefix of a longer word (`gallery`, `global`). courlan's `normalize_url`
itself is not used: its `parse_qs` drops value-less parameters (`article.php?12345`).
courlan's `scrub_url` was tried for the lexical clean-up and dropped: its heuristics (a
trailing `/&` removed, `{...}` removed, a second embedded URL taken instead) are not
idempotent once the fragment and trackers are gone. Here: whitespace and control characters
inside the URL are removed and `&amp;` (double-escaped feed links) becomes `&`.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import idna
from courlan.clean import TRACKERS_RE as COURLAN_TRACKERS


# Exact parameter names (lower case) that only track the click, never name a page: those of
# ClearURLs' global rules (and a few news-site ones) that courlan's pattern does not catch.
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "ysclid",
    "twclid", "ttclid", "li_fat_id", "igshid", "igsh", "mc_cid", "mc_eid", "_ga", "_gl",
    "_hsenc", "_hsmi", "__hssc", "__hstc", "__hsfp", "hsctatracking", "ref_src", "ref_url",
    "cmpid", "cmp", "ocid", "ncid", "icid", "smid", "smtyp", "xtor", "s_cid", "s_kwcid",
    "soc_src", "soc_trk", "sr_share", "mkt_tok", "__twitter_impression", "spm", "wt.mc_id",
    "wt_mc", "wt_zmc", "wtmc", "wtrid", "trk", "trkcampaign", "ito", "dicbo", "srsltid",
    "_openstat", "fb_action_ids", "fb_action_types", "fb_source", "fb_ref",
    "action_object_map", "action_type_map", "action_ref_map", "rb_clickid", "wickedid",
    "ef_id", "_bta_tid", "_bta_c", "ml_subscriber", "ml_subscriber_hash", "gs_l",
})
# Prefixes of tracking families: Google Analytics (utm_), AT Internet / Piano (at_),
# Matomo/Piwik (mtm_, pk_), HubSpot ads (hsa_), Omeda (oly_), Vero (vero_), internal
# promotion (itm_), Hearst (hmb_).
TRACKING_PREFIXES = ("utm_", "at_", "mtm_", "pk_", "hsa_", "oly_", "vero_", "itm_", "hmb_")
# Names that identify the story on some sites: kept whatever a tracker rule says.
ARTICLE_PARAMS = frozenset({
    "id", "p", "page_id", "story_fbid", "fbid", "cid", "uid", "eid", "sid", "aid", "nid",
    "source", "ref", "gallery", "article", "articleid", "article_id", "story", "storyid",
    "story_id", "post", "postid", "post_id", "newsid", "news_id", "itemid", "item_id",
    "contentid", "content_id", "option", "view", "catid", "page", "v",
})
AMP_SWITCHES = {"amp": {"", "1", "true"}, "outputtype": {"amp"}, "output": {"amp"}}
MOBILE_PREFIXES = ("m.", "mobile.", "amp.")
SITE_PREFIXES = ("www.", "m.", "mobile.", "amp.")
DEFAULT_PORTS = {"http": 80, "https": 443}

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_PCT = re.compile(r"%([0-9A-Fa-f]{2})")
_STRAY_PCT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# Characters left as they are when re-encoding (RFC 3986 reserved + '%').
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = "/:@!$'()*+,;=?-._~%"


def _pct(part: str, safe: str) -> str:
    part = _STRAY_PCT.sub("%25", part)
    part = quote(part, safe=safe)

    def fix(m: re.Match) -> str:
        ch = chr(int(m.group(1), 16))
        return ch if ch in _UNRESERVED else "%" + m.group(1).upper()

    return _PCT.sub(fix, part)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _ascii_host(host: str) -> str:
    """`host` lower-cased, without trailing dot, internationalised labels in IDNA form."""
    host = host.lower().rstrip(".")
    if host.isascii():
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError:
        return host


def _desktop_host(host: str) -> str:
    for prefix in MOBILE_PREFIXES:
        rest = host[len(prefix):]
        if host.startswith(prefix) and "." in rest and not _is_ip(rest):
            return "www." + rest
    return host


def _path(path: str) -> str:
    if not path:
        return "/"
    path = re.sub(r"/{2,}", "/", path)
    trailing = path.endswith("/") or path.endswith("/.") or path.endswith("/..")
    path = posixpath.normpath(path)
    if path.startswith("//"):  # normpath keeps a leading '//'
        path = "/" + path.lstrip("/")
    segments = [s for s in path.split("/") if s.lower() != "amp"]
    if segments and segments[-1]:
        last = segments[-1]
        while True:  # /story.amp, /story.amp.html (loop: idempotent on .amp.amp)
            stripped = re.sub(r"\.amp(?=\.[A-Za-z0-9]+$|$)", "", last, flags=re.I)
            if stripped == last or not stripped:
                break
            last = stripped
        segments[-1] = last
    path = "/".join(segments)
    if not path.startswith("/"):
        path = "/" + path
    if trailing and not path.endswith("/"):
        path += "/"
    return _pct(path, _PATH_SAFE)


def _is_tracker(name: str, value: str) -> bool:
    key = name.lower()
    if key in ARTICLE_PARAMS:
        return False
    if key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES):
        return True
    if key in AMP_SWITCHES:
        return value.lower() in AMP_SWITCHES[key]
    for m in COURLAN_TRACKERS.finditer(key):
        end = m.end()
        if m.group().endswith("_") or end == len(key) or key[end] in "_-.":
            return True  # a whole word of the name, not the start of a longer one
    return False


def _query(query: str) -> str:
    kept = []
    for pair in query.split("&"):
        if not pair:
            continue
        name, eq, value = pair.partition("=")
        name, value = _pct(name, _QUERY_SAFE), _pct(value, _QUERY_SAFE)
        decoded = re.sub(r"%([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), name)
        if _is_tracker(decoded.replace("+", " "), value):
            continue
        kept.append((name, name + eq + value))
    kept.sort(key=lambda kv: kv[0])
    return "&".join(pair for _, pair in kept)


def canonical_url(url: str) -> str:
    """The identity of an article URL (see the module docstring for the rules)."""
    try:
        return _canonical(url)
    except Exception:  # noqa: BLE001 - identity of junk is the junk; callers never crash
        return url.strip() if isinstance(url, str) else ""


def _canonical(url: str) -> str:
    raw = url.strip()
    parts = urlsplit(raw)
    if parts.scheme.lower() not in DEFAULT_PORTS:
        return raw
    # Line breaks and tabs inside an href, and double-escaped ampersands, are never meant.
    cleaned = _CONTROL.sub("", raw)
    while "&amp;" in cleaned:
        cleaned = cleaned.replace("&amp;", "&")
    if cleaned != raw:
        parts = urlsplit(cleaned)
    scheme = parts.scheme.lower()
    host = parts.hostname
    port = parts.port  # ValueError on a bad port: the caller returns the input
    if not host:
        return raw
    host = _ascii_host(host)
    if not host:
        return raw
    host = _desktop_host(host)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    if "@" in parts.netloc:  # keep credentials as given (never seen on news sites)
        netloc = parts.netloc.rpartition("@")[0] + "@" + netloc
    return urlunsplit((scheme, netloc, _path(parts.path), _query(parts.query), ""))


def _host_port(text: str) -> tuple[str, int | None]:
    """Host (lower case, bare of www./m./mobile./amp.) and explicit non-default port of a URL
    or of a configured `host` / `host:port` entry."""
    parts = urlsplit(text if "//" in text else "//" + text)
    host = _ascii_host(parts.hostname or "")
    port = parts.port
    if port is not None and port == DEFAULT_PORTS.get(parts.scheme.lower()):
        port = None
    for prefix in SITE_PREFIXES:
        rest = host[len(prefix):]
        if host.startswith(prefix) and "." in rest and not _is_ip(rest):
            host = rest
            break
    return host, port


def same_site(url: str, hosts) -> bool:
    """Is the http(s) `url` on one of `hosts` (hostnames, or `host:port` when the outlet is
    on a non-default port)? The host may equal a configured host or be a subdomain of it,
    after removing www./m./mobile./amp. from both. A configured port must match the URL's
    (two outlets may share 127.0.0.1 on different ports); a host without a port accepts any
    port (spiders/middleware.py checks ports itself)."""
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
        if scheme not in DEFAULT_PORTS:
            return False
        host, port = _host_port(url.strip())
        if not host:
            return False
        for entry in hosts:
            try:
                want, want_port = _host_port(entry)
            except ValueError:
                continue
            if not want:
                continue
            if want_port is not None and want_port != port:
                continue
            if host == want or (host.endswith("." + want) and not _is_ip(want)):
                return True
    except Exception:  # noqa: BLE001 - a bad URL is simply not on the site
        return False
    return False


def choose_canonical(fetched_url: str, page_canonical: str | None, hosts) -> str:
    """The URL that names a fetched article: the page's own rel=canonical / og:url when it
    is an http(s) URL on the outlet's site, else the URL actually fetched (after redirects);
    canonicalised either way.

    A page canonical that is the site's home page while the fetched page is not is ignored:
    misconfigured templates point every article there, which would merge them all."""
    fetched = canonical_url(fetched_url)
    if not page_canonical or not isinstance(page_canonical, str):
        return fetched
    try:
        candidate = urljoin(fetched_url.strip(), page_canonical.strip())
    except ValueError:
        return fetched
    if not same_site(candidate, hosts):
        return fetched
    chosen = canonical_url(candidate)
    try:
        if urlsplit(chosen).path in ("", "/") and urlsplit(fetched).path not in ("", "/"):
            return fetched
    except ValueError:
        return fetched
    return chosen
