#!/usr/bin/env python3
"""End-to-end check of a built modelgate static site in headless Chromium.

    python3 scripts/browser_check.py SITE_DIR [--screenshot PNG] [--model NAME]
                                     [--chromium PATH] [--timeout SECONDS]

Run by the Rust test suite after `modelgate site build --out SITE_DIR`. Needs Python
`playwright` (pinned in scripts/requirements.txt, installed by scripts/setup.sh into
.tools/venv; run this file with that venv's python or any python that has playwright) and
Debian's Chromium at /usr/bin/chromium (scripts/setup.sh installs it). It never downloads a
browser and never touches the network: every page is opened from file://.

What it checks (each failure is listed, then the exit code is 1):
  * index.html: no console error/warning, page error or failed request; site.js shows
    form.filters; typing the model name into #q shows that row, hides exactly the rows the
    search index says do not match, changes #count to "N of M models", mirrors the query into
    location.hash and restores it on reload; a metric comparison term (name>=value) and the
    drift select filter; clicking a th[data-sort] button sorts and sets aria-sort; without
    JavaScript the table is complete and the filter form stays hidden.
  * crawl: every internal link (a[href] not http:, https:, mailto:, or #-only) breadth-first
    from index.html; each link's target exists inside the site, no directory links; #fragments
    point at an id; every models/<name>/index.html and models/<name>/v<N>.html in SITE_DIR is
    reached.
  * every page: <html lang>, a <title>, a meta viewport, a stylesheet, exactly one <main> and
    one <h1>, headings that do not skip levels, unique ids, <img alt>, every top-level <svg>
    either aria-hidden="true" or role="img" with <title>/aria-label/aria-labelledby, links with
    text, no console error/warning, page error or failed request, no request leaving file://.
  * phone width 390x844: no horizontal overflow of the index, the model page and its latest
    version page (the elements that stick out are named).
  * desktop widths 1400x900 and 1024x768: the index, the model page and the audit page do not
    scroll sideways (document.scrollingElement.scrollWidth <= clientWidth); every cell of every
    table lies inside the box that clips it (no column cut off, none scrolled out of view) and
    no cell's text overflows it; no cell shows raw JSON; every date or timestamp in a table (or a <time>)
    is white-space: nowrap and on one line.
  * a full-page screenshot of models/<model>/index.html at 1280 px wide (--screenshot).

Exit codes: 0 all checks passed, 1 some check failed, 2 cannot run (bad arguments, no site,
no playwright, no Chromium).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import NoReturn
from urllib.parse import unquote, urldefrag, urlsplit

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
MODEL_PAGE = re.compile(r"^models/([^/]+)/(index|v\d+)\.html$")
SKIP_SCHEMES = ("http:", "https:", "mailto:", "tel:", "javascript:", "data:")


def die(msg: str) -> NoReturn:
    print(f"browser_check: error: {msg}", file=sys.stderr)
    sys.exit(2)


class Report:
    def __init__(self) -> None:
        self.failures: list[str] = []
        self.seen: set[str] = set()
        self.passed = 0

    def check(self, ok: bool, msg: str) -> bool:
        if ok:
            self.passed += 1
        else:
            self.fail(msg)
        return ok

    def fail(self, msg: str) -> None:
        # the same page is loaded by several steps: report each problem once
        if msg not in self.seen:
            self.seen.add(msg)
            self.failures.append(msg)


class Site:
    """Maps between file:// URLs and paths relative to the site directory."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.base = self.root.as_uri().rstrip("/") + "/"

    def url(self, rel: str) -> str:
        return self.base + rel

    def rel(self, url: str) -> str | None:
        """Path of a file:// URL relative to the site root, or None when outside."""
        url = urldefrag(url)[0]
        parts = urlsplit(url)
        if parts.scheme != "file":
            return None
        path = Path(unquote(parts.path))
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return None

    def show(self, url: str) -> str:
        r = self.rel(url)
        if r is not None:
            frag = urldefrag(url)[1]
            return r + (f"#{frag}" if frag else "")
        return url


def searchable(entry: dict) -> str:
    """The text site.js searches for one model (kept in step with site.js buildEntry)."""
    parts = [str(entry.get("name") or "")]
    for key in ("description", "owner", "task"):
        parts.append(str(entry.get(key) or ""))
    if entry.get("owner"):
        parts.append(f"owner:{entry['owner']}")
    if entry.get("task"):
        parts.append(f"task:{entry['task']}")
    for k, v in (entry.get("tags") or {}).items():
        v = "" if v is None else str(v)
        parts += [k, v, f"{k}:{v}", f"{k}={v}"]
    parts += list((entry.get("metrics") or {}).keys())
    for key in ("drift", "bias"):
        if entry.get(key):
            parts.append(f"{key}:{entry[key]}")
    return "\n".join(parts).lower()


