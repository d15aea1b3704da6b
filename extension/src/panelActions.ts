/** What the panel does with an answer (save it, open it in an editor) and with an edited request (save as a sample). */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { PanelRequest, parseHeaders } from './panelMessages';
import { SendRequestResult } from './protocol';
import { header } from './responseView';
import { newSampleName, SAMPLES_DIR, sampleFileFor } from './sampleList';

const EXTENSIONS: [RegExp, string][] = [
  [/json/, '.json'],
  [/^image\/png/, '.png'],
  [/^image\/jpe?g/, '.jpg'],
  [/^image\/gif/, '.gif'],
  [/^text\/html/, '.html'],
  [/^text\//, '.txt'],
];

export function responseExtension(r: SendRequestResult): string {
  const ct = (header(r.headers ?? {}, 'content-type') ?? '').toLowerCase();
  return EXTENSIONS.find(([re]) => re.test(ct))?.[1] ?? (r.isBase64 ? '.bin' : '.txt');
}

export function responseBytes(r: SendRequestResult): Buffer {
  return r.isBase64 ? Buffer.from(r.body, 'base64') : Buffer.from(r.body, 'utf8');
}

/** Pretty JSON when the body is JSON, else the text as it came. */
export function responseText(r: SendRequestResult): string {
  try {
    return JSON.stringify(JSON.parse(r.body), null, 2) + '\n';
  } catch {
    return r.body;
  }
}

/** Asks where, then writes the answer's bytes unchanged; returns the file written. */
export async function saveResponse(r: SendRequestResult, script: string | undefined): Promise<string | undefined> {
  const dir = script ? path.dirname(script) : vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const defaultUri = dir ? vscode.Uri.file(path.join(dir, `response${responseExtension(r)}`)) : undefined;
  const target = await vscode.window.showSaveDialog({ defaultUri, saveLabel: 'Save Response', title: 'Save the response body' });
  if (!target) {
    return undefined;
  }
  fs.writeFileSync(target.fsPath, responseBytes(r)); // the body as it came, byte for byte
  return target.fsPath;
}

/**
 * Opens a text answer in an untitled editor (pretty JSON with its language mode), for search,
 * folding and copy: in the script's editor group, so the panel stays in view beside it.
 */
export async function openResponse(r: SendRequestResult, script?: string): Promise<void> {
  if (r.isBase64) {
    void vscode.window.showInformationMessage('AzureML Scoring: the response is binary; use Save to write it to a file.');
    return;
  }
  const text = responseText(r);
  const language = text === r.body ? (/html/.test(responseExtension(r)) ? 'html' : 'plaintext') : 'json';
  const doc = await vscode.workspace.openTextDocument({ content: text, language });
  const scriptEditor = (vscode.window.visibleTextEditors ?? []).find((e) => e.document.uri.fsPath === script);
  await vscode.window.showTextDocument(doc, { viewColumn: scriptEditor?.viewColumn ?? vscode.ViewColumn.Beside, preview: false });
}

/** Asks for a name, then writes the edited request into sample-requests/ beside the script. */
export async function saveSample(r: PanelRequest, script: string): Promise<string | undefined> {
  const dir = path.join(path.dirname(script), SAMPLES_DIR);
  const name = await vscode.window.showInputBox({
    title: 'Save as Sample',
    prompt: `A name for the new sample in ${vscode.workspace.asRelativePath(dir)}/`,
    value: 'my-request',
    validateInput: (v) => (v.trim() ? undefined : 'Give the sample a name'),
  });
  if (!name) {
    return undefined;
  }
  const { text, suffix } = sampleFileFor({ method: (r.method || 'POST').toUpperCase(), path: r.path || '/score', headers: parseHeaders(r.headersText ?? ''), body: r.body ?? '' });
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, newSampleName(name, suffix, (p) => fs.existsSync(p), dir));
  fs.writeFileSync(file, text);
  return file;
}
