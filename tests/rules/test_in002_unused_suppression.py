"""IN002 unused-suppression: suppression comments that suppress nothing, through `initify lint`
and `initify fix` on real files."""

import json
import textwrap
from pathlib import Path

from tests.clirun import invoke


def lint(path: Path, *args: str):
    result = invoke(["lint", "--format", "json", *args, str(path)])
    return [(f["code"], f["line"], f["message"]) for f in json.loads(result.stdout)]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def in002(findings):
    return [(line, message) for code, line, message in findings if code == "IN002"]


def test_used_suppression_is_not_reported(tmp_path):
    # IN101 on the shell, IN111 on the python its fix leaves as PID 1 with no SIGTERM handler
    # (IN106 stays silent: IN101's fix removes its cause)
    write(tmp_path, "app.py", "import time\nwhile True:\n    time.sleep(1)\n")
    path = write(tmp_path, "Dockerfile", """
        FROM python:3.12-slim
        COPY app.py /
        # initify: ignore=IN101,IN111
        CMD python3 /app.py
        """)
    assert lint(path) == []


def test_unknown_code_foreign_rule_and_nothing_to_suppress(tmp_path):
    path = write(tmp_path, "Dockerfile", """
        FROM python:3.12-slim
        # initify: ignore=IN101,IN999,IN201
        CMD python3 app.py
        # initify: ignore=IN108
        RUN true
        """)
    found = in002(lint(path))
    assert found == [
        (2, "unused suppression: IN999 is no rule code, prefix or name; IN201 never applies to this kind of file (remove it from the comment)"),
        (4, "unused suppression: IN108 suppresses nothing (remove it from the comment)"),
    ]


def test_rule_left_out_of_the_run_is_not_judged(tmp_path):
    path = write(tmp_path, "Dockerfile", """
        FROM python:3.12-slim
        RUN pip install tini
        ENTRYPOINT ["tini", "--"]
        # initify: ignore=IN110
        CMD ["python3", "old.py"]
        CMD ["python3", "app.py"]
        """)
    assert in002(lint(path, "--ignore", "IN110")) == []
    # the first CMD is dead (IN110), so the comment is used when the rule runs
    assert in002(lint(path)) == []
    assert in002(lint(path, "--select", "IN002,IN1")) == []


def test_bare_ignore_and_trailing_comment(tmp_path):
    path = write(tmp_path, "Dockerfile", """
        FROM python:3.12-slim
        # initify: ignore
        CMD ["python3", "app.py"]
        # initify: ignore=IN110
        """)
    found = in002(lint(path, "--ignore", "IN106"))
    assert found == [(4, "unused suppression: IN110: no instruction follows the comment (remove it from the comment)")]
    found = in002(lint(path))
    assert found[0] == (2, "unused suppression `# initify: ignore`: it suppresses nothing; remove it")


def test_ignore_file_for_in002_silences_it(tmp_path):
    path = write(tmp_path, "Dockerfile", """
        # initify: ignore-file=IN002
        FROM python:3.12-slim
        # initify: ignore=IN999
        CMD ["python3", "app.py"]
        """)
    assert in002(lint(path)) == []


def test_yaml_comment_on_a_manifest(tmp_path):
    path = write(tmp_path, "pod.yaml", """
        apiVersion: v1
        kind: Pod
        metadata:
          name: web
        spec:
          containers:
            # initify: ignore=IN204,IN101
            - name: web
              image: example.com/web:1
              command: ["sh", "-c", "exec python3 app.py"]
        """)
    found = in002(lint(path))
    assert len(found) == 1 and found[0][0] == 7
    assert "IN204 suppresses nothing" in found[0][1] and "IN101 never applies" in found[0][1]


def test_fix_removes_unused_codes_and_comments_keeps_the_rest(tmp_path):
    path = write(tmp_path, "Dockerfile", """
        FROM python:3.12-slim
        # initify: ignore=IN101, IN999  (legacy)
        CMD python3 app.py
        # initify: ignore=IN108
        RUN true
        """)
    result = invoke(["fix", "--select", "IN002,IN101", str(path)])
    assert "IN002 fixed" in result.output
    # IN108 did not run (--select), so its comment is kept: initify cannot know it is unused
    assert path.read_text() == "FROM python:3.12-slim\n# initify: ignore=IN101  (legacy)\nCMD python3 app.py\n# initify: ignore=IN108\nRUN true\n"
    assert in002(lint(path, "--select", "IN002,IN101")) == []
    invoke(["fix", str(path)])
    assert "# initify: ignore=IN108" not in path.read_text()
