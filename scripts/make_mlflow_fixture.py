"""Writes tests/data/mlflow/: MLflow tracking stores made by the real `mlflow` package, the input
of the tests of `modelgate import mlflow <mlruns-dir | sqlite-file>`.

Run with its own venv (mlflow is not in scripts/requirements.txt):

    python3 -m venv .tools/mlflow-venv
    .tools/mlflow-venv/bin/pip install -r scripts/requirements-mlflow.txt
    .tools/mlflow-venv/bin/python scripts/make_mlflow_fixture.py

Idempotent: it deletes and recreates tests/data/mlflow/. It writes the stores under the fixed
staging folder /tmp/modelgate-mlflow-fixture/ and then moves them into tests/data/mlflow/, so the
absolute paths that MLflow records (experiment artifact_location, run artifact_uri, model version
source / storage_location) all start with file:///tmp/modelgate-mlflow-fixture/... and point at a
folder that no longer exists: the importer must relocate a moved store.

What it makes (same content, same run ids and timestamps, in both backends):
  filestore/mlruns/         file store (tracking URI file:...)
  sqlite/mlflow.db          SQLite store (sqlite:///...), artifacts in sqlite/mlruns/<exp>/<run>/
                            and sqlite/mlruns/<exp>/models/m-<id>/artifacts/
  Both hold ONNX models registered from run artifacts (churn_model, Fraud-Detector), and the
  MLflow 3 way (see build_mlflow3): heart_disease (scikit-learn) and credit_xgb (XGBoost), each
  with one version logged as a logged model (source models:/m-<id>) and one from run artifacts,
  dataset inputs, metrics out of step order, a metric an evaluation run logged to the logged
  model only (val_f1), aliases `prod`/`staging`/`candidate`, and heart_disease v3 whose run is
  deleted after registering.
  bad-deleted-run/mlruns/   churn_model v2's run is deleted (lifecycle_stage: deleted)
  bad-missing-run/mlruns/   churn_model v2's run folder was removed after registering
  bad-metric-space/mlruns/  churn_model v2's run has the metric key "val auc"

Deterministic: uuid4 is seeded per entity, time.time (and MLmodel's utc_time_created) is a
fake clock starting at 2025-01-15T09:00:00Z, the environment's context tags (script path, git
branch and commit) are not recorded, and the scikit-learn/XGBoost models are trained
single-threaded on seeded data; mlflow.db is then rewritten in a canonical order (SQLAlchemy writes indexes
and table constraints in set order) with 1 KiB pages (see canonicalize_sqlite). Re-running gives
byte-identical files.
"""
import hashlib
import os
import random
import shutil
import sqlite3
import sys
import time
import uuid
from datetime import datetime, timezone

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "tests", "data", "mlflow")
STAGE = "/tmp/modelgate-mlflow-fixture"

# --- determinism, installed before mlflow is imported --------------------------------------
for _k in [k for k in os.environ if k.startswith("MLFLOW_")]:
    del os.environ[_k]
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["DO_NOT_TRACK"] = "true"
# MLflow >= 3.x keeps the file store in "maintenance mode" and refuses it without this opt-out.
os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"

_uuid_rng = random.Random(0)


def seed_ids(label):
    """Makes the next uuid4() calls depend only on `label` (so both backends get the same ids)."""
    _uuid_rng.seed(hashlib.sha256(label.encode()).digest())


def _uuid4():
    return uuid.UUID(int=_uuid_rng.getrandbits(128), version=4)


uuid.uuid4 = _uuid4
random.seed(0)

BASE_MS = 1736931600000  # 2025-01-15T09:00:00Z


class FakeClock:
    """time.time(): the time last set by the script (it stands still in between, so both backends
    record the same timestamps). time.monotonic and time.sleep are untouched."""

    def __init__(self):
        self.ms = BASE_MS

    def set(self, ms):
        self.ms = ms

    def __call__(self):
        return (self.ms + 0.4) / 1000.0  # +0.4 ms: int(t * 1000) gives back exactly self.ms


clock = FakeClock()
time.time = clock

