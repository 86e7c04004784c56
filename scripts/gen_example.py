#!/usr/bin/env python3
"""Build the bundled EXAMPLE registry of modelgate, deterministically.

Run from the repository root, in the pinned environment of scripts/setup.sh:

    bash scripts/setup.sh
    .tools/venv/bin/python scripts/gen_example.py

Writes (same bytes on every run; demo keys are created once and then reused):

    examples/<model>/reference.parquet          training data (+ champion score, scored_at)
    examples/<model>/eval.parquet               held-out labelled evaluation set
    examples/<model>/inference/<date>.parquet   4 weekly files of scored rows, with drift
    examples/<model>/v<N>/model.onnx            the model artifacts (ZipMap-free)
    examples/fixtures/onnx_scores.json          onnxruntime scores of eval rows, per version
    examples/keys/                              DEMO-ONLY ed25519 keys, allowed_signers.txt
    registry/models/<model>/{model.yaml,aliases.yaml,versions/,approvals/}
    registry/audit.jsonl

It does not write registry/policy.yaml, registry/allowed_signers or model-cards/.
The formats are those of src/registry/schema.rs, which validate enforces.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import platform
import re
import shutil
import subprocess
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import onnxmltools
import onnxruntime as ort
import pyarrow as pa
import pyarrow.parquet as pq
import skl2onnx
import sklearn
import xgboost as xgb
from onnxmltools.convert.common.data_types import FloatTensorType as MLFloatTensorType
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import KBinsDiscretizer, OneHotEncoder, StandardScaler

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
REGISTRY = ROOT / "registry"
KEYS = EXAMPLES / "keys"
NAMESPACE = "modelgate-approval"
PRINCIPALS = {"alice": "alice@example.com", "bob": "bob@example.com", "carol": "carol@example.com"}
ROLE_OF = {"alice": "data_scientist", "carol": "compliance", "bob": "business"}
PYTHON_VERSION = platform.python_version()

N_REFERENCE = 2000
N_EVAL = 1000
N_WEEK = 800
WEEKS = ["2024-06-03", "2024-06-10", "2024-06-17", "2024-06-24"]  # Mondays, UTC
DRIFT = [0.0, 0.15, 0.5, 1.0]  # drift intensity of each week
LABELLED_WEEKS = 3  # the most recent week has no labels yet


# --------------------------------------------------------------------------------------------
# small helpers


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fake_hex(seed: str, n: int) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()[:n] if n <= 40 else hashlib.sha256(seed.encode()).hexdigest()[:n]


def ts(s: str) -> dt.datetime:
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)


def write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def with_modeline(path: Path, kind: str, text: str) -> str:
    """The YAML language server's modeline first (as `modelgate` writes it), then the text."""
    schema = os.path.relpath(ROOT / "schemas" / f"{kind}.schema.json", path.parent)
    return f"# yaml-language-server: $schema={schema}\n{text}"


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# --------------------------------------------------------------------------------------------
# YAML emitter (hand-written style: block mappings, flow maps for small records)

_YAML_WORDS = {
    "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", "",
}
_NUMBER_RE = re.compile(
    r"[-+]?(\d[\d_]*(\.\d*)?|\.\d+)([eE][-+]?\d+)?|[-+]?\.(inf|nan)|0x[0-9a-fA-F]+|0o[0-7]+|"
    r"[-+]?\d[\d_]*(:[0-5]?\d)+(\.\d*)?",
    re.IGNORECASE,
)
_PLAIN_RE = re.compile(r"[A-Za-z0-9_./<][A-Za-z0-9_./@*<>+=() -]*")


