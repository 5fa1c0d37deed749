"""`initify policy`: the generated ValidatingAdmissionPolicy is valid Kubernetes for every version
kubernetes-validate knows from 1.30 on, and its CEL, run by two independent engines (cel-python
and common-expression-language), fails exactly the containers `initify lint` flags for the same
rules on every manifest fixture and every corpus manifest, except the differences listed below
(each one also said in the rule's doc)."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Set, Tuple

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

# The Rust CEL engine has wheels for Python 3.11+ only; the CI run on the oldest Python skips here.
pytest.importorskip("cel", reason="common-expression-language needs Python >= 3.11")

from cel_engines import Engines, plain  # noqa: E402
from initify import engine
from initify.cli import main
from initify.commands import policy as policy_command
from initify.kubernetes import pods
from initify.kubernetes.manifests import load_manifest
from initify.errors import InputError

DATA = Path(__file__).parent / "data"
from tests.corpus import CORPUS
CONTAINER_RULES = ("IN203", "IN204", "IN205", "IN206")
POD_RULES = ("IN202", "IN207")  # lint reports these once per pod: compared per pod

# Where the policy and lint disagree, by (file name, workload, container, code): the policy's
# regular expressions cannot see what lint's shell parser sees. Each rule doc says these.
KNOWN_DIFFERENCES: Dict[Tuple[str, str, str, str], str] = {
    ("replicationcontroller.yaml", "legacy", "legacy", "IN206"):
        "`nginx -g 'daemon off;'`: the policy's regex takes the quoted `;` for the end of a statement, so it "
        "does not see that the script ends in a plain command IN204's fix execs; lint parses the quotes",
    ("differences.yaml", "differences", "if-else-exec", "IN204"): "an if/else whose branches all exec",
    ("differences.yaml", "differences", "if-else-exec", "IN206"): "an if/else whose branches all exec",
    ("differences.yaml", "differences", "two-sleeps", "IN203"): "sleeps in one script are not added up",
    ("differences.yaml", "fraction", "fraction-of-a-minute", "IN203"): "CEL durations keep the fraction",
    ("cluster.yaml", "legacy-5f6b7c8d9e-abcde", "legacy", "IN205"):
        "`/sbin/init` of an image nothing is known of: the policy takes it for systemd (it never sees "
        "images); lint does not guess and leaves it to IN201, which says systemd is assumed",
}


def fixture_files() -> List[Path]:
    return sorted(p for p in DATA.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def corpus_files() -> List[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def generated(*arguments: str) -> List[dict]:
    result = CliRunner().invoke(main, ["policy", *arguments])
    assert result.exit_code == 0, result.output
    return list(YAML(typ="safe").load_all(result.output))


@pytest.fixture(scope="module")
def documents() -> List[dict]:
    return generated()


@pytest.fixture(scope="module")
def engines(documents) -> Engines:
    return Engines(documents[1])


# --------------------------------------------------------------------------------------------
# The output
# --------------------------------------------------------------------------------------------


def test_output_is_params_policy_and_binding(documents):
    kinds = [d["kind"] for d in documents]
    assert kinds == ["ConfigMap", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]
    params, policy, binding = documents
    assert binding["spec"]["policyName"] == policy["metadata"]["name"]
    assert binding["spec"]["paramRef"]["name"] == params["metadata"]["name"]
    assert binding["spec"]["paramRef"]["namespace"] == params["metadata"]["namespace"]
    assert policy["spec"]["paramKind"] == {"apiVersion": "v1", "kind": "ConfigMap"}
    codes = [v["message"].split()[0] for v in policy["spec"]["validations"]]
    assert codes == ["IN202", "IN203", "IN204", "IN205", "IN206", "IN207"]
    for validation in policy["spec"]["validations"]:
        assert validation["messageExpression"].startswith("'" + validation["message"].split()[0] + ": container ' + ")
    resources = {r for rule in policy["spec"]["matchConstraints"]["resourceRules"] for r in rule["resources"]}
    assert resources == {"pods", "podtemplates", "replicationcontrollers", "deployments", "statefulsets",
                         "daemonsets", "replicasets", "jobs", "cronjobs"}


def test_rules_with_a_policy_form_are_the_ones_the_rule_docs_name():
    rules_dir = Path(__file__).parent.parent / "rules"
    with_policy = {rule.code for rule in policy_command.policy_rules()}
    for code in engine.all_rules():
        text = (rules_dir / f"{code}.md").read_text()
        assert ("## Policy form" in text) == (code in with_policy), code


def test_validates_with_kubernetes_validate_for_every_version_from_1_30():
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    from kubernetes_validate import utils

    versions = sorted({v for v in utils.all_versions() if tuple(map(int, v.split(".")[:2])) >= (1, 30)},
                      key=lambda v: tuple(map(int, v.split("."))))
    assert versions, "kubernetes-validate knows no version >= 1.30"
    for version in versions:
        minor = ".".join(version.split(".")[:2])
        for document in generated("--k8s-version", minor, "--action", "Deny"):
            kubernetes_validate.validate(document, version, strict=True)


@pytest.mark.parametrize("action", ["Deny", "Warn", "Audit"])
def test_action_goes_into_the_binding(action):
    assert generated("--action", action)[2]["spec"]["validationActions"] == [action]


def test_select_and_output_file(tmp_path):
    out = tmp_path / "policy.yaml"
    result = CliRunner().invoke(main, ["policy", "--select", "IN205,IN207", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output == ""
    docs = list(YAML(typ="safe").load_all(out.read_text()))
    assert [v["message"][:5] for v in docs[1]["spec"]["validations"]] == ["IN205", "IN207"]
    assert [v["name"] for v in docs[1]["spec"]["variables"]][-2:] == ["in205", "in207"]


@pytest.mark.parametrize("arguments, error", [
    (["--select", "IN101"], "no selected rule has a policy form"),
    (["--select", "IN999"], "unknown rule code"),
    (["--action", "Block"], "Block"),
    (["--k8s-version", "1.29"], "needs Kubernetes >= 1.30"),
    (["--k8s-version", "one"], "must look like"),
])
def test_bad_options_are_one_line_errors(arguments, error):
    result = CliRunner().invoke(main, ["policy", *arguments])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("initify: error: ") and error in lines[0], result.output


# --------------------------------------------------------------------------------------------
# The CEL against lint
# --------------------------------------------------------------------------------------------


def lint_verdicts(manifest, pod, version) -> Tuple[Dict[str, Set[str]], Set[str]]:
    """Codes lint reports for the pod's containers (by name) and for the pod, unpaired."""
    selection = engine.Selection(select=list(CONTAINER_RULES + POD_RULES))
    per_container: Dict[str, Set[str]] = {}
    subjects = []
    for container in pod.containers:
        subject = pods.container_facts(manifest, pod, container, None, None, version)
        subjects.append(subject)
        codes = {f.code for f in engine.run_rules("container", subject, manifest.path, selection)}
        per_container.setdefault(container.name, set()).update(codes)
    pod_codes = {f.code for f in engine.run_rules("pod", pods.pod_facts(manifest, pod, subjects, version), manifest.path, selection)}
    return per_container, pod_codes