# JavaScript run in each page: the per-page structure checks. Returns a list of problems.
PAGE_AUDIT_JS = r"""
() => {
  const problems = [];
  const d = document;
  const lang = (d.documentElement.getAttribute('lang') || '').trim();
  if (!lang) problems.push('<html> has no lang attribute');
  if (!d.title.trim()) problems.push('no <title>');
  const vp = d.querySelector('meta[name="viewport"]');
  if (!vp || !/width\s*=\s*device-width/.test(vp.getAttribute('content') || ''))
    problems.push('no <meta name="viewport" content="width=device-width, ...">');
  if (!d.querySelector('link[rel~="stylesheet"]')) problems.push('no stylesheet link');
  else if (![...d.styleSheets].some(s => { try { return s.cssRules.length > 0; } catch (e) { return true; } }))
    problems.push('stylesheet did not load (no CSS rules)');
  const mains = d.querySelectorAll('main');
  if (mains.length !== 1) problems.push(`${mains.length} <main> elements (want exactly 1)`);
  const h1s = d.querySelectorAll('h1');
  if (h1s.length !== 1) problems.push(`${h1s.length} <h1> elements (want exactly 1)`);
  let prev = 0;
  for (const h of d.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
    const lvl = Number(h.tagName.substring(1));
    if (lvl > prev + 1) {
      const text = (h.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 60);
      problems.push(prev === 0
        ? `first heading is <h${lvl}> "${text}" (want <h1> first)`
        : `heading level skips from <h${prev}> to <h${lvl}> at "${text}"`);
    }
    prev = lvl;
  }
  const seen = new Map();
  for (const el of d.querySelectorAll('[id]')) seen.set(el.id, (seen.get(el.id) || 0) + 1);
  for (const [id, n] of seen) if (n > 1) problems.push(`id "${id}" used ${n} times`);
  for (const img of d.querySelectorAll('img')) {
    if (!img.hasAttribute('alt') && !(img.getAttribute('aria-label') || '').trim())
      problems.push(`<img src="${img.getAttribute('src')}"> has no alt`);
  }
  const svgName = (svg) => {
    if ((svg.getAttribute('aria-label') || '').trim()) return true;
    const lb = (svg.getAttribute('aria-labelledby') || '').trim();
    if (lb && lb.split(/\s+/).every(id => d.getElementById(id))) return true;
    const t = [...svg.children].find(c => c.tagName.toLowerCase() === 'title');
    return !!(t && t.textContent.trim());
  };
  let n = 0;
  for (const svg of d.querySelectorAll('svg')) {
    if (svg.parentElement && svg.parentElement.closest('svg')) continue;
    n += 1;
    const hiddenSvg = svg.getAttribute('aria-hidden') === 'true';
    const role = svg.getAttribute('role');
    if (hiddenSvg) continue;
    const where = svg.closest('figure') ? ' (in a <figure>)' : '';
    // role="group" is right for a chart with links inside (children of an img are hidden)
    if (role !== 'img' && role !== 'group')
      problems.push(`<svg> #${n}${where} has no role="img" (role="group" if it holds links; aria-hidden="true" if decorative)`);
    else if (!svgName(svg)) problems.push(`<svg role="${role}"> #${n}${where} has no <title>, aria-label or aria-labelledby`);
  }
  for (const a of d.querySelectorAll('a')) {
    const href = a.getAttribute('href') ?? a.getAttributeNS('http://www.w3.org/1999/xlink', 'href');
    if (href === null) continue;
    const name = (a.textContent || '').trim() || (a.getAttribute('aria-label') || '').trim()
      || (a.getAttribute('title') || '').trim()
      || [...a.querySelectorAll('img[alt]')].map(i => i.alt.trim()).join('');
    if (!name) problems.push(`link to "${href}" has no text`);
  }
  return problems;
}
"""

# HTML <a href> and SVG <a href>/<a xlink:href> (whose .href is not a string)
LINKS_JS = r"""
() => {
  const XLINK = 'http://www.w3.org/1999/xlink';
  const out = [];
  for (const a of document.querySelectorAll('a')) {
    const raw = a.getAttribute('href') ?? a.getAttributeNS(XLINK, 'href');
    if (raw === null) continue;
    let abs = '';
    try { abs = new URL(raw, document.baseURI).href; } catch (e) { abs = raw; }
    out.push([raw, abs]);
  }
  return out;
}
"""

