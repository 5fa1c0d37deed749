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


_IMAGE_FACTS = click.option(
    "--image-facts", "image_facts", type=click.Choice(["off", "local", "registry"]), default="local", show_default=True,
    help="Where facts about base images come from: off = the knowledge table only; local = the local "
         "containers-storage, else the table; registry = also ask registries (skopeo, cached by digest).")


def _start_image_facts(mode: str) -> None:
    from initify.image import facts as image_facts

    image_facts.configure(mode)


def _report_image_facts() -> None:
    """One stderr line: how many images were resolved from where (and why a real one was not)."""
    from initify.image import facts as image_facts

    resolver = image_facts.current()
    for note in resolver.notes:
        click.echo(f"initify: note: {note}", err=True)
    line = resolver.summary()
    if line:
        click.echo(line, err=True)


class _Group(click.Group):
    """Lists every command on one line, its short help never cut (click trims it to 45 columns)."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.short_help or (command.help or "").split("\n")[0]))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows, col_max=12)



def _one_line(text: str, limit: int = 200) -> str:
    """`text` on one line and at most `limit` characters (an error message never spills a file)."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class _Main(_Group):
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


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"], "terminal_width": 100, "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="initify")
@click.option("--debug", is_flag=True, help="Print the traceback of an internal error.")
def main(debug: bool) -> None:
    """Make containers start and stop correctly: lint and fix Dockerfiles and pod manifests.

    Exit status: 0 fine, 1 findings, 2 bad input or usage, 3 an internal error (a bug in initify).
    """


LINT_FORMATS = ["text", "json", "json-lines", "sarif", "github", "junit", "gitlab"]


def _colour(no_color: bool) -> bool:
    """Colour only on a terminal, never with --no-color or a non-empty NO_COLOR (no-color.org)."""
    import os

    return not no_color and not os.environ.get("NO_COLOR") and sys.stdout.isatty()


@main.command(short_help="Report problems in Dockerfiles, manifests and compose files.")
@click.argument("paths", nargs=-1, type=click.Path(readable=False))
@click.option("--format", "--output-format", "output_format", type=click.Choice(LINT_FORMATS), default="text", show_default=True,
              help="Report format (--output-format is the ruff-style name).")
@_shared_options
@click.option("--output", "-o", type=click.Path(readable=False), default=None, help="Write the report to a file.")
@click.option("--config", "config_file", type=click.Path(readable=False), default=None, help="Use this configuration file (.initify.toml or pyproject.toml) for every file instead of the nearest one.")
@click.option("--statistics", is_flag=True, help="Print how many findings of each code instead of the findings (text or json).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings are at the fail level (2 still means bad input).")
@click.option("--show-fixes", is_flag=True, help="Under each fixable finding, show the lines its fix would change and whether it is safe.")
@click.option("--quiet", "-q", is_flag=True, help="Print the findings only: no summary line, no notes.")
@click.option("--no-color", is_flag=True, help="No colour in text output (also when NO_COLOR is set).")
@click.option("--stdin-filename", default=None, help="Name for `-` (standard input): chooses the reader and where findings point [default: read as its content looks].")
@_IMAGE_FACTS
def lint(
    paths: Tuple[str, ...],
    output_format: str,
    output: Optional[str],
    config_file: Optional[str],
    statistics: bool,
    exit_zero: bool,
    show_fixes: bool,
    quiet: bool,
    no_color: bool,
    stdin_filename: Optional[str],
    image_facts: str,
    **shared: object,
) -> None:
    """Report problems in Dockerfiles, Kubernetes manifests and compose files (files or folders;
    default: the current folder; `-` reads standard input, e.g. `helm template chart | initify
    lint -`). Manifests are paired with the Dockerfile their image comes from.

    Exit status: 0 no finding at or above the fail level, 1 findings, 2 bad input or usage.
    """
    from initify.commands import lint as lint_module
    from initify import config as config_module
    from initify import reporters

    if statistics and output_format not in ("text", "json"):
        raise _fail("--statistics prints text or json, not " + output_format)
    options = lint_module.Options(**_shared_settings(**shared))  # type: ignore[arg-type]
    _start_image_facts(image_facts)
    try:
        config_module.use_config_file(config_file)
        result = lint_module.run(list(paths), options, _read_stdin(paths), stdin_filename, show_fixes=show_fixes)
    except InputError as error:
        raise _fail(str(error))
    if not quiet:
        _report_image_facts()
        for note in result.notes:
            click.echo(f"initify: note: {note}", err=True)
    colour = output_format == "text" and output is None and _colour(no_color)
    if statistics:
        report = reporters.statistics(result.findings, as_json_output=output_format == "json")
    elif output_format == "text":
        report = reporters.text(result.findings, colour=colour, files=result.files, summary_line=not quiet, show_fixes=show_fixes)
    else:
        report = reporters.FORMATS[output_format](result.findings, colour=colour, files=result.files)
    if output:
        _write_report(output, report)
    else:
        sys.stdout.write(report)
    from initify.engine import at_or_above

    if result.parse_errors():
        sys.exit(2)  # some file could not be read: the run is incomplete, whatever else it found
    failing = any(at_or_above(f.severity, result.fail_level) for f in result.findings)
    sys.exit(1 if failing and not exit_zero else 0)


