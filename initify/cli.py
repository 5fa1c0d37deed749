"""The `initify` command line. Heavy modules are imported inside commands: a pre-commit hook
starts this on every commit, so start-up time matters."""

from __future__ import annotations

import sys
from typing import Dict, List, Optional, Tuple

import click

from initify import __version__
from initify.errors import InputError


def _fail(message: str) -> "click.exceptions.Exit":
    click.echo(f"initify: error: {message}", err=True)
    return click.exceptions.Exit(2)


def _codes(values: Tuple[str, ...]) -> List[str]:
    codes: List[str] = []
    for value in values:
        codes.extend(part.strip() for part in value.split(",") if part.strip())
    return codes


def _check_codes(codes: List[str]) -> None:
    from initify import engine

    for code in codes:
        if code.upper() == "ALL":
            continue
        if engine.find_rule(code) is None and not any(r.startswith(code.upper()) for r in engine.all_rules()):
            raise _fail(f"unknown rule code or prefix: {code}")


def _image_pairs(images: Tuple[str, ...]) -> Dict[str, str]:
    """`--image REF=path/to/Dockerfile` values as REF -> path."""
    import os

    pairs: Dict[str, str] = {}
    for item in images:
        ref, _, dockerfile = item.partition("=")
        if not ref.strip() or not dockerfile.strip():
            raise _fail(f"--image needs REF=path/to/Dockerfile, got {item!r}")
        if not os.path.isfile(dockerfile.strip()):
            raise _fail(f"{dockerfile.strip()}: --image {ref.strip()}: no such Dockerfile")
        pairs[ref.strip()] = dockerfile.strip()
    return pairs


def _build_args(values: Tuple[str, ...]) -> Dict[str, str]:
    """`--build-arg NAME=VALUE` values as a dict."""
    arguments: Dict[str, str] = {}
    for item in values:
        if "=" not in item:
            raise _fail(f"--build-arg needs NAME=VALUE, got {item!r}")
        name, value = item.split("=", 1)
        arguments[name] = value
    return arguments


def _check_version(k8s_version: Optional[str]) -> None:
    if k8s_version is not None:
        from initify.kubernetes.pods import parse_version

        try:
            parse_version(k8s_version)
        except ValueError as error:
            raise _fail(f"--k8s-version: {error}")


