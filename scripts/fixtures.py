#!/usr/bin/env python3
"""Reference values of the drift and fairness statistics, from the peer libraries.

Run from the repository root, in the pinned environment with the peers installed:

    bash scripts/setup.sh --peers
    .tools/venv/bin/python scripts/fixtures.py

Writes (same bytes on every run: fixed seeds, sorted keys of categories and groups):

    tests/data/monitor/<case>/reference.csv, current.csv   drift cases (small, generated)
    tests/data/monitor/eval_<case>.csv                      evaluate cases (label, score)
    tests/data/monitor/bias_small.csv                       bias case (label, score, group)
    tests/data/monitor/expected.json                        the expected values

The `example` cases read the bundled example Parquet files in place. Every value is computed
with scipy / numpy / scikit-learn / Fairlearn exactly as src/monitor/stats.rs documents it, and every drift
column also carries the decision of Evidently 0.7 on its default settings (`evidently`).

CSV conventions: an empty cell is a null; numbers are written with Python's shortest round-trip
repr; the literals `NaN`, `inf`, `-inf` appear in one column of `heavy_ties` (they are excluded
from the statistics, like nulls). Categorical columns hold non-numeric strings only.

Notes on expected.json:
- `ks.p_value` is the asymptotic Kolmogorov p-value kstwobign.sf(sqrt(nm/(n+m))·D), not ks_2samp's.
- A chi-square whose expected count is 0 where something was observed has statistic "inf"
  (a string: JSON has no infinity) and p_value 0.0.
- `z_test` (≤ 2 categories, else null) is {"statistic", "p_value"}: z of the share of the first
  sorted category, reference minus current, pooled proportion; p = 2·(1 − Φ(|z|)) as Evidently
  computes it. With a single category on both sides: statistic 0.0, p_value 1.0 (Evidently).
- Numerical columns with ≤ 5 distinct values (over both sides) also carry `chi_square`,
  `jensen_shannon` and `z_test` over their values taken as categories, the category of a value
  being its shortest decimal form without a trailing ".0" (as Rust's `format!("{}", f64)`).
- `evidently.method` is Evidently's stattest name (ks, chisquare, z, wasserstein, jensenshannon);
  `score` its drift score (a p-value for ks/chisquare/z, a distance otherwise; its ks p-value is
  ks_2samp's own, and its jensenshannon on a numerical column bins the values in 30 histogram
  bins), `drifted` its verdict.
"""

from __future__ import annotations

import os
import sys

# Evidently builds category lists from Python sets: string hashing must not vary between runs,
# or its scores change in the last bits (summation order) and the output is not byte-identical.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable, *sys.argv])

# Evidently ships a telemetry client (used by its UI service only): keep it off regardless.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("ITERATIVE_DO_NOT_TRACK", "1")

import csv  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import warnings  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy  # noqa: E402
import sklearn  # noqa: E402
from scipy import stats  # noqa: E402
from scipy.spatial import distance  # noqa: E402
from sklearn import metrics as skm  # noqa: E402

try:
    import evidently
    import fairlearn
    from evidently import DataDefinition, Dataset, Report
    from evidently.legacy.calculations.stattests.registry import _registered_stat_tests
    from evidently.presets import DataDriftPreset
    from fairlearn import metrics as flm
except ImportError as e:  # pragma: no cover
    sys.exit(f"fixtures.py: {e}: install the peers first: bash scripts/setup.sh --peers")

ROOT = Path(__file__).resolve().parent.parent
OUT_REL = "tests/data/monitor"
OUT = ROOT / OUT_REL
EXAMPLE_REF = "examples/heart_disease/reference.parquet"
EXAMPLE_CUR = "examples/heart_disease/inference/2024-06-24.parquet"
EXAMPLE_LABELLED = "examples/heart_disease/inference/2024-06-03.parquet"
EXAMPLE_NUM = [
    "age", "resting_bp", "cholesterol", "max_heart_rate", "st_depression", "bmi", "glucose",
    "num_vessels", "exercise_minutes",
]
EXAMPLE_CAT = ["sex", "chest_pain", "smoker"]
THRESHOLD = 0.5
FLOOR = 1e-4

