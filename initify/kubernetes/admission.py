"""CEL for the manifest rules that need no image facts, and the ValidatingAdmissionPolicy that holds it.

`initify policy` turns the rules that define `policy()` into one ValidatingAdmissionPolicy
(admissionregistration.k8s.io/v1, GA since Kubernetes 1.30), its binding and a params ConfigMap.
A rule's `policy()` returns a `PolicyCheck`: a CEL predicate over one container `c` (true when the
container fails the rule) built from the vocabulary below, so the rule keeps its policy form in its
own module and this file knows no rule.

The API server sees only the object, never the image, so the policy judges what lint judges for an
unpaired manifest: PID 1 as `command` + `args` decide it (a container with `args` alone or neither
runs the image's own command, unknown here, and passes). The program names (shells, inits,
launchers) come from the knowledge base, so the policy follows `rules/knowledge.toml`.

Only standard CEL is used (no Kubernetes string or list extensions): the expressions then run on
every API server >= 1.30 and in the two independent CEL engines the tests compare. Standard CEL
cannot split or cut strings, so what lint learns by parsing a `sh -c` script the policy learns from
regular expressions anchored at the script's end (see `ends_with_exec`); each rule doc lists what
that cannot see, and tests/test_policy.py lists every known difference on real manifests.
"""

from __future__ import annotations

from typing import Any, Dict, List, NamedTuple, Optional, Sequence

from initify.knowledge import loader as knowledge

POLICY_NAME = "initify-stop-behaviour"
PARAMS_NAME = "initify-policy-params"
PARAMS_NAMESPACE = "kube-system"
PARAMS: Dict[str, str] = {  # the params ConfigMap's data (ConfigMap values are strings)
    "multiServiceGraceSeconds": "100",  # pods.MULTI_SERVICE_SECONDS: systemd's 90 s stop timeout plus a margin
    "preStopMarginSeconds": "10",  # what IN202 wants after a preStop sleep for the app to stop
}
MIN_VERSION = (1, 30)  # admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy is GA
ARGV_POSITIONS = 6  # how far into argv the policy looks for a shell's `-c` script
SLEEP_WORDS = 4  # numbers of one `sleep N...` preStop exec command that are added up

# kind -> (API group, resource, CEL path from `object` to the pod spec)
WORKLOADS: Dict[str, tuple] = {
    "Pod": ("", "pods", "object.spec"),
    "PodTemplate": ("", "podtemplates", "object.template.spec"),
    "ReplicationController": ("", "replicationcontrollers", "object.spec.template.spec"),
    "Deployment": ("apps", "deployments", "object.spec.template.spec"),
    "StatefulSet": ("apps", "statefulsets", "object.spec.template.spec"),
    "DaemonSet": ("apps", "daemonsets", "object.spec.template.spec"),
    "ReplicaSet": ("apps", "replicasets", "object.spec.template.spec"),
    "Job": ("batch", "jobs", "object.spec.template.spec"),
    "CronJob": ("batch", "cronjobs", "object.spec.jobTemplate.spec.template.spec"),
}
# controllers whose own template the policy already judged: objects they create are skipped
CONTROLLERS = ("ReplicaSet", "ReplicationController", "StatefulSet", "DaemonSet", "Job", "Deployment", "CronJob")


class PolicyCheck(NamedTuple):
    """One rule's policy form: `fails` is CEL over container `c` (and `variables`, `params`)."""

    code: str
    fails: str
    message: str  # static message; starts with the code
    detail: str  # what the messageExpression says after the container's name
    containers: str = "variables.running"  # `variables.running` or `variables.containers`


# --------------------------------------------------------------------------------------------
# CEL text helpers
# --------------------------------------------------------------------------------------------