OVERFLOW_JS = r"""
(width) => {
  const d = document.documentElement;
  const sw = Math.max(d.scrollWidth, document.body ? document.body.scrollWidth : 0);
  if (sw <= width + 1) return null;
  if (d.clientWidth > width + 1)
    return {scrollWidth: sw, culprits: [`the layout viewport is ${d.clientWidth}px: no <meta name="viewport" content="width=device-width, initial-scale=1">?`]};
  const clipped = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const ox = getComputedStyle(p).overflowX;
      if (ox === 'auto' || ox === 'scroll' || ox === 'hidden' || ox === 'clip') return true;
    }
    return false;
  };
  const culprits = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.right > width + 1 && r.width > 0 && !clipped(el)) {
      // only the outermost offender of each branch
      if (culprits.some(c => c.el.contains(el))) continue;
      let desc = el.tagName.toLowerCase();
      if (el.id) desc += '#' + el.id;
      if (el.classList.length) desc += '.' + [...el.classList].join('.');
      culprits.push({el, desc: `${desc} (right edge ${Math.round(r.right)}px)`});
      if (culprits.length >= 5) break;
    }
  }
  return {scrollWidth: sw, culprits: culprits.map(c => c.desc)};
}
"""


# JavaScript run in a page at a desktop width: the layout problems a reader sees. Returns a list.
LAYOUT_JS = r"""
() => {
  const problems = [];
  const se = document.scrollingElement;
  if (se.scrollWidth > se.clientWidth) {
    const out = [];
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.right > se.clientWidth + 1 && r.width > 0 && !out.some(o => o.contains(el))) out.push(el);
      if (out.length >= 3) break;
    }
    problems.push(`the page scrolls sideways: ${se.scrollWidth}px wide in a ${se.clientWidth}px window; `
      + `sticking out: ${out.map(e => e.tagName.toLowerCase() + (e.className ? '.' + [...e.classList].join('.') : '')).join(', ') || '?'}`);
  }
  const clipBox = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      if (p === document.body || p === document.documentElement) break;
      const ox = getComputedStyle(p).overflowX;
      if (ox !== 'visible') {
        const r = p.getBoundingClientRect();
        const left = r.left + p.clientLeft;
        return {left, right: left + p.clientWidth};
      }
    }
    return {left: 0, right: se.clientWidth};
  };
  const name = (t, i) => {
    const cap = t.querySelector('caption');
    let s = `table ${i + 1}`;
    const sec = t.closest('section');
    const h = sec && sec.querySelector('h2');
    if (h) s += ` (in "${h.textContent.trim()}")`;
    else if (cap) s += ` ("${cap.textContent.trim().slice(0, 40)}")`;
    return s;
  };
  const header = (t, cell) => {
    const row = t.tHead && t.tHead.rows[0];
    const th = row && [...row.cells].find(c => {
      const a = c.getBoundingClientRect(), b = cell.getBoundingClientRect();
      return a.left <= b.left + 1 && a.right >= b.left + 1;
    });
    return th ? `"${th.textContent.trim()}"` : `#${cell.cellIndex + 1}`;
  };
  [...document.querySelectorAll('main table')].forEach((t, i) => {
    if (!t.getClientRects().length) return;
    const box = getComputedStyle(t).overflowX !== 'visible'
      ? (() => { const r = t.getBoundingClientRect(); return {left: r.left + t.clientLeft, right: r.left + t.clientLeft + t.clientWidth}; })()
      : clipBox(t);
    const cut = new Set(), over = new Set();
    for (const row of t.rows) {
      for (const cell of row.cells) {
        const r = cell.getBoundingClientRect();
        if (r.right > box.right + 1 || r.left < box.left - 1) cut.add(header(t, cell));
        else if (cell.scrollWidth > cell.clientWidth + 1) over.add(header(t, cell));
      }
    }
    if (cut.size) problems.push(`${name(t, i)}: column ${[...cut].join(', ')} is cut off (the table is wider than the ${Math.round(box.right - box.left)}px it has)`);
    if (over.size) problems.push(`${name(t, i)}: the text of column ${[...over].join(', ')} overflows its cells`);
    for (const cell of t.querySelectorAll('td, th')) {
      const text = (cell.textContent || '').trim();
      if (/^[\[{]\s*"/.test(text)) { problems.push(`${name(t, i)}: column ${header(t, cell)} shows raw JSON: ${text.slice(0, 50)}`); break; }
    }
  });
  // every date or timestamp in a table, and every <time>: white-space: nowrap, on one line
  const wrapped = [];
  const stamp = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:?\d{2})?)?$/;
  const walker = document.createTreeWalker(document.querySelector('main') || document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = n.textContent.trim();
    const el = n.parentElement;
    if (!stamp.test(text) || !el || !(el.closest('td, th') || el.closest('time'))) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    const lines = new Set([...range.getClientRects()].filter(q => q.width > 0).map(q => Math.round(q.top)));
    if (getComputedStyle(el).whiteSpace !== 'nowrap' || lines.size > 1) wrapped.push(text);
  }
  if (wrapped.length) problems.push(`${wrapped.length} timestamps can wrap mid-date (not white-space: nowrap, or broken over lines), e.g. ${wrapped.slice(0, 3).join(', ')}`);
  return problems;
}
"""