warnings.filterwarnings("ignore")


# ---------------------------------------------------------------------------------------------
# Writing CSV files


def cell(v) -> str:
    """One CSV cell: None is a null (empty), floats in shortest repr, NaN/inf as literals."""
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        raise TypeError("no booleans in fixtures")
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    return str(v)


def write_csv(rel: str, columns: dict[str, list]) -> str:
    names = list(columns)
    n = len(columns[names[0]])
    assert all(len(columns[c]) == n for c in names), rel
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(names)
    for i in range(n):
        w.writerow([cell(columns[c][i]) for c in names])
    path = ROOT / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    data = buf.getvalue().encode()
    assert len(data) < 100_000, f"{rel}: {len(data)} bytes"
    path.write_bytes(data)
    return rel


def read(rel: str, categorical: list[str]) -> pd.DataFrame:
    path = ROOT / rel
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    # round_trip: the correctly rounded parse (pandas' default float parser is not always)
    return pd.read_csv(path, dtype={c: str for c in categorical}, float_precision="round_trip")


def nulls(rng: np.random.Generator, values: list, k: int) -> list:
    out = list(values)
    for i in sorted(rng.choice(len(out), size=k, replace=False)):
        out[int(i)] = None
    return out


# ---------------------------------------------------------------------------------------------
# Drift cases


def drift_cases() -> list[dict]:
    """Each case: name, reference and current paths, numerical and categorical columns."""
    cases = [
        dict(case="example", reference=EXAMPLE_REF, current=EXAMPLE_CUR, numerical=EXAMPLE_NUM,
             categorical=EXAMPLE_CAT),
    ]

    def add(case, ref_cols, cur_cols, numerical, categorical):
        r = write_csv(f"{OUT_REL}/{case}/reference.csv", ref_cols)
        c = write_csv(f"{OUT_REL}/{case}/current.csv", cur_cols)
        cases.append(dict(case=case, reference=r, current=c, numerical=numerical,
                          categorical=categorical))

    # small_shift: ≤ 1000 reference rows (KS / chi-square / z-test territory)
    rng = np.random.default_rng(20240601)
    nr, nc = 500, 400
    ref = {
        "x": rng.normal(0.0, 1.0, nr).tolist(),
        "y": nulls(rng, rng.normal(5.0, 2.0, nr).tolist(), 5),
        "few": rng.integers(0, 4, nr).tolist(),
        "binary": (rng.random(nr) < 0.3).astype(int).tolist(),
        "color": rng.choice(["red", "green", "blue"], nr, p=[0.5, 0.3, 0.2]).tolist(),
        "flag": rng.choice(["yes", "no"], nr, p=[0.5, 0.5]).tolist(),
    }
    cur = {
        "x": rng.normal(0.3, 1.0, nc).tolist(),
        "y": nulls(rng, rng.normal(5.0, 2.0, nc).tolist(), 3),
        "few": rng.choice(4, nc, p=[0.2, 0.25, 0.25, 0.3]).tolist(),
        "binary": (rng.random(nc) < 0.4).astype(int).tolist(),
        "color": nulls(rng, rng.choice(["red", "green", "blue"], nc, p=[0.35, 0.35, 0.3]).tolist(), 4),
        "flag": rng.choice(["yes", "no"], nc, p=[0.55, 0.45]).tolist(),
    }
    add("small_shift", ref, cur, ["x", "y", "few", "binary"], ["color", "flag"])

    # heavy_ties: values rounded to 1 decimal, > 1000 reference rows; NaN/inf/null in `b`
    rng = np.random.default_rng(20240602)
    nr, nc = 2000, 1500

    def r1(a):
        return (np.round(a, 1) + 0.0).tolist()  # + 0.0: no "-0.0"

    ref = {"a": r1(rng.normal(0.0, 1.0, nr)), "b": r1(rng.normal(10.0, 2.0, nr)),
           "c": r1(rng.exponential(1.0, nr))}
    cur = {"a": r1(rng.normal(0.05, 1.0, nc)), "b": r1(rng.normal(10.0, 2.6, nc)),
           "c": r1(rng.exponential(1.3, nc))}
    for col, specials in ((ref["b"], [math.nan, math.inf, None, math.nan]),
                          (cur["b"], [-math.inf, None, math.nan])):
        for i, v in zip(rng.choice(len(col), size=len(specials), replace=False), specials):
            col[int(i)] = v
    add("heavy_ties", ref, cur, ["a", "b", "c"], [])

    # constant: a numerical column constant in the reference (std 0 → norm 0.001)
    rng = np.random.default_rng(20240603)
    n = 1200
    k2 = [7.0] * n
    for i in rng.choice(n, size=12, replace=False):
        k2[int(i)] = 7.5
    ref = {"k": [3.0] * n, "k2": [7.0] * n, "v": rng.normal(0.0, 1.0, n).tolist()}
    cur = {"k": np.round(3.0 + rng.normal(0.0, 0.01, n), 3).tolist(), "k2": k2,
           "v": rng.normal(0.0, 1.0, n).tolist()}
    add("constant", ref, cur, ["k", "k2", "v"], [])

    # category_absent_in_reference: ≤ 1000 rows, chi-square with an expected count of 0
    rng = np.random.default_rng(20240604)
    nr, nc = 600, 500
    ref = {"n": rng.normal(0.0, 1.0, nr).tolist(),
           "cat": rng.choice(["a", "b", "c"], nr, p=[0.4, 0.35, 0.25]).tolist(),
           "pair": ["x"] * nr}
    cur = {"n": rng.normal(0.0, 1.0, nc).tolist(),
           "cat": rng.choice(["a", "b", "c", "d"], nc, p=[0.35, 0.3, 0.25, 0.1]).tolist(),
           "pair": rng.choice(["x", "y"], nc, p=[0.9, 0.1]).tolist()}
    add("category_absent_in_reference", ref, cur, ["n"], ["cat", "pair"])

    # category_absent_in_current: > 1000 reference rows (Jensen–Shannon territory)
    rng = np.random.default_rng(20240605)
    nr, nc = 1500, 800
    ref = {"n": rng.normal(0.0, 1.0, nr).tolist(),
           "cat": rng.choice(["a", "b", "c", "d"], nr, p=[0.3, 0.3, 0.3, 0.1]).tolist()}
    cur = {"n": rng.normal(0.1, 1.0, nc).tolist(),
           "cat": rng.choice(["a", "b", "c"], nc, p=[0.34, 0.33, 0.33]).tolist()}
    add("category_absent_in_current", ref, cur, ["n"], ["cat"])

    # one_row
    add("one_row", {"num": [1.5], "cat": ["a"]}, {"num": [2.5], "cat": ["b"]}, ["num"], ["cat"])
    return cases


