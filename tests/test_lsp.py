"""`initify lsp` end to end: a real LSP client (pytest-lsp) starts `python -m initify lsp` over
stdio, opens real files, and checks diagnostics, code actions, hover and settings. Edits from
code actions are applied to the text as an editor would and sent back with didChange."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import List

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

asyncio = pytest.mark.asyncio(loop_scope="function")

SHELL_FORM = "FROM python:3.12-slim\nWORKDIR /app\nCMD python3 app.py\n"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "initify", "lsp"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=pytest_lsp.client_capabilities("visual-studio-code"),
        initialization_options={"ignore": ["IN106"]},
    ))
    yield
    await lsp_client.shutdown_session()


def uri_of(path: Path) -> str:
    return path.resolve().as_uri()


async def open_and_wait(client: LanguageClient, path: Path, language: str = "dockerfile") -> List[types.Diagnostic]:
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri_of(path), language_id=language, version=1, text=path.read_text())))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return client.diagnostics[uri_of(path)]


async def change_and_wait(client: LanguageClient, path: Path, text: str, version: int) -> List[types.Diagnostic]:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri_of(path), version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return client.diagnostics[uri_of(path)]


def apply(text: str, edits: List[types.TextEdit]) -> str:
    """Apply LSP text edits as an editor does (from the last to the first)."""
    lines = text.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def offset(position: types.Position) -> int:
        return offsets[position.line] + position.character if position.line < len(offsets) else len(text)

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


@asyncio
async def test_shell_form_cmd_then_quick_fix_then_clean(client: LanguageClient, tmp_path: Path):
    path = tmp_path / "Dockerfile"
    path.write_text(SHELL_FORM)
    diagnostics = await open_and_wait(client, path)
    assert [d.code for d in diagnostics] == ["IN101"]  # IN106 ignored by the settings
    (found,) = diagnostics
    assert found.range == types.Range(start=types.Position(line=2, character=0), end=types.Position(line=2, character=18))
    assert found.severity == types.DiagnosticSeverity.Error and found.source == "initify"

    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri_of(path)), range=found.range,
        context=types.CodeActionContext(diagnostics=[found])))
    titles = [action.title for action in actions]
    assert titles == ["initify: fix IN101 shell-form-cmd: exact argv"]
    edits = actions[0].edit.changes[uri_of(path)]
    fixed = apply(SHELL_FORM, edits)
    assert fixed == 'FROM python:3.12-slim\nWORKDIR /app\nCMD ["python3", "app.py"]\n'
    assert list(await change_and_wait(client, path, fixed, 2)) == []
    # the disk was never written: the server lints the buffer
    assert path.read_text() == SHELL_FORM
    # saving the unfixed text again (an editor's revert + save) brings IN101 back on didSave
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri_of(path), version=3),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=SHELL_FORM)]))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri_of(path))))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert [d.code for d in client.diagnostics[uri_of(path)]] == ["IN101"]


@asyncio
async def test_unsafe_fix_is_labelled(client: LanguageClient, tmp_path: Path):
    path = tmp_path / "Containerfile"
    # A compound command keeps `sh -c` (and PID 1 stays a shell): the IN101 fix is unsafe.
    path.write_text("FROM python:3.12-slim\nCMD cd /app && python3 app.py\n")
    (found,) = [d for d in await open_and_wait(client, path) if d.code == "IN101"]
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri_of(path)), range=found.range,
        context=types.CodeActionContext(diagnostics=[found])))
    assert len(actions) == 1 and actions[0].title.endswith("(unsafe)") and not actions[0].is_preferred


@asyncio
async def test_hover_shows_the_rule_doc(client: LanguageClient, tmp_path: Path):
    path = tmp_path / "Dockerfile"
    path.write_text(SHELL_FORM)
    await open_and_wait(client, path)
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri_of(path)), position=types.Position(line=2, character=5)))
    assert hover is not None and hover.contents.kind == types.MarkupKind.Markdown
    assert hover.contents.value.startswith("# IN101 shell-form-cmd")
    nothing = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri_of(path)), position=types.Position(line=0, character=2)))
    assert nothing is None


@asyncio
async def test_manifest_is_paired_with_the_dockerfile_beside_it(client: LanguageClient, tmp_path: Path):
    (tmp_path / "Dockerfile").write_text('FROM debian:bookworm\nRUN apt-get install -y nginx tini\n'
                                         'ENTRYPOINT ["tini", "--"]\nCMD ["nginx", "-g", "daemon off;"]\nSTOPSIGNAL QUIT\n')
    pod = tmp_path / "pod.yaml"
    pod.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: web\n      image: registry.example.com/web:1\n")
    diagnostics = await open_and_wait(client, pod, "yaml")
    assert [d.code for d in diagnostics] == ["IN201"]  # QUIT (no SIG prefix) from the paired Dockerfile
    assert diagnostics[0].range.start.line == 6
    # the CLI says the same of the same files
    cli = subprocess.run([sys.executable, "-m", "initify", "lint", "--ignore", "IN106", str(tmp_path)],
                         capture_output=True, text=True)
    assert f"{pod}:7:" in cli.stdout and "IN201" in cli.stdout


@asyncio
async def test_settings_change_relints(client: LanguageClient, tmp_path: Path):
    path = tmp_path / "Dockerfile"
    path.write_text(SHELL_FORM.replace("python3 app.py", "python3 app.py; echo done"))  # the shell stays: IN106 too
    assert [d.code for d in await open_and_wait(client, path)] == ["IN101"]
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"initify": {"select": ["IN1"], "ignore": ["IN101"]}}))
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert [d.code for d in client.diagnostics[uri_of(path)]] == ["IN106"]


@asyncio
async def test_parse_error_is_one_diagnostic(client: LanguageClient, tmp_path: Path):
    path = tmp_path / "pod.yaml"
    path.write_text("apiVersion: v1\nkind: Pod\nspec: [unclosed\n")
    diagnostics = await open_and_wait(client, path, "yaml")
    assert len(diagnostics) == 1 and diagnostics[0].message.startswith("initify cannot read this file:")
    assert diagnostics[0].code == "IN001"  # the code lint gives a file it cannot parse


def test_the_plain_cli_does_not_import_pygls():
    script = "import sys; from initify import cli; assert 'pygls' not in sys.modules and 'lsprotocol' not in sys.modules"
    subprocess.run([sys.executable, "-c", script], check=True)
    lint = subprocess.run([sys.executable, "-X", "importtime", "-m", "initify", "rules"], capture_output=True, text=True)
    assert lint.returncode == 0 and "pygls" not in lint.stderr