class Browser:
    """Console/page-error/request-failure bookkeeping around one Playwright browser."""

    def __init__(self, pw, chromium: str, report: Report, site: Site, timeout_ms: int) -> None:
        self.report = report
        self.site = site
        self.timeout_ms = timeout_ms
        self.external: set[str] = set()
        # Playwright's launch() gives Chromium a fresh temporary --user-data-dir and removes
        # it at close; nothing is read from or left in the user's profile.
        self.browser = pw.chromium.launch(
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_ARGS,
            chromium_sandbox=False,
            timeout=timeout_ms,
        )

    def context(self, **kw):
        ctx = self.browser.new_context(
            service_workers="block", accept_downloads=False, locale="en-US", **kw
        )
        ctx.set_default_timeout(self.timeout_ms)
        ctx.route(re.compile(r"^(?!file:|data:|blob:|about:)"), self._block_external)
        return ctx

    def _block_external(self, route) -> None:
        url = route.request.url
        if url not in self.external:
            self.external.add(url)
            self.report.fail(f"request leaves the site (blocked): {url} from {self._frame_url(route.request)}")
        route.abort("blockedbyclient")

    def _frame_url(self, request) -> str:
        try:
            return self.site.show(request.frame.url)
        except Exception:  # noqa: BLE001 - the frame may be gone
            return "?"

    def watch(self, page, label: str) -> list[str]:
        """Record console errors/warnings, page errors and failed requests of `page`."""
        events: list[str] = []

        def where() -> str:
            return self.site.show(page.url) if page.url else label

        def on_console(msg) -> None:
            if msg.type in ("error", "warning", "assert"):
                loc = msg.location or {}
                if loc.get("url") in self.external and "ERR_BLOCKED_BY_CLIENT" in msg.text:
                    return  # already reported as a request leaving the site
                at = ""
                if loc.get("url"):
                    at = f" at {self.site.show(loc['url'])}:{loc.get('lineNumber', 0) + 1}"
                events.append(f"{where()}: console {msg.type}: {msg.text}{at}")

        def on_pageerror(err) -> None:
            at = ""
            for line in (getattr(err, "stack", "") or "").splitlines()[1:]:
                m = re.search(r"(file://\S+?):(\d+):\d+", line)
                if m:
                    at = f" at {self.site.show(m.group(1))}:{m.group(2)}"
                    break
            events.append(f"{where()}: uncaught error: {err}{at}")

        def on_requestfailed(req) -> None:
            if req.url in self.external:
                return
            events.append(
                f"{where()}: request failed: {self.site.show(req.url)} ({req.failure or 'unknown error'})"
            )

        page.on("console", on_console)
        page.on("pageerror", on_pageerror)
        page.on("requestfailed", on_requestfailed)
        return events

    def flush(self, events: list[str]) -> None:
        if events:
            for e in events:
                self.report.fail(e)
        else:
            self.report.check(True, "")
        events.clear()

    def close(self) -> None:
        self.browser.close()


def rows_state(page) -> list[dict]:
    return page.eval_on_selector_all(
        "#models tbody tr[data-model]",
        """rows => rows.map(r => ({
              name: r.getAttribute('data-model'),
              hidden: r.hidden || getComputedStyle(r).display === 'none',
              drift: r.getAttribute('data-drift'),
            }))""",
    )


