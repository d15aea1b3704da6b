/**
 * The F5 session of an `azmlinfsrv` launch configuration: a small debug adapter in the
 * extension (no process of its own) that starts the server under the debugger through the
 * daemon; each worker's debugpy session is its child, named `score.py worker <pid>`. Ending
 * this session (Stop, or stopping a worker's session) stops that server; a server stopped or
 * failed some other way ends the session.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { LaunchConfiguration, launchArgs } from './launchConfig';
import { ServerStatus, StartServerArgs } from './protocol';

export interface LaunchHost {
  /** Starts (or restarts) `script` under the debugger, workers attaching as children of `parent`. */
  start(script: string, args: Partial<StartServerArgs>, parent: vscode.DebugSession): Promise<ServerStatus | undefined>;
  stop(): Promise<unknown>;
  /** The worker sessions stop being children of `parent`. */
  release(parent: vscode.DebugSession): void;
  readonly onDidChangeStatus: vscode.Event<ServerStatus>;
}

interface DapRequest {
  seq: number;
  type: string;
  command: string;
  arguments?: unknown;
}

export class ServerDebugAdapter implements vscode.DebugAdapter {
  private readonly emitter = new vscode.EventEmitter<vscode.DebugProtocolMessage>();
  readonly onDidSendMessage = this.emitter.event;
  private seq = 1;
  private serving = false;
  private ended = false;
  private watch: vscode.Disposable | undefined;

  constructor(
    private readonly session: vscode.DebugSession,
    private readonly host: LaunchHost,
  ) {}

  handleMessage(message: vscode.DebugProtocolMessage): void {
    const m = message as DapRequest;
    if (m.type !== 'request') {
      return;
    }
    switch (m.command) {
      case 'initialize':
        this.respond(m, { supportsConfigurationDoneRequest: true, supportsTerminateRequest: true });
        this.event('initialized');
        return;
      case 'launch':
        this.respond(m);
        void this.launch(m.arguments as LaunchConfiguration);
        return;
      case 'disconnect':
      case 'terminate':
        void this.end().then(() => this.respond(m));
        return;
      case 'threads':
        this.respond(m, { threads: [] });
        return;
      default:
        this.respond(m);
    }
  }

  private async launch(config: LaunchConfiguration): Promise<void> {
    const script = String(config.entryScript);
    this.output(`Starting ${path.basename(script)} under the debugger (azmlinfsrv)…\n`);
    const status = await this.host.start(script, launchArgs(config), this.session).catch((e: unknown) => ({ state: 'failed', error: String(e) }) as ServerStatus);
    if (status?.state !== 'running') {
      this.output(`The scoring server did not start: ${status?.error ?? status?.state ?? 'cancelled'}\n`, 'stderr');
      return this.finish();
    }
    this.serving = true;
    this.output(`Serving at ${status.url}. Stopping this session stops the server.\n`);
    this.watch = this.host.onDidChangeStatus((s) => {
      if (s.state === 'stopped' || s.state === 'failed') {
        this.finish();
      }
    });
  }

  /** The user ended the session: the server goes with it. */
  private async end(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      this.watch?.dispose();
      this.host.release(this.session);
      await this.host.stop().catch(() => undefined);
    }
  }

  /** The server went away on its own: end the session. */
  private finish(): void {
    if (!this.ended) {
      this.ended = true;
      this.watch?.dispose();
      this.host.release(this.session);
      this.event('terminated');
    }
  }

  private respond(req: DapRequest, body?: unknown): void {
    this.emitter.fire({ seq: this.seq++, type: 'response', request_seq: req.seq, command: req.command, success: true, ...(body ? { body } : {}) } as vscode.DebugProtocolMessage);
  }

  private event(event: string, body?: unknown): void {
    this.emitter.fire({ seq: this.seq++, type: 'event', event, ...(body ? { body } : {}) } as vscode.DebugProtocolMessage);
  }

  private output(text: string, category = 'console'): void {
    this.event('output', { category, output: text });
  }

  get isServing(): boolean {
    return this.serving && !this.ended;
  }

  dispose(): void {
    this.watch?.dispose();
    this.emitter.dispose();
  }
}

export class ServerDebugAdapterFactory implements vscode.DebugAdapterDescriptorFactory {
  constructor(private readonly host: LaunchHost) {}

  createDebugAdapterDescriptor(session: vscode.DebugSession): vscode.ProviderResult<vscode.DebugAdapterDescriptor> {
    return new vscode.DebugAdapterInlineImplementation(new ServerDebugAdapter(session, this.host));
  }
}