import numpy as np  # noqa: E402
import onnx  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Param  # noqa: E402
from mlflow.models import Model  # noqa: E402
from mlflow.tracking._tracking_service import utils as tracking_utils  # noqa: E402
import mlflow.models.model as _mlflow_model_module  # noqa: E402
import mlflow.sklearn  # noqa: E402
import mlflow.xgboost  # noqa: E402
import sklearn  # noqa: E402
import xgboost  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402


class _FakeDatetime(datetime):
    """MLmodel's utc_time_created comes from datetime.now(): the fake clock's time instead."""

    @classmethod
    def now(cls, tz=None):
        return datetime.fromtimestamp(clock() , tz or timezone.utc)


_mlflow_model_module.datetime = _FakeDatetime

# The fluent API (start_run, log_model) adds tags from the environment — the script's path, the
# git branch and commit of this checkout — which change from one checkout to the next: only the
# tags the script gives are kept.
from mlflow.tracking.context import registry as _context_registry  # noqa: E402

_context_registry.resolve_tags = lambda tags=None, ignore=None: dict(tags or {})

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR


def onnx_model(name, version, coef, intercept):
    """A 3-feature logistic classifier (Scaler + LinearClassifier, like examples/*/v1): input
    'input' float[N,3], outputs 'label' int64[N] and 'probabilities' float[N,2]."""
    scaler = helper.make_node(
        "Scaler", ["input"], ["scaled"], domain="ai.onnx.ml", name="Scaler",
        offset=[0.5, 12.0, 70.0], scale=[2.0, 0.1, 0.02],
    )
    clf = helper.make_node(
        "LinearClassifier", ["scaled"], ["label", "probabilities"], domain="ai.onnx.ml",
        name="LinearClassifier", classlabels_ints=[0, 1],
        coefficients=[-c for c in coef] + list(coef), intercepts=[-intercept, intercept],
        multi_class=0, post_transform="LOGISTIC",
    )
    graph = helper.make_graph(
        [scaler, clf], f"{name}_v{version}",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 3])],
        [helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
         helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 2])],
    )
    m = helper.make_model(
        graph, producer_name="modelgate-mlflow-fixture", ir_version=8,
        opset_imports=[helper.make_opsetid("", 15), helper.make_opsetid("ai.onnx.ml", 1)],
    )
    m.doc_string = f"{name} v{version} (synthetic MLflow fixture, scripts/make_mlflow_fixture.py)"
    for k, v in (("features", "tenure,monthly_charges,age"),):
        m.metadata_props.add(key=k, value=v)
    onnx.checker.check_model(m)
    data = m.SerializeToString()
    assert len(data) < 2048, len(data)
    return data


def git_sha(label):
    return hashlib.sha1(label.encode()).hexdigest()


# One entry per run; "model"/"version" say which registered version it becomes.
RUNS = [
    dict(key="churn-1", exp="churn", model="churn_model", run_name="churn-gbm-baseline",
         params=dict(n_estimators="100", max_depth="3", learning_rate="0.1"),
         metrics={"roc_auc": [0.71, 0.78, 0.80], "accuracy": [0.70, 0.74, 0.75],
                  "log_loss": [0.61, 0.55, 0.52]},
         coef=[0.8, -0.3, 0.2], intercept=-0.4, status="FINISHED"),
    dict(key="churn-2", exp="churn", model="churn_model", run_name="churn-gbm-deeper",
         params=dict(n_estimators="200", max_depth="5", learning_rate="0.05"),
         metrics={"roc_auc": [0.79, 0.86, 0.84], "accuracy": [0.76, 0.80, 0.81],
                  "log_loss": [0.52, 0.45, 0.47]},
         coef=[1.1, -0.5, 0.3], intercept=-0.2, status="FINISHED"),
    # Logged out of step order (0, 2, then 1): the last line of metrics/roc_auc is step 1, but
    # MLflow's latest value is the one at the highest step (2), 0.88.
    dict(key="churn-3", exp="churn", model="churn_model", run_name="churn-gbm-tuned",
         params=dict(n_estimators="300", max_depth="4", learning_rate="0.03"),
         metrics={"roc_auc": [0.83, 0.87, 0.88], "accuracy": [0.80, 0.82, 0.83],
                  "log_loss": [0.47, 0.43, 0.41]},
         order=[0, 2, 1],
         coef=[1.3, -0.6, 0.4], intercept=-0.1, status="FINISHED"),
    dict(key="fraud-1", exp="fraud", model="Fraud-Detector", run_name="fraud-xgb-v1",
         params=dict(n_estimators="150", max_depth="6", learning_rate="0.1"),
         metrics={"roc_auc": [0.90, 0.93, 0.94], "precision": [0.60, 0.66, 0.70],
                  "recall": [0.50, 0.55, 0.58]},
         coef=[0.2, 0.9, -0.7], intercept=-1.5, status="FINISHED"),
    dict(key="fraud-2", exp="fraud", model="Fraud-Detector", run_name="fraud-xgb-v2",
         params=dict(n_estimators="250", max_depth="8", learning_rate="0.05"),
         metrics={"roc_auc": [0.92, 0.95, 0.96], "precision": [0.65, 0.71, 0.74],
                  "recall": [0.55, 0.61, 0.63]},
         coef=[0.3, 1.1, -0.8], intercept=-1.3, status="FINISHED"),
]