def literal(text: str) -> str:
    """A CEL single-quoted string literal."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\t", "\\t")
    return f"'{escaped}'"


def _rx_escape(text: str) -> str:
    """Escape the characters that RE2, Python `re` and Rust `regex` all read as syntax."""
    return "".join("\\" + char if char in ".+*?()[]{}|^$\\" else char for char in text)


def _alternatives(words: Sequence[str]) -> str:
    return "(" + "|".join(_rx_escape(word) for word in sorted(words)) + ")"


def program_rx(names: Sequence[str], paths: Sequence[str] = ()) -> str:
    """A regex (no anchors) for a program word: one of `names` after any folder, or one of `paths`."""
    options = []
    if names:
        options.append(r"([^\s;&|'" + '"' + r"]*/)?" + _alternatives(names))
    if paths:
        options.append(_alternatives(paths))
    return "(" + "|".join(options) + ")" if options else "(\\b\\B)"


def is_program(expression: str, names: Sequence[str], paths: Sequence[str] = ()) -> str:
    """CEL: the string `expression` is one of `names` (by basename) or `paths` (exactly)."""
    return f"{expression}.matches({literal('^' + program_rx(names, paths) + '$')})"


def _inits(supervising: bool) -> tuple:
    kb = knowledge.load()
    names = sorted({n for i in kb.inits if i.supervises_argv == supervising for n in i.names})
    paths = sorted({p for i in kb.inits if i.supervises_argv == supervising for p in i.paths})
    return names, paths


def shells() -> List[str]:
    return sorted(knowledge.load().shells)


def launchers() -> List[str]:
    return sorted(knowledge.load().launchers)


def supervising_inits() -> tuple:
    """(names, paths) of inits that run their argv as a child (tini, dumb-init...)."""
    return _inits(True)


def multi_service_inits() -> tuple:
    """(names, paths) of inits that start services from their own configuration (systemd...)."""
    return _inits(False)


def systemd() -> tuple:
    init = next(i for i in knowledge.load().inits if i.key == "systemd")
    return sorted(init.names), sorted(init.paths)


# --------------------------------------------------------------------------------------------
# A container's PID 1 (command + args)
# --------------------------------------------------------------------------------------------


def has_command(c: str = "c") -> str:
    return f"(has({c}.command) && size({c}.command) > 0)"


def argv(c: str = "c") -> str:
    """argv when `command` is set: command + args; else []."""
    return f"(has({c}.command) ? {c}.command + (has({c}.args) ? {c}.args : []) : [])"


def at(items: str, index: int) -> str:
    """CEL: `items[index]`, or '' past the end.

    Every access is guarded so that no sub-expression fails: cel-python raises (instead of
    yielding false) on `false && (error && error)`, and the API server counts errors against
    the failure policy."""
    return f"(size({items}) > {index} ? {items}[{index}] : '')"


_SEP = r"(^|[;&\n])[ \t]*"  # start of the script's last statement (`a && exec b` counts, `a || b` not)
_REST = r"([ \t]+([^;&|\n\\]|\\[\s\S])*)?[\s;]*$"  # the rest of the last statement, to the script's end


def ends_with_exec(program: str) -> str:
    """A regex for a script whose last statement is `exec PROGRAM ...` (PROGRAM is a regex).

    Only the text after the last `;`, `&` or newline is looked at: an `if`/`case` whose branches
    all exec, or an argument quoting one of those characters, is not seen as exec.
    """
    return _SEP + r"exec[ \t]+['" + '"' + r"]?" + program + r"['" + '"' + r"]?" + _REST


def ends_with_command(program: str) -> str:
    """A regex for a script whose last statement is the simple command `PROGRAM ...` (no `exec`,
    no pipeline, no `||`, not in the background): `exec` before it makes PROGRAM the shell's PID."""
    return _SEP + r"['" + '"' + r"]?" + program + r"['" + '"' + r"]?" + _REST


ANY_PROGRAM = r"[^\s;&|<>]+"  # anything exec can run, `"$APP"` included
KNOWN_PROGRAM = r"[^\s;&|<>$'" + '"' + r"][^\s;&|<>]*"  # a program spelled out, not an expansion


_OPTION = literal(r"^(\+.|-[^-]|--.)")
_OPTION_OR_DASHES = literal(r"^(\+.|-.)")  # an option or `--`: not the script


def _option(word: str) -> str:
    """CEL: `word` is a shell option (`-e`, `+x`, `--login`), not `--` and not `-`."""
    return f"{word}.matches({_OPTION})"


def script_positions(positions: int = ARGV_POSITIONS) -> List[tuple]:
    """(shell index, script index) pairs looked at: a shell at 0 (script at 2..4), or behind an
    init at 1 or 2 (`tini -- sh -c`, `tini sh -c`; script two or three words after the shell)."""
    pairs = []
    for shell in (0, 1, 2):
        for script in range(shell + 2, min(shell + (5 if shell == 0 else 4), positions + 1)):
            pairs.append((shell, script))
    return pairs