def psi(r_counts: np.ndarray, c_counts: np.ndarray) -> float:
    r = r_counts / r_counts.sum()
    c = c_counts / c_counts.sum()
    r = np.where(r == 0, FLOOR, r)
    c = np.where(c == 0, FLOOR, c)
    return float(np.sum((c - r) * np.log(c / r)))


def numerical_stats(r: np.ndarray, c: np.ndarray) -> dict:
    n, m = len(r), len(c)
    d = float(stats.ks_2samp(r, c).statistic)
    p = float(stats.kstwobign.sf(math.sqrt(n * m / (n + m)) * d))
    w = float(stats.wasserstein_distance(r, c))
    wn = w / max(float(np.std(r)), 0.001)
    cuts = np.quantile(r, np.arange(1, 10) / 10)
    rb = np.bincount(np.searchsorted(cuts, r, side="right"), minlength=10)
    cb = np.bincount(np.searchsorted(cuts, c, side="right"), minlength=10)
    return {"ks": {"statistic": d, "p_value": p}, "wasserstein": w, "wasserstein_normed": wn,
            "psi": psi(rb, cb)}


def z_test(r: np.ndarray, c: np.ndarray) -> dict:
    """Evidently's two-proportion z-test on the share of the first (sorted) category."""
    n1, n2 = int(r.sum()), int(c.sum())
    if len(r) == 1:
        return {"statistic": 0.0, "p_value": 1.0}
    p1, p2 = float(r[0]) / n1, float(c[0]) / n2
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    p = 2 * (1 - stats.norm.cdf(np.abs(z)))
    return {"statistic": float(z), "p_value": float(p)}