MODELS = {
    "churn_model": dict(description="Predicts customer churn within 90 days.",
                        tags={"team": "retention", "task": "binary-classification"}),
    "Fraud-Detector": dict(description="Flags card transactions for manual fraud review.",
                           tags={"team": "risk", "task": "binary-classification"}),
}


class Store:
    def __init__(self, tracking_uri, root):
        self.root = root
        # The client caches artifact repositories by run id, across stores; the stores here share
        # run ids, so start each store with an empty cache.
        tracking_utils._artifact_repos_cache.clear()
        clock.set(BASE_MS)  # the store's Default experiment (id 0) is created at BASE_MS
        mlflow.set_tracking_uri(tracking_uri)
        mlflow.set_registry_uri(tracking_uri)
        self.client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
        self.exp_ids = {}
        self.run_ids = {}
        self.t = BASE_MS

    def at(self, offset_ms):
        self.t = BASE_MS + offset_ms
        clock.set(self.t)

    def experiment(self, name, offset_ms):
        self.at(offset_ms)
        seed_ids("experiment:" + name)
        self.exp_ids[name] = self.client.create_experiment(
            name, tags={"project": "modelgate-fixture"})
        return self.exp_ids[name]

    def run(self, spec, offset_ms, workdir, metric_key_override=None):
        """Creates a finished run with params, stepped metrics, tags and model/ artifacts."""
        self.at(offset_ms)
        seed_ids("run:" + spec["key"])
        start = self.t
        c = self.client
        run = c.create_run(
            self.exp_ids[spec["exp"]], start_time=start, run_name=spec["run_name"],
            tags={
                "mlflow.source.git.commit": git_sha(spec["key"]),
                "mlflow.user": "fixture-bot",
                "mlflow.source.type": "LOCAL",
                "mlflow.source.name": "train.py",
                "team": MODELS[spec["model"]]["tags"]["team"],
            },
        )
        rid = run.info.run_id
        self.run_ids[spec["key"]] = rid
        c.log_batch(rid, params=[Param(k, v) for k, v in spec["params"].items()])
        order = spec.get("order", [0, 1, 2])
        for key, values in spec["metrics"].items():
            name = metric_key_override.get(key, key) if metric_key_override else key
            for i, step in enumerate(order):
                ts = start + (i + 1) * MINUTE
                c.log_metric(rid, name, values[step], timestamp=ts, step=step)
        c.set_tag(rid, "dataset", f"{spec['exp']}-2025-01")
        # model/ artifacts: the ONNX file plus an MLmodel, so that mlflow.register_model
        # ("runs:/<id>/model") resolves the source to the run's artifact folder.
        mdir = os.path.join(workdir, spec["key"], "model")
        os.makedirs(mdir, exist_ok=True)
        version = int(spec["key"].rsplit("-", 1)[1])
        with open(os.path.join(mdir, "model.onnx"), "wb") as f:
            f.write(onnx_model(spec["model"], version, spec["coef"], spec["intercept"]))
        Model(
            artifact_path="model", run_id=rid,
            utc_time_created=datetime.fromtimestamp(start / 1000, timezone.utc)
            .replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f"),
            flavors={
                "onnx": {"onnx_version": onnx.__version__, "data": "model.onnx",
                         "providers": ["CPUExecutionProvider"], "code": None},
                "python_function": {"loader_module": "mlflow.onnx", "data": "model.onnx",
                                    "python_version": "3.11.7"},
            },
            model_uuid=_uuid4().hex, mlflow_version=mlflow.__version__,
        ).save(os.path.join(mdir, "MLmodel"))
        c.log_artifacts(rid, mdir, artifact_path="model")
        self.at(offset_ms + 5 * MINUTE)
        c.set_terminated(rid, spec.get("status", "FINISHED"), end_time=self.t)
        return rid

    def registered_model(self, name, offset_ms):
        self.at(offset_ms)
        m = MODELS[name]
        self.client.create_registered_model(name, tags=m["tags"], description=m["description"])

    def register(self, name, run_key, offset_ms, tags, description, literal_runs_uri=False):
        self.at(offset_ms)
        seed_ids(f"version:{name}:{run_key}")
        rid = self.run_ids[run_key]
        uri = f"runs:/{rid}/model"
        if literal_runs_uri:
            # What a user gets from MlflowClient.create_model_version(name, "runs:/...", run_id):
            # source is kept as the runs:/ URI.
            mv = self.client.create_model_version(
                name, uri, run_id=rid, tags=tags, description=description, await_creation_for=0)
        else:
            # mlflow.register_model: source becomes the run's absolute artifact URI + /model.
            mv = mlflow.register_model(uri, name, await_registration_for=0, tags=tags)
            self.at(offset_ms + MINUTE)
            self.client.update_model_version(name, mv.version, description=description)
        return mv.version