def check_index(b: Browser, r: Report, site: Site, model: str) -> None:
    ctx = b.context(viewport=DESKTOP)
    page = ctx.new_page()
    events = b.watch(page, "index.html")
    index_url = site.url("index.html")
    page.goto(index_url, wait_until="load")

    def ok(cond: bool, msg: str) -> bool:
        return r.check(cond, f"index.html: {msg}")

    if not ok(page.locator("#models").count() == 1, "no table#models"):
        b.flush(events)
        ctx.close()
        return
    ok(page.locator("form.filters").count() == 1, "no form.filters")
    scripted = ok(page.locator("form.filters").count() >= 1 and page.locator("form.filters").first.is_visible(),
                  "form.filters is still hidden after load: site.js did not run (is it linked, does it load?); "
                  "search, filter and sort checks skipped")
    ok(page.locator('form.filters[role="search"]').count() == 1, 'form.filters has no role="search"')
    for sel in ("#q", "#f-stage", "#f-drift", "#f-bias", "#count", "script#search-index"):
        ok(page.locator(sel).count() == 1, f"no {sel}")
    ok(page.evaluate("(() => { const q = document.getElementById('q'); return !!q && ("
                     "!!(q.getAttribute('aria-label') || '').trim() || q.labels.length > 0); })()"),
       "#q has neither aria-label nor a <label>")
    if page.locator("#count").count():
        ok((page.get_attribute("#count", "aria-live") or "") == "polite", '#count is not aria-live="polite"')
    if scripted:
        ok(page.evaluate("document.documentElement.classList.contains('js')"), "site.js did not mark <html class=js>")

    index = []
    if page.locator("script#search-index").count():
        try:
            index = json.loads(page.text_content("script#search-index") or "")
            assert isinstance(index, list), "not an array"
        except Exception as e:  # noqa: BLE001
            r.fail(f"index.html: script#search-index is not a JSON array: {e}")
            index = []
    by_name = {e.get("name"): e for e in index if isinstance(e, dict)}

    rows = rows_state(page)
    total = len(rows)
    names = [x["name"] for x in rows]
    ok(total > 0, "table#models has no tbody tr[data-model] rows")
    ok(all(not x["hidden"] for x in rows), "some rows are hidden with an empty query")
    ok(sorted(names) == sorted(by_name), f"rows {sorted(names)} differ from search-index names {sorted(by_name)}")
    for x in rows:
        ok(page.locator(f'#models tbody tr[id="m-{x["name"]}"]').count() == 1, f'row of {x["name"]} has no id="m-{x["name"]}"')
    count_re = re.compile(r"^\s*(\d+) of (\d+) models?\s*$")
    before = (page.text_content("#count") or "").strip() if page.locator("#count").count() else ""
    if scripted:
        m = count_re.match(before)
        ok(bool(m) and int(m.group(1)) == total and int(m.group(2)) == total,
           f'#count reads "{before}" on load (want "{total} of {total} models")')

    if model not in names:
        r.fail(f"index.html: no row for --model {model} (rows: {', '.join(names) or 'none'})")
        b.flush(events)
        ctx.close()
        return
    if scripted and all(page.locator(x).count() == 1 for x in ("#q", "#f-drift", "#count")):
        check_index_scripted(b, r, site, model, page, events, index_url, rows, by_name, before)
    b.flush(events)
    ctx.close()
    check_index_nojs(b, r, site, model, total)


