"""Generated inputs for lint and fix: odd Dockerfiles and pod specs or compose services with
values of every YAML type where Kubernetes expects one. Oracles: no crash (bad input is an
InputError, exit 2), and after `initify fix --unsafe-fixes` a second fix changes nothing and no
fixed finding is reported again."""

from __future__ import annotations

import io
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from initify.commands import fix
from initify.commands import lint
from initify.errors import InputError

SYSTEMD_IMAGE = 'FROM fedora:40 AS machine\nCMD ["/sbin/init"]\nFROM machine\n'
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# --- Dockerfiles -----------------------------------------------------------------------------

PIECES = st.sampled_from([
    "FROM", "from", "CMD", "ENTRYPOINT", "STOPSIGNAL", "RUN", "COPY", "ADD", "SHELL", "ARG", "ONBUILD",
    "WORKDIR", " ", "\t", "\\\n", "\n", "\r\n", "#", "# escape=`", "[", "]", '"', "'", ",", "sh", "-c",
    "exec", "$X", "${X:-a}", "${", "}", "<<EOF", "EOF", "AS", "base", "python:3", "scratch", "37",
    "SIGRTMIN+3", "KILL", "9", "--from=base", "entry.sh", "/entry.sh", "/sbin/init", "tini", "--", "npm",
    "&&", "|", ";", "`", "\\", "é", "NaN", "1", "null", "{}",
])
DOCKERFILES = st.lists(PIECES, min_size=1, max_size=40).map("".join)


def _fix_twice(paths, options):
    """Fix, write, then check the oracles; an InputError leaves the files untouched."""
    before = {p: Path(p).read_bytes() for p in paths}
    try:
        plan = fix.plan(paths, options)
    except InputError:
        assert {p: Path(p).read_bytes() for p in paths} == before
        return
    fix.write(plan)
    fixed = {(a.finding.path, a.finding.code, a.finding.message) for a in plan.applied}
    assert fix.plan(paths, options).changed() == [], "a second fix changed something"
    lint_options = lint.Options(k8s_version=options.k8s_version)
    remaining = {(f.path, f.code, f.message) for f in lint.run(paths, lint_options).findings}
    assert not remaining & fixed, sorted(remaining & fixed)


@FUZZ
@given(DOCKERFILES)
def test_odd_dockerfiles(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("docker")
    (folder / "entry.sh").write_text('#!/bin/sh\nset -e\n"$@"\n')
    path = folder / "Dockerfile"
    path.write_text(text, encoding="utf-8")
    try:
        lint.run([str(path)], lint.Options())
    except InputError:
        pass
    _fix_twice([str(path)], fix.FixOptions(unsafe_fixes=True))


# --- pod specs and compose services ----------------------------------------------------------

SCALARS = st.sampled_from([None, True, 0, 1, -5, 30, 1e9, "x", "", "sh -c 'a; b'", "SIGRTMIN+3", "RTMIN+3",
                           "37", "/sbin/init", "10s", "1m30s", "nginx", "tini"])
KEYS = st.sampled_from(["command", "args", "exec", "sleep", "seconds", "preStop", "stopSignal", "name", "x"])
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
                      max_leaves=6)
LIFECYCLES = st.one_of(
    VALUES,
    st.builds(lambda c: {"preStop": {"exec": {"command": c}}}, VALUES),
    st.builds(lambda s: {"preStop": {"sleep": {"seconds": s}}}, VALUES),
    st.builds(lambda s: {"stopSignal": s}, VALUES),
)


@st.composite
def containers(draw, index):
    container = {"name": f"c{index}", "image": draw(st.sampled_from(["nginx:1", "registry.example.com/app:1", None, 3]))}
    for key, values in (("command", VALUES), ("args", VALUES), ("lifecycle", LIFECYCLES), ("tty", VALUES)):
        if draw(st.booleans()):
            container[key] = draw(values)
    return container


@st.composite
def pod_documents(draw):
    spec = {"containers": [draw(containers(n)) for n in range(draw(st.integers(0, 3)))]}
    for key in ("terminationGracePeriodSeconds", "shareProcessNamespace", "os"):
        if draw(st.booleans()):
            spec[key] = draw(VALUES)
    kind = draw(st.sampled_from(["Pod", "Deployment", "CronJob"]))
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}
    if kind == "Deployment":
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": spec}}}
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": spec}}}}}


@st.composite
def compose_documents(draw):
    services = {}
    for n in range(draw(st.integers(0, 3))):
        service = {}
        for key in ("image", "command", "entrypoint", "init", "stop_signal", "stop_grace_period"):
            if draw(st.booleans()):
                service[key] = draw(VALUES)
        if draw(st.booleans()):
            service["build"] = {"context": ".", "target": draw(st.sampled_from(["machine", None, 1]))}
        services[f"s{n}"] = service
    return {"services": services}


def _render(document, style):
    if style == "json":
        return json.dumps(document, indent=1) + "\n"
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.indent(mapping=style, sequence=style + 2, offset=style)
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    return buffer.getvalue()


@FUZZ
@given(st.one_of(st.tuples(st.just("pod.yaml"), pod_documents()), st.tuples(st.just("compose.yaml"), compose_documents())),
       st.sampled_from(["json", 2, 4]))
def test_odd_manifests_and_compose_files(tmp_path_factory, named, style):
    name, document = named
    folder = tmp_path_factory.mktemp("yaml")
    (folder / "Dockerfile").write_text(SYSTEMD_IMAGE)
    (folder / name).write_text(_render(document, style))
    paths = [str(folder / name), str(folder / "Dockerfile")]
    try:
        lint.run(paths, lint.Options(k8s_version="1.33"))
    except InputError:
        pass
    _fix_twice(paths, fix.FixOptions(unsafe_fixes=True, k8s_version="1.33"))