def build_main(store, workdir):
    store.experiment("churn", 1 * HOUR)
    store.experiment("fraud", 1 * HOUR + MINUTE)
    for i, spec in enumerate(RUNS):
        store.run(spec, (1 + i) * DAY, workdir)
    # A scratch experiment with one run, then deleted (file store: moved to mlruns/.trash/).
    store.experiment("scratch", 6 * DAY)
    store.run(dict(key="scratch-1", exp="scratch", model="churn_model", run_name="scratch-try",
                   params=dict(n_estimators="10", max_depth="2", learning_rate="0.3"),
                   metrics={"roc_auc": [0.5, 0.55, 0.6]}, coef=[0.1, 0.1, 0.1],
                   intercept=0.0), 6 * DAY + HOUR, workdir)
    store.at(6 * DAY + 2 * HOUR)
    store.client.delete_experiment(store.exp_ids["scratch"])

    store.registered_model("churn_model", 7 * DAY)
    store.registered_model("Fraud-Detector", 7 * DAY + MINUTE)
    versions = {}
    for i, (name, key, tags, desc, literal) in enumerate([
        ("churn_model", "churn-1", {"validation_status": "approved", "dataset": "churn-2025-01"},
         "Baseline gradient boosting.", False),
        ("churn_model", "churn-2", {"validation_status": "approved", "dataset": "churn-2025-01"},
         "Deeper trees, lower learning rate.", False),
        ("churn_model", "churn-3", {"validation_status": "pending", "dataset": "churn-2025-01"},
         "Tuned; metrics logged out of step order.", False),
        ("Fraud-Detector", "fraud-1", {"validation_status": "approved", "dataset": "fraud-2025-01"},
         "First fraud model.", False),
        ("Fraud-Detector", "fraud-2", {"validation_status": "pending", "dataset": "fraud-2025-01"},
         "Registered with a literal runs:/ source.", True),
    ]):
        versions[key] = store.register(name, key, 8 * DAY + i * HOUR, tags, desc, literal)
    c = store.client
    store.at(9 * DAY)
    c.set_registered_model_alias("churn_model", "champion", versions["churn-2"])
    c.set_registered_model_alias("churn_model", "challenger", versions["churn-3"])
    c.set_registered_model_alias("Fraud-Detector", "champion", versions["fraud-1"])
    c.set_registered_model_alias("Fraud-Detector", "challenger", versions["fraud-2"])
    build_mlflow3(store, workdir)
    return versions


