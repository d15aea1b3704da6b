/** The language client of the daemon, `python <extension>/bundled/tool/launch.py daemon` (LSP over stdio, docs/daemon.md). */
import * as vscode from 'vscode';
import {
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
  TransportKind,
} from 'vscode-languageclient/node';
import { DaemonConnection, DaemonNotifications, InitializationOptions, ServerStatus } from '../protocol';
import { SECTION } from './constants';

export interface DaemonHandlers {
  onStatus(s: ServerStatus): void;
  onLog(text: string): void;
  onStopped(): void;
}

export class DaemonClient implements DaemonConnection {
  private readonly client: LanguageClient;

  constructor(
    readonly python: string,
    /** The launcher and its role (python.ts daemonCommand): azmlinfsrv.daemon with the bundled libraries. */
    args: string[],
    init: InitializationOptions,
    output: vscode.OutputChannel,
    handlers: DaemonHandlers,
    cwd: string | undefined,
  ) {
    const serverOptions: ServerOptions = {
      command: python,
      args,
      transport: TransportKind.stdio,
      options: { cwd, env: { ...process.env, PYTHONUNBUFFERED: '1' } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file', language: 'python' }],
      initializationOptions: init,
      outputChannel: output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      diagnosticCollectionName: SECTION,
    };
    this.client = new LanguageClient(SECTION, 'AzureML Scoring daemon', serverOptions, clientOptions);
    this.client.onDidChangeState((e) => {
      if (e.newState === State.Stopped) {
        handlers.onStopped();
      }
    });
    this.client.onNotification(DaemonNotifications.status, (s: ServerStatus) => handlers.onStatus(s));
    this.client.onNotification(DaemonNotifications.log, (p: { text?: string }) => handlers.onLog(String(p?.text ?? '')));
  }

  async start(): Promise<void> {
    await this.client.start();
  }

  get running(): boolean {
    return this.client.state === State.Running;
  }

  async command<T>(name: string, arg: object): Promise<T> {
    return (await this.client.sendRequest(ExecuteCommandRequest.type, { command: name, arguments: [arg] })) as T;
  }

  async stop(): Promise<void> {
    try {
      await this.client.stop(5000);
    } catch {
      // already gone
    }
  }
}