def check_index_scripted(b: Browser, r: Report, site: Site, model: str, page, events: list[str],
                         index_url: str, rows: list[dict], by_name: dict, before: str) -> None:
    def ok(cond: bool, msg: str) -> bool:
        return r.check(cond, f"index.html: {msg}")

    total = len(rows)
    names = [x["name"] for x in rows]

    # --- search by typing, as a person would ---
    q = page.locator("#q")
    q.click()
    q.press_sequentially(model, delay=5)
    expected = {n for n in names if all(t in searchable(by_name.get(n, {"name": n})) for t in model.lower().split())}
    rows = rows_state(page)
    visible = {x["name"] for x in rows if not x["hidden"]}
    ok(model in visible, f'row {model} is hidden after typing "{model}" into #q')
    ok(visible == expected,
       f'after typing "{model}": visible rows {sorted(visible)}, expected {sorted(expected)}')
    after = (page.text_content("#count") or "").strip()
    ok(after != before or len(visible) == total, f'#count did not change after typing (still "{after}")')
    ok(after == f"{len(visible)} of {total} model{'s' if total != 1 else ''}",
       f'#count reads "{after}" (want "{len(visible)} of {total} model{"s" if total != 1 else ""}")')
    h = page.evaluate("location.hash")
    ok(h == f"#q={model}", f'location.hash is "{h}" (want "#q={model}")')

    # --- the hash is read back on load ---
    page.goto(index_url + f"#q={model}", wait_until="load")
    page.reload(wait_until="load")
    vis2 = {x["name"] for x in rows_state(page) if not x["hidden"]}
    ok(page.input_value("#q") == model, f'#q is "{page.input_value("#q")}" after loading index.html#q={model}')
    ok(vis2 == expected, f"after loading index.html#q={model}: visible rows {sorted(vis2)}, expected {sorted(expected)}")

    # --- a metric comparison term ---
    metrics = {k: v for k, v in (by_name.get(model, {}).get("metrics") or {}).items()
               if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v
               and re.fullmatch(r"[^<>=!\s]+", k)}
    if metrics:
        k, v = next(iter(metrics.items()))
        lo = f"{k}>={v!r}"
        q.fill(lo)
        vis = {x["name"] for x in rows_state(page) if not x["hidden"]}
        ok(model in vis, f'row {model} hidden for "{lo}" (its {k} is {v})')
        want = {n for n in names if isinstance((by_name.get(n, {}).get("metrics") or {}).get(k), (int, float))
                and by_name[n]["metrics"][k] >= v}
        ok(vis == want, f'"{lo}": visible rows {sorted(vis)}, expected {sorted(want)}')
        hi = f"{k}>{v!r}"
        q.fill(hi)
        vis = {x["name"] for x in rows_state(page) if not x["hidden"]}
        ok(model not in vis, f'row {model} visible for "{hi}" (its {k} is {v})')

    # --- a select filter ---
    q.fill("")
    drift = next((x["drift"] for x in rows_state(page) if x["name"] == model), None)
    opts = page.eval_on_selector_all("#f-drift option", "os => os.map(o => o.value)")
    if drift and drift in opts:
        page.select_option("#f-drift", drift)
        vis = {x["name"] for x in rows_state(page) if not x["hidden"]}
        want = {x["name"] for x in rows_state(page) if x["drift"] == drift}
        ok(vis == want, f'#f-drift={drift}: visible rows {sorted(vis)}, expected {sorted(want)}')
        ok(f"drift={drift}" in page.evaluate("location.hash"), f"#f-drift={drift} is not mirrored into location.hash")
        page.select_option("#f-drift", "")
    else:
        ok(False, f'#f-drift has no option "{drift}" (the data-drift of row {model}); options: {opts}')
    vis = [x for x in rows_state(page) if not x["hidden"]]
    ok(len(vis) == total, f"{total - len(vis)} rows still hidden after clearing the search and filters")
    cnt = (page.text_content("#count") or "").strip()
    ok(cnt.startswith(f"{total} of {total} "), f'#count reads "{cnt}" after clearing (want "{total} of {total} ...")')

    # --- sorting by a header button ---
    th = page.locator('#models thead th[data-sort="name"]')
    if ok(th.count() == 1, 'no th[data-sort="name"]') and ok(th.locator("button").count() == 1, 'th[data-sort="name"] has no <button>'):
        def name_order() -> list[str]:
            return page.eval_on_selector_all(
                "#models tbody tr[data-model]",
                """rows => { const th = document.querySelector('#models thead th[data-sort="name"]');
                             const i = th.cellIndex;
                             return rows.map(r => { const c = r.cells[i];
                               return c ? (c.getAttribute('data-value') ?? c.textContent.trim()) : ''; }); }""",
            )
        th.locator("button").click()
        asc = name_order()
        ok(th.get_attribute("aria-sort") == "ascending", f'aria-sort is "{th.get_attribute("aria-sort")}" after one click on Name (want "ascending")')
        # the browser's own collation (numeric, case-insensitive), as a person reading it expects
        in_order = lambda vals, d: page.evaluate(  # noqa: E731
            """([vals, d]) => { const c = new Intl.Collator(undefined, {numeric: true, sensitivity: 'base'});
                 return vals.every((v, i) => i === 0 || d * c.compare(vals[i - 1], v) <= 0); }""",
            [vals, d])
        ok(in_order(asc, 1), f"rows not in ascending name order after one click: {asc}")
        th.locator("button").click()
        desc = name_order()
        ok(th.get_attribute("aria-sort") == "descending", f'aria-sort is "{th.get_attribute("aria-sort")}" after two clicks on Name (want "descending")')
        ok(in_order(desc, -1), f"rows not in descending name order after two clicks: {desc}")
        others = page.eval_on_selector_all("#models thead th[aria-sort]", "ths => ths.length")
        ok(others == 1, f"{others} headers carry aria-sort (want 1)")
        for t in page.locator("#models thead th[data-sort]").all():
            ok(t.locator("button").count() == 1, f'th[data-sort="{t.get_attribute("data-sort")}"] has no <button>')


def check_index_nojs(b: Browser, r: Report, site: Site, model: str, total: int) -> None:
    """Without JavaScript the index is complete: every row shown, the filter form hidden."""
    def ok(cond: bool, msg: str) -> bool:
        return r.check(cond, f"index.html: {msg}")

    index_url = site.url("index.html")
    ctx = b.context(viewport=DESKTOP, java_script_enabled=False)
    page = ctx.new_page()
    events = b.watch(page, "index.html (no JS)")
    page.goto(index_url, wait_until="load")
    ok(page.locator("form.filters").count() == 0 or not page.locator("form.filters").first.is_visible(),
       "without JavaScript form.filters is visible (it should be rendered hidden)")
    n = page.locator("#models tbody tr[data-model]").count()
    shown = sum(1 for x in page.locator("#models tbody tr[data-model]").all() if x.is_visible())
    ok(n == total and shown == total, f"without JavaScript {shown} of {n} rows are visible (want {total})")
    ok(page.locator(f'#models a[href$="models/{model}/index.html"]').count() >= 1,
       f"without JavaScript no link to models/{model}/index.html in table#models")
    b.flush(events)
    ctx.close()