# MLflow 3, the everyday way: scikit-learn and XGBoost flavors, each registered once as a logged
# model (`mlflow.<flavor>.log_model(model, name=..., registered_model_name=...)`, source
# `models:/m-<id>`) and once as run artifacts (`save_model` + `log_artifacts` +
# `mlflow.register_model("runs:/<id>/model")`); dataset inputs; metrics out of step order; a
# registered version whose run is deleted afterwards; aliases with MLflow's everyday names.
MLFLOW3 = [
    # key, registered model, flavor, style
    ("heart-1", "heart_disease", "sklearn", "logged"),
    ("heart-2", "heart_disease", "sklearn", "artifacts"),
    ("heart-3", "heart_disease", "sklearn", "logged"),  # its run is deleted after registering
    ("credit-1", "credit_xgb", "xgboost", "logged"),
    ("credit-2", "credit_xgb", "xgboost", "artifacts"),
]

MODELS.update({
    "heart_disease": dict(description="Heart disease risk (scikit-learn).",
                          tags={"team": "cardio", "owner": "cardio@example.com"}),
    "credit_xgb": dict(description="Credit default risk (XGBoost).",
                       tags={"team": "risk"}),
})


def training_data(seed):
    rng = np.random.RandomState(seed)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    y = (x[:, 0] - 0.5 * x[:, 1] + 0.3 * rng.normal(size=40) > 0).astype(np.int64)
    return x, y