def policy_verdicts(result: dict, names: List[str]) -> Tuple[Dict[str, Set[str]], Set[str]]:
    per_container: Dict[str, Set[str]] = {name: set() for name in names}
    for code in CONTAINER_RULES:
        for name in result["variables"][code.lower()]:
            per_container[name].add(code)
    pod_codes = {code for code in POD_RULES if result["variables"][code.lower()]}
    return per_container, pod_codes


def compare(paths: List[Path], engines: Engines, params: dict, both: bool = True) -> Tuple[List[str], int, Dict[str, int]]:
    """Differences between lint and the policy on every workload of `paths`, evaluated by the
    Rust engine and (`both`) by cel-python too, which must agree with it exactly."""
    version = pods.parse_version(pods.newest_known_version())
    differences: List[str] = []
    checked = 0
    fired: Dict[str, int] = {}
    for path in paths:
        try:
            manifest = load_manifest(str(path))
        except InputError:
            continue  # not YAML (duplicate keys...): lint refuses it too
        for pod in manifest.pods:
            obj = plain(pod.resource)
            if not isinstance(obj.get("metadata", {}), dict):
                continue
            lint_containers, lint_pod = lint_verdicts(manifest, pod, version)
            names = [c.name for c in pod.containers]
            results = {name: engines.run(name, obj, params) for name in (("rust", "python") if both else ("rust",))}
            if both:
                assert results["rust"] == results["python"], (path, pod.name)
            cel_containers, cel_pod = policy_verdicts(results["rust"], names)
            checked += 1
            for code in lint_pod | cel_pod:
                fired[code] = fired.get(code, 0) + 1
            for name in names:
                for code in lint_containers[name] | cel_containers[name]:
                    fired[code] = fired.get(code, 0) + 1
                for code in lint_containers[name] ^ cel_containers[name]:
                    key = (path.name, pod.name or "", name, code)
                    if key not in KNOWN_DIFFERENCES:
                        side = "lint only" if code in lint_containers[name] else "policy only"
                        differences.append(f"{key}: {side}")
            for code in lint_pod ^ cel_pod:
                key = (path.name, pod.name or "", "", code)
                if key not in KNOWN_DIFFERENCES:
                    side = "lint only" if code in lint_pod else "policy only"
                    differences.append(f"{key}: {side}")
            failing = results["rust"]["messages"]
            for message in failing:
                code = message.split(":")[0]
                assert message.startswith(f"{code}: container "), message
    return differences, checked, fired


def test_cel_matches_lint_on_every_fixture(documents, engines):
    differences, checked, fired = compare(fixture_files(), engines, documents[0], both=True)
    assert differences == []
    assert checked >= 20
    assert set(fired) == set(CONTAINER_RULES + POD_RULES)  # every rule fires somewhere: the test can fail