def yscalar(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(v)
        return repr(v)
    s = str(v)
    plain = (
        _PLAIN_RE.fullmatch(s)
        and s.lower() not in _YAML_WORDS
        and not _NUMBER_RE.fullmatch(s)
        and not s.endswith(" ")
        and " #" not in s
    )
    return s if plain else json.dumps(s, ensure_ascii=False)


class Q(str):
    """A string that is always written double-quoted (versions like "3.11.7")."""


def yval(v) -> str:
    if isinstance(v, Q):
        return json.dumps(str(v))
    if isinstance(v, dict):
        return "{" + ", ".join(f"{yscalar(k)}: {yval(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(yval(x) for x in v) + "]"
    return yscalar(v)


# --------------------------------------------------------------------------------------------
# synthetic data


@dataclass
class Feature:
    name: str
    kind: str  # numerical | categorical
    categories: list[str] | None = None


@dataclass
class Dataset:
    columns: dict  # name -> np.ndarray (float64 for numerical, object for strings)
    label: np.ndarray  # int64 0/1

    def take(self, idx):
        return Dataset({k: v[idx] for k, v in self.columns.items()}, self.label[idx])

    def __len__(self):
        return len(self.label)


def _cat(rng, n, cats, p):
    return np.array(cats, dtype=object)[rng.choice(len(cats), size=n, p=p)]


def _mix(p0, p1, t):
    p = (1 - t) * np.asarray(p0) + t * np.asarray(p1)
    return p / p.sum()


def _age_group(age):
    return np.where(age < 40, "<40", np.where(age <= 60, "40-60", ">60")).astype(object)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def gen_heart_disease(rng: np.random.Generator, n: int, t: float) -> Dataset:
    age = np.clip(np.round(rng.normal(50 + 7 * t, 13, n)), 25, 85)
    sex = _cat(rng, n, ["F", "M"], [0.46, 0.54])
    race = _cat(rng, n, ["asian", "black", "hispanic", "white"], [0.22, 0.24, 0.24, 0.3])
    resting_bp = np.round(rng.normal(130, 15, n) + 9 * t)
    cholesterol = np.round(rng.normal(235, 40, n) + 22 * t)
    max_heart_rate = np.round(np.clip(rng.normal(152, 20, n), 80, 205))
    st_depression = np.round(np.clip(rng.gamma(1.6, 0.7, n), 0, 6.2), 1)
    bmi = np.round(rng.normal(27.5 + 2.2 * t, 4.5, n), 1)
    glucose = np.round(rng.normal(104, 20, n) + 14 * t)
    num_vessels = rng.choice(4, size=n, p=[0.55, 0.25, 0.13, 0.07]).astype(float)
    exercise_minutes = np.round(rng.gamma(2.2, 45, n))
    chest_pain = _cat(
        rng, n, ["typical", "atypical", "non_anginal", "asymptomatic"],
        _mix([0.22, 0.26, 0.3, 0.22], [0.1, 0.18, 0.22, 0.5], t),
    )
    smoker = _cat(rng, n, ["no", "yes"], [0.74, 0.26])

    cp = {"typical": 0.7, "atypical": -0.5, "non_anginal": -0.8, "asymptomatic": 1.1}
    # mostly thresholds and interactions (trees beat logistic regression), one XOR-like term
    # (cholesterol x glucose) that shallow, short boosting finds only in part; age, sex and race
    # carry (almost) no signal so that a good model stays fair across the protected groups.
    logit = 2.0 * (
        -0.8
        + 0.12 * (sex == "M")
        + np.vectorize(cp.get)(chest_pain)
        + 1.3 * (st_depression > 1.4)
        + 1.1 * (max_heart_rate < 135)
        + 0.55 * num_vessels
        - 0.8 * (exercise_minutes > 120)
        + 0.9 * (((bmi - 27.5) / 4.5) ** 2 - 1)
        + 1.5 * ((cholesterol > 245) & (glucose > 110))
        + 1.2 * ((smoker == "yes") & (resting_bp > 135))
        + 1.2 * ((st_depression > 1.0) & (max_heart_rate < 150) & (num_vessels >= 1))
        - 0.9 * ((exercise_minutes > 90) & (bmi < 27))
        + 1.2 * np.sign((cholesterol - 235) / 40 * (glucose - 104) / 20)
    )
    label = (rng.random(n) < _sigmoid(logit)).astype(np.int64)
    cols = {
        "age": age, "resting_bp": resting_bp, "cholesterol": cholesterol,
        "max_heart_rate": max_heart_rate, "st_depression": st_depression, "bmi": bmi,
        "glucose": glucose, "num_vessels": num_vessels, "exercise_minutes": exercise_minutes,
        "sex": sex, "chest_pain": chest_pain, "smoker": smoker,
        "race": race, "age_group": _age_group(age),
    }
    return Dataset(cols, label)


def gen_diabetes(rng: np.random.Generator, n: int, t: float) -> Dataset:
    age = np.clip(np.round(rng.normal(48 + 5 * t, 13, n)), 21, 85)
    sex = _cat(rng, n, ["F", "M"], [0.52, 0.48])
    bmi = np.round(rng.normal(29 + 2.5 * t, 5.5, n), 1)
    glucose = np.round(rng.normal(112 + 12 * t, 25, n))
    blood_pressure = np.round(rng.normal(76, 11, n))
    insulin = np.round(np.clip(rng.lognormal(4.3, 0.55, n), 10, 700))
    hba1c = np.round(rng.normal(5.8, 0.7, n) + 0.35 * t, 1)
    activity = _cat(rng, n, ["low", "medium", "high"], _mix([0.35, 0.4, 0.25], [0.55, 0.3, 0.15], t))
    family_history = _cat(rng, n, ["no", "yes"], [0.7, 0.3])
    act = {"low": 0.5, "medium": 0.0, "high": -0.6}
    logit = 1.5 * (
        -1.25
        + 0.004 * (age - 48)
        + 0.03 * (bmi - 29)
        + 1.4 * (hba1c > 6.2)
        + 1.2 * ((glucose > 125) & (bmi > 30))
        + 0.8 * (glucose > 140)
        + 0.7 * ((insulin > 120) & (glucose > 110))
        + 0.8 * ((blood_pressure > 85) & (bmi > 32))
        + np.vectorize(act.get)(activity)
        + 0.7 * (family_history == "yes")
    )
    label = (rng.random(n) < _sigmoid(logit)).astype(np.int64)
    cols = {
        "age": age, "bmi": bmi, "glucose": glucose, "blood_pressure": blood_pressure,
        "insulin": insulin, "hba1c": hba1c, "physical_activity": activity,
        "family_history": family_history, "sex": sex, "age_group": _age_group(age),
    }
    return Dataset(cols, label)


def gen_readmission(rng: np.random.Generator, n: int, t: float) -> Dataset:
    age = np.clip(np.round(rng.normal(66, 13, n)), 18, 98)
    sex = _cat(rng, n, ["F", "M"], [0.51, 0.49])
    race = _cat(rng, n, ["asian", "black", "hispanic", "white"], [0.2, 0.24, 0.22, 0.34])
    length_of_stay = np.round(np.clip(rng.gamma(2.0, 2.4, n) + 1.2 * t, 1, 30))
    prior = rng.poisson(0.9 + 0.7 * t, n).astype(float)
    meds = np.round(np.clip(rng.normal(14 + 3 * t, 6, n), 1, 60))
    diagnoses = np.round(np.clip(rng.normal(7, 2.2, n), 1, 16))
    labs = np.round(np.clip(rng.normal(42, 18, n), 1, 120))
    emergency_visits = rng.poisson(0.5, n).astype(float)
    hba1c = np.round(rng.normal(6.6, 1.1, n), 1)
    admission = _cat(rng, n, ["emergency", "urgent", "elective"], [0.55, 0.2, 0.25])
    discharge = _cat(
        rng, n, ["home", "home_health", "skilled_nursing", "other"],
        _mix([0.55, 0.2, 0.17, 0.08], [0.4, 0.22, 0.28, 0.1], t),
    )
    dis = {"home": -0.3, "home_health": 0.1, "skilled_nursing": 0.6, "other": 0.2}
    logit = 1.5 * (
        -1.05
        + 0.45 * np.minimum(prior, 4)
        + 0.6 * (length_of_stay > 7)
        + 0.04 * (meds - 14)
        + 0.1 * (diagnoses - 7)
        + 0.45 * emergency_visits
        + 0.9 * ((hba1c > 8) & (meds > 15))
        + 0.6 * ((prior >= 2) & (discharge == "skilled_nursing"))
        + np.vectorize(dis.get)(discharge)
        + 0.3 * (admission == "emergency")
    )
    label = (rng.random(n) < _sigmoid(logit)).astype(np.int64)
    cols = {
        "age": age, "length_of_stay": length_of_stay, "num_prior_admissions": prior,
        "num_medications": meds, "num_diagnoses": diagnoses, "num_lab_procedures": labs,
        "num_emergency_visits": emergency_visits, "hba1c": hba1c,
        "admission_type": admission, "discharge_disposition": discharge,
        "sex": sex, "race": race,
    }
    return Dataset(cols, label)


# --------------------------------------------------------------------------------------------
# models


@dataclass
class VersionSpec:
    number: int
    kind: str  # lr_plain | lr_engineered | xgb
    created_at: str
    seed: int
    hyper: dict
    code_version: str
    tags: dict
    archived_at: str | None = None


@dataclass
class ModelSpec:
    name: str
    prefix: str  # id prefix of inference rows
    description: str
    owner: str
    features: list[Feature]
    protected: list[str]
    extra_columns: list[str]  # protected attributes that are not features
    gen: callable
    seed: int
    week_seed: int
    raw_table: str
    image: str
    versions: list[VersionSpec]
    aliases: dict  # alias -> version
    events: list = field(default_factory=list)  # (at, actor, action, version, alias, details)
    approvals: list = field(default_factory=list)  # (version, alias, who, approved_at)


def encode(ds: Dataset, features: list[Feature]) -> np.ndarray:
    """The model input: float32, feature order of model.yaml, categories as their index."""
    out = np.empty((len(ds), len(features)), dtype=np.float32)
    for j, f in enumerate(features):
        col = ds.columns[f.name]
        if f.kind == "categorical":
            index = {c: i for i, c in enumerate(f.categories)}
            out[:, j] = np.array([index[x] for x in col], dtype=np.float32)
        else:
            out[:, j] = col.astype(np.float32)
    return out


def train_and_export(spec: ModelSpec, v: VersionSpec, X: np.ndarray, y: np.ndarray) -> bytes:
    nfeat = X.shape[1]
    num_idx = [i for i, f in enumerate(spec.features) if f.kind == "numerical"]
    cat_idx = [i for i, f in enumerate(spec.features) if f.kind == "categorical"]
    graph_name = f"{spec.name}_v{v.number}"
    if v.kind == "xgb":
        model = xgb.XGBClassifier(
            n_estimators=v.hyper["n_estimators"],
            max_depth=v.hyper["max_depth"],
            learning_rate=v.hyper["learning_rate"],
            n_jobs=1,
            random_state=v.seed,
            tree_method="hist",
            objective="binary:logistic",
            base_score=0.5,
        )
        model.fit(X, y)
        onx = onnxmltools.convert_xgboost(
            model,
            name=graph_name,
            initial_types=[("input", MLFloatTensorType([None, nfeat]))],
            target_opset=15,
        )
        ref = model.predict_proba(X[:200])[:, 1]
    else:
        lr = LogisticRegression(C=v.hyper["C"], max_iter=v.hyper["max_iter"], solver="lbfgs",
                                random_state=v.seed)
        if v.kind == "lr_plain":
            model = Pipeline([("scale", StandardScaler()), ("lr", lr)])
        else:
            cats = [[float(i) for i in range(len(spec.features[i].categories))] for i in cat_idx]
            pre = ColumnTransformer(
                [
                    ("num", StandardScaler(), num_idx),
                    ("bins", KBinsDiscretizer(n_bins=v.hyper["n_bins"], encode="onehot-dense",
                                              strategy="quantile",
                                              quantile_method="averaged_inverted_cdf"), num_idx),
                    ("cat", OneHotEncoder(categories=cats, handle_unknown="ignore",
                                          sparse_output=False), cat_idx),
                ]
            )
            model = Pipeline([("pre", pre), ("lr", lr)])
        model.fit(X, y)
        onx = convert_sklearn(
            model,
            name=graph_name,
            initial_types=[("input", FloatTensorType([None, nfeat]))],
            target_opset={"": 15, "ai.onnx.ml": 3},
            options={id(model): {"zipmap": False}},
        )
        # skl2onnx names the outputs output_label / output_probability: rename to the contract.
        rename = {"output_label": "label", "output_probability": "probabilities"}
        for node in onx.graph.node:
            node.output[:] = [rename.get(o, o) for o in node.output]
            node.input[:] = [rename.get(o, o) for o in node.input]
        for out in onx.graph.output:
            out.name = rename.get(out.name, out.name)
        ref = model.predict_proba(X[:200])[:, 1]
    # skl2onnx may list the same opset twice: keep one of each
    seen, imports = set(), []
    for op in onx.opset_import:
        if (op.domain, op.version) not in seen:
            seen.add((op.domain, op.version))
            imports.append((op.domain, op.version))
    del onx.opset_import[:]
    for domain, version in imports:
        onx.opset_import.add(domain=domain, version=version)
    onx.producer_name = "modelgate-example"
    onx.doc_string = f"{spec.name} v{v.number} (synthetic example, scripts/gen_example.py)"
    del onx.metadata_props[:]
    for k, val in (("model", spec.name), ("version", str(v.number)),
                   ("features", ",".join(f.name for f in spec.features))):
        p = onx.metadata_props.add()
        p.key, p.value = k, val
    onnx.checker.check_model(onx)
    data = onx.SerializeToString(deterministic=True)
    got = score_onnx(data, X[:200])
    err = float(np.max(np.abs(got - ref)))
    if err > 1e-5:
        raise SystemExit(f"{graph_name}: onnx and native predictions differ by {err}")
    return data


def score_onnx(model_bytes: bytes, X: np.ndarray) -> np.ndarray:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    assert [i.name for i in sess.get_inputs()] == ["input"], sess.get_inputs()
    assert names == ["label", "probabilities"], names
    _, prob = sess.run(None, {"input": X.astype(np.float32)})
    return prob[:, 1].astype(np.float64)


def metrics(y: np.ndarray, score: np.ndarray) -> dict:
    pred = (score >= 0.5).astype(int)
    return {
        "roc_auc": round(float(roc_auc_score(y, score)), 4),
        "precision": round(float(precision_score(y, pred, zero_division=0)), 4),
        "recall": round(float(recall_score(y, pred, zero_division=0)), 4),
        "f1": round(float(f1_score(y, pred, zero_division=0)), 4),
        "accuracy": round(float(accuracy_score(y, pred)), 4),
    }


def bias(ds: Dataset, protected: list[str], score: np.ndarray) -> dict:
    """Per attribute: the three differences (max - min across groups, as Fairlearn computes them)
    and each group's rates, as `modelgate register --evaluate` writes them."""
    y = ds.label
    pred = score >= 0.5
    out = {}
    for attr in protected:
        col = ds.columns[attr]
        sel, tpr, prec, groups = [], [], [], {}
        for g in sorted(set(col)):
            m = col == g
            sel.append(pred[m].mean())
            pos = m & (y == 1)
            tpr.append(pred[pos].mean() if pos.any() else 0.0)
            neg = m & (y == 0)
            fpr = pred[neg].mean() if neg.any() else 0.0
            pp = m & pred
            prec.append((y[pp] == 1).mean() if pp.any() else 0.0)
            groups[str(g)] = {
                "count": int(m.sum()),
                "selection_rate": round(float(sel[-1]), 4),
                "tpr": round(float(tpr[-1]), 4),
                "fpr": round(float(fpr), 4),
                "precision": round(float(prec[-1]), 4),
            }
        out[attr] = {
            "demographic_parity": round(float(max(sel) - min(sel)), 4),
            "equal_opportunity": round(float(max(tpr) - min(tpr)), 4),
            "predictive_parity": round(float(max(prec) - min(prec)), 4),
            "groups": groups,
        }
    return out


# --------------------------------------------------------------------------------------------
# parquet


def table(spec: ModelSpec, ds: Dataset, *, ids=None, score=None, scored_at=None,
          label_null=False) -> pa.Table:
    arrays, names = [], []
    if ids is not None:
        arrays.append(pa.array(ids, type=pa.string()))
        names.append("id")
    for f in spec.features:
        col = ds.columns[f.name]
        arrays.append(pa.array(col.astype(np.float64)) if f.kind == "numerical"
                      else pa.array(list(col), type=pa.string()))
        names.append(f.name)
    for c in spec.extra_columns:
        arrays.append(pa.array(list(ds.columns[c]), type=pa.string()))
        names.append(c)
    if label_null:
        arrays.append(pa.nulls(len(ds), type=pa.int64()))
    else:
        arrays.append(pa.array(ds.label, type=pa.int64()))
    names.append("label")
    if score is not None:
        arrays.append(pa.array(score, type=pa.float64()))
        names.append("score")
    if scored_at is not None:
        arrays.append(pa.array(scored_at, type=pa.timestamp("us", tz="UTC")))
        names.append("scored_at")
    return pa.Table.from_arrays(arrays, names=names)


def write_parquet(path: Path, tbl: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(tbl, path, compression="zstd", compression_level=9, use_dictionary=True,
                   write_statistics=True, row_group_size=100_000)


def spread(rng, n, start: dt.datetime, days: int) -> np.ndarray:
    secs = np.sort(rng.integers(0, days * 86400, n))
    base = np.datetime64(start.replace(tzinfo=None), "us")
    return base + secs.astype("timedelta64[s]").astype("timedelta64[us]")


# --------------------------------------------------------------------------------------------
# keys, signatures


def ensure_keys() -> dict:
    KEYS.mkdir(parents=True, exist_ok=True)
    pubs = {}
    for who, principal in PRINCIPALS.items():
        key = KEYS / who
        if not key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", principal,
                            "-f", str(key)], check=True)
        os.chmod(key, 0o600)  # ssh-keygen refuses private keys readable by others
        pub = (KEYS / f"{who}.pub").read_text().split()
        pubs[who] = f"{pub[0]} {pub[1]}"
    lines = "".join(
        f'{PRINCIPALS[w]} namespaces="modelgate-approval,git" {pubs[w]}\n' for w in sorted(PRINCIPALS)
    )
    write_text(KEYS / "allowed_signers.txt", lines)
    write_text(KEYS / "README.md", KEYS_README)
    return pubs