def build_mlflow3(store, workdir):
    c = store.client
    store.experiment("heart", 10 * DAY)
    store.experiment("credit", 10 * DAY + MINUTE)
    store.registered_model("heart_disease", 10 * DAY + 2 * MINUTE)
    store.registered_model("credit_xgb", 10 * DAY + 3 * MINUTE)
    versions = {}
    for i, (key, name, flavor, style) in enumerate(MLFLOW3):
        t0 = (11 + i) * DAY
        store.at(t0)
        seed_ids("run:" + key)
        exp = store.exp_ids[name.split("_")[0] if name != "heart_disease" else "heart"]
        run = c.create_run(exp, start_time=store.t, run_name=f"{key}-{flavor}", tags={
            "mlflow.source.git.commit": git_sha(key), "mlflow.user": "fixture-bot",
            "mlflow.source.type": "LOCAL", "mlflow.source.name": "train.py",
            "team": MODELS[name]["tags"]["team"]})
        rid = run.info.run_id
        store.run_ids[key] = rid
        x, y = training_data(i)
        if flavor == "sklearn":
            params = {"C": "0.5", "max_iter": "200", "random_state": "7"}
            model = LogisticRegression(C=0.5, max_iter=200, random_state=7).fit(x, y)
            reqs = [f"scikit-learn=={sklearn.__version__}", f"numpy=={np.__version__}"]
        else:
            params = {"n_estimators": "3", "max_depth": "2", "learning_rate": "0.3"}
            model = xgboost.XGBClassifier(n_estimators=3, max_depth=2, learning_rate=0.3,
                                          n_jobs=1, random_state=7).fit(x, y)
            reqs = [f"xgboost=={xgboost.__version__}", f"numpy=={np.__version__}"]
        c.log_batch(rid, params=[Param(k, v) for k, v in params.items()])
        # Out of step order: steps 0, 2, 1; the latest value is the one at step 2.
        for j, step in enumerate([0, 2, 1]):
            store.at(t0 + (j + 1) * MINUTE)
            c.log_metric(rid, "roc_auc", 0.80 + 0.01 * i + 0.02 * step, timestamp=store.t,
                         step=step)
            c.log_metric(rid, "accuracy", 0.70 + 0.01 * i + 0.03 * step, timestamp=store.t,
                         step=step)
        store.at(t0 + 10 * MINUTE)
        tracking_utils._artifact_repos_cache.clear()
        with mlflow.start_run(run_id=rid):
            seed_ids("dataset:" + key)
            ds = mlflow.data.from_numpy(x, targets=y, name=f"{name}-train",
                                        source=f"s3://data/{name}/train-2025-02.npz")
            mlflow.log_input(ds, context="training")
            seed_ids("model:" + key)
            flavor_mod = mlflow.sklearn if flavor == "sklearn" else mlflow.xgboost
            # scikit-learn: cloudpickle, MLflow's long-time format (the skops default of newer
            # MLflow needs one more package and changes nothing for modelgate, which never
            # loads the model).
            extra = {"serialization_format": "cloudpickle"} if flavor == "sklearn" else {}
            if style == "logged":
                info = flavor_mod.log_model(model, name="model", registered_model_name=name,
                                            pip_requirements=reqs, await_registration_for=0, **extra)
                version = info.registered_model_version
                model_id = info.model_id
            else:
                local = os.path.join(workdir, key, "model")
                shutil.rmtree(local, ignore_errors=True)
                flavor_mod.save_model(model, local, pip_requirements=reqs, **extra)
                c.log_artifacts(rid, local, artifact_path="model")
                seed_ids("version:" + key)
                version = mlflow.register_model(f"runs:/{rid}/model", name,
                                                await_registration_for=0).version
        if style == "logged":
            # An evaluation run logs val_f1 to the logged model (steps 1, then 0): a metric the
            # training run does not have, whose latest value is the one at step 1.
            store.at(t0 + 15 * MINUTE)
            seed_ids("eval:" + key)
            ev = c.create_run(exp, start_time=store.t, run_name=f"{key}-eval").info.run_id
            for j, step in enumerate([1, 0]):
                store.at(t0 + (16 + j) * MINUTE)
                c.log_metric(ev, "val_f1", 0.60 + 0.01 * i + 0.05 * step, timestamp=store.t,
                             step=step, model_id=model_id)
            c.set_terminated(ev, "FINISHED", end_time=store.t)
        store.at(t0 + 20 * MINUTE)
        c.update_model_version(name, version, description=f"{flavor}, {style} ({key}).")
        c.set_model_version_tag(name, version, "validation_status", "approved")
        store.at(t0 + 30 * MINUTE)
        c.set_terminated(rid, "FINISHED", end_time=store.t)
        versions[key] = version
    store.at(17 * DAY)
    c.delete_run(store.run_ids["heart-3"])
    c.set_registered_model_alias("heart_disease", "prod", versions["heart-2"])
    c.set_registered_model_alias("heart_disease", "candidate", versions["heart-1"])
    c.set_registered_model_alias("credit_xgb", "champion", versions["credit-1"])
    c.set_registered_model_alias("credit_xgb", "staging", versions["credit-2"])


def build_bad(store, workdir, kind):
    """churn_model v1 is a good version; v2 is the bad one."""
    store.experiment("churn", 1 * HOUR)
    store.run(RUNS[0], 1 * DAY, workdir)
    override = {"roc_auc": "val auc"} if kind == "metric-space" else None
    store.run(RUNS[1], 2 * DAY, workdir, metric_key_override=override)
    store.registered_model("churn_model", 7 * DAY)
    store.register("churn_model", "churn-1", 8 * DAY, {"validation_status": "approved"},
                   "Good version.", False)
    store.register("churn_model", "churn-2", 8 * DAY + HOUR, {"validation_status": "approved"},
                   f"Bad version ({kind}).", False)
    rid = store.run_ids["churn-2"]
    if kind == "deleted-run":
        store.at(9 * DAY)
        store.client.delete_run(rid)
    elif kind == "missing-run":
        exp_dir = os.path.join(store.root, store.exp_ids["churn"])
        shutil.rmtree(os.path.join(exp_dir, rid))


CONSTRAINT_LINE = ("\tCONSTRAINT ", "\tCHECK ", "\tFOREIGN KEY", "\tUNIQUE ", "\tPRIMARY KEY")