def crawl(b: Browser, r: Report, site: Site) -> list[str]:
    ctx = b.context(viewport=DESKTOP)
    page = ctx.new_page()
    events = b.watch(page, "crawl")
    start = "index.html"
    queue: deque[str] = deque([start])
    queued = {start}
    visited: list[str] = []
    fragments: dict[str, set[tuple[str, str]]] = {}  # page -> {(fragment, linked from)}
    ids: dict[str, set[str]] = {}
    bad_links: set[str] = set()

    while queue:
        rel = queue.popleft()
        try:
            page.goto(site.url(rel), wait_until="load")
        except Exception as e:  # noqa: BLE001
            r.fail(f"{rel}: could not load: {e}")
            continue
        visited.append(rel)
        for problem in page.evaluate(PAGE_AUDIT_JS):
            r.fail(f"{rel}: {problem}")
        r.check(True, "")
        ids[rel] = set(page.evaluate(
            "() => [...document.querySelectorAll('[id], a[name]')].map(e => e.id || e.getAttribute('name'))"
        ))
        for raw, resolved in page.evaluate(LINKS_JS):
            raw = (raw or "").strip()
            if not raw or raw.lower().startswith(SKIP_SCHEMES) or raw.startswith("//"):
                continue
            url, frag = urldefrag(resolved)
            if raw.startswith("#"):
                target = rel
            else:
                target = site.rel(url)
                if target is None:
                    key = f"{rel}: link {raw} points outside the site directory"
                    if key not in bad_links:
                        bad_links.add(key)
                        r.fail(key)
                    continue
                path = site.root / target
                if raw.split("#")[0].endswith("/") or path.is_dir():
                    key = f"{rel}: link {raw} points at a directory (file:// shows no index.html; link the file)"
                    if key not in bad_links:
                        bad_links.add(key)
                        r.fail(key)
                    continue
                if not path.is_file():
                    key = f"{rel}: broken link {raw} (no file {target})"
                    if key not in bad_links:
                        bad_links.add(key)
                        r.fail(key)
                    continue
                r.check(True, "")
                if target.endswith(".html") and target not in queued:
                    queued.add(target)
                    queue.append(target)
            # "#q=…" and the like are site.js state, not anchors
            if frag and "=" not in frag and target.endswith(".html"):
                fragments.setdefault(target, set()).add((unquote(frag), rel))
        b.flush(events)

    for target, frags in sorted(fragments.items()):
        for frag, src in sorted(frags):
            if target in ids:
                r.check(frag in ids[target], f"{src}: link to {target}#{frag}: no element with id \"{frag}\"")
    ctx.close()
    return visited


def check_reached(r: Report, site: Site, visited: list[str], model: str) -> None:
    present = sorted(
        p.relative_to(site.root).as_posix()
        for p in (site.root / "models").glob("*/*.html")
        if MODEL_PAGE.match(p.relative_to(site.root).as_posix())
    ) if (site.root / "models").is_dir() else []
    seen = set(visited)
    unreached = [p for p in present if p not in seen]
    r.check(not unreached,
            f"{len(unreached)} model page(s) in the site directory not reached by following links from index.html: "
            + ", ".join(unreached))
    r.check(bool(present), "no models/<name>/index.html or models/<name>/v<N>.html pages in the site directory")
    r.check(f"models/{model}/index.html" in present, f"no models/{model}/index.html in the site directory")


def version_key(rel: str) -> int:
    m = re.search(r"/v(\d+)\.html$", rel)
    return int(m.group(1)) if m else -1


def check_phone(b: Browser, r: Report, site: Site, model: str) -> None:
    pages = ["index.html"]
    model_index = f"models/{model}/index.html"
    if (site.root / model_index).is_file():
        pages.append(model_index)
        versions = sorted(
            (p.relative_to(site.root).as_posix() for p in (site.root / "models" / model).glob("v*.html")),
            key=version_key,
        )
        if versions:
            pages.append(versions[-1])
    ctx = b.context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = ctx.new_page()
    events = b.watch(page, "phone")
    for rel in pages:
        page.goto(site.url(rel), wait_until="load")
        res = page.evaluate(OVERFLOW_JS, PHONE["width"])
        r.check(res is None,
                f"{rel} at {PHONE['width']}x{PHONE['height']}: page is {res and res['scrollWidth']}px wide "
                f"(horizontal overflow); sticking out: {', '.join((res or {}).get('culprits') or ['?'])}")
    b.flush(events)
    ctx.close()


DESKTOP_WIDTHS = [{"width": 1400, "height": 900}, {"width": 1024, "height": 768}]


def check_layout(b: Browser, r: Report, site: Site, model: str) -> None:
    """At desktop widths the index, the model page and the audit page fit: no sideways scroll of
    the page, every column of every table visible, no raw JSON, no timestamp wrapped."""
    pages = ["index.html", f"models/{model}/index.html", "audit.html"]
    for vp in DESKTOP_WIDTHS:
        ctx = b.context(viewport=vp)
        page = ctx.new_page()
        events = b.watch(page, "layout")
        for rel in pages:
            if not (site.root / rel).is_file():
                r.fail(f"layout: no {rel}")
                continue
            page.goto(site.url(rel), wait_until="load")
            problems = page.evaluate(LAYOUT_JS)
            for p in problems:
                r.fail(f"{rel} at {vp['width']}x{vp['height']}: {p}")
            r.check(True, "")
        b.flush(events)
        ctx.close()


