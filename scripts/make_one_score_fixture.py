"""Writes tests/data/batch/one_score.onnx: a model that answers one row of class probabilities
whatever the number of rows it is given (the mean of its inputs, through a softmax), which the
scoring core must refuse rather than pair rows with scores of others. Deterministic; run as
`.tools/venv/bin/python scripts/make_one_score_fixture.py`."""
import onnx
from onnx import TensorProto, helper

graph = helper.make_graph(
    [
        helper.make_node("ReduceMean", ["input"], ["mean"], axes=[0], keepdims=1),
        helper.make_node("Softmax", ["mean"], ["probabilities"], axis=1),
    ],
    "one_score",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 2])],
    [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [1, 2])],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="modelgate-test")
model.ir_version = 8
onnx.checker.check_model(model)
with open("tests/data/batch/one_score.onnx", "wb") as f:
    f.write(model.SerializeToString())
