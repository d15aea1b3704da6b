/** The menu behind the status bar item: what can be done in the server's current state. */
import * as path from 'path';
import * as vscode from 'vscode';
import { COMMANDS } from '../common/constants';
import { ServerStatus } from '../protocol';
import { describe, isActive } from './statusText';

export type MenuItem = vscode.QuickPickItem & { command: string; args?: unknown[] };

export function statusMenuItems(s: ServerStatus): MenuItem[] {
  const items: MenuItem[] = isActive(s)
    ? [
        { label: '$(debug-stop) Stop Scoring Server', command: COMMANDS.stop },
        { label: '$(debug-restart) Restart Scoring Server', command: COMMANDS.restart },
        { label: '$(debug) Attach Debugger to Scoring Server', command: COMMANDS.attach },
      ]
    : [
        { label: '$(play) Start Scoring Server', command: COMMANDS.start },
        { label: '$(debug-alt) Debug Scoring Server', command: COMMANDS.debug },
      ];
  items.push({ label: '$(send) Send Sample Request', command: COMMANDS.sendRequest });
  if (s.state === 'running' && s.url) {
    const swagger = `${s.url.replace(/\/+$/, '')}/swagger.json`;
    items.push({ label: '$(globe) Open Swagger', description: swagger, command: 'vscode.open', args: [vscode.Uri.parse(swagger)] });
  }
  const reloadFailed = s.state === 'running' && s.lastReload?.ok === false;
  if ((s.state === 'failed' || reloadFailed) && s.errorLocation) {
    const where = `${path.basename(s.errorLocation.file)}:${s.errorLocation.line}`;
    items.push({ label: '$(error) Go to Error', description: where, command: COMMANDS.goToError });
  }
  items.push({ label: '$(output) Show Scoring Server Logs', command: COMMANDS.showLogs });
  return items;
}

export async function showStatusMenu(s: ServerStatus): Promise<void> {
  const picked = await vscode.window.showQuickPick(statusMenuItems(s), { placeHolder: describe(s) });
  if (picked) {
    await vscode.commands.executeCommand(picked.command, ...(picked.args ?? []));
  }
}
