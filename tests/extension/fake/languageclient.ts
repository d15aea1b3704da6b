/** Stand-in for `vscode-languageclient/node`: records requests, lets tests push notifications. */
/* eslint-disable @typescript-eslint/no-explicit-any */
export enum State {
  Stopped = 1,
  Starting = 3,
  Running = 2,
}
export enum TransportKind {
  stdio = 0,
}
export enum RevealOutputChannelOn {
  Never = 4,
}
export const ExecuteCommandRequest = { type: { method: 'workspace/executeCommand' } };

export type Responder = (command: string, arg: any) => any;

export class LanguageClient {
  static instances: LanguageClient[] = [];
  /** How every client answers workspace/executeCommand. */
  static respond: Responder = () => ({});
  state = State.Stopped;
  readonly requests: { command: string; arg: any }[] = [];
  private readonly handlers = new Map<string, (p: any) => void>();
  private readonly stateListeners: ((e: { oldState: State; newState: State }) => void)[] = [];

  constructor(
    readonly id: string,
    readonly name: string,
    readonly serverOptions: any,
    readonly clientOptions: any,
  ) {
    LanguageClient.instances.push(this);
  }
  onNotification(method: string, h: (p: any) => void): { dispose(): void } {
    this.handlers.set(method, h);
    return { dispose: () => this.handlers.delete(method) };
  }
  onDidChangeState(l: (e: { oldState: State; newState: State }) => void): { dispose(): void } {
    this.stateListeners.push(l);
    return { dispose: () => undefined };
  }
  private setState(s: State): void {
    const old = this.state;
    this.state = s;
    this.stateListeners.forEach((l) => l({ oldState: old, newState: s }));
  }
  async start(): Promise<void> {
    this.setState(State.Running);
  }
  async stop(): Promise<void> {
    this.setState(State.Stopped);
  }
  async sendRequest(_type: unknown, params: { command: string; arguments: any[] }): Promise<any> {
    this.requests.push({ command: params.command, arg: params.arguments[0] });
    return LanguageClient.respond(params.command, params.arguments[0]);
  }
  notify(method: string, params: any): void {
    this.handlers.get(method)?.(params);
  }
}