def bind(expression: str, name: str, body: str) -> str:
    """CEL `let`: `body` with `name` standing for `expression`, computed once (a one-item list's
    `exists`; standard CEL has no `cel.bind`)."""
    return f"[{expression}].exists({name}, {body})"


def shell_script(predicate: str, a: str = "a", behind_init: bool = False, shell_names: Optional[Sequence[str]] = None) -> str:
    """CEL: argv `a` runs `SHELL [-opts] -c SCRIPT` (at argv[0], or behind a supervising init when
    `behind_init`) and `predicate` (CEL over the string SCRIPT) holds for the script.

    Like lint's `shell_c_script`: options start with `-` or `+`, one of them holds a `c`, and the
    first word that is no option is the script. The positions looked at are exclusive (argv[0] is
    a shell or an init, and the script is the first word that is no option), so a chain of
    conditionals picks the script, and the predicate is written once.
    """
    shells_rx = shells() if shell_names is None else list(shell_names)
    init_names, init_paths = supervising_inits()
    chain = "[]"
    for shell, script in reversed(script_positions()):
        if shell > 0 and not behind_init:
            continue
        terms = [f"size({a}) > {script}", is_program(at(a, shell), shells_rx)]
        if shell > 0:
            terms.append(is_program(at(a, 0), init_names, init_paths))
            terms.extend(f"{at(a, k)}.startsWith('-')" for k in range(1, shell))
        options = range(shell + 1, script)
        terms.extend(_option(at(a, k)) for k in options)
        terms.append("(" + " || ".join(f"{at(a, k)}.matches('^-.*c')" for k in options) + ")")
        terms.append(f"!{at(a, script)}.matches({_OPTION_OR_DASHES})")
        chain = f"({' && '.join(terms)} ? [{at(a, script)}] : {chain})"
    return f"{chain}.exists(s, {predicate.replace('SCRIPT', 's')})"


def script_matches(regex: str) -> str:
    return f"SCRIPT.matches({literal(regex)})"


def stops_on_term(script: str = "SCRIPT") -> str:
    """CEL: the script traps TERM/INT (or 15/2) and waits: lint's `stops_on_term`, by regex."""
    trap = r"(^|[;&\n\s])trap[ \t]+[^\n;]*(TERM|INT|[ \t]15|[ \t]2)\b"
    wait = r"(^|[;&\n\s])wait\b"
    return f"({script}.matches({literal(trap)}) && {script}.matches({literal(wait)}))"


def pid1_is(names: Sequence[str], paths: Sequence[str], c: str = "c") -> str:
    """CEL: PID 1 is one of these programs, started directly or exec'd at the end of `sh -c`."""
    direct = is_program(at("a", 0), names, paths)
    via_shell = shell_script(script_matches(ends_with_exec(program_rx(names, paths))))
    return f"({has_command(c)} && {bind(argv(c), 'a', f'{direct} || {via_shell}')})"


# --------------------------------------------------------------------------------------------
# preStop sleeps
# --------------------------------------------------------------------------------------------


def _digits_at_least(x: str, max_digits: int = 5) -> str:
    """CEL building a regex for a decimal integer >= the CEL int `x` (no leading zeros)."""
    branches = []
    for k in range(1, max_digits + 1):
        parts = [f"string({x})"]
        for i in range(1, k + 1):
            digit = f"({x} / {10 ** (k - i)} % 10)"
            prefix = f"string({x} / {10 ** (k - i + 1)})" if i > 1 else "''"
            rest = literal(f"[0-9]{{{k - i}}}") if k > i else "''"
            parts.append(f"({digit} < 9 ? '|' + {prefix} + '[' + string({digit} + 1) + '-9]' + {rest} : '')")
        parts.append(literal(f"|[1-9][0-9]{{{k},}}"))
        branches.append((10 ** k, "'(' + " + " + ".join(parts) + " + ')'"))
    expression = literal("[0-9]{99}")
    for limit, branch in reversed(branches):
        expression = f"({x} < {limit} ? {branch} : {expression})"
    return f"({x} <= 0 ? '[0-9]+' : {expression})"


SLEEP_UNITS = (("s?", 1, "S"), ("m", 60, "M"), ("h", 3600, "H"), ("d", 86400, "D"))