def categorical_stats(rs: list[str], cs: list[str]) -> dict:
    cats = sorted(set(rs) | set(cs))
    rc = pd.Series(rs).value_counts().reindex(cats, fill_value=0).to_numpy(dtype=float)
    cc = pd.Series(cs).value_counts().reindex(cats, fill_value=0).to_numpy(dtype=float)
    nr, nc = rc.sum(), cc.sum()
    f_exp = rc / nr * nc
    if np.any((f_exp == 0) & (cc > 0)):
        chi = {"statistic": "inf", "p_value": 0.0, "dof": len(cats) - 1}
    else:
        res = stats.chisquare(f_obs=cc, f_exp=f_exp)
        chi = {"statistic": float(res.statistic), "p_value": float(res.pvalue),
               "dof": len(cats) - 1}
    js = float(distance.jensenshannon(rc / nr, cc / nc))
    return {"chi_square": chi, "jensen_shannon": js, "psi": psi(rc, cc),
            "z_test": z_test(rc, cc) if len(cats) <= 2 else None}


def as_category(v: float) -> str:
    """Rust's `format!("{}", v)` for the small values used here."""
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def finite(s: pd.Series) -> np.ndarray:
    a = s.to_numpy(dtype=float, na_value=np.nan)
    return a[np.isfinite(a)]


def strings(s: pd.Series) -> list[str]:
    return [str(v) for v in s.dropna().tolist()]


# DESIGN §3 automatic choice (as implemented: numerical ≤ 5 distinct values on ≤ 1000 reference
# rows are tested as categories, like Evidently); used only to list where Evidently differs.
def design_choice(kind: str, ref_rows: int, n_values: int) -> str:
    if ref_rows <= 1000:
        if kind == "numerical" and n_values > 5:
            return "ks"
        return "chisquare" if n_values > 2 else "ztest"
    return "wasserstein" if kind == "numerical" else "jensenshannon"


def design_decision(entry: dict, method: str) -> tuple[float, bool]:
    score = {
        "ks": lambda e: e["ks"]["p_value"],
        "wasserstein": lambda e: e["wasserstein_normed"],
        "jensenshannon": lambda e: e["jensen_shannon"],
        "chisquare": lambda e: e["chi_square"]["p_value"],
        "ztest": lambda e: e["z_test"]["p_value"],
    }[method](entry)
    if method in ("ks", "chisquare", "ztest"):
        return score, score < 0.05
    return score, score >= 0.1


EVIDENTLY_NAMES = {
    t.display_name: name for name, by_type in _registered_stat_tests.items()
    for t in by_type.values()
}


def evidently_drift(ref: pd.DataFrame, cur: pd.DataFrame, numerical: list[str],
                    categorical: list[str]) -> dict[str, dict]:
    """Column → {"method", "drifted", "score"} or {"error": message}."""
    definition = DataDefinition(numerical_columns=list(numerical),
                                categorical_columns=list(categorical))
    cols = list(numerical) + list(categorical)
    try:
        snap = Report([DataDriftPreset()], include_tests=True).run(
            Dataset.from_pandas(cur[cols].copy(), data_definition=definition),
            Dataset.from_pandas(ref[cols].copy(), data_definition=definition),
        )
        d = snap.dict()
    except Exception as e:  # noqa: BLE001
        msg = f"{type(e).__name__}: {e}".splitlines()[0]
        return {c: {"error": msg} for c in cols}
    status = {t["bound_test"]["metric_fingerprint"]: t["status"] for t in d["tests"]
              if "bound_test" in t and t["bound_test"]}
    out = {}
    for m in d["metrics"]:
        cfg = m["config"]
        if cfg.get("type") != "evidently:metric_v2:ValueDrift":
            continue
        score = m["value"]
        col = cfg["column"]
        if not isinstance(score, (int, float)) or not math.isfinite(float(score)):
            out[col] = {"error": f"score {score!r}"}
            continue
        if m["id"] not in status:
            out[col] = {"error": "no drift test result"}
            continue
        out[col] = {"method": EVIDENTLY_NAMES.get(cfg["method"], cfg["method"]),
                    "drifted": status[m["id"]] == "FAIL", "score": float(score)}
    for c in cols:
        out.setdefault(c, {"error": "no ValueDrift metric in the report"})
    return out