def screenshot(b: Browser, r: Report, site: Site, model: str, out: Path) -> None:
    rel = f"models/{model}/index.html"
    if not (site.root / rel).is_file():
        r.fail(f"screenshot: no {rel}")
        return
    ctx = b.context(viewport=DESKTOP, device_scale_factor=1)
    page = ctx.new_page()
    events = b.watch(page, "screenshot")
    page.goto(site.url(rel), wait_until="load")
    page.evaluate("document.fonts ? document.fonts.ready.then(() => true) : true")
    out.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out), full_page=True, animations="disabled")
    r.check(out.is_file() and out.stat().st_size > 0, f"screenshot: {out} was not written")
    b.flush(events)
    ctx.close()


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(
        description="Headless-Chromium end-to-end check of a built modelgate static site.",
    )
    ap.add_argument("site", type=Path, help="the directory `modelgate site build --out` wrote")
    ap.add_argument("--screenshot", type=Path, help="write a full-page PNG of models/<model>/index.html (1280 px wide)")
    ap.add_argument("--model", default="heart_disease", help="the model to search for and screenshot (default: heart_disease)")
    ap.add_argument("--chromium", default=os.environ.get("MODELGATE_CHROMIUM", "/usr/bin/chromium"),
                    help="Chromium executable (default: $MODELGATE_CHROMIUM or /usr/bin/chromium)")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds for each browser step (default: 30)")
    args = ap.parse_args(argv)

    t0 = time.monotonic()
    site_dir = args.site
    if not (site_dir / "index.html").is_file():
        die(f"{site_dir}/index.html not found: build the site first (modelgate site build --out {site_dir})")
    if not (os.path.isfile(args.chromium) and os.access(args.chromium, os.X_OK)):
        die(f"Chromium not found at {args.chromium}: run scripts/setup.sh (installs Debian's chromium) "
            "or pass --chromium PATH")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        # `python3 scripts/browser_check.py` from the Rust tests: use the repository's venv
        venv_py = Path(__file__).resolve().parent.parent / ".tools" / "venv" / "bin" / "python"
        if venv_py.is_file() and not os.environ.get("MODELGATE_BROWSER_CHECK_REEXEC"):
            os.environ["MODELGATE_BROWSER_CHECK_REEXEC"] = "1"
            sys.stdout.flush()
            os.execv(str(venv_py), [str(venv_py), str(Path(__file__).resolve()), *argv])
        die(f"python module playwright missing for {sys.executable} (and in .tools/venv): "
            "run scripts/setup.sh")

    site = Site(site_dir)
    r = Report()
    visited: list[str] = []
    with sync_playwright() as pw:
        try:
            b = Browser(pw, args.chromium, r, site, int(args.timeout * 1000))
        except Exception as e:  # noqa: BLE001
            die(f"could not start Chromium ({args.chromium}): {e}")
        steps = [
            ("index", lambda: check_index(b, r, site, args.model)),
            ("crawl", lambda: visited.extend(crawl(b, r, site))),
            ("reached", lambda: check_reached(r, site, visited, args.model)),
            ("phone", lambda: check_phone(b, r, site, args.model)),
            ("layout", lambda: check_layout(b, r, site, args.model)),
        ]
        if args.screenshot:
            steps.append(("screenshot", lambda: screenshot(b, r, site, args.model, args.screenshot)))
        timings = []
        for name, step in steps:
            t = time.monotonic()
            try:
                step()
            except Exception as e:  # noqa: BLE001 - report and go on with the next step
                r.fail(f"{name}: {type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}")
            timings.append(f"{name} {time.monotonic() - t:.1f} s")
        b.close()

    elapsed = time.monotonic() - t0
    print(f"browser_check: {site.root}")
    print(f"browser_check: {len(visited)} pages visited: {', '.join(visited[:8])}{' ...' if len(visited) > 8 else ''}")
    if args.screenshot and args.screenshot.is_file():
        print(f"browser_check: screenshot of models/{args.model}/index.html: {args.screenshot}")
    print(f"browser_check: time: {', '.join(timings)}")
    sys.stdout.flush()
    if r.failures:
        print(f"browser_check: FAILED: {len(r.failures)} failure(s), {r.passed} checks passed, {elapsed:.1f} s",
              file=sys.stderr)
        for f in r.failures:
            print(f"  - {f}", file=sys.stderr)
        return 1
    print(f"browser_check: ok: {r.passed} checks passed, {len(visited)} pages, {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
