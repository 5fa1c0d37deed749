"""`initify lsp`: the editor server, Language Server Protocol over stdio (pygls).

An optional extra (`pip install 'initify-lint[lsp]'`): pygls is imported only inside `serve()`,
so the plain CLI never pays for it. What the server shows is what `initify lint` reports for the
file: diagnostics on open, change and save (for Dockerfiles, Containerfiles, Kubernetes manifests
and compose files, a manifest paired with the Dockerfile beside it as the CLI pairs it), one
quick-fix code action per finding with a fix (unsafe ones say so in the title), the rule's
documentation on hover over a finding, and settings (initializationOptions, or `initify` in
workspace/didChangeConfiguration): select, ignore, target, buildArgs, images, k8sVersion.

A change to a Dockerfile re-lints the open manifests and compose files of its folder, since
their findings depend on it. The lint itself lives in `initify/editor/analysis.py`.
"""

from __future__ import annotations

import os
from typing import Dict, List, Optional

from initify import __version__, engine
from initify.editor import analysis

SEVERITY_NAMES = ("error", "warning", "info")


def serve() -> None:
    """Run the server on stdin/stdout until the client says exit."""
    from lsprotocol import types
    from pygls.lsp.server import LanguageServer
    from pygls.uris import from_fs_path, to_fs_path

    server = LanguageServer("initify", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Full)
    state: Dict[str, object] = {"settings": analysis.Settings()}
    findings: Dict[str, List[engine.Finding]] = {}  # uri -> the findings last published
    severity = {
        "error": types.DiagnosticSeverity.Error,
        "warning": types.DiagnosticSeverity.Warning,
        "info": types.DiagnosticSeverity.Information,
    }

    def position(pair) -> "types.Position":
        return types.Position(line=pair[0], character=pair[1])

    def open_texts() -> Dict[str, str]:
        texts = {}
        for uri, document in server.workspace.text_documents.items():
            path = to_fs_path(uri)
            if path:
                texts[os.path.abspath(path)] = document.source
        return texts

    def publish(uri: str) -> None:
        path = to_fs_path(uri)
        if not path:
            return
        document = server.workspace.get_text_document(uri)
        found, problem = analysis.analyse(os.path.abspath(path), document.source, state["settings"], open_texts())  # type: ignore[arg-type]
        findings[uri] = found
        diagnostics = []
        for finding in found:
            start, end = analysis.lsp_range(finding)
            diagnostics.append(types.Diagnostic(
                range=types.Range(start=position(start), end=position(end)),
                message=finding.message, severity=severity[finding.severity], code=finding.code, source="initify",
                data={"name": finding.name, "fixable": finding.fixable},
            ))
        if problem is not None:
            diagnostics.append(types.Diagnostic(
                range=types.Range(start=types.Position(line=problem.line - 1, character=0),
                                  end=types.Position(line=problem.line, character=0)),
                message=f"initify cannot read this file: {problem.message}", severity=types.DiagnosticSeverity.Error,
                code="IN001", source="initify",  # as lint reports it: IN001 parse-error
            ))
        server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=document.version))

    def publish_related(uri: str) -> None:
        """The document, and, for a Dockerfile, the open YAML files of its folder."""
        publish(uri)
        path = to_fs_path(uri)
        if not path or analysis.kind_of(path) != "dockerfile":
            return
        folder = os.path.dirname(os.path.abspath(path))
        for other in list(server.workspace.text_documents):
            other_path = to_fs_path(other)
            if other != uri and other_path and os.path.dirname(os.path.abspath(other_path)) == folder \
                    and analysis.kind_of(other_path) in ("manifest", "compose"):
                publish(other)

    @server.feature(types.INITIALIZE)
    def initialize(params: types.InitializeParams) -> None:
        state["settings"] = _settings(params.initialization_options, server)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(params: types.DidChangeConfigurationParams) -> None:
        state["settings"] = _settings(params.settings, server)
        for uri in list(server.workspace.text_documents):
            publish(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        publish_related(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        publish_related(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(params: types.DidSaveTextDocumentParams) -> None:
        publish_related(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        findings.pop(params.text_document.uri, None)
        server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
    def code_action(params: types.CodeActionParams) -> List[types.CodeAction]:
        uri = params.text_document.uri
        wanted = params.range
        actions = []
        for finding in findings.get(uri, []):
            if finding.fix is None:
                continue
            start, end = analysis.lsp_range(finding)
            if (end[0], end[1]) < (wanted.start.line, wanted.start.character) or \
                    (start[0], start[1]) > (wanted.end.line, wanted.end.character):
                continue
            edits = analysis.text_edits(finding.fix)
            if edits is None:
                continue  # it creates a file: `initify fix` does that, an editor edit cannot
            changes: Dict[str, List[types.TextEdit]] = {}
            for edit in edits:
                target = uri if os.path.abspath(edit.path) == os.path.abspath(to_fs_path(uri) or "") else from_fs_path(os.path.abspath(edit.path))
                changes.setdefault(target, []).append(types.TextEdit(
                    range=types.Range(start=position(edit.start), end=position(edit.end)), new_text=edit.text))
            actions.append(types.CodeAction(
                title=analysis.action_title(finding), kind=types.CodeActionKind.QuickFix,
                diagnostics=[types.Diagnostic(range=types.Range(start=position(start), end=position(end)),
                                              message=finding.message, code=finding.code, source="initify")],
                edit=types.WorkspaceEdit(changes=changes), is_preferred=finding.fix.safe,
            ))
        return actions

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(params: types.HoverParams) -> Optional[types.Hover]:
        line, character = params.position.line, params.position.character
        for finding in findings.get(params.text_document.uri, []):
            start, end = analysis.lsp_range(finding)
            if start <= (line, character) <= end:
                doc = analysis.rule_doc(finding.code)
                if doc:
                    return types.Hover(
                        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=doc),
                        range=types.Range(start=position(start), end=position(end)))
        return None

    server.start_io()


def _settings(value: object, server: object) -> analysis.Settings:
    """Settings from the client; bad ones are shown to the user and the defaults kept."""
    from initify.errors import InputError

    try:
        return analysis.Settings.from_json(value)
    except InputError as error:
        from lsprotocol import types

        server.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=f"initify: {error}"))  # type: ignore[attr-defined]
        return analysis.Settings()
