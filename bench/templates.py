"""Template-learning bench: fixture outlets serve 50 article pages each on 127.0.0.1, every
page carrying its outlet's boilerplate (donation appeal, newsletter box, "A message from"
footer, a teaser list naming other people) inside the article body. Pages are fetched over
HTTP in order, extracted with newswatch.extract.extract_article using the outlet's learned
TemplateModel, and learned from (newswatch.templates.learn) into a fresh SQLite database.

    python bench/templates.py [--pages 50] [--after 20]

Prints, per outlet: boilerplate sentences that reach stored text without templates, while
learning (pages 1..after) and after learning (pages after+1..N; target 0), and article
sentences lost with templates (target 0). The prose is generated here, sentence by sentence,
so no two articles share a sentence.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUTLETS = {
    "northgazette": {
        "name": "The North Gazette",
        "boilerplate": [
            # inside the body, phrased so that no generic rule catches it: only learning can
            "A message from the North Gazette: for eleven years our small team has reported on the towns of the northern coast without a paywall, and we intend to keep it that way for as long as our readers make it possible.",
            "Every contribution, however small, pays for the reporting hours that keep this region's councils and companies answerable to the people who live here.",
        ],
        "newsletter": "Get the Northern Briefing each morning: five stories from the coast, picked by our editors, free of charge.",
        "footer": "The North Gazette is an independent regional publication registered as a non-profit trust.",
    },
    "valleytimes": {
        "name": "Valley Times",
        "boilerplate": [
            "We have a small favour to ask of everyone who reads the Valley Times regularly and finds our coverage of the valley useful in daily life.",
            "Independent local journalism has never been more important, and with the support of readers we can keep sending reporters to every council meeting and court hearing.",
        ],
        "newsletter": "The Valley Weekend letter lands every Saturday with the week's best stories and what is on in the valley.",
        "footer": "Valley Times is owned by its staff and its readers, and answers to no shareholder.",
    },
}

SUBJECTS = ["the harbour board", "the county council", "a group of farmers", "the regional hospital",
            "the school trust", "residents of the old quarter", "the water company", "the fire brigade",
            "a local brewery", "the cycling club", "the port authority", "the university"]
VERBS = ["announced", "confirmed", "rejected", "postponed", "criticised", "approved", "questioned",
         "defended", "reviewed", "welcomed"]
OBJECTS = ["a plan to widen the coastal road", "new parking charges near the station",
           "the closure of a village post office", "a proposal for a wind farm offshore",
           "repairs to the flood barrier", "the budget for winter gritting",
           "a new bus route to the industrial park", "the sale of the old market hall",
           "an inquiry into the summer water shortage", "extra funding for the night ferry"]
PEOPLE = ["Marta Lindqvist", "Oskar Feld", "Anneke Brouwer", "Piet Halloran", "Sofia Renn",
          "Daniel Ostrova", "Ida Kessler", "Victor Amund", "Clara Weyland", "Jonas Pirret"]


def _sentence(rng: random.Random, i: int, j: int) -> str:
    return (f"On day {i * 7 + j} {rng.choice(SUBJECTS)} {rng.choice(VERBS)} "
            f"{rng.choice(OBJECTS)}, a decision {rng.choice(PEOPLE)} called "
            f"{rng.choice(['overdue', 'rushed', 'sensible', 'costly', 'brave', 'unclear'])} "
            f"in remarks to reporter number {i * 13 + j}.")


def make_site(outlet: str, cfg: dict, n: int, seed: int = 7):
    """-> {path: html}, {path: [article sentences]}"""
    rng = random.Random(f"{outlet}{seed}")
    pages, truth = {}, {}
    for i in range(n):
        sents = [_sentence(rng, i, j) for j in range(12)]
        pars = [" ".join(sents[k:k + 2]) for k in range(0, 12, 2)]
        teasers = rng.sample(PEOPLE, 3)
        bp = cfg["boilerplate"]
        body = (f"<p>{pars[0]}</p><p>{pars[1]}</p>"
                f'<div class="appeal"><p>{bp[0]}</p><p>{bp[1]}</p></div>'
                f"<p>{pars[2]}</p><p>{pars[3]}</p>"
                f'<div class="nl"><p>{cfg["newsletter"]}</p></div>'
                f"<p>{pars[4]}</p><p>{pars[5]}</p>"
                f'<div class="more"><p>Also today</p><ul>'
                + "".join(f'<li><a href="/x/{t.split()[0]}">{t} on the week ahead</a></li>' for t in teasers)
                + f'</ul></div><p class="foot">{cfg["footer"]}</p>')
        title = f"{cfg['name']} report {i}: {rng.choice(SUBJECTS)} and {rng.choice(OBJECTS)}"
        html = (f"<html><head><title>{title} | {cfg['name']}</title>"
                f'<meta property="article:published_time" content="2025-01-{1 + i % 28:02d}T08:00:00Z">'
                f"</head><body><header><a href='/'>{cfg['name']}</a></header><main><article>"
                f"<h1>{title}</h1>{body}</article></main><footer>Contact us</footer></body></html>")
        path = f"/{outlet}/story-{i}"
        pages[path] = html
        truth[path] = sents
    return pages, truth


def serve(pages: dict[str, str]) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write((body or "not found").encode("utf-8"))

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def boiler_sentences(cfg: dict, text: str) -> int:
    blocks = cfg["boilerplate"] + [cfg["newsletter"], cfg["footer"]]
    return sum(1 for b in blocks if b[:50] in text) + text.count(" on the week ahead")


def main(argv=None) -> int:
    from newswatch.store import open_db
    from newswatch.extract import extract_article
    from newswatch.templates import TemplateModel, learn

    ap = argparse.ArgumentParser(description="template learning bench")
    ap.add_argument("--pages", type=int, default=50)
    ap.add_argument("--after", type=int, default=20)
    args = ap.parse_args(argv)

    site, truth = {}, {}
    for outlet, cfg in OUTLETS.items():
        p, t = make_site(outlet, cfg, args.pages)
        site.update(p)
        truth.update(t)
    server, base = serve(site)
    print(f"{'outlet':<13} {'pages':>5} {'boiler/no-templates':>20} {'boiler/learning':>16} "
          f"{'boiler/after':>13} {'lost/no-templates':>18} {'lost/templates':>15}")
    total_after = total_lost = 0
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp) / "bench.db")
        for outlet, cfg in OUTLETS.items():
            no_tpl = learning = after = lost_plain = lost_tpl = 0
            for i in range(args.pages):
                path = f"/{outlet}/story-{i}"
                url = base + path
                html = urllib.request.urlopen(url, timeout=10).read()
                plain = extract_article(html, url, outlet)
                model = TemplateModel.load(db, outlet)
                art = extract_article(html, url, outlet, templates=model)
                learn(db, outlet, url, art.raw_paragraphs)
                no_tpl += boiler_sentences(cfg, plain.text)
                b = boiler_sentences(cfg, art.text)
                if i < args.after:
                    learning += b
                else:
                    after += b
                lost_plain += sum(1 for s in truth[path] if s not in plain.text)
                lost_tpl += sum(1 for s in truth[path] if s not in art.text)
            total_after += after
            total_lost += lost_tpl
            print(f"{outlet:<13} {args.pages:>5} {no_tpl:>20} {learning:>16} {after:>13} "
                  f"{lost_plain:>18} {lost_tpl:>15}")
    server.shutdown()
    print(f"boilerplate sentences after {args.after} pages: {total_after} (target 0); "
          f"article sentences lost: {total_lost} (target 0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
