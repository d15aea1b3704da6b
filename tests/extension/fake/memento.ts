/** An in-memory vscode.Memento (workspaceState) for the unit tests. */
export class Memento {
  data = new Map<string, unknown>();
  get<T>(k: string): T | undefined {
    return this.data.get(k) as T | undefined;
  }
  async update(k: string, v: unknown): Promise<void> {
    this.data.set(k, v);
  }
}
