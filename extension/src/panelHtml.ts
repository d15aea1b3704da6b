/**
 * The Send Sample Request page. No inline script or style: one external script carrying the
 * nonce, one stylesheet, a CSP that allows nothing else (images only from data: URIs and the
 * extension's media folder).
 */
import * as crypto from 'crypto';

export interface PanelHtmlOptions {
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
}

export function makeNonce(): string {
  return crypto.randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

function attr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export const METHODS = ['POST', 'GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];

export function renderPanelHtml(o: PanelHtmlOptions): string {
  const methodOptions = METHODS.map((m) => `<option value="${m}">${m}</option>`).join('');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(contentSecurityPolicy(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(o.styleUri)}">
<title>Send Sample Request</title>
</head>
<body>
<main id="panes">
<section id="request-pane" aria-label="Request">
  <header class="bar">
    <h1>Send Sample Request</h1>
    <span id="target" class="muted" title="Scoring server"></span>
  </header>
  <div class="line">
    <label class="inline" for="samples">Sample</label>
    <select id="samples" aria-label="Sample"></select>
    <button id="save-sample" type="button" class="link" title="Save the request below as a new sample in sample-requests/">Save as Sample…</button>
  </div>
  <p id="source" class="muted"></p>
  <form id="request-form" autocomplete="off">
    <div class="line">
      <label class="sr" for="method">Method</label>
      <select id="method" aria-label="Method">${methodOptions}</select>
      <label class="sr" for="path">Path</label>
      <input id="path" type="text" value="/score" spellcheck="false" aria-label="Path">
      <button id="send" type="submit" class="primary">Send</button>
      <button id="copy-curl" type="button" class="secondary">Copy as curl</button>
    </div>
    <details id="headers-details">
      <summary id="headers-summary">Headers</summary>
      <label class="sr" for="headers">Headers (one per line, Name: value)</label>
      <textarea id="headers" rows="3" spellcheck="false" placeholder="Name: value"></textarea>
    </details>
    <div class="line between">
      <label for="body">Body</label>
      <span>
        <span id="body-error" class="warn" hidden></span>
        <button id="format-body" type="button" class="link">Format JSON</button>
      </span>
    </div>
    <div id="body-file" class="file-note" hidden>
      <span id="body-file-text"></span>
      <button id="use-text-body" type="button" class="link">Use a text body instead</button>
    </div>
    <textarea id="body" rows="8" spellcheck="false"></textarea>
  </form>
  <section id="history-section" hidden>
    <div class="line between">
      <label for="history">History</label>
      <button id="clear-history" type="button" class="link">Clear</button>
    </div>
    <select id="history" aria-label="History"></select>
  </section>
</section>
<section id="response-pane" aria-label="Response">
  <p id="placeholder" class="muted">The response shows here. Send: Ctrl+Enter in the body.</p>
  <div id="progress" class="progress" role="status" hidden>
    <span class="spinner" aria-hidden="true"></span>
    <span id="progress-text">Sending…</span>
    <button id="cancel" type="button" class="secondary">Cancel</button>
  </div>
  <div id="error" class="error" role="alert" hidden></div>
  <section id="response" hidden aria-live="polite">
    <div class="line status-line">
      <span id="status" class="status"></span>
      <span id="elapsed" class="muted"></span>
      <span id="size" class="muted"></span>
      <span class="spacer"></span>
      <span class="actions">
        <button id="open-response" type="button" class="link" title="Open the body in an editor">Open in Editor</button>
        <button id="save-response" type="button" class="link" title="Save the body to a file">Save…</button>
      </span>
    </div>
    <div id="failure" class="failure" hidden>
      <span id="failure-text"></span>
      <button id="failure-link" type="button" class="link"></button>
    </div>
    <details id="response-headers-details">
      <summary id="response-headers-summary">Headers</summary>
      <table id="response-headers"><tbody></tbody></table>
    </details>
    <p id="truncated-note" class="warn" hidden></p>
    <pre id="response-body" tabindex="0"></pre>
    <img id="response-image" alt="Response image" hidden>
  </section>
</section>
</main>
<script nonce="${attr(o.nonce)}" src="${attr(o.scriptUri)}"></script>
</body>
</html>`;
}