def drift_expected(differences: list[str]) -> list[dict]:
    result = []
    for case in drift_cases():
        ref = read(case["reference"], case["categorical"])
        cur = read(case["current"], case["categorical"])
        ev = evidently_drift(ref, cur, case["numerical"], case["categorical"])
        columns = []
        for kind, names in (("numerical", case["numerical"]), ("categorical", case["categorical"])):
            for name in names:
                entry: dict = {"column": name, "kind": kind}
                if kind == "numerical":
                    r, c = finite(ref[name]), finite(cur[name])
                    entry.update(numerical_stats(r, c))
                    n_values = len(np.unique(np.concatenate([r, c])))
                    if n_values <= 5:
                        cs = categorical_stats([as_category(v) for v in r],
                                               [as_category(v) for v in c])
                        del cs["psi"]
                        entry.update(cs)
                    ref_rows = len(r)
                else:
                    rs, cs_ = strings(ref[name]), strings(cur[name])
                    entry.update(categorical_stats(rs, cs_))
                    n_values = len(set(rs) | set(cs_))
                    ref_rows = len(rs)
                e = ev[name]
                if "error" in e:
                    entry["evidently"] = None
                    entry["note"] = f"Evidently 0.7 cannot compare this column: {e['error']}"
                else:
                    entry["evidently"] = e
                    method = design_choice(kind, ref_rows, n_values)
                    score, drifted = design_decision(entry, method)
                    ev_method = {"z": "ztest"}.get(e["method"], e["method"])
                    if ev_method != method or e["drifted"] != drifted:
                        differences.append(
                            f"{case['case']}.{name}: evidently {e['method']} score {e['score']:.6g}"
                            f" drifted={e['drifted']}; DESIGN {method} score {score:.6g}"
                            f" drifted={drifted}")
                columns.append(entry)
        result.append({"case": case["case"], "reference": case["reference"],
                       "current": case["current"], "columns": columns})
    return result


# ---------------------------------------------------------------------------------------------
# Evaluate cases


def evaluate_expected() -> list[dict]:
    rng = np.random.default_rng(20240611)
    n = 1000
    label = (rng.random(n) < 0.4).astype(int)
    raw = 1 / (1 + np.exp(-(1.5 * (2 * label - 1) + rng.normal(0.0, 1.2, n))))
    score = np.clip(np.round(raw, 1), 0.1, 0.9)
    ties = write_csv(f"{OUT_REL}/eval_ties.csv", {"label": label.tolist(), "score": score.tolist()})

    rng = np.random.default_rng(20240612)
    n = 300
    one = write_csv(f"{OUT_REL}/eval_one_class.csv",
                    {"label": [1] * n, "score": rng.beta(4.0, 2.0, n).tolist()})

    out = []
    for case, rel in (("example", EXAMPLE_LABELLED), ("ties", ties), ("one_class", one)):
        df = read(rel, [])
        y = df["label"].to_numpy(dtype=int)
        s = df["score"].to_numpy(dtype=float)
        pred = (s >= THRESHOLD).astype(int)
        two = len(np.unique(y)) == 2
        metrics = {
            "roc_auc": float(skm.roc_auc_score(y, s)) if two else None,
            "precision": float(skm.precision_score(y, pred, zero_division=0)),
            "recall": float(skm.recall_score(y, pred, zero_division=0)),
            "f1": float(skm.f1_score(y, pred, zero_division=0)),
            "accuracy": float(skm.accuracy_score(y, pred)),
            "log_loss": float(skm.log_loss(y, s, labels=[0, 1])),
            "brier": float(skm.brier_score_loss(y, s, pos_label=1)),
        }
        out.append({"case": case, "data": rel, "label": "label", "score": "score",
                    "threshold": THRESHOLD, "metrics": metrics})
    return out


