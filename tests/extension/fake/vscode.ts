/**
 * A small stand-in for the `vscode` module: just what the extension touches, recording calls so
 * tests can assert on them and answering prompts from queues the tests fill.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import * as path from 'path';

export class Disposable {
  constructor(private readonly fn: () => void = () => undefined) {}
  static from(...d: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => d.forEach((x) => x.dispose()));
  }
  dispose(): void {
    this.fn();
  }
}

export class EventEmitter<T> {
  private listeners: ((e: T) => unknown)[] = [];
  event = (l: (e: T) => unknown): Disposable => {
    this.listeners.push(l);
    return new Disposable(() => (this.listeners = this.listeners.filter((x) => x !== l)));
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) {
      l(e);
    }
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly path: string,
  ) {}
  static file(p: string): Uri {
    return new Uri('file', path.resolve(p));
  }
  static parse(s: string): Uri {
    const m = /^([a-z][\w+.-]*):(.*)$/i.exec(s);
    return m ? new Uri(m[1], m[2]) : new Uri('file', s);
  }
  static joinPath(u: Uri, ...parts: string[]): Uri {
    return new Uri(u.scheme, path.join(u.path, ...parts));
  }
  get fsPath(): string {
    return this.path;
  }
  toString(): string {
    return `${this.scheme}://${this.path}`;
  }
}

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}
export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(l1: number, c1: number, l2: number, c2: number) {
    this.start = new Position(l1, c1);
    this.end = new Position(l2, c2);
  }
}
export class ThemeColor {
  constructor(readonly id: string) {}
}
export class CodeLens {
  constructor(
    readonly range: Range,
    readonly command?: { title: string; command: string; arguments?: unknown[] },
  ) {}
}
export class DebugAdapterExecutable {
  constructor(
    readonly command: string,
    readonly args: string[] = [],
  ) {}
}
export class DebugAdapterServer {
  constructor(
    readonly port: number,
    readonly host?: string,
  ) {}
}
export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}
export enum ProgressLocation {
  SourceControl = 1,
  Window = 10,
  Notification = 15,
}
export enum ViewColumn {
  Active = -1,
  Beside = -2,
  One = 1,
}

// ------------------------------------------------------------------ recorded state

export interface Message {
  level: 'info' | 'warning' | 'error';
  text: string;
  buttons: string[];
}

export const state = {
  messages: [] as Message[],
  /** Answers for the next show*Message calls (a button label or undefined). */
  answers: [] as (string | undefined)[],
  /** Handlers for the next showQuickPick calls. */
  picks: [] as ((items: any[]) => any)[],
  quickPicks: [] as any[][],
  commands: new Map<string, (...a: any[]) => any>(),
  executed: [] as { command: string; args: unknown[] }[],
  settings: {} as Record<string, unknown>,
  workspaceFolders: [] as string[],
  files: [] as string[],
  activeEditor: undefined as undefined | { path: string; text: string },
  shownDocuments: [] as { uri: Uri; options?: any }[],
  debugStarts: [] as any[],
  debugStops: [] as any[],
  debugFactories: new Map<string, any>(),
  debugTrackerFactories: new Map<string, any>(),
  startDebuggingResult: true,
  extensions: [] as { id: string; packageJSON: any }[],
  statusItems: [] as any[],
  outputs: [] as any[],
  terminals: [] as any[],
  panels: [] as any[],
  clipboard: '',
  progress: [] as { title?: string; messages: string[]; closed: boolean }[],
  codeLensProviders: [] as any[],
  trusted: true,
};

const onDidStartDebugSession = new EventEmitter<any>();
const onDidTerminateDebugSession = new EventEmitter<any>();
const onDidChangeConfiguration = new EventEmitter<any>();
const onDidCloseTerminal = new EventEmitter<any>();
const onDidSaveTextDocument = new EventEmitter<any>();
const onDidChangeActiveTextEditor = new EventEmitter<any>();
const onDidGrantWorkspaceTrust = new EventEmitter<void>();

/** The user trusts the folder (Manage Workspace Trust). */
export function grantTrust(): void {
  state.trusted = true;
  onDidGrantWorkspaceTrust.fire();
}

/** A TextDocument as the extension reads it. */
export function document(p: string, text: string): any {
  return { uri: Uri.file(p), fileName: p, getText: () => text };
}

/** Saves a document as VS Code reports it (onDidSaveTextDocument). */
export function saveDocument(p: string, text: string): void {
  onDidSaveTextDocument.fire(document(p, text));
}

/** Makes `p` the active editor and reports the change. */
export function openEditor(p: string, text: string): void {
  state.activeEditor = { path: p, text };
  onDidChangeActiveTextEditor.fire({ document: document(p, text) });
}