def test_every_known_difference_still_differs(documents, engines):
    """A listed difference that no longer shows up must be taken off the list (and the doc)."""
    paths = fixture_files() + corpus_files()
    seen = set()
    version = pods.parse_version(pods.newest_known_version())
    for path in paths:
        if not any(key[0] == path.name for key in KNOWN_DIFFERENCES):
            continue
        manifest = load_manifest(str(path))
        for pod in manifest.pods:
            lint_containers, lint_pod = lint_verdicts(manifest, pod, version)
            result = engines.run("rust", plain(pod.resource), documents[0])
            cel_containers, cel_pod = policy_verdicts(result, [c.name for c in pod.containers])
            for name in lint_containers:
                seen.update((path.name, pod.name, name, code) for code in lint_containers[name] ^ cel_containers[name])
            seen.update((path.name, pod.name, "", code) for code in lint_pod ^ cel_pod)
    expected = {key for key in KNOWN_DIFFERENCES if key[0] in {p.name for p in paths}}
    assert expected and expected <= seen


def test_cel_matches_lint_on_the_cases_fixture(documents, engines):
    """The hand-written cases: every container's expected codes are in its comment."""
    path = DATA / "policy" / "cases.yaml"
    differences, checked, fired = compare([path], engines, documents[0], both=False)  # both: the test above
    assert differences == []
    assert fired["IN204"] >= 8 and fired["IN206"] >= 5 and fired["IN203"] >= 4


@pytest.mark.skipif(not corpus_files(), reason="the shared corpus is not available")
def test_cel_matches_lint_on_every_corpus_manifest(documents, engines):
    """The Rust engine here; cel-python too in the slow test below (minutes for the corpus)."""
    differences, checked, fired = compare(corpus_files(), engines, documents[0], both=False)
    assert differences == []
    assert checked >= 100


@pytest.mark.slow
def test_both_engines_agree_on_every_fixture_and_corpus_manifest(documents, engines):
    """cel-python is a tree-walking interpreter: minutes for the whole corpus."""
    differences, checked, _ = compare(fixture_files() + corpus_files(), engines, documents[0], both=True)
    assert differences == []
    assert checked >= 20


def test_match_condition_skips_what_a_checked_controller_made(documents, engines):
    """On the recorded cluster List: pods of a ReplicaSet, Job or StatefulSet and a CronJob's Job
    are not matched again; a bare pod, the controllers themselves and a DaemonSet are."""
    listed = YAML(typ="safe").load((DATA / "audit" / "cluster.yaml").read_text())["items"]
    matched = {}
    for item in listed:
        for name in ("rust", "python"):
            result = engines.run(name, plain(item), documents[0])
            matched.setdefault(item["metadata"]["name"], set()).add(all(result["conditions"]))
    assert {name: values.pop() for name, values in matched.items() if len(values) == 1} == {
        "web-7c9d5b8f6d-x2k4q": False, "nightly-29400180-8zq7r": False, "debug": True,
        "legacy-5f6b7c8d9e-abcde": False, "db-0": False, "web": True, "db": True, "log-agent": True,
        "nightly-29400180": False, "nightly": True,
    }


def test_messages_name_the_first_failing_container(documents, engines):
    manifest = load_manifest(str(DATA / "policy" / "cases.yaml"))
    shells = next(pod for pod in manifest.pods if pod.name == "shells")
    result = engines.run("rust", plain(shells.resource), documents[0])
    # sidecars (initContainers with restartPolicy: Always) come first, as in the pod spec's start order
    assert "IN204: container sidecar-shell: `sh -c` does not exec its last command, so the app never gets " \
           "SIGTERM; write `exec` before the last command" in result["messages"]
    # IN204's fix makes ./b PID 1: IN206 does not repeat the cause (one finding per cause)
    assert not any(m.startswith("IN206: container sidecar-shell: ") for m in result["messages"])
    assert not any("init-shell" in m for m in result["messages"])


def test_digits_at_least_regex_in_both_engines():
    """The CEL that builds `N >= x` regexes (for preStop sleeps in scripts), checked number by
    number: the regex each engine builds full-matches N exactly when N >= x."""
    import re

    import cel
    import celpy
    from cel_engines import _from_celpy, _to_celpy

    from initify.kubernetes import admission

    expression = admission._digits_at_least("x")
    environment = celpy.Environment()
    python = environment.program(environment.compile(expression))
    rust = cel.compile(expression)
    numbers = list(range(0, 130)) + [199, 200, 201, 999, 1000, 1001, 12344, 12345, 12346, 99999]
    for x in (-5, 0, 1, 9, 10, 29, 30, 99, 100, 101, 120, 999, 1000, 12345):
        built = {rust.execute({"x": x}), _from_celpy(python.evaluate(_to_celpy({"x": x})))}
        assert len(built) == 1, x
        pattern = built.pop()
        for n in numbers:
            assert bool(re.fullmatch(pattern, str(n))) == (n >= x), (x, n, pattern)