# ---------------------------------------------------------------------------------------------
# Bias cases


def bias_expected() -> list[dict]:
    rng = np.random.default_rng(20240621)
    n = 200
    group = rng.choice(["a", "b", "c"], n, p=[0.45, 0.35, 0.2])
    label = (rng.random(n) < 0.45).astype(int)
    score = np.clip(rng.normal(0.35 + 0.35 * label, 0.18), 0.01, 0.99)
    score = np.where(group == "c", np.minimum(score, 0.49) * 0.9, score)  # c: nothing predicted
    small = write_csv(f"{OUT_REL}/bias_small.csv",
                      {"label": label.tolist(), "score": score.tolist(), "group": group.tolist()})

    out = []
    for case, rel, sensitive in (("example", EXAMPLE_LABELLED, ["sex", "race", "age_group"]),
                                 ("small", small, ["group"])):
        df = read(rel, sensitive)
        y = df["label"].to_numpy(dtype=int)
        pred = (df["score"].to_numpy(dtype=float) >= THRESHOLD).astype(int)
        attributes = []
        for attr in sensitive:
            sf = df[attr].astype(str)
            mf = flm.MetricFrame(
                metrics={
                    "count": flm.count,
                    "selection_rate": flm.selection_rate,
                    "tpr": flm.true_positive_rate,
                    "fpr": flm.false_positive_rate,
                    "precision": partial(skm.precision_score, zero_division=0),
                },
                y_true=y, y_pred=pred, sensitive_features=sf,
            )
            by = mf.by_group
            groups = []
            for g in sorted(by.index.tolist(), key=str):
                row = by.loc[g]
                groups.append({"group": str(g), "count": int(row["count"]),
                               "selection_rate": float(row["selection_rate"]),
                               "tpr": float(row["tpr"]), "fpr": float(row["fpr"]),
                               "precision": float(row["precision"])})
            kw = dict(sensitive_features=sf)
            attributes.append({
                "attribute": attr,
                "groups": groups,
                "demographic_parity_difference":
                    float(flm.demographic_parity_difference(y, pred, **kw)),
                "demographic_parity_ratio": float(flm.demographic_parity_ratio(y, pred, **kw)),
                "equal_opportunity_difference":
                    float(flm.equal_opportunity_difference(y, pred, **kw)),
                "equalized_odds_difference": float(flm.equalized_odds_difference(y, pred, **kw)),
                "predictive_parity_difference": float(mf.difference()["precision"]),
            })
        out.append({"case": case, "data": rel, "label": "label", "score": "score",
                    "threshold": THRESHOLD, "sensitive": sensitive, "attributes": attributes})
    return out


# ---------------------------------------------------------------------------------------------


def check_finite(x, where="expected"):
    """No NaN or infinity may reach the JSON (infinity is written as the string "inf")."""
    if isinstance(x, dict):
        for k, v in x.items():
            check_finite(v, f"{where}.{k}")
    elif isinstance(x, list):
        for i, v in enumerate(x):
            check_finite(v, f"{where}[{i}]")
    elif isinstance(x, float) and not math.isfinite(x):
        raise ValueError(f"{where}: {x}")


def main() -> None:
    os.chdir(ROOT)
    differences: list[str] = []
    expected = {
        "generated_by": "scripts/fixtures.py",
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__,
                     "sklearn": sklearn.__version__, "fairlearn": fairlearn.__version__,
                     "evidently": evidently.__version__},
        "drift": drift_expected(differences),
        "evaluate": evaluate_expected(),
        "bias": bias_expected(),
    }
    check_finite(expected)
    text = json.dumps(expected, indent=1, allow_nan=False) + "\n"
    (OUT / "expected.json").write_text(text)
    print(f"wrote {OUT_REL}/expected.json ({len(text)} bytes)")
    print("Evidently's decision differs from the DESIGN §3 automatic rule:"
          if differences else "Evidently's decisions all agree with the DESIGN §3 automatic rule")
    for d in differences:
        print("  " + d)


if __name__ == "__main__":
    main()
