/* modelgate static site: search, filters and sorting for the model index.
 *
 * Progressive enhancement only: the page is complete without this script. No libraries, no
 * network, works from file://. Contract with the index page:
 *   form.filters[hidden]        shown by this script; holds #q, #f-stage, #f-drift, #f-bias
 *   table#models                thead th[data-sort] > button; tbody tr[data-model] rows with
 *                               data-drift, data-bias, data-champion, data-challenger; sortable
 *                               cells carry data-value (number or string)
 *   script#search-index         JSON array of the models.json objects
 *   p#count                     gets "N of M models"
 * The state is mirrored into location.hash: #q=<query>&stage=&drift=&bias=&sort=[-]<column>
 *
 * Search: every whitespace-separated term must match (case-insensitive, substring) the name,
 * description, owner, task, a tag key or value ("key:value" and "key=value" also match), a
 * metric name, or "owner:", "task:", "drift:", "bias:" followed by the value. A term such as
 * roc_auc>0.8 compares a metric (operators > >= < <= = != ; "=" matches to the precision typed,
 * so auc=0.91 matches 0.905 <= auc < 0.915). A model without that metric does not match.
 */
(function () {
  "use strict";

  var doc = document;
  var table = doc.getElementById("models");
  if (!table || !table.tBodies || !table.tBodies.length) {
    return;
  }
  doc.documentElement.classList.add("js");

  var form = doc.querySelector("form.filters");
  var q = doc.getElementById("q");
  var fStage = doc.getElementById("f-stage");
  var fDrift = doc.getElementById("f-drift");
  var fBias = doc.getElementById("f-bias");
  var countEl = doc.getElementById("count");
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.querySelectorAll("tr[data-model]"));
  var originalOrder = rows.slice();
  var headers = Array.prototype.slice.call(table.querySelectorAll("thead th[data-sort]"));
  var sortState = null; // {key: "metric", dir: 1 | -1}

  // ---------- search index ----------
  var byName = Object.create(null);
  var indexEl = doc.getElementById("search-index");
  if (indexEl) {
    try {
      var parsed = JSON.parse(indexEl.textContent || "[]");
      if (Array.isArray(parsed)) {
        parsed.forEach(function (m) {
          if (m && typeof m.name === "string") {
            byName[m.name] = m;
          }
        });
      }
    } catch (e) {
      // A broken index leaves the plain row text to search: no console noise.
    }
  }

  function str(v) {
    return v === null || v === undefined ? "" : String(v);
  }

  function buildEntry(row) {
    var name = row.getAttribute("data-model") || "";
    var m = byName[name];
    var parts = [name];
    var metrics = Object.create(null);
    if (m) {
      parts.push(str(m.description), str(m.owner), str(m.task));
      if (m.owner) parts.push("owner:" + m.owner);
      if (m.task) parts.push("task:" + m.task);
      if (m.tags && typeof m.tags === "object") {
        Object.keys(m.tags).forEach(function (k) {
          var v = str(m.tags[k]);
          parts.push(k, v, k + ":" + v, k + "=" + v);
        });
      }
      if (m.metrics && typeof m.metrics === "object") {
        Object.keys(m.metrics).forEach(function (k) {
          parts.push(k);
          var v = m.metrics[k];
          if (typeof v === "number" && isFinite(v)) {
            metrics[k.toLowerCase()] = v;
          }
        });
      }
    } else {
      parts.push(row.textContent || "");
    }
    var drift = row.getAttribute("data-drift") || (m && m.drift) || "";
    var bias = row.getAttribute("data-bias") || (m && m.bias) || "";
    if (drift) parts.push("drift:" + drift);
    if (bias) parts.push("bias:" + bias);
    return {
      row: row,
      // "\n" keeps a term from matching across two fields
      text: parts.join("\n").toLowerCase(),
      metrics: metrics,
      drift: drift,
      bias: bias,
      champion: row.getAttribute("data-champion") || "",
      challenger: row.getAttribute("data-challenger") || ""
    };
  }

  var entries = rows.map(buildEntry);

  // ---------- query parsing ----------
  var CMP = /^([^<>=!\s]+?)(>=|<=|!=|==|>|<|=)(-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)$/i;

  function parseQuery(s) {
    return str(s)
      .toLowerCase()
      .split(/\s+/)
      .filter(function (t) {
        return t.length > 0;
      })
      .map(function (t) {
        var mm = CMP.exec(t);
        if (mm) {
          var frac = mm[3].split(/e/i)[0].split(".")[1] || "";
          return {
            metric: mm[1],
            op: mm[2],
            value: parseFloat(mm[3]),
            tol: 0.5 * Math.pow(10, -frac.length) + 1e-12,
            text: t
          };
        }
        return { text: t };
      });
  }

  function termMatches(term, e) {
    if (term.metric !== undefined) {
      var x = e.metrics[term.metric];
      if (x === undefined) {
        // "key=value" written like a comparison but meant as text (e.g. a numeric tag)
        return (term.op === "=" || term.op === "==") && e.text.indexOf(term.text) !== -1;
      }
      switch (term.op) {
        case ">": return x > term.value;
        case ">=": return x >= term.value;
        case "<": return x < term.value;
        case "<=": return x <= term.value;
        case "!=": return Math.abs(x - term.value) > term.tol;
        default: return Math.abs(x - term.value) <= term.tol;
      }
    }
    return e.text.indexOf(term.text) !== -1;
  }

  // ---------- filtering ----------
  function selectValue(sel) {
    return sel ? sel.value : "";
  }

  function apply() {
    var terms = parseQuery(q ? q.value : "");
    var stage = selectValue(fStage);
    var drift = selectValue(fDrift);
    var bias = selectValue(fBias);
    var shown = 0;
    entries.forEach(function (e) {
      var ok =
        (!stage || (stage === "champion" ? e.champion !== "" : stage === "challenger" ? e.challenger !== "" : true)) &&
        (!drift || e.drift === drift) &&
        (!bias || e.bias === bias) &&
        terms.every(function (t) {
          return termMatches(t, e);
        });
      if (ok) {
        shown += 1;
        if (e.row.hidden) e.row.hidden = false;
      } else if (!e.row.hidden) {
        e.row.hidden = true;
      }
    });
    if (countEl) {
      var total = entries.length;
      var text = shown + " of " + total + (total === 1 ? " model" : " models");
      if (countEl.textContent !== text) countEl.textContent = text;
    }
  }

  // ---------- sorting ----------
  function cellValue(row, idx) {
    var cell = row.cells[idx];
    if (!cell) return { empty: true };
    var raw = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : (cell.textContent || "");
    raw = raw.trim();
    if (raw === "") return { empty: true };
    var n = Number(raw);
    if (!isNaN(n) && isFinite(n)) return { num: n };
    return { str: raw };
  }

  var collator = typeof Intl !== "undefined" && Intl.Collator
    ? new Intl.Collator(undefined, { numeric: true, sensitivity: "base" })
    : null;

  function compareValues(a, b) {
    if (a.num !== undefined && b.num !== undefined) return a.num - b.num;
    if (a.num !== undefined) return -1; // numbers before text
    if (b.num !== undefined) return 1;
    if (collator) return collator.compare(a.str, b.str);
    return a.str < b.str ? -1 : a.str > b.str ? 1 : 0;
  }

  function sortBy(key, dir) {
    var th = null;
    headers.forEach(function (h) {
      if (h.getAttribute("data-sort") === key) {
        th = h;
      } else {
        h.removeAttribute("aria-sort");
      }
    });
    if (!th) {
      sortState = null;
      return false;
    }
    th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
    sortState = { key: key, dir: dir };
    var idx = th.cellIndex;
    var keyed = originalOrder.map(function (row, i) {
      return { row: row, v: cellValue(row, idx), i: i };
    });
    keyed.sort(function (a, b) {
      // empty cells last in either direction; ties keep the page's order
      if (a.v.empty || b.v.empty) {
        if (a.v.empty && b.v.empty) return a.i - b.i;
        return a.v.empty ? 1 : -1;
      }
      return dir * compareValues(a.v, b.v) || a.i - b.i;
    });
    var frag = doc.createDocumentFragment();
    keyed.forEach(function (k) {
      frag.appendChild(k.row);
    });
    tbody.appendChild(frag);
    return true;
  }

  function resetSort() {
    headers.forEach(function (h) {
      h.removeAttribute("aria-sort");
    });
    sortState = null;
    var frag = doc.createDocumentFragment();
    originalOrder.forEach(function (row) {
      frag.appendChild(row);
    });
    tbody.appendChild(frag);
  }

  headers.forEach(function (th) {
    var button = th.querySelector("button");
    if (!button) return;
    button.addEventListener("click", function () {
      var key = th.getAttribute("data-sort");
      var dir = sortState && sortState.key === key ? -sortState.dir : 1;
      sortBy(key, dir);
      writeHash();
    });
  });

  // ---------- location.hash ----------
  function currentHash() {
    var parts = [];
    function add(k, v) {
      if (!v) return;
      // keep links readable: #q=domain:health+owner=risk
      var enc = encodeURIComponent(v)
        .replace(/%20/g, "+")
        .replace(/%3A/gi, ":")
        .replace(/%3D/gi, "=")
        .replace(/%2C/gi, ",")
        .replace(/%2F/gi, "/")
        .replace(/%40/gi, "@");
      parts.push(k + "=" + enc);
    }
    add("q", q ? q.value.trim() : "");
    add("stage", selectValue(fStage));
    add("drift", selectValue(fDrift));
    add("bias", selectValue(fBias));
    if (sortState) add("sort", (sortState.dir < 0 ? "-" : "") + sortState.key);
    return parts.join("&");
  }

  function readHash() {
    var h = location.hash.replace(/^#/, "");
    var out = {};
    if (!h || h.indexOf("=") === -1) return out;
    h.split("&").forEach(function (pair) {
      var i = pair.indexOf("=");
      if (i <= 0) return;
      var k = pair.slice(0, i);
      var v = pair.slice(i + 1).replace(/\+/g, " ");
      try {
        v = decodeURIComponent(v);
      } catch (e) {
        // malformed escape: use the text as it is
      }
      out[k] = v;
    });
    return out;
  }

  var lastHash = null;

  function writeHash() {
    var h = currentHash();
    if (h === lastHash) return;
    lastHash = h;
    var base = location.href.split("#")[0];
    try {
      history.replaceState(history.state, "", h ? base + "#" + h : base);
    } catch (e) {
      // some browsers refuse replaceState on file:// pages; a fragment change is still allowed
      try {
        location.replace("#" + h);
      } catch (e2) {
        // leave the address as it is
      }
    }
  }

  function setSelect(sel, v) {
    if (!sel) return;
    sel.value = v || "";
    if (sel.value !== (v || "")) sel.value = "";
  }

  function loadState(fromHashChange) {
    var s = readHash();
    var has = Object.keys(s).length > 0;
    if (has || fromHashChange) {
      if (q) q.value = s.q || "";
      setSelect(fStage, s.stage);
      setSelect(fDrift, s.drift);
      setSelect(fBias, s.bias);
    }
    var sorted = false;
    if (s.sort) {
      var desc = s.sort.charAt(0) === "-";
      sorted = sortBy(desc ? s.sort.slice(1) : s.sort, desc ? -1 : 1);
    }
    if (!sorted && sortState) resetSort();
    apply();
    lastHash = currentHash();
  }

  // ---------- wiring ----------
  function onChange() {
    apply();
    writeHash();
  }

  if (q) {
    q.addEventListener("input", onChange);
    q.addEventListener("search", onChange);
    q.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape" && q.value) {
        q.value = "";
        onChange();
      }
    });
  }
  [fStage, fDrift, fBias].forEach(function (sel) {
    if (sel) sel.addEventListener("change", onChange);
  });
  if (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      onChange();
    });
    form.addEventListener("reset", function () {
      // runs before the form's values are reset
      setTimeout(onChange, 0);
    });
  }
  window.addEventListener("hashchange", function () {
    var h = location.hash.replace(/^#/, "");
    // "#main" (skip link) or another anchor is not a filter state: leave the filters alone
    if (h !== lastHash && (h === "" || h.indexOf("=") !== -1)) loadState(true);
  });

  loadState(false);
  if (form) form.hidden = false;
})();