def _read_stdin(paths: Tuple[str, ...]) -> Optional[str]:
    """Standard input as text when `-` is among the paths (at most once)."""
    if "-" not in paths:
        return None
    if paths.count("-") > 1:
        raise _fail("-: standard input can be read only once")
    from initify import discover

    try:
        data = discover.read_stream(discover.STDIN)  # within the size cap, as a file
    except InputError as error:
        raise _fail(str(error))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _fail(f"-: standard input is not UTF-8 text (byte {error.start})")


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


@main.command(short_help="Rewrite Dockerfiles, scripts, manifests and compose files.")
@click.argument("paths", nargs=-1, type=click.Path(readable=False))
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff of the fixes and write nothing.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when a fix would change something.")
@click.option("--init", "init", type=click.Choice(["auto", "python", "tini", "dumb-init", "none"]), default="auto", show_default=True, help="Init to inject for IN106.")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply fixes the rule docs mark unsafe.")
@_shared_options
@click.option("--stopsignal-field", is_flag=True, help="IN201: send the stop signal with lifecycle.stopSignal (Kubernetes >= 1.33) instead of a preStop kill.")
@click.option("--config", "config_file", type=click.Path(readable=False), default=None, help="Use this configuration file for every file instead of the nearest one.")
@click.option("--stdin-filename", default=None, help="Name for `-` (standard input): chooses the reader [default: read as its content looks].")
@_IMAGE_FACTS
def fix(
    paths: Tuple[str, ...],
    show_diff: bool,
    check: bool,
    init: str,
    unsafe_fixes: bool,
    stopsignal_field: bool,
    config_file: Optional[str],
    stdin_filename: Optional[str],
    image_facts: str,
    **shared: object,
) -> None:
    """Rewrite Dockerfiles (and their entrypoint scripts), Kubernetes manifests and compose files
    so the container starts and stops correctly, then report what could not be fixed. `-` reads
    standard input and prints the fixed text (fixes that need other files are left).

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
    stdin_text = _read_stdin(paths)
    if stdin_text is not None and len(paths) > 1:
        raise _fail("-: standard input is fixed on its own, without other paths")
    _start_image_facts(image_facts)
    import signal

    def terminated(number: int, frame: object) -> None:
        raise fix_module.Interrupted()

    previous = signal.signal(signal.SIGTERM, terminated)  # cleaned up like Ctrl-C, not left half-done
    refused: List[str] = []
    try:
        from initify import config as config_module

        config_module.use_config_file(config_file)
        plan = fix_module.plan(list(paths), options, stdin_text, stdin_filename)
        if not (show_diff or check) and plan.stdin_path is None:
            refused = fix_module.write(plan)
    except InputError as error:
        raise _fail(str(error))
    except OSError as error:
        raise _fail(f"{getattr(error, 'filename', None) or '?'}: cannot write: {error.strerror or error}")
    except (KeyboardInterrupt, fix_module.Interrupted) as stop:
        click.echo("initify: interrupted; nothing was written", err=True)
        sys.exit(143 if isinstance(stop, fix_module.Interrupted) else 130)
    finally:
        signal.signal(signal.SIGTERM, previous)
    _report_image_facts()
    for note in plan.notes:
        click.echo(f"initify: note: {note}", err=True)
    for message in refused:
        click.echo(f"initify: error: {message}", err=True)
    changed = plan.changed()
    printing = plan.stdin_path is not None and not (show_diff or check)
    if printing:  # the fixed text alone goes to stdout, the report to stderr
        state = plan.files.get(plan.stdin_path)  # gone when the text could not be planned (IN001)
        sys.stdout.write(state.text if state is not None else stdin_text or "")  # unchanged then
        sys.stdout.flush()
    if show_diff:
        sys.stdout.write(fix_module.diff(plan))
    for applied in plan.applied:
        verb = "would fix" if (show_diff or check) else "fixed"
        note = f" ({applied.fix.note})" if applied.fix.note else ""
        where = f"{applied.finding.path}:{applied.finding.line}"
        click.echo(f"{where}: {applied.finding.code} {verb}{note}", err=show_diff or printing)
    unsafe = [f for f in plan.remaining if f.fix is not None and not f.fix.safe]
    if show_diff or check:
        if check and changed:
            for state in changed:
                click.echo(f"would rewrite {state.display}")
        if changed or unsafe:
            click.echo(fix_module.check_summary(plan, unsafe), err=show_diff)
        if plan.errors:  # after a diff, on stderr: the diff on stdout stays a clean patch
            (sys.stderr if show_diff else sys.stdout).write(reporters.text(plan.errors, colour=False, files=len(plan.errors)))
        sys.exit(2 if plan.errors else 1 if changed or (check and unsafe) else 0)
    if plan.remaining or plan.errors:
        click.echo(reporters.text(engine.sort_findings(plan.errors + plan.remaining), colour=False,
                                  files=plan.checked + len(plan.errors)), nl=False, err=printing)
    click.echo(f"{len(changed) - len(refused)} file(s) {'fixed' if printing else 'rewritten'}, {len(plan.applied)} fix(es) applied, "
               f"{len(plan.remaining)} finding(s) left" + (f" ({len(unsafe)} fixable with --unsafe-fixes)" if unsafe else ""), err=printing)
    if plan.errors or refused:
        sys.exit(2)  # a file could not be read, planned or written: the fix is incomplete
    sys.exit(1 if any(at_or_above(f.severity, plan.fail_level) for f in plan.remaining) else 0)


@main.command(context_settings={"ignore_unknown_options": False}, short_help="Build an image (buildah/podman) with the fixes applied to a copy.")
@click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="[CONTEXT] [-- ENGINE ARGS...]")
@click.option("-f", "--file", "dockerfile", type=click.Path(readable=False), default=None, help="Dockerfile or Containerfile [default: CONTEXT/Containerfile, else CONTEXT/Dockerfile].")
@click.option("-t", "--tag", "tags", multiple=True, help="Name of the image (repeatable).")
@click.option("--engine", type=click.Choice(["buildah", "podman"]), default="buildah", show_default=True)
@click.option("--init", "init", type=click.Choice(["auto", "python", "tini", "dumb-init", "none"]), default="auto", show_default=True, help="Init to put in front; auto looks inside the base image.")
@click.option("--no-fix", is_flag=True, help="Build the Dockerfile as it is.")
@click.option("--target", default=None, help="Build stage to build.")
@click.option("--build-arg", "build_args", multiple=True, help="NAME=VALUE passed to the engine and used to plan the fixes.")
@_IMAGE_FACTS
def build(args: Tuple[str, ...], dockerfile: Optional[str], tags: Tuple[str, ...], engine: str, init: str, no_fix: bool,
          target: Optional[str], build_args: Tuple[str, ...], image_facts: str) -> None:
    """Build an image with buildah or podman, with the fixes of `initify fix` applied to a
    temporary copy (your files are never changed), then check the built image's config.

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
    _start_image_facts(image_facts)
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
    _report_image_facts()
    for line in build_module.summary(outcome):
        click.echo(line)
    sys.exit(1 if outcome.mismatches else 0)