/** The last value each `setContext` call gave a context key. */
export function contextKeys(): Record<string, unknown> {
  const keys: Record<string, unknown> = {};
  for (const e of state.executed.filter((x) => x.command === 'setContext')) {
    keys[e.args[0] as string] = e.args[1];
  }
  return keys;
}

export function reset(): void {
  state.messages = [];
  state.answers = [];
  state.picks = [];
  state.quickPicks = [];
  state.commands = new Map();
  state.executed = [];
  state.settings = {};
  state.workspaceFolders = [];
  state.files = [];
  state.activeEditor = undefined;
  state.shownDocuments = [];
  state.debugStarts = [];
  state.debugStops = [];
  state.debugFactories = new Map();
  state.debugTrackerFactories = new Map();
  state.startDebuggingResult = true;
  state.extensions = [];
  state.statusItems = [];
  state.outputs = [];
  state.terminals = [];
  state.panels = [];
  state.clipboard = '';
  state.progress = [];
  state.codeLensProviders = [];
  state.trusted = true;
  testing.reset();
}

function message(level: Message['level']) {
  return async (text: string, ...rest: any[]) => {
    const buttons = rest.filter((b) => typeof b === 'string');
    state.messages.push({ level, text, buttons });
    return state.answers.length ? state.answers.shift() : undefined;
  };
}

let sessionId = 0;

export const window = {
  get activeTextEditor(): any {
    const e = state.activeEditor;
    return e && { document: document(e.path, e.text) };
  },
  onDidChangeActiveTextEditor: onDidChangeActiveTextEditor.event,
  showInformationMessage: message('info'),
  showWarningMessage: message('warning'),
  showErrorMessage: message('error'),
  async showQuickPick(items: any[]): Promise<any> {
    state.quickPicks.push(items);
    const h = state.picks.shift();
    return h ? h(items) : undefined;
  },
  async withProgress(opts: any, task: (p: any, t: any) => Promise<any>): Promise<any> {
    const rec = { title: opts.title as string | undefined, messages: [] as string[], closed: false };
    state.progress.push(rec);
    try {
      return await task({ report: (m: any) => m.message && rec.messages.push(m.message) }, { isCancellationRequested: false, onCancellationRequested: () => new Disposable() });
    } finally {
      rec.closed = true;
    }
  },
  createOutputChannel(name: string, options?: string | { log: true }): any {
    const ch = { name, options, lines: [] as string[], shown: 0, appendLine: (l: string) => ch.lines.push(l), append: (l: string) => ch.lines.push(l), show: () => ch.shown++, clear: () => (ch.lines = []), dispose: () => undefined, replace: () => undefined, hide: () => undefined };
    if (typeof options === 'object' && options.log) {
      // A LogOutputChannel: each level's lines also kept apart, as "[level] text".
      const levelled = ch as any;
      levelled.leveled = [] as string[];
      for (const level of ['trace', 'debug', 'info', 'warn', 'error']) {
        levelled[level] = (l: string) => (ch.lines.push(l), levelled.leveled.push(`[${level}] ${l}`));
      }
    }
    state.outputs.push(ch);
    return ch;
  },
  createStatusBarItem(id: string, alignment?: StatusBarAlignment, priority?: number): any {
    const item = { id, alignment, priority, text: '', tooltip: '', command: undefined as unknown, backgroundColor: undefined as unknown, name: '', visible: false, show: () => (item.visible = true), hide: () => (item.visible = false), dispose: () => undefined };
    state.statusItems.push(item);
    return item;
  },
  async showInputBox(options?: any): Promise<string | undefined> {
    dialogs.inputs.push(options);
    return dialogs.inputAnswers.shift();
  },
  async showSaveDialog(options?: any): Promise<Uri | undefined> {
    dialogs.saves.push(options);
    const p = dialogs.saveAnswers.shift();
    return p === undefined ? undefined : Uri.file(p);
  },
  async showTextDocument(uri: Uri, options?: any): Promise<any> {
    state.shownDocuments.push({ uri, options });
    return {};
  },
  createTerminal(opts: any): any {
    const t = { ...opts, shown: false, show: () => (t.shown = true), dispose: () => undefined, exitStatus: undefined as any };
    state.terminals.push(t);
    return t;
  },
  onDidCloseTerminal: onDidCloseTerminal.event,
  createWebviewPanel(viewType: string, title: string, column: any, options: any): any {
    const received = new EventEmitter<any>();
    const disposed = new EventEmitter<void>();
    const panel = {
      viewType,
      title,
      column,
      options,
      posted: [] as any[],
      webview: {
        html: '',
        cspSource: 'vscode-resource:',
        asWebviewUri: (u: Uri) => Uri.parse(`vscode-resource:${u.path}`),
        postMessage: async (m: any) => (panel.posted.push(m), true),
        onDidReceiveMessage: received.event,
      },
      receive: (m: any) => received.fire(m),
      reveal: () => undefined,
      onDidDispose: disposed.event,
      dispose: () => disposed.fire(),
    };
    state.panels.push(panel);
    return panel;
  },
};

