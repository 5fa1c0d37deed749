"""Run a generated ValidatingAdmissionPolicy the way the API server does, in two independent CEL
engines from PyPI: cel-python (`celpy`, a pure-Python interpreter) and common-expression-language
(`cel`, bindings to the Rust cel-interpreter). Variables are evaluated in order, each seeing the
ones before it as `variables.NAME`, then the match conditions and validations."""

from __future__ import annotations

import json
from typing import Any, Dict, List

import cel
import celpy
from celpy import celtypes
from ruamel.yaml.scalarbool import ScalarBoolean


def plain(value: Any) -> Any:
    """A loaded YAML object as the API server holds it: JSON types, null fields dropped."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, (bool, ScalarBoolean)) or value is None:
        return None if value is None else bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def _to_celpy(value: Any) -> Any:
    """JSON values as celpy types (celpy.json_to_cel turns true into IntType(1): bool is an int)."""
    if isinstance(value, bool):
        return celtypes.BoolType(value)
    if isinstance(value, int):
        return celtypes.IntType(value)
    if isinstance(value, float):
        return celtypes.DoubleType(value)
    if isinstance(value, str):
        return celtypes.StringType(value)
    if isinstance(value, list):
        return celtypes.ListType([_to_celpy(v) for v in value])
    if isinstance(value, dict):
        return celtypes.MapType({celtypes.StringType(k): _to_celpy(v) for k, v in value.items()})
    return value


def _from_celpy(value: Any) -> Any:
    if isinstance(value, celtypes.BoolType):
        return bool(value)
    if isinstance(value, (celtypes.IntType, celtypes.UintType)):
        return int(value)
    if isinstance(value, celtypes.StringType):
        return str(value)
    if isinstance(value, list):  # celpy returns a plain list for `a + b`
        return [_from_celpy(v) for v in value]
    if isinstance(value, dict):
        return {_from_celpy(k): _from_celpy(v) for k, v in value.items()}
    if isinstance(value, celtypes.DoubleType):
        return float(value)
    return value


class Engines:
    """Both engines' programs for every expression of one policy document."""

    def __init__(self, policy: Dict[str, Any]) -> None:
        spec = policy["spec"]
        self.variables = [(v["name"], v["expression"]) for v in spec.get("variables", [])]
        self.conditions = [c["expression"] for c in spec.get("matchConditions", [])]
        self.validations = [(v["expression"], v["messageExpression"]) for v in spec["validations"]]
        self.environment = celpy.Environment()
        self._rust: Dict[str, Any] = {}
        self._python: Dict[str, Any] = {}
        for expression in self.expressions():
            self._rust[expression] = cel.compile(expression)
            self._python[expression] = self.environment.program(self.environment.compile(expression))

    def expressions(self) -> List[str]:
        return [e for _, e in self.variables] + self.conditions + [e for pair in self.validations for e in pair]

    def run(self, engine: str, obj: Dict[str, Any], params: Dict[str, Any]) -> Dict[str, Any]:
        """Every variable, match condition and validation (with its message when it fails)."""
        values: Dict[str, Any] = {}
        result: Dict[str, Any] = {"variables": values}

        def evaluate(expression: str) -> Any:
            context = {"object": obj, "params": params, "variables": dict(values)}
            if engine == "rust":
                return self._rust[expression].execute(context)
            answer = self._python[expression].evaluate(_to_celpy(json.loads(json.dumps(context))))
            if isinstance(answer, Exception):
                raise answer
            return _from_celpy(answer)

        for name, expression in self.variables:
            values[name] = evaluate(expression)
        result["conditions"] = [evaluate(e) for e in self.conditions]
        result["messages"] = [evaluate(message) for expression, message in self.validations if not evaluate(expression)]
        return result