@main.command(short_help="Run an image, stop it as docker/Kubernetes does, report the stop.")
@click.argument("image")
@click.option("--runtime", "runtime_name", type=click.Choice(["auto", "runc", "podman"]), default="auto", show_default=True, help="auto: podman where it can run containers, else runc.")
@click.option("--as", "mode", type=click.Choice(["docker", "kubernetes"]), default="docker", show_default=True, help="Stop the container the way this runtime does.")
@click.option("--manifest", type=click.Path(readable=False), default=None, help="Pod manifest whose preStop, lifecycle.stopSignal and terminationGracePeriodSeconds apply (with --as kubernetes).")
@click.option("--container", default=None, help="The manifest's container to use when it has several.")
@click.option("--grace", type=click.FloatRange(min=0), default=None, help="Seconds before SIGKILL [default: docker 10, Kubernetes the manifest's or 30].")
@click.option("--startup", type=click.FloatRange(min=0), default=2.0, show_default=True, help="Seconds to let the container start before stopping it.")
def verify(image: str, runtime_name: str, mode: str, manifest: Optional[str], container: Optional[str], grace: Optional[float], startup: float) -> None:
    """Run IMAGE, stop it as docker or Kubernetes would, and report how it stopped.

    Exit status: 0 every process exited by itself within the grace, PID 1 last; 1 it had to be
    killed, or a process was still running when PID 1 exited (the PID namespace's end killed it);
    2 bad input or the container could not be run.
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


@main.command("manifest", short_help="Print a Kubernetes manifest with the stop settings it needs.")
@click.argument("dockerfile", type=click.Path(readable=False))
@click.option("--image", required=True, help="Image reference the manifest runs (the image this Dockerfile builds).")
@click.option("--kind", default="Deployment", show_default=True, help="Pod, Deployment, StatefulSet or Job.")
@click.option("--name", default=None, help="Object and container name [default: from the image's repository].")
@click.option("--k8s-version", default=None, help="Kubernetes version X.Y to target [default: the newest kubernetes-validate knows].")
@click.option("--openshift", is_flag=True, help="Add what a systemd workload needs on OpenShift (a service account for the anyuid SCC).")
@click.option("--stopsignal-field", is_flag=True, help="Send the stop signal with lifecycle.stopSignal (Kubernetes >= 1.33) instead of a preStop kill.")
@click.option("--target", default=None, help="Build stage that ships [default: the last one].")
@click.option("--output", "-o", type=click.Path(readable=False, allow_dash=True), default=None, help="Write the manifest to a file (atomically; - for standard output).")
@_IMAGE_FACTS
def manifest(dockerfile: str, image: str, kind: str, name: Optional[str], k8s_version: Optional[str], openshift: bool,
             stopsignal_field: bool, target: Optional[str], output: Optional[str], image_facts: str) -> None:
    """Print a Kubernetes manifest for the image DOCKERFILE builds, with the stop signal delivery,
    grace period, tty and os fields its facts call for (each explained in a comment).

    Exit status: 0 written, 2 bad input.
    """
    from initify.commands import manifest as manifest_command

    options = manifest_command.ManifestOptions(dockerfile, image, kind, name, k8s_version, openshift, stopsignal_field, target)
    _start_image_facts(image_facts)
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
    _report_image_facts()
    if not output:
        sys.stdout.write(text)


@main.command(short_help="List the rules and their fix safety, or print one rule's doc.")
@click.argument("code", required=False)
def rules(code: Optional[str]) -> None:
    """List all rules, or print the documentation of one (IN107 or systemd-without-stopsignal)."""
    import os

    from initify import engine
    from initify.resources import data_dir

    if code is None:
        click.echo(f"{'code':<6} {'name':<34} {'severity':<8} {'fix':<11} summary")
        for rule in engine.all_rules().values():
            click.echo(f"{rule.code:<6} {rule.name:<34} {rule.severity:<8} {rule.fix_safety:<11} {rule.summary}")
        click.echo("fix: safe = `initify fix` applies it; unsafe = only with --unsafe-fixes; "
                   "safe/unsafe = depends on the case (see `initify rules CODE`); none = no automatic fix")
        return
    rule = engine.find_rule(code)
    if rule is None:
        raise _fail(f"unknown rule: {code} (see `initify rules`)")
    with open(os.path.join(data_dir("rules"), f"{rule.code}.md"), encoding="utf-8") as handle:
        click.echo(handle.read().rstrip("\n"))


@main.command(short_help="Editor server (Language Server Protocol over stdio); needs initify-lint[lsp].")
def lsp() -> None:
    """Run the editor server on stdin/stdout: diagnostics for Dockerfiles, Containerfiles,
    manifests and compose files as you type, quick fixes, rule docs on hover.

    Needs the optional extra: pip install 'initify-lint[lsp]'.
    """
    import importlib.util

    if importlib.util.find_spec("pygls") is None:
        raise _fail("initify lsp needs pygls: pip install 'initify-lint[lsp]'")
    from initify.commands import lsp as lsp_module

    lsp_module.serve()


@main.command("init-path", short_help="Print the path of the bundled init, to copy it into an image.")
def init_path() -> None:
    """Print the path of the bundled init (initify/init.py), to copy it into an image by hand."""
    import os

    import initify

    click.echo(os.path.join(os.path.dirname(os.path.abspath(initify.__file__)), "init.py"))


@main.command("policy", short_help="Print an admission policy that refuses pods which cannot stop.")
@click.option("--select", multiple=True, help="Rule codes or prefixes to include (comma-separated, repeatable) [default: every rule with a policy form].")
@click.option("--ignore", multiple=True, help="Rule codes or prefixes to leave out (comma-separated, repeatable).")
@click.option("--action", default="Deny", show_default=True, help="Deny, Warn or Audit: what the API server does with a failing object (refuse it, warn the client, record it in the audit log).")
@click.option("--k8s-version", default=None, help="Kubernetes version X.Y of the cluster (>= 1.30) [default: the newest kubernetes-validate knows].")
@click.option("--output", "-o", type=click.Path(readable=False), default=None, help="Write the policy to a file instead of stdout.")
def policy(select: Tuple[str, ...], ignore: Tuple[str, ...], action: str, k8s_version: Optional[str], output: Optional[str]) -> None:
    """Print a ValidatingAdmissionPolicy, its binding and a params ConfigMap that make the API
    server check the manifest rules that need no image facts (IN202-IN207); install with
    `kubectl apply -f`.

    Exit status: 0 written, 2 bad option.
    """
    from initify.commands import policy as policy_module

    selected, ignored = _codes(select), _codes(ignore)
    _check_codes(selected + ignored)
    chosen = next((name for name in policy_module.ACTIONS if name.lower() == action.lower()), action)
    try:
        text = policy_module.generate(selected or None, ignored, chosen, k8s_version)
        if output:
            from initify.commands.manifest import write_atomic

            write_atomic(output, text)
        else:
            click.echo(text, nl=False)
    except InputError as error:
        raise _fail(str(error))
    except OSError as error:
        raise _fail(f"{output}: cannot write: {error.strerror or error}")


@main.command("audit", short_help="Lint the live workloads of a cluster (kubectl get -o yaml).")
@click.argument("source", default="-")
@click.option("--format", "--output-format", "output_format", type=click.Choice(LINT_FORMATS), default="text", show_default=True,
              help="Report format, as lint's (--output-format is the ruff-style name).")
@click.option("--select", multiple=True, help="Rule codes or prefixes to enable (comma-separated, repeatable).")
@click.option("--ignore", multiple=True, help="Rule codes or prefixes to disable (comma-separated, repeatable).")
@click.option("--fail-level", type=click.Choice(["error", "warning", "info", "never"]), default="warning", show_default=True, help="Lowest severity that makes the exit status 1.")
@click.option("--k8s-version", default=None, help="Kubernetes version X.Y of the cluster [default: the newest kubernetes-validate knows].")
@click.option("--output", "-o", type=click.Path(readable=False), default=None, help="Write the report to a file.")
@_IMAGE_FACTS
def audit(source: str, output_format: str, select: Tuple[str, ...], ignore: Tuple[str, ...], fail_level: str,
          k8s_version: Optional[str], output: Optional[str], image_facts: str) -> None:
    """Lint the live workloads of a cluster: SOURCE is the output of
    `kubectl get pods,deployments,statefulsets,daemonsets,jobs,cronjobs -A -o yaml` (a file, or `-`
    for stdin). Findings are grouped per NAMESPACE/Kind/NAME; objects made by a listed controller
    (a Deployment's pods, a CronJob's Jobs) are skipped.

    Exit status: 0 no finding at or above the fail level, 1 findings, 2 bad input or usage.
    """
    from initify import reporters
    from initify.commands import audit as audit_module
    from initify.engine import Selection, at_or_above

    selected, ignored = _codes(select), _codes(ignore)
    _check_codes(selected + ignored)
    _check_version(k8s_version)
    _start_image_facts(image_facts)
    try:
        result = audit_module.run(source, Selection(select=selected or ["ALL"], ignore=ignored), k8s_version)
    except InputError as error:
        raise _fail(str(error))
    _report_image_facts()
    for note in result.notes:
        click.echo(f"initify: note: {note}", err=True)
    report = reporters.FORMATS[output_format](result.findings, colour=output_format == "text" and output is None and _colour(False), files=result.files)
    if output:
        from initify.commands.manifest import write_atomic

        try:
            write_atomic(output, report)
        except OSError as error:
            raise _fail(f"{output}: cannot write: {error.strerror or error}")
    else:
        sys.stdout.write(report)
    if result.parse_errors():
        sys.exit(2)  # the List could not be read: nothing was audited
    sys.exit(1 if any(at_or_above(f.severity, fail_level) for f in result.findings) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