def sorted_table_constraints(sql):
    """The table constraints that end a CREATE TABLE, in sorted order (SQLite gives their order
    no meaning; SQLAlchemy writes them in set order)."""
    lines = sql.split("\n")
    if len(lines) < 3 or lines[-1] != ")":
        return sql
    start = len(lines) - 1
    while start > 1 and lines[start - 1].startswith(CONSTRAINT_LINE):
        start -= 1
    body = sorted(line.rstrip().rstrip(",") for line in lines[start:-1])
    if not body:
        return sql
    body = [line + ", " for line in body[:-1]] + [body[-1]]
    return "\n".join(lines[:start] + body + [")"])


def canonicalize_sqlite(path):
    """Rewrites MLflow's database with the same schema and the same rows, but 1 KiB pages and a
    canonical order: schema entries by name, table constraints sorted. MLflow's schema has ~65
    tables and ~150 indexes, one page each at least, so 4 KiB pages make a ~1 MB file; and
    SQLAlchemy writes a table's indexes and constraints in set order (object ids), which changes
    between runs."""
    tmp = path + ".new"
    src = sqlite3.connect(path)
    entries = src.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL "
        "AND name NOT LIKE 'sqlite_%'").fetchall()
    src.close()
    rank = {"table": 0, "index": 1, "trigger": 2, "view": 3}
    entries.sort(key=lambda e: (rank[e[0]], e[1]))
    dst = sqlite3.connect(tmp, isolation_level=None)
    dst.execute("PRAGMA page_size = 1024")
    dst.execute("PRAGMA foreign_keys = OFF")
    dst.execute("BEGIN")
    for kind, _, _, sql in entries:
        if kind == "table":
            dst.execute(sorted_table_constraints(sql))
    dst.execute("ATTACH DATABASE ? AS src", (path,))
    for kind, name, _, _ in entries:
        if kind == "table":
            cols = ", ".join(f'"{r[1]}"' for r in dst.execute(f'PRAGMA main.table_info("{name}")'))
            dst.execute(f'INSERT INTO main."{name}" ({cols}) SELECT {cols} FROM src."{name}" '
                        "ORDER BY rowid")
    if dst.execute("SELECT 1 FROM src.sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
        dst.execute("DELETE FROM main.sqlite_sequence")
        dst.execute("INSERT INTO main.sqlite_sequence SELECT * FROM src.sqlite_sequence "
                    "ORDER BY name")
    for kind, _, _, sql in entries:
        if kind != "table":
            dst.execute(sql)
    dst.execute("COMMIT")
    dst.execute("DETACH DATABASE src")
    dst.execute("VACUUM")
    dst.close()
    os.replace(tmp, path)


def main():
    print(f"mlflow {mlflow.__version__}, onnx {onnx.__version__}, scikit-learn "
          f"{sklearn.__version__}, xgboost {xgboost.__version__}")
    for d in (STAGE, OUT):
        shutil.rmtree(d, ignore_errors=True)
    os.makedirs(STAGE)
    work = os.path.join(STAGE, "_work")

    root = os.path.join(STAGE, "filestore", "mlruns")
    build_main(Store("file://" + root, root), os.path.join(work, "filestore"))

    sq = os.path.join(STAGE, "sqlite")
    os.makedirs(sq)
    cwd = os.getcwd()
    os.chdir(sq)  # the SQLite store's default artifact root is ./mlruns
    try:
        store = Store(f"sqlite:///{sq}/mlflow.db", sq)
        build_main(store, os.path.join(work, "sqlite"))
        store.client._tracking_client.store.engine.dispose()
        store.client._get_registry_client().store.engine.dispose()
    finally:
        os.chdir(cwd)
    canonicalize_sqlite(os.path.join(sq, "mlflow.db"))

    for kind in ("deleted-run", "missing-run", "metric-space"):
        root = os.path.join(STAGE, f"bad-{kind}", "mlruns")
        build_bad(Store("file://" + root, root), os.path.join(work, kind), kind)

    shutil.rmtree(work)
    shutil.move(STAGE, OUT)
    total = 0
    for dirpath, _, files in os.walk(OUT):
        total += sum(os.path.getsize(os.path.join(dirpath, f)) for f in files)
    print(f"wrote {OUT} ({total} bytes)")


if __name__ == "__main__":
    sys.exit(main())