KEYS_README = """# Demo keys

**DEMO-ONLY KEYS. The private keys in this folder are public: they are committed to this
repository for the bundled example. Never trust them for anything — not for a real approval,
not for git commits, not for any login. Never add them to a real `allowed_signers`.**

They sign the example approvals under `registry/models/*/approvals/` (OpenSSH SSHSIG, namespace
`modelgate-approval`):

| principal | role | key |
| --- | --- | --- |
| alice@example.com | data_scientist | `alice`, `alice.pub` |
| bob@example.com | business | `bob`, `bob.pub` |
| carol@example.com | compliance | `carol`, `carol.pub` |

`allowed_signers.txt` lists them in git's allowed_signers format; `registry/allowed_signers` is a
copy of it. The keys were made with `ssh-keygen -t ed25519 -N "" -C <principal>`;
`scripts/gen_example.py` creates them only when they are missing. ssh-keygen refuses a private key
that others can read: `chmod 600 examples/keys/alice` after a fresh checkout.
"""


def canonical(stmt: dict) -> bytes:
    return json.dumps(stmt, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(who: str, message: bytes) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        msg = Path(tmp) / "message"
        msg.write_bytes(message)
        subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-n", NAMESPACE, "-f", str(KEYS / who),
                        str(msg)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return (Path(tmp) / "message.sig").read_text()


def verify(principal: str, message: bytes, signature: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sig = Path(tmp) / "sig"
        sig.write_text(signature)
        r = subprocess.run(
            ["ssh-keygen", "-Y", "verify", "-f", str(KEYS / "allowed_signers.txt"), "-I", principal,
             "-n", NAMESPACE, "-s", str(sig)],
            input=message, capture_output=True,
        )
        if r.returncode != 0:
            raise SystemExit(f"signature of {principal} does not verify: {r.stdout!r} {r.stderr!r}")


# --------------------------------------------------------------------------------------------
# the three example models


def F(name, kind="numerical", categories=None):
    return Feature(name, kind, categories)


MODELS = [
    ModelSpec(
        name="heart_disease",
        prefix="hd",
        description="Risk of heart disease within 12 months (synthetic example data).",
        owner="cardiology-ml@example.com",
        features=[
            F("age"), F("resting_bp"), F("cholesterol"), F("max_heart_rate"), F("st_depression"),
            F("bmi"), F("glucose"), F("num_vessels"), F("exercise_minutes"),
            F("sex", "categorical", ["F", "M"]),
            F("chest_pain", "categorical", ["typical", "atypical", "non_anginal", "asymptomatic"]),
            F("smoker", "categorical", ["no", "yes"]),
        ],
        protected=["sex", "race", "age_group"],
        extra_columns=["race", "age_group"],
        gen=gen_heart_disease,
        seed=1008,
        week_seed=2,
        raw_table="patients_table_v2",
        image="registry.example.com/heart-disease",
        versions=[
            VersionSpec(1, "lr_plain", "2024-01-10T09:30:00Z", 101,
                        {"model": "logistic_regression", "C": 1.0, "penalty": "l2", "max_iter": 1000},
                        "v1.0.0", {"framework": "sklearn", "status": "retired"},
                        archived_at="2024-02-09T16:05:00Z"),
            VersionSpec(2, "lr_engineered", "2024-02-05T10:15:00Z", 202,
                        {"model": "logistic_regression", "C": 0.3, "penalty": "l2", "max_iter": 2000,
                         "n_bins": 5, "one_hot": True},
                        "v1.1.0", {"framework": "sklearn", "status": "superseded"}),
            VersionSpec(3, "xgb", "2024-03-18T11:00:00Z", 333,
                        {"n_estimators": 30, "max_depth": 3, "learning_rate": 0.1},
                        "v2.0.0", {"framework": "xgboost", "status": "production_ready"}),
            VersionSpec(4, "xgb", "2024-05-27T13:20:00Z", 404,
                        {"n_estimators": 50, "max_depth": 4, "learning_rate": 0.1},
                        "v2.1.0", {"framework": "xgboost", "status": "candidate"}),
        ],
        aliases={"champion": 3, "challenger": 4},
        events=[
            ("2024-01-12T15:00:00Z", "alice", "promote", 1, "champion", None),
            ("2024-02-09T16:00:00Z", "alice", "promote", 2, "champion", 1),
            ("2024-02-09T16:05:00Z", "alice", "archive", 1, None, None),
            ("2024-03-22T10:00:00Z", "alice", "promote", 3, "champion", 2),
            ("2024-05-29T10:00:00Z", "alice", "promote", 4, "challenger", None),
        ],
        approvals=[
            (3, "champion", "alice", "2024-03-19T10:00:00Z"),
            (3, "champion", "carol", "2024-03-20T14:30:00Z"),
            (3, "champion", "bob", "2024-03-21T09:45:00Z"),
            (4, "challenger", "alice", "2024-05-28T09:00:00Z"),
        ],
    ),
    ModelSpec(
        name="diabetes",
        prefix="db",
        description="Onset of type 2 diabetes within 5 years (synthetic example data).",
        owner="endocrinology-ml@example.com",
        features=[
            F("age"), F("bmi"), F("glucose"), F("blood_pressure"), F("insulin"), F("hba1c"),
            F("physical_activity", "categorical", ["low", "medium", "high"]),
            F("family_history", "categorical", ["no", "yes"]),
        ],
        protected=["sex", "age_group"],
        extra_columns=["sex", "age_group"],
        gen=gen_diabetes,
        seed=2005,
        week_seed=3,
        raw_table="lab_results_v1",
        image="registry.example.com/diabetes",
        versions=[
            VersionSpec(1, "lr_plain", "2024-01-22T10:00:00Z", 111,
                        {"model": "logistic_regression", "C": 1.0, "penalty": "l2", "max_iter": 1000},
                        "v0.9.0", {"framework": "sklearn", "status": "superseded"}),
            VersionSpec(2, "xgb", "2024-04-08T10:30:00Z", 222,
                        {"n_estimators": 40, "max_depth": 3, "learning_rate": 0.1},
                        "v1.0.0", {"framework": "xgboost", "status": "production_ready"}),
        ],
        aliases={"champion": 2},
        events=[
            ("2024-01-25T11:00:00Z", "alice", "promote", 1, "champion", None),
            ("2024-04-12T10:00:00Z", "alice", "promote", 2, "champion", 1),
        ],
        approvals=[
            (2, "champion", "alice", "2024-04-09T09:15:00Z"),
            (2, "champion", "carol", "2024-04-10T13:00:00Z"),
            (2, "champion", "bob", "2024-04-11T16:20:00Z"),
        ],
    ),
    ModelSpec(
        name="readmission",
        prefix="rd",
        description="Hospital readmission within 30 days of discharge (synthetic example data).",
        owner="hospital-ops-ml@example.com",
        features=[
            F("age"), F("length_of_stay"), F("num_prior_admissions"), F("num_medications"),
            F("num_diagnoses"), F("num_lab_procedures"), F("num_emergency_visits"), F("hba1c"),
            F("admission_type", "categorical", ["emergency", "urgent", "elective"]),
            F("discharge_disposition", "categorical",
              ["home", "home_health", "skilled_nursing", "other"]),
        ],
        protected=["sex", "race"],
        extra_columns=["sex", "race"],
        gen=gen_readmission,
        seed=3012,
        week_seed=3,
        raw_table="encounters_v3",
        image="registry.example.com/readmission",
        versions=[
            VersionSpec(1, "xgb", "2024-02-19T09:00:00Z", 321,
                        {"n_estimators": 40, "max_depth": 3, "learning_rate": 0.1},
                        "v1.0.0", {"framework": "xgboost", "status": "production_ready"}),
        ],
        aliases={"champion": 1},
        events=[
            ("2024-02-23T10:00:00Z", "alice", "promote", 1, "champion", None),
        ],
        approvals=[
            (1, "champion", "alice", "2024-02-20T10:30:00Z"),
            (1, "champion", "carol", "2024-02-21T11:00:00Z"),
            (1, "champion", "bob", "2024-02-22T15:40:00Z"),
        ],
    ),
]


# --------------------------------------------------------------------------------------------
# registry files


def model_yaml(spec: ModelSpec) -> str:
    lines = [
        f"name: {spec.name}",
        f"description: {yscalar(spec.description)}",
        f"owner: {spec.owner}",
        "task: binary_classification",
        "features:",
    ]
    for f in spec.features:
        if f.kind == "categorical":
            lines.append(f"  - {{name: {f.name}, type: categorical, categories: {yval(f.categories)}}}")
        else:
            lines.append(f"  - {{name: {f.name}, type: numerical}}")
    lines += [
        f"protected_attributes: {yval(spec.protected)}",
        "label: label",
        "monitoring:",
        f"  reference: examples/{spec.name}/reference.parquet",
        f"  current: examples/{spec.name}/inference/*.parquet",
        "  timestamp: scored_at",
        "  window_days: 7",
        "policy: {}",
    ]
    return "\n".join(lines) + "\n"


def version_yaml(spec: ModelSpec, v: VersionSpec, artifact: Path, dataset: Path, rows: int,
                 mets: dict, bias_: dict) -> str:
    created = ts(v.created_at)
    snap = (created - dt.timedelta(days=3)).strftime("%Y%m%d")
    raw_from = (created - dt.timedelta(days=120)).strftime("%Y-%m-%d")
    raw_to = (created - dt.timedelta(days=4)).strftime("%Y-%m-%d")
    if v.kind == "xgb":
        packages = {"xgboost": Q(xgb.__version__), "onnxmltools": Q(onnxmltools.__version__)}
    else:
        packages = {"scikit-learn": Q(sklearn.__version__), "skl2onnx": Q(skl2onnx.__version__)}
    packages["numpy"] = Q(np.__version__)
    packages["onnx"] = Q(onnx.__version__)
    env = {"python": Q(PYTHON_VERSION), "image": Q(f"{spec.image}:v{v.number}"), "packages": packages}
    day = created.strftime("%Y%m%d")
    lines = [
        f"version: {v.number}",
        f"created_at: {v.created_at}",
        f"created_by: {PRINCIPALS['alice']}",
        "artifact: " + yval({"uri": rel(artifact), "sha256": sha256_file(artifact), "format": "onnx"}),
        "training:",
        f"  run_id: run_{fake_hex(f'run/{spec.name}/{v.number}', 6)}",
        f"  experiment: {spec.name}_{day}_{'xgb' if v.kind == 'xgb' else 'logreg'}",
        f"  git_commit: {yscalar(fake_hex(f'commit/{spec.name}/{v.number}', 40))}",
        f"  code_version: {v.code_version}",
        f"  random_seed: {v.seed}",
        "  dataset: " + yval({"uri": rel(dataset), "sha256": sha256_file(dataset),
                              "snapshot": f"feature_snapshot_{snap}", "rows": rows}),
        f"  raw_data: {spec.raw_table} ({raw_from} to {raw_to})",
        f"  pipeline: ETL_job_{snap}",
        "  environment: " + yval(env),
        "hyperparameters: " + yval(v.hyper),
        "metrics: " + yval(mets),
        "bias:",
    ]
    for attr in spec.protected:
        b = bias_[attr]
        lines.append(f"  {attr}:")
        for k in ("demographic_parity", "equal_opportunity", "predictive_parity"):
            lines.append(f"    {k}: {yscalar(b[k])}")
        lines.append("    groups:")
        for g, rates in b["groups"].items():
            lines.append(f"      {yscalar(g)}: {yval(rates)}")
    lines += [
        "tags: " + yval(v.tags),
        f"archived_at: {v.archived_at if v.archived_at else 'null'}",
    ]
    return "\n".join(lines) + "\n"


def aliases_yaml(spec: ModelSpec) -> str:
    return "".join(f"{a}: {n}\n" for a, n in spec.aliases.items())


def approval_yaml(stmt: dict, signature: str) -> str:
    lines = ["statement:"]
    for k in ("model", "version", "alias", "version_sha256", "artifact_sha256", "role", "principal",
              "approved_at"):
        lines.append(f"  {k}: {yscalar(stmt[k]) if k != 'approved_at' else stmt[k]}")
    lines.append("signature: |")
    lines += ["  " + ln for ln in signature.rstrip("\n").split("\n")]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# main


def build_model(spec: ModelSpec, audit_events: list, fixtures: list, summary: list) -> None:
    ss = np.random.SeedSequence(spec.seed)
    r_ref, r_eval, r_time = [np.random.default_rng(s) for s in ss.spawn(3)]
    # the weekly streams have their own seed, chosen so that week 1 shows no drift
    week_ss = np.random.SeedSequence([spec.seed, 7, spec.week_seed])
    r_weeks = [np.random.default_rng(s) for s in week_ss.spawn(len(WEEKS))]
    ref = spec.gen(r_ref, N_REFERENCE, 0.0)
    ev = spec.gen(r_eval, N_EVAL, 0.0)
    weeks = [spec.gen(r, N_WEEK, DRIFT[i]) for i, r in enumerate(r_weeks)]

    ex = EXAMPLES / spec.name
    reg = REGISTRY / "models" / spec.name
    for d in (ex, reg / "versions", reg / "approvals"):
        shutil.rmtree(d, ignore_errors=True)
    for f in (reg / "model.yaml", reg / "aliases.yaml"):
        f.unlink(missing_ok=True)

    X_ref, y_ref = encode(ref, spec.features), ref.label
    X_ev = encode(ev, spec.features)

    # train every version, export its artifact, score with onnxruntime
    artifacts, ev_scores = {}, {}
    for v in spec.versions:
        data = train_and_export(spec, v, X_ref, y_ref)
        path = ex / f"v{v.number}" / "model.onnx"
        write_bytes(path, data)
        artifacts[v.number] = path
        ev_scores[v.number] = score_onnx(data, X_ev)

    champion = artifacts[spec.aliases["champion"]].read_bytes()

    # data files
    ref_time = spread(r_time, N_REFERENCE, ts(spec.versions[0].created_at) - dt.timedelta(days=40), 28)
    write_parquet(ex / "reference.parquet",
                  table(spec, ref, score=score_onnx(champion, X_ref), scored_at=ref_time))
    write_parquet(ex / "eval.parquet", table(spec, ev))
    next_id = 1
    for i, (day, wk) in enumerate(zip(WEEKS, weeks)):
        ids = [f"{spec.prefix}-{k:06d}" for k in range(next_id, next_id + len(wk))]
        next_id += len(wk)
        when = spread(r_time, len(wk), ts(f"{day}T00:00:00Z"), 7)
        write_parquet(ex / "inference" / f"{day}.parquet",
                      table(spec, wk, ids=ids, score=score_onnx(champion, encode(wk, spec.features)),
                            scored_at=when, label_null=i >= LABELLED_WEEKS))

    # registry
    write_text(reg / "model.yaml", with_modeline(reg / "model.yaml", "model", model_yaml(spec)))
    write_text(reg / "aliases.yaml",
               with_modeline(reg / "aliases.yaml", "aliases", aliases_yaml(spec)))
    for v in spec.versions:
        mets = metrics(ev.label, ev_scores[v.number])
        b = bias(ev, spec.protected, ev_scores[v.number])
        text = version_yaml(spec, v, artifacts[v.number], ex / "reference.parquet", len(ref), mets, b)
        vpath = reg / "versions" / f"v{v.number}.yaml"
        write_text(vpath, with_modeline(vpath, "version", text))
        audit_events.append((v.created_at, PRINCIPALS["alice"], "register", spec.name, v.number, None,
                             {"artifact_sha256": sha256_file(artifacts[v.number])}))
        worst = {a: max(x for k, x in d.items() if k != "groups") for a, d in b.items()}
        summary.append((spec.name, v.number, mets, worst))
        fixtures.append({
            "model": spec.name,
            "version": v.number,
            "artifact": rel(artifacts[v.number]),
            "data": rel(ex / "eval.parquet"),
            "rows": 50,
            "scores": [float(x) for x in ev_scores[v.number][:50]],
        })

    for at, who, action, version, alias, old in spec.events:
        details = {"from": old, "to": version} if action == "promote" else {"reason": "superseded"}
        audit_events.append((at, PRINCIPALS[who], action, spec.name, version, alias, details))

    vspec = {v.number: v for v in spec.versions}
    for version, alias, who, approved_at in spec.approvals:
        vfile = reg / "versions" / f"v{version}.yaml"
        assert ts(approved_at) > ts(vspec[version].created_at)
        stmt = {
            "model": spec.name,
            "version": version,
            "alias": alias,
            "version_sha256": sha256_file(vfile),
            "artifact_sha256": sha256_file(artifacts[version]),
            "role": ROLE_OF[who],
            "principal": PRINCIPALS[who],
            "approved_at": approved_at,
        }
        msg = canonical(stmt)
        sig = sign(who, msg)
        verify(PRINCIPALS[who], msg, sig)
        name = f"v{version}-{alias}-{ROLE_OF[who]}-{PRINCIPALS[who]}.yaml"
        apath = reg / "approvals" / name
        write_text(apath, with_modeline(apath, "approval", approval_yaml(stmt, sig)))
        audit_events.append((approved_at, PRINCIPALS[who], "approve", spec.name, version, alias,
                             {"role": ROLE_OF[who], "principal": PRINCIPALS[who]}))


def write_audit(events: list) -> None:
    events = sorted(events, key=lambda e: ts(e[0]))
    assert len({e[0] for e in events}) == len(events), "audit timestamps must be distinct"
    prev = "0" * 64
    out = []
    for seq, (at, actor, action, model, version, alias, details) in enumerate(events, start=1):
        line = json.dumps(
            {"seq": seq, "at": at, "actor": actor, "action": action, "model": model,
             "version": version, "alias": alias, "details": details, "prev": prev},
            separators=(",", ":"), ensure_ascii=False,
        )
        prev = hashlib.sha256(line.encode()).hexdigest()
        out.append(line + "\n")
    write_text(REGISTRY / "audit.jsonl", "".join(out))


def check_story(summary: list) -> None:
    auc = {(m, v): mets["roc_auc"] for m, v, mets, _ in summary}
    full = {(m, v): (mets, worst) for m, v, mets, worst in summary}
    hd = [auc[("heart_disease", v)] for v in (1, 2, 3, 4)]
    problems = []
    if not hd[0] < hd[1] < hd[2] < hd[3]:
        problems.append(f"heart_disease roc_auc not increasing: {hd}")
    if not hd[3] >= hd[2] + 0.02:
        problems.append(f"heart_disease v4 roc_auc {hd[3]} < v3 {hd[2]} + 0.02")
    m3, _ = full[("heart_disease", 3)]
    m4, w4 = full[("heart_disease", 4)]
    for k in ("precision", "recall"):
        if m4[k] < 0.95 * m3[k]:
            problems.append(f"heart_disease v4 {k} {m4[k]} < 0.95 x v3 {m3[k]}")
    if max(w4.values()) >= 0.10:
        problems.append(f"heart_disease v4 bias disparity >= 0.10: {w4}")
    if not auc[("diabetes", 2)] >= auc[("diabetes", 1)] + 0.02:
        problems.append("diabetes v2 does not beat v1 by 0.02")
    if problems:
        raise SystemExit("the example's story does not hold:\n  " + "\n  ".join(problems))


def main() -> None:
    os.chdir(ROOT)
    # quantile bins of few-valued columns (num_vessels) collapse: expected, not worth a warning
    warnings.filterwarnings("ignore", message="Bins whose width are too small")
    if shutil.which("ssh-keygen") is None:
        raise SystemExit("ssh-keygen not found: run scripts/setup.sh")
    ensure_keys()
    audit_events, fixtures, summary = [], [], []
    for spec in MODELS:
        build_model(spec, audit_events, fixtures, summary)
    write_audit(audit_events)
    write_text(EXAMPLES / "fixtures" / "onnx_scores.json",
               json.dumps({"tolerance": 1e-6, "entries": fixtures}, indent=1) + "\n")
    for m, v, mets, worst in summary:
        print(f"{m} v{v}: " + " ".join(f"{k}={x}" for k, x in mets.items())
              + "  max-disparity " + " ".join(f"{a}={x}" for a, x in worst.items()))
    check_story(summary)
    print("ok")


if __name__ == "__main__":
    main()
