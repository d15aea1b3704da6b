/** The Send Sample Request webview panel: one per window, requests go through the daemon. */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { toCurl } from './curl';
import { historyLabel, HistoryEntry, RequestHistory } from './history';
import { FromWebview, HistoryItem, PanelRequest, ToWebview, formatHeaders, parseHeaders } from './panelMessages';
import { makeNonce, renderPanelHtml } from './panelHtml';
import { SendRequestArgs, SendRequestResult, ServerStatus } from './protocol';
import { formatBytes, toResponseView } from './responseView';
import { defaultRequest, exampleFromSwagger, findSampleRequestFile, parseSampleRequest, SampleRequest } from './sampleRequest';

export interface PanelHost {
  readonly status: ServerStatus;
  readonly onDidChangeStatus: vscode.Event<ServerStatus>;
  send(req: SendRequestArgs, script?: string): Promise<SendRequestResult>;
  /** The swagger document of the running server, when there is one. */
  swagger(): Promise<unknown>;
  entryScript(uri?: vscode.Uri): Promise<string | undefined>;
}

export function toHistoryItems(list: HistoryEntry[]): HistoryItem[] {
  return list.map((e) => ({ ...e, headersText: formatHeaders(e.headers), label: historyLabel(e) }));
}

/** Discovers the prefill for a script: sample-request.json, else the swagger example, else defaults. */
export async function loadSample(script: string | undefined, swagger: () => Promise<unknown>): Promise<SampleRequest> {
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  if (script) {
    const file = findSampleRequestFile(script, folders);
    if (file) {
      try {
        return parseSampleRequest(fs.readFileSync(file, 'utf8'), file);
      } catch {
        // unreadable: fall through
      }
    }
  }
  try {
    const example = exampleFromSwagger(await swagger());
    if (example !== undefined) {
      return { ...defaultRequest(), body: JSON.stringify(example, null, 2), source: 'swagger.json example' };
    }
  } catch {
    // no swagger
  }
  return defaultRequest();
}

export class RequestPanel implements vscode.Disposable {
  static current: RequestPanel | undefined;
  static readonly viewType = 'azmlinfsrv.requestPanel';

  private readonly panel: vscode.WebviewPanel;
  private readonly disposables: vscode.Disposable[] = [];
  private sample: SampleRequest = defaultRequest();
  private script: string | undefined;

  static async show(extensionUri: vscode.Uri, host: PanelHost, history: RequestHistory, uri?: vscode.Uri): Promise<RequestPanel> {
    const script = uri?.fsPath ?? host.status.entryScript ?? (await host.entryScript());
    if (RequestPanel.current) {
      RequestPanel.current.panel.reveal(undefined, false);
      if (script && script !== RequestPanel.current.script) {
        RequestPanel.current.script = script;
        await RequestPanel.current.init();
      }
      return RequestPanel.current;
    }
    RequestPanel.current = new RequestPanel(extensionUri, host, history, script ?? undefined);
    return RequestPanel.current;
  }

  private constructor(
    extensionUri: vscode.Uri,
    private readonly host: PanelHost,
    private readonly history: RequestHistory,
    script: string | undefined,
  ) {
    this.script = script;
    const media = vscode.Uri.joinPath(extensionUri, 'extension', 'media');
    this.panel = vscode.window.createWebviewPanel(RequestPanel.viewType, 'Send Sample Request', vscode.ViewColumn.Beside, {
      enableScripts: true,
      localResourceRoots: [media],
    });
    const webview = this.panel.webview;
    webview.html = renderPanelHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'request.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(media, 'request.css')).toString(),
    });
    this.disposables.push(
      webview.onDidReceiveMessage((m: FromWebview) => void this.handle(m)),
      host.onDidChangeStatus((s) => void this.post({ type: 'target', target: s.url ?? undefined, state: s.state })),
      this.panel.onDidDispose(() => this.dispose()),
    );
  }

  private post(m: ToWebview): Thenable<boolean> {
    return this.panel.webview.postMessage(m);
  }

  async init(): Promise<void> {
    this.sample = await loadSample(this.script, () => this.host.swagger());
    const request: PanelRequest = {
      method: this.sample.method,
      path: this.sample.path,
      headersText: formatHeaders(this.sample.headers),
      body: this.sample.body,
      bodyFile: this.sample.bodyFile,
    };
    const rel = (p: string) => (path.isAbsolute(p) ? vscode.workspace.asRelativePath(p) : p);
    await this.post({
      type: 'init',
      target: this.host.status.url ?? undefined,
      request,
      bodyFileNote: this.sample.bodyFile
        ? `Body: the bytes of ${rel(this.sample.bodyFile)}${this.sample.bodyFileSize !== undefined ? ` (${formatBytes(this.sample.bodyFileSize)})` : ''}`
        : undefined,
      source: this.sample.source === 'default' ? 'No sample-request.json found: an empty JSON request.' : `Prefilled from ${rel(this.sample.source)}`,
      history: toHistoryItems(this.history.list()),
    });
  }

  /** The request to send: a body file is only honoured when it is the one this panel offered. */
  toArgs(r: PanelRequest): SendRequestArgs & { bodyFile?: string } {
    const args: SendRequestArgs & { bodyFile?: string } = {
      method: (r.method || 'POST').toUpperCase(),
      path: r.path || '/score',
      headers: parseHeaders(r.headersText ?? ''),
    };
    if (r.bodyFile && r.bodyFile === this.sample.bodyFile) {
      args.bodyBase64 = fs.readFileSync(r.bodyFile).toString('base64');
      args.bodyFile = r.bodyFile;
    } else if (r.body) {
      args.body = r.body;
    }
    return args;
  }

  private async handle(m: FromWebview): Promise<void> {
    switch (m.type) {
      case 'ready':
        return this.init();
      case 'send':
        return this.send(m.request);
      case 'copyCurl':
        return this.copyCurl(m.request);
      case 'clearHistory':
        await this.history.clear();
        await this.post({ type: 'history', history: [] });
        return;
    }
  }

  /** Sends the panel's request, shows the response and records it in the history. */
  private async send(request: PanelRequest): Promise<void> {
    await this.post({ type: 'sending' });
    try {
      const { bodyFile, ...args } = this.toArgs(request);
      const result = await this.host.send(args, this.script);
      const view = toResponseView(result);
      await this.post({ type: 'response', view });
      const list = await this.history.add({
        method: args.method,
        path: args.path,
        headers: args.headers ?? {},
        body: bodyFile ? '' : (args.body ?? ''),
        bodyFile,
        time: new Date().toISOString(),
        status: result.status,
        elapsedMs: view.elapsedMs,
      });
      await this.post({ type: 'history', history: toHistoryItems(list) });
    } catch (e) {
      await this.post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    }
  }

  private async copyCurl(r: PanelRequest): Promise<void> {
    const base = this.host.status.url ?? 'http://127.0.0.1:5001';
    const bodyFile = r.bodyFile && r.bodyFile === this.sample.bodyFile ? r.bodyFile : undefined;
    const cmd = toCurl({ method: r.method, path: r.path, headers: parseHeaders(r.headersText), body: bodyFile ? undefined : r.body, bodyFile }, base);
    await vscode.env.clipboard.writeText(cmd);
    void vscode.window.showInformationMessage('AzureML Scoring: curl command copied to the clipboard.');
  }

  dispose(): void {
    if (RequestPanel.current === this) {
      RequestPanel.current = undefined;
    }
    for (const d of this.disposables.splice(0)) {
      d.dispose();
    }
    this.panel.dispose();
  }
}
