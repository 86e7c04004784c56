"""Writes tests/data/batch/zipmap.onnx: a tiny logistic regression exported WITH ZipMap, which
`modelgate batch` must refuse with a message on how to re-export. Deterministic; run as
`.tools/venv/bin/python scripts/make_zipmap_fixture.py`."""
import numpy as np
from sklearn.linear_model import LogisticRegression
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType

rng = np.random.default_rng(0)
x = rng.normal(size=(200, 3)).astype(np.float32)
y = (x[:, 0] + x[:, 1] > 0).astype(int)
model = LogisticRegression().fit(x, y)
onx = convert_sklearn(model, initial_types=[("input", FloatTensorType([None, 3]))], target_opset=15)
with open("tests/data/batch/zipmap.onnx", "wb") as f:
    f.write(onx.SerializeToString())