def _shared_options(command):
    """The options `lint` and `fix` share: rule selection, stage, context, pairing."""
    options = [
        click.option("--select", multiple=True, help="Rule codes or prefixes to enable (comma-separated, repeatable)."),
        click.option("--ignore", multiple=True, help="Rule codes or prefixes to disable (comma-separated, repeatable)."),
        click.option("--fail-level", type=click.Choice(["error", "warning", "info", "never"]), default=None, help="Lowest severity (of an unfixed finding, for fix) that makes the exit status 1 [default: warning]."),
        click.option("--target", default=None, help="Judge this build stage instead of the last one."),
        click.option("--context", "context_dir", type=click.Path(readable=False), default=None, help="Build context folder (default: the Dockerfile's folder)."),
        click.option("--build-arg", "build_args", multiple=True, help="NAME=VALUE used to resolve ARGs in FROM and STOPSIGNAL."),
        click.option("--image", "images", multiple=True, help="REF=path/to/Dockerfile: the Dockerfile that builds image REF of a manifest (repeatable)."),
        click.option("--k8s-version", default=None, help="Kubernetes version X.Y the manifests target; decides which remedies are used [default: the newest kubernetes-validate knows]."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _shared_settings(
    select: Tuple[str, ...],
    ignore: Tuple[str, ...],
    fail_level: Optional[str],
    target: Optional[str],
    context_dir: Optional[str],
    build_args: Tuple[str, ...],
    images: Tuple[str, ...],
    k8s_version: Optional[str],
) -> Dict[str, object]:
    """Checked values of the shared options, as keyword arguments of lint.Options/FixOptions."""
    import os

    selected, ignored = _codes(select), _codes(ignore)
    _check_codes(selected + ignored)
    if context_dir is not None and not os.path.isdir(context_dir):
        raise _fail(f"{context_dir}: --context: no such folder")
    arguments = _build_args(build_args)
    _check_version(k8s_version)
    return {
        "select": selected or None,
        "ignore": ignored,
        "fail_level": fail_level,
        "target": target,
        "context": context_dir,
        "build_args": arguments,
        "images": _image_pairs(images),
        "k8s_version": k8s_version,
    }


def _one_line(text: str, limit: int = 200) -> str:
    """`text` on one line and at most `limit` characters (an error message never spills a file)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class _Main(click.Group):
    """The command group, with a last line of defence: an exception nobody expected becomes one
    line `initify: internal error: ...` and exit status 3 (not 1, which means "findings", so CI
    can tell a crash from a failed check). `initify --debug ...` prints the traceback too."""

    def invoke(self, ctx: click.Context) -> object:
        for stream in (sys.stdout, sys.stderr):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:  # file names that are not UTF-8 must not crash the report
                try:
                    reconfigure(errors="backslashreplace")
                except (ValueError, OSError):  # pragma: no cover - a detached stream
                    pass
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort, KeyboardInterrupt,
                SystemExit):
            raise
        except RecursionError:
            _internal(ctx, "input nested too deeply")
        except MemoryError:
            _internal(ctx, "out of memory")
        except Exception as error:  # the last line of defence
            _internal(ctx, f"{type(error).__name__}: {error}")
        return None  # pragma: no cover


def _internal(ctx: click.Context, message: str) -> None:
    if ctx.params.get("debug"):
        import traceback

        traceback.print_exc()
    click.echo(f"initify: internal error: {_one_line(message)} (please report it; `initify --debug ...` shows the traceback)",
               err=True)
    raise click.exceptions.Exit(3)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="initify")
@click.option("--debug", is_flag=True, help="Print the traceback of an internal error.")
def main(debug: bool) -> None:
    """Make containers start and stop correctly: lint and fix Dockerfiles and pod manifests.

    Exit status: 0 fine, 1 findings, 2 bad input or usage, 3 an internal error (a bug in initify).
    """


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(readable=False))
@click.option("--format", "output_format", type=click.Choice(["text", "json", "sarif", "github"]), default="text", show_default=True)
@_shared_options
@click.option("--output", "-o", type=click.Path(readable=False), default=None, help="Write the report to a file.")
def lint(
    paths: Tuple[str, ...],
    output_format: str,
    output: Optional[str],
    **shared: object,
) -> None:
    """Report problems in Dockerfiles, Kubernetes manifests and compose files (files or folders;
    default: the current folder). Manifests are paired with the Dockerfile their image comes from.

    Exit status: 0 no finding at or above the fail level, 1 findings, 2 bad input or usage.
    """
    from initify.commands import lint as lint_module
    from initify import reporters

    options = lint_module.Options(**_shared_settings(**shared))  # type: ignore[arg-type]
    try:
        result = lint_module.run(list(paths), options)
    except InputError as error:
        raise _fail(str(error))
    for note in result.notes:
        click.echo(f"initify: note: {note}", err=True)
    colour = output_format == "text" and output is None and sys.stdout.isatty()
    report = reporters.FORMATS[output_format](result.findings, colour=colour, files=result.files)
    if output:
        _write_report(output, report)
    else:
        sys.stdout.write(report)
    from initify.engine import at_or_above

    if result.parse_errors():
        sys.exit(2)  # some file could not be read: the run is incomplete, whatever else it found
    failing = any(at_or_above(f.severity, result.fail_level) for f in result.findings)
    sys.exit(1 if failing else 0)


def _write_report(output: str, report: str) -> None:
    """Write the report to `output`: a missing folder or a full disk is one line, exit 2."""
    import os

    folder = os.path.dirname(output) or "."
    if not os.path.isdir(folder):
        raise _fail(f"{output}: cannot write: no such folder {folder}")
    try:
        with open(output, "w", encoding="utf-8") as stream:
            stream.write(report)
    except OSError as error:
        raise _fail(f"{output}: cannot write: {error.strerror or error}")


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(readable=False))
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff of the fixes and write nothing.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when a fix would change something.")
@click.option("--init", "init", type=click.Choice(["auto", "python", "tini", "dumb-init", "none"]), default="auto", show_default=True, help="Init to inject for IN106.")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply fixes the rule docs mark unsafe.")
@_shared_options
@click.option("--stopsignal-field", is_flag=True, help="IN201: send the stop signal with lifecycle.stopSignal (Kubernetes >= 1.33) instead of a preStop kill.")
def fix(
    paths: Tuple[str, ...],
    show_diff: bool,
    check: bool,
    init: str,
    unsafe_fixes: bool,
    stopsignal_field: bool,
    **shared: object,
) -> None:
    """Rewrite Dockerfiles (and their entrypoint scripts), Kubernetes manifests and compose files
    so the container starts and stops correctly, then report what could not be fixed.

    Exit status: 0 nothing left at the fail level (--check/--diff: nothing to change), 1 findings
    remain (--check/--diff: something would change), 2 bad input (then nothing is written).
    """
    from initify.commands import fix as fix_module
    from initify import engine, reporters
    from initify.engine import at_or_above

    options = fix_module.FixOptions(
        **_shared_settings(**shared),  # type: ignore[arg-type]
        unsafe_fixes=unsafe_fixes,
        init=init,
        stopsignal_field=stopsignal_field,
    )
    import signal

    def terminated(number: int, frame: object) -> None:
        raise fix_module.Interrupted()

    previous = signal.signal(signal.SIGTERM, terminated)  # cleaned up like Ctrl-C, not left half-done
    refused: List[str] = []
    try:
        plan = fix_module.plan(list(paths), options)
        if not (show_diff or check):
            refused = fix_module.write(plan)
    except InputError as error:
        raise _fail(str(error))
    except (KeyboardInterrupt, fix_module.Interrupted) as stop:
        click.echo("initify: interrupted; nothing was written", err=True)
        sys.exit(143 if isinstance(stop, fix_module.Interrupted) else 130)
    finally:
        signal.signal(signal.SIGTERM, previous)
    for note in plan.notes:
        click.echo(f"initify: note: {note}", err=True)
    for message in refused:
        click.echo(f"initify: error: {message}", err=True)
    changed = plan.changed()
    if show_diff:
        sys.stdout.write(fix_module.diff(plan))
    for applied in plan.applied:
        verb = "would fix" if (show_diff or check) else "fixed"
        note = f" ({applied.fix.note})" if applied.fix.note else ""
        where = f"{applied.finding.path}:{applied.finding.line}"
        click.echo(f"{where}: {applied.finding.code} {verb}{note}", err=show_diff)
    if show_diff or check:
        if check and changed:
            for state in changed:
                click.echo(f"would rewrite {state.display}")
        if plan.errors:  # after a diff, on stderr: the diff on stdout stays a clean patch
            (sys.stderr if show_diff else sys.stdout).write(reporters.text(plan.errors, colour=False, files=len(plan.errors)))
        sys.exit(2 if plan.errors else 1 if changed else 0)
    if plan.remaining or plan.errors:
        sys.stdout.write(reporters.text(engine.sort_findings(plan.errors + plan.remaining), colour=False,
                                        files=plan.checked + len(plan.errors)))
    unsafe = [f for f in plan.remaining if f.fix is not None and not f.fix.safe]
    click.echo(f"{len(changed) - len(refused)} file(s) rewritten, {len(plan.applied)} fix(es) applied, {len(plan.remaining)} finding(s) left"
               + (f" ({len(unsafe)} fixable with --unsafe-fixes)" if unsafe else ""))
    if plan.errors or refused:
        sys.exit(2)  # a file could not be read, planned or written: the fix is incomplete
    sys.exit(1 if any(at_or_above(f.severity, plan.fail_level) for f in plan.remaining) else 0)


@main.command(context_settings={"ignore_unknown_options": False})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.option("-f", "--file", "dockerfile", type=click.Path(readable=False), default=None, help="Dockerfile or Containerfile [default: CONTEXT/Containerfile, else CONTEXT/Dockerfile].")
@click.option("-t", "--tag", "tags", multiple=True, help="Name of the image (repeatable).")
@click.option("--engine", type=click.Choice(["buildah", "podman"]), default="buildah", show_default=True)
@click.option("--init", "init", type=click.Choice(["auto", "python", "tini", "dumb-init", "none"]), default="auto", show_default=True, help="Init to put in front; auto looks inside the base image.")
@click.option("--no-fix", is_flag=True, help="Build the Dockerfile as it is.")
@click.option("--target", default=None, help="Build stage to build.")
@click.option("--build-arg", "build_args", multiple=True, help="NAME=VALUE passed to the engine and used to plan the fixes.")
def build(args: Tuple[str, ...], dockerfile: Optional[str], tags: Tuple[str, ...], engine: str, init: str, no_fix: bool, target: Optional[str], build_args: Tuple[str, ...]) -> None:
    """Build an image with buildah or podman, with the fixes of `initify fix` applied to a
    temporary copy (your files are never changed), then check the built image's config.

    Usage: initify build [OPTIONS] [CONTEXT] [-- ENGINE ARGS...]

    Exit status: 0 built as planned, 1 the built config differs from the plan, 2 bad input or a
    missing engine, the engine's status when the build fails, 130 on Ctrl-C.
    """
    import signal

    from initify.commands import build as build_module
    from initify.image import runtime

    engine_args = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    positional = list(args[: len(args) - len(engine_args)])
    if len(positional) > 1:
        raise _fail(f"one build context expected, got {' '.join(positional)} (engine arguments go after --)")
    arguments = _build_args(build_args)
    options = build_module.BuildOptions(
        context=positional[0] if positional else ".", dockerfile=dockerfile, tags=list(tags), engine=engine,
        init=init, fix=not no_fix, target=target, build_args=arguments, engine_args=engine_args,
    )

    def interrupted(number: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        outcome = build_module.build(options, say=lambda line: click.echo(f"initify: {line}", err=True),
                                     echo=lambda line: click.echo(f"  {line}", err=True))
    except (InputError, runtime.ToolMissing) as error:
        raise _fail(str(error))
    except build_module.BuildFailed as error:
        click.echo(f"initify: error: {engine} failed with status {error.status}; its last lines:", err=True)
        for line in error.lines:
            click.echo(f"  {line}", err=True)
        sys.exit(error.status)
    except KeyboardInterrupt:
        click.echo("initify: interrupted; temporary files removed", err=True)
        sys.exit(130)
    for line in build_module.summary(outcome):
        click.echo(line)
    sys.exit(1 if outcome.mismatches else 0)


@main.command()
@click.argument("image")
@click.option("--runtime", "runtime_name", type=click.Choice(["auto", "runc", "podman"]), default="auto", show_default=True, help="auto: podman where it can run containers, else runc.")
@click.option("--as", "mode", type=click.Choice(["docker", "kubernetes"]), default="docker", show_default=True, help="Stop the container the way this runtime does.")
@click.option("--manifest", type=click.Path(readable=False), default=None, help="Pod manifest whose preStop, lifecycle.stopSignal and terminationGracePeriodSeconds apply (with --as kubernetes).")
@click.option("--container", default=None, help="The manifest's container to use when it has several.")
@click.option("--grace", type=click.FloatRange(min=0), default=None, help="Seconds before SIGKILL [default: docker 10, Kubernetes the manifest's or 30].")
@click.option("--startup", type=click.FloatRange(min=0), default=2.0, show_default=True, help="Seconds to let the container start before stopping it.")
def verify(image: str, runtime_name: str, mode: str, manifest: Optional[str], container: Optional[str], grace: Optional[float], startup: float) -> None:
    """Run IMAGE, stop it as docker or Kubernetes would, and report how it stopped.

    Exit status: 0 it stopped on its own within the grace, 1 it had to be killed, 2 bad input or
    the container could not be run.
    """
    from initify.image import runtime
    from initify.commands import verify as verify_module

    import os

    if manifest is not None and not os.path.isfile(manifest):
        raise _fail(f"{manifest}: --manifest: " + ("not a regular file" if os.path.exists(manifest) else "no such file"))
    options = verify_module.VerifyOptions(image, runtime_name, mode, manifest, container, grace, startup)
    try:
        result = verify_module.verify(options, say=lambda line: click.echo(f"initify: {line}", err=True))
    except (InputError, runtime.ToolMissing, runtime.RuntimeFailure) as error:
        raise _fail(str(error))
    for line in verify_module.describe(result):
        click.echo(line)
    sys.exit(0 if result.ok else 1)


@main.command("manifest")
@click.argument("dockerfile", type=click.Path(readable=False))
@click.option("--image", required=True, help="Image reference the manifest runs (the image this Dockerfile builds).")
@click.option("--kind", default="Deployment", show_default=True, help="Pod, Deployment, StatefulSet or Job.")
@click.option("--name", default=None, help="Object and container name [default: from the image's repository].")
@click.option("--k8s-version", default=None, help="Kubernetes version X.Y to target [default: the newest kubernetes-validate knows].")
@click.option("--openshift", is_flag=True, help="Add what a systemd workload needs on OpenShift (a service account for the anyuid SCC).")
@click.option("--stopsignal-field", is_flag=True, help="Send the stop signal with lifecycle.stopSignal (Kubernetes >= 1.33) instead of a preStop kill.")
@click.option("--target", default=None, help="Build stage that ships [default: the last one].")
@click.option("--output", "-o", type=click.Path(readable=False, allow_dash=True), default=None, help="Write the manifest to a file (atomically; - for standard output).")
def manifest(dockerfile: str, image: str, kind: str, name: Optional[str], k8s_version: Optional[str], openshift: bool,
             stopsignal_field: bool, target: Optional[str], output: Optional[str]) -> None:
    """Print a Kubernetes manifest for the image DOCKERFILE builds, with the stop signal delivery,
    grace period, tty and os fields its facts call for (each explained in a comment).

    Exit status: 0 written, 2 bad input.
    """
    from initify.commands import manifest as manifest_command

    options = manifest_command.ManifestOptions(dockerfile, image, kind, name, k8s_version, openshift, stopsignal_field, target)
    try:
        text = manifest_command.manifest(options)
        if output == "-":
            output = None
        if output:
            manifest_command.write_atomic(output, text)
    except InputError as error:
        raise _fail(str(error))
    except OSError as error:
        raise _fail(f"{output}: cannot write: {error.strerror or error}")
    if not output:
        sys.stdout.write(text)


@main.command()
@click.argument("code", required=False)
def rules(code: Optional[str]) -> None:
    """List all rules, or print the documentation of one (IN107 or systemd-without-stopsignal)."""
    import os

    from initify import engine
    from initify.resources import data_dir

    if code is None:
        for rule in engine.all_rules().values():
            fix = "fix" if rule.fixable else "   "
            click.echo(f"{rule.code}  {rule.name:<34} {rule.severity:<8} {fix}  {rule.summary}")
        return
    rule = engine.find_rule(code)
    if rule is None:
        raise _fail(f"unknown rule: {code} (see `initify rules`)")
    with open(os.path.join(data_dir("rules"), f"{rule.code}.md"), encoding="utf-8") as handle:
        click.echo(handle.read().rstrip("\n"))


@main.command("init-path")
def init_path() -> None:
    """Print the path of the bundled init (initify/init.py), to copy it into an image by hand."""
    import os

    import initify

    click.echo(os.path.join(os.path.dirname(os.path.abspath(initify.__file__)), "init.py"))


if __name__ == "__main__":  # pragma: no cover
    main()
