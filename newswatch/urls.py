"""URL identity (interim version by the lead; the full one replaces it)."""
from __future__ import annotations
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKERS = {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "_ga", "yclid",
            "ref_src", "cmpid", "ocid", "at_medium", "at_campaign", "amp"}


def _bare(host: str) -> str:
    for prefix in ("www.", "m.", "amp.", "mobile."):
        if host.startswith(prefix):
            return host[len(prefix):]
    return host


def canonical_url(url: str) -> str:
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return url.strip()
    if host.startswith("amp.") or host.startswith("m.") or host.startswith("mobile."):
        host = "www." + _bare(host)
    netloc = host
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        netloc = f"{host}:{port}"
    path = parts.path or "/"
    segs = [s for s in path.split("/")]
    if "amp" in segs:
        segs.remove("amp")
    path = "/".join(segs) or "/"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not k.lower().startswith("utm_") and k.lower() not in TRACKERS
             and not (k == "outputType" and v == "amp")]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))


def _host_port(netloc_or_url: str) -> tuple[str, int | None]:
    parts = urlsplit(netloc_or_url if "//" in netloc_or_url else "//" + netloc_or_url)
    port = parts.port
    if port in (80, 443):
        port = None
    return (parts.hostname or "").lower(), port


def same_site(url: str, hosts) -> bool:
    """Is `url` on one of `hosts` (hostnames, or host:port for non-default ports)? Subdomains
    and www./m./amp. variants count; a configured port must match."""
    try:
        host, port = _host_port(url)
    except ValueError:
        return False
    host = _bare(host)
    for entry in hosts:
        try:
            h, p = _host_port(entry)
        except ValueError:
            continue
        h = _bare(h)
        if (host == h or host.endswith("." + h)) and (p is None or p == port):
            return True
    return False


def choose_canonical(fetched_url: str, page_canonical: str | None, hosts) -> str:
    if page_canonical and page_canonical.startswith(("http://", "https://")) and same_site(
            page_canonical, hosts):
        return canonical_url(page_canonical)
    return canonical_url(fetched_url)
