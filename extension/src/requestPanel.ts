/** The Send Sample Request webview panel: one per window, requests go through the daemon. */
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { toCurl } from './curl';
import { historyLabel, HistoryEntry, RequestHistory } from './history';
import { openResponse, saveResponse, saveSample } from './panelActions';
import { FromWebview, HistoryItem, PanelRequest, Prefill, ToWebview, formatHeaders, parseHeaders } from './panelMessages';
import { makeNonce, renderPanelHtml } from './panelHtml';
import { SendRequestArgs, SendRequestResult, ServerStatus } from './protocol';
import { formatBytes, toResponseView } from './responseView';
import { awaitRunFailure } from './runFailure';
import { goTo } from './scoringServer/failureNotice';
import { listSamples, readSample, SampleEntry } from './sampleList';
import { defaultRequest, exampleFromSwagger, SampleRequest } from './sampleRequest';

export interface PanelHost {
  readonly status: ServerStatus;
  readonly onDidChangeStatus: vscode.Event<ServerStatus>;
  send(req: SendRequestArgs, script?: string): Promise<SendRequestResult>;
  /** Aborts the pending send of that requestId (the daemon's cancelRequest). */
  cancel(requestId: string): Promise<void>;
  /** The swagger document of the running server, when there is one. */
  swagger(): Promise<unknown>;
  entryScript(uri?: vscode.Uri): Promise<string | undefined>;
}

export function toHistoryItems(list: HistoryEntry[]): HistoryItem[] {
  return list.map((e) => ({ ...e, headersText: formatHeaders(e.headers), label: historyLabel(e) }));
}

const workspacePaths = () => (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);

/**
 * The prefill: the sample `file` when given, else the first of its samples
 * (sample-requests/, then the nearest sample-request.json), else the swagger example, else defaults.
 */
export async function loadSample(swagger: () => Promise<unknown>, samples: SampleEntry[], file?: string): Promise<SampleRequest> {
  for (const s of file ? samples.filter((x) => x.file === file) : samples) {
    try {
      return readSample(s.file);
    } catch {
      // unreadable or not JSON: try the next one
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
  private samples: SampleEntry[] = [];
  private script: string | undefined;
  /** The last answer, for Save and Open in Editor. */
  private last: SendRequestResult | undefined;
  private pending: { id: string; cancelled: boolean } | undefined;
  private nextId = 1;

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
      webview.onDidReceiveMessage((m: FromWebview) =>
        this.handle(m).catch((e: unknown) => void vscode.window.showErrorMessage(`AzureML Scoring: ${e instanceof Error ? e.message : String(e)}`)),
      ),
      host.onDidChangeStatus((s) => void this.post({ type: 'target', target: s.url ?? undefined, state: s.state })),
      this.panel.onDidDispose(() => this.dispose()),
    );
  }

  private post(m: ToWebview): Thenable<boolean> {
    return this.panel.webview.postMessage(m);
  }

  async init(): Promise<void> {
    const prefill = await this.prefill();
    await this.post({ type: 'init', target: this.host.status.url ?? undefined, history: toHistoryItems(this.history.list()), ...prefill });
  }

  /** Reads the samples again and loads `file` (default: the first). */
  private async prefill(file?: string): Promise<Prefill> {
    this.samples = this.script ? listSamples(this.script, workspacePaths()) : [];
    this.sample = await loadSample(() => this.host.swagger(), this.samples, file);
    const request: PanelRequest = {
      method: this.sample.method,
      path: this.sample.path,
      headersText: formatHeaders(this.sample.headers),
      body: this.sample.body,
      bodyFile: this.sample.bodyFile,
    };
    const rel = (p: string) => (path.isAbsolute(p) ? vscode.workspace.asRelativePath(p) : p);
    const size = this.sample.bodyFileSize !== undefined ? ` (${formatBytes(this.sample.bodyFileSize)})` : '';
    return {
      request,
      bodyFileNote: this.sample.bodyFile ? `Body: the bytes of ${rel(this.sample.bodyFile)}${size}` : undefined,
      source: this.sample.source === 'default' ? 'No sample found: an empty JSON request.' : `Prefilled from ${rel(this.sample.source)}`,
      samples: this.samples.map((x) => ({ label: x.label, file: x.file })),
      selected: this.samples.some((x) => x.file === this.sample.source) ? this.sample.source : undefined,
    };
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
      case 'cancel':
        return this.cancel();
      case 'copyCurl':
        return this.copyCurl(m.request);
      case 'clearHistory':
        await this.history.clear();
        await this.post({ type: 'history', history: [] });
        return;
      case 'pickSample':
        await this.post({ type: 'sample', ...(await this.prefill(m.file)) });
        return;
      case 'saveSample':
        return this.saveSample(m.request);
      case 'saveResponse':
        return void (this.last && (await saveResponse(this.last, this.script)));
      case 'openResponse':
        return void (this.last && (await openResponse(this.last, this.script)));
      case 'openLocation':
        return goTo(m.file, m.line);
    }
  }

  /** Sends the panel's request, shows the response (and the Problem of a run() failure) and records it. */
  private async send(request: PanelRequest): Promise<void> {
    const pending = { id: `panel-${process.pid}-${this.nextId++}`, cancelled: false };
    this.pending = pending;
    this.last = undefined;
    await this.post({ type: 'sending', label: `${(request.method || 'POST').toUpperCase()} ${request.path || '/score'}` });
    try {
      const { bodyFile, ...args } = this.toArgs(request);
      const result = await this.host.send({ ...args, requestId: pending.id }, this.script);
      if (pending.cancelled) {
        return;
      }
      this.last = result;
      const view = toResponseView(result);
      await this.post({ type: 'response', view });
      const entry = { method: args.method, path: args.path, headers: args.headers ?? {}, body: bodyFile ? '' : (args.body ?? ''), bodyFile };
      const list = await this.history.add({ ...entry, time: new Date().toISOString(), status: result.status, elapsedMs: view.elapsedMs });
      await this.post({ type: 'history', history: toHistoryItems(list) });
      if (result.status >= 500) {
        const failure = await awaitRunFailure();
        if (failure && this.pending === pending) {
          await this.post({ type: 'failure', failure });
        }
      }
    } catch (e) {
      if (!pending.cancelled) {
        await this.post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  /** Cancel: the daemon aborts the request; its late answer (or error) is dropped. */
  private async cancel(): Promise<void> {
    const pending = this.pending;
    if (!pending || pending.cancelled) {
      return;
    }
    pending.cancelled = true;
    await this.post({ type: 'cancelled' });
    await this.host.cancel(pending.id).catch(() => undefined);
  }

  private async saveSample(request: PanelRequest): Promise<void> {
    if (!this.script) {
      void vscode.window.showWarningMessage('AzureML Scoring: no entry script, so no sample-requests/ folder to save into.');
      return;
    }
    const file = await saveSample(request, this.script);
    if (file) {
      this.samples = listSamples(this.script, workspacePaths());
      this.sample = { ...this.sample, source: file };
      await this.post({ type: 'samples', samples: this.samples.map((x) => ({ label: x.label, file: x.file })), selected: file });
      void vscode.window.showInformationMessage(`AzureML Scoring: saved the request as ${vscode.workspace.asRelativePath(file)}.`);
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