export const workspace = {
  get workspaceFolders(): any[] | undefined {
    return state.workspaceFolders.length ? state.workspaceFolders.map((f, index) => ({ uri: Uri.file(f), name: path.basename(f), index })) : undefined;
  },
  getWorkspaceFolder(uri: Uri): any {
    const f = state.workspaceFolders.find((w) => uri.fsPath === w || uri.fsPath.startsWith(w + path.sep));
    return f && { uri: Uri.file(f), name: path.basename(f), index: 0 };
  },
  getConfiguration(section: string): any {
    return {
      get: <T>(key: string, dflt?: T): T | undefined => {
        const k = `${section}.${key}`;
        return k in state.settings ? (state.settings[k] as T) : dflt;
      },
    };
  },
  async findFiles(): Promise<Uri[]> {
    return state.files.map((f) => Uri.file(f));
  },
  asRelativePath(p: string | Uri): string {
    const s = typeof p === 'string' ? p : p.fsPath;
    const f = state.workspaceFolders.find((w) => s.startsWith(w + path.sep));
    return f ? path.relative(f, s) : s;
  },
  async openTextDocument(options: any): Promise<any> {
    dialogs.opened.push(options);
    return { uri: Uri.parse('untitled:Untitled-1'), ...options };
  },
  onDidChangeConfiguration: onDidChangeConfiguration.event,
  onDidSaveTextDocument: onDidSaveTextDocument.event,
  get isTrusted(): boolean {
    return state.trusted;
  },
  onDidGrantWorkspaceTrust: onDidGrantWorkspaceTrust.event,
  createFileSystemWatcher(glob: string): any {
    const w = { glob, create: new EventEmitter<Uri>(), change: new EventEmitter<Uri>(), delete: new EventEmitter<Uri>(), disposed: false };
    testing.watchers.push(w);
    return { onDidCreate: w.create.event, onDidChange: w.change.event, onDidDelete: w.delete.event, dispose: () => (w.disposed = true) };
  },
};

export const commands = {
  registerCommand(id: string, fn: (...a: any[]) => any): Disposable {
    if (state.commands.has(id)) {
      throw new Error(`command ${id} already registered`);
    }
    state.commands.set(id, fn);
    return new Disposable(() => state.commands.delete(id));
  },
  async executeCommand(id: string, ...args: unknown[]): Promise<any> {
    state.executed.push({ command: id, args });
    const fn = state.commands.get(id);
    return fn ? fn(...args) : undefined;
  },
};

export const debug = {
  async startDebugging(_folder: any, config: any, options?: any): Promise<boolean> {
    state.debugStarts.push(options ? { ...config, __options: options } : config);
    if (state.startDebuggingResult) {
      onDidStartDebugSession.fire({ id: `s${++sessionId}`, configuration: config, name: config.name });
    }
    return state.startDebuggingResult;
  },
  async stopDebugging(session?: any): Promise<void> {
    state.debugStops.push(session);
    if (session) {
      onDidTerminateDebugSession.fire(session);
    }
  },
  onDidStartDebugSession: onDidStartDebugSession.event,
  onDidTerminateDebugSession: onDidTerminateDebugSession.event,
  registerDebugAdapterDescriptorFactory(type: string, factory: any): Disposable {
    state.debugFactories.set(type, factory);
    return new Disposable();
  },
  registerDebugConfigurationProvider(type: string, provider: any, trigger?: number): Disposable {
    const key = trigger === DebugConfigurationProviderTriggerKind.Dynamic ? `${type}:dynamic` : type;
    debugProviders.set(key, provider);
    return new Disposable(() => debugProviders.delete(key));
  },
  registerDebugAdapterTrackerFactory(type: string, factory: any): Disposable {
    state.debugTrackerFactories.set(type, factory);
    return new Disposable(() => state.debugTrackerFactories.delete(type));
  },
};

/** Input boxes, save dialogs and untitled documents: what was asked, and the next answers. */
export const dialogs = {
  inputs: [] as any[],
  inputAnswers: [] as (string | undefined)[],
  saves: [] as any[],
  saveAnswers: [] as (string | undefined)[],
  opened: [] as any[],
  reset(): void {
    dialogs.inputs = [];
    dialogs.inputAnswers = [];
    dialogs.saves = [];
    dialogs.saveAnswers = [];
    dialogs.opened = [];
  },
};