def threshold_variables(name: str, x: str) -> List[Dict[str, str]]:
    """`name`S/M/H/D: the least whole seconds, minutes, hours, days that reach `x` seconds."""
    found = []
    for _, size, letter in SLEEP_UNITS:
        value = x if size == 1 else f"(variables.{name}S + {size - 1}) / {size}"
        found.append({"name": f"{name}{letter}", "expression": value})
    return found


def sleep_at_least_regex(name: str) -> str:
    """CEL building a regex for a `sleep N[smhd]` command of a script that sleeps at least the
    threshold `variables.<name>S` seconds (lint counts whole units: `1.5` is 1 s, `1.5m` 60 s)."""
    parts = []
    for suffix, _, letter in SLEEP_UNITS:
        tail = literal(r"(\.[0-9]+)?" + suffix)
        parts.append(f"{_digits_at_least(f'variables.{name}{letter}')} + {tail}")
    start = literal(r"(^|[;&|\n])[ \t]*([^\s;&|]*/)?sleep[ \t]+(")
    end = literal(r")[ \t]*($|[;&|\n#])")
    return f"{start} + " + " + '|' + ".join(parts) + f" + {end}"


def _hook(c: str) -> str:
    return f"{c}.lifecycle.preStop"


def has_prestop(c: str = "c") -> str:
    return f"(has({c}.lifecycle) && has({c}.lifecycle.preStop))"


def prestop_sleep_action(c: str = "c") -> str:
    """CEL: the preStop handler is the `sleep` action (lint reads `exec` first)."""
    h = _hook(c)
    return f"({has_prestop(c)} && !has({h}.exec) && has({h}.sleep) && has({h}.sleep.seconds))"


def _word_seconds(word: str) -> str:
    """CEL: seconds of one `sleep` operand matching `^[0-9]+(\\.[0-9]+)?[smhd]?$`, as a duration."""
    zero_days = literal(r"^0+(\.[0-9]+)?d$")
    return (f"({word}.matches('d$') ? ({word}.matches({zero_days}) ? duration('0s') : duration('86400s')) "
            f": duration({word}.matches('[smh]$') ? {word} : {word} + 's'))")


def prestop_command(c: str = "c") -> str:
    """CEL: the preStop exec command, or [] (no preStop, not exec, no command)."""
    h = _hook(c)
    return f"({has_prestop(c)} && has({h}.exec) && has({h}.exec.command) ? {h}.exec.command : [])"


def prestop_sleeps_at_least(x: str, regex: str, c: str = "c") -> str:
    """CEL: the preStop hook sleeps >= `x` seconds (`regex`: sleep_at_least_regex(x), computed
    once in a variable): the sleep action, an exec `sleep N...`, or a `sleep N` in `sh -c`."""
    h = _hook(c)
    e = "e"
    action = f"{prestop_sleep_action(c)} ? {h}.sleep.seconds >= {x} : false"
    number = r"^[0-9]+(\.[0-9]+)?[smhd]?$"
    words = " && ".join(f"(size({e}) <= {k} || {at(e, k)}.matches({literal(number)}))" for k in range(1, SLEEP_WORDS + 1))
    total = " + ".join(f"(size({e}) > {k} && {at(e, k)}.matches({literal(number)}) ? {_word_seconds(at(e, k))} "
                       f": duration('0s'))" for k in range(1, SLEEP_WORDS + 1))
    direct = (f"({is_program(at(e, 0), ['sleep'])} && size({e}) >= 2 && size({e}) <= {SLEEP_WORDS + 1} && {words} "
              f"&& ({total}).getSeconds() >= {x})")
    hook_shells = ["sh", "bash", "ash", "dash", "zsh", "ksh", "busybox"]  # pods._hook_commands
    in_script = shell_script(f"SCRIPT.matches({regex})", e, shell_names=hook_shells)
    return f"(({action}) || {bind(prestop_command(c), e, f'{direct} || {in_script}')})"


# --------------------------------------------------------------------------------------------
# The policy
# --------------------------------------------------------------------------------------------


def _pod_spec() -> str:
    default = "object.spec.template.spec"
    expression = default
    for kind, (_, _, path) in reversed(list(WORKLOADS.items())):
        if path != default:
            expression = f"object.kind == '{kind}' ? {path} : ({expression})"
    return expression


def variables() -> List[Dict[str, str]]:
    """The policy's shared variables, in evaluation order (later ones use earlier ones)."""
    margin = "int(params.data.preStopMarginSeconds)"
    return [
        {"name": "spec", "expression": _pod_spec()},
        {"name": "containers", "expression":
            "(has(variables.spec.initContainers) ? variables.spec.initContainers : []) + "
            "(has(variables.spec.containers) ? variables.spec.containers : [])"},
        {"name": "running", "expression":  # app containers and sidecars: stopped when the pod is deleted
            "(has(variables.spec.initContainers) ? variables.spec.initContainers.filter(c, "
            "has(c.restartPolicy) && c.restartPolicy == 'Always') : []) + "
            "(has(variables.spec.containers) ? variables.spec.containers : [])"},
        {"name": "grace", "expression":
            "has(variables.spec.terminationGracePeriodSeconds) ? variables.spec.terminationGracePeriodSeconds : 30"},
        {"name": "windows", "expression":
            "has(variables.spec.os) && has(variables.spec.os.name) && variables.spec.os.name == 'windows'"},
        {"name": "sharedPids", "expression":
            "has(variables.spec.shareProcessNamespace) && variables.spec.shareProcessNamespace == true"},
    ] + threshold_variables("grace", "variables.grace") + threshold_variables("near", f"variables.grace - {margin} + 1") + [
        {"name": "sleepAtLeastGrace", "expression": sleep_at_least_regex("grace")},
        {"name": "sleepNearGrace", "expression": sleep_at_least_regex("near")},
    ]


def rule_variable(check: PolicyCheck) -> Dict[str, str]:
    """`variables.in205`: names of the containers that fail the rule."""
    return {"name": check.code.lower(), "expression": f"{check.containers}.filter(c, {check.fails}).map(c, c.name)"}


def validation(check: PolicyCheck) -> Dict[str, str]:
    names = f"variables.{check.code.lower()}"
    return {
        "expression": f"size({names}) == 0",
        "message": check.message,
        "messageExpression": f"{literal(check.code + ': container ')} + {names}[0] + {literal(': ' + check.detail)}",
        "reason": "Invalid",
    }


def match_condition() -> Dict[str, str]:
    """Skip objects a checked controller made (a Deployment's ReplicaSets and their pods, a
    CronJob's Jobs): their template was judged when the controller was admitted."""
    kinds = "[" + ", ".join(f"'{kind}'" for kind in CONTROLLERS) + "]"
    return {
        "name": "not-made-by-a-checked-controller",
        "expression": ("!has(object.metadata.ownerReferences) || !object.metadata.ownerReferences.exists(r, "
                       f"has(r.controller) && r.controller == true && r.kind in {kinds})"),
    }


def resource_rules() -> List[Dict[str, Any]]:
    groups: Dict[str, List[str]] = {}
    for group, resource, _ in WORKLOADS.values():
        groups.setdefault(group, []).append(resource)
    return [
        {"apiGroups": [group], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": resources}
        for group, resources in groups.items()
    ]


def documents(checks: Sequence[PolicyCheck], action: str, version: str, generator: str) -> List[Dict[str, Any]]:
    """The params ConfigMap, the ValidatingAdmissionPolicy and its binding."""
    labels = {"app.kubernetes.io/managed-by": "initify"}
    annotations = {"initify.dev/generated-by": generator, "initify.dev/kubernetes-version": version,
                   "initify.dev/rules": ",".join(check.code for check in checks)}
    params = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": PARAMS_NAME, "namespace": PARAMS_NAMESPACE, "labels": labels},
        "data": dict(PARAMS),
    }
    policy = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": POLICY_NAME, "labels": labels, "annotations": annotations},
        "spec": {
            "failurePolicy": "Ignore",
            "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
            "matchConstraints": {"resourceRules": resource_rules()},
            "matchConditions": [match_condition()],
            "variables": variables() + [rule_variable(check) for check in checks],
            "validations": [validation(check) for check in checks],
        },
    }
    binding = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": POLICY_NAME, "labels": labels},
        "spec": {
            "policyName": POLICY_NAME,
            "validationActions": [action],
            "paramRef": {"name": PARAMS_NAME, "namespace": PARAMS_NAMESPACE, "parameterNotFoundAction": "Deny"},
        },
    }
    return [params, policy, binding]