/** The debug configuration providers registered, by type. */
export const debugProviders = new Map<string, any>();

export enum DebugConfigurationProviderTriggerKind {
  Initial = 1,
  Dynamic = 2,
}

export class DebugAdapterInlineImplementation {
  constructor(readonly implementation: any) {}
}

/** Ends a debug session as VS Code does when the debuggee goes away. */
export function terminateSession(session: any): void {
  onDidTerminateDebugSession.fire(session);
}

export function closeTerminal(t: any): void {
  onDidCloseTerminal.fire(t);
}

export const extensions = {
  get all(): any[] {
    return state.extensions;
  },
  getExtension(id: string): any {
    return state.extensions.find((e) => e.id === id);
  },
};

export const env = {
  clipboard: {
    async writeText(t: string): Promise<void> {
      state.clipboard = t;
    },
    async readText(): Promise<string> {
      return state.clipboard;
    },
  },
  uiKind: 1,
};

export const languages = {
  registerCodeLensProvider(selector: any, provider: any): Disposable {
    state.codeLensProviders.push({ selector, provider });
    return new Disposable();
  },
};

// ------------------------------------------------------------------ the Testing API (testing/)

export class Location {
  constructor(
    readonly uri: Uri,
    readonly range: Position | Range,
  ) {}
}

export class TestMessage {
  expectedOutput?: string;
  actualOutput?: string;
  location?: Location;
  constructor(readonly message: string) {}
  static diff(message: string, expected: string, actual: string): TestMessage {
    const m = new TestMessage(message);
    m.expectedOutput = expected;
    m.actualOutput = actual;
    return m;
  }
}

export enum TestRunProfileKind {
  Run = 1,
  Debug = 2,
  Coverage = 3,
}

export class TestRunRequest {
  constructor(
    readonly include?: any[],
    readonly exclude?: any[],
    readonly profile?: any,
  ) {}
}

class TestItemCollection {
  private readonly items = new Map<string, any>();
  get size(): number {
    return this.items.size;
  }
  add(item: any): void {
    this.items.set(item.id, item);
  }
  replace(items: readonly any[]): void {
    this.items.clear();
    items.forEach((i) => this.add(i));
  }
  get(id: string): any {
    return this.items.get(id);
  }
  delete(id: string): void {
    this.items.delete(id);
  }
  forEach(fn: (item: any) => unknown): void {
    [...this.items.values()].forEach((i) => fn(i));
  }
}

/** A test run as recorded: every call on it, in order ({kind, id, message?, duration?}). */
export interface RecordedRun {
  request: any;
  calls: { kind: string; id?: string; message?: TestMessage; duration?: number; output?: string }[];
  ended: boolean;
}

function createTestRun(request: any): any {
  const rec: RecordedRun = { request, calls: [], ended: false };
  testing.runs.push(rec);
  const call = (kind: string) => (item: any, message?: any, duration?: number) => rec.calls.push({ kind, id: item.id, message, duration });
  return {
    enqueued: call('enqueued'),
    started: call('started'),
    skipped: call('skipped'),
    passed: (item: any, duration?: number) => rec.calls.push({ kind: 'passed', id: item.id, duration }),
    failed: call('failed'),
    errored: call('errored'),
    appendOutput: (output: string) => rec.calls.push({ kind: 'output', output }),
    end: () => (rec.ended = true),
  };
}

/** Test controllers, runs and file watchers the extension created. */
export const testing = {
  controllers: [] as any[],
  runs: [] as RecordedRun[],
  watchers: [] as { glob: string; create: EventEmitter<Uri>; change: EventEmitter<Uri>; delete: EventEmitter<Uri>; disposed: boolean }[],
  reset(): void {
    testing.controllers = [];
    testing.runs = [];
    testing.watchers = [];
  },
};

export const tests = {
  createTestController(id: string, label: string): any {
    const ctl = {
      id,
      label,
      items: new TestItemCollection(),
      profiles: [] as any[],
      refreshHandler: undefined as undefined | (() => unknown),
      disposed: false,
      createTestItem: (itemId: string, itemLabel: string, uri?: Uri) => ({ id: itemId, label: itemLabel, uri, children: new TestItemCollection() }),
      createRunProfile(profileLabel: string, kind: TestRunProfileKind, runHandler: (r: any, t: any) => unknown, isDefault?: boolean) {
        const profile = { label: profileLabel, kind, runHandler, isDefault };
        ctl.profiles.push(profile);
        return { ...profile, dispose: () => undefined };
      },
      createTestRun: (request: any) => createTestRun(request),
      dispose: () => (ctl.disposed = true),
    };
    testing.controllers.push(ctl);
    return ctl;
  },
};
