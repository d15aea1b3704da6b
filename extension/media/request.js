// Send Sample Request panel (runs inside the webview; talks to the extension by postMessage only).
// @ts-check
(function () {
  'use strict';
  // @ts-ignore acquireVsCodeApi is provided by VS Code in webviews
  const vscode = acquireVsCodeApi();
  /** @param {string} id */
  const $ = (id) => /** @type {any} */ (document.getElementById(id));

  const form = $('request-form');
  const method = $('method');
  const pathInput = $('path');
  const headers = $('headers');
  const body = $('body');
  const bodyError = $('body-error');
  const bodyFile = $('body-file');
  const bodyFileText = $('body-file-text');
  const send = $('send');
  const errorBox = $('error');
  const response = $('response');
  const historySection = $('history-section');
  const historySelect = $('history');

  /** @type {string | undefined} */
  let currentBodyFile;
  /** @type {any[]} */
  let history = [];

  function request() {
    return {
      method: method.value,
      path: pathInput.value.trim() || '/score',
      headersText: headers.value,
      body: currentBodyFile ? '' : body.value,
      bodyFile: currentBodyFile,
    };
  }

  function saveState() {
    vscode.setState({ request: request(), bodyFileNote: bodyFileText.textContent });
  }

  /** @param {{method: string, path: string, headersText: string, body: string, bodyFile?: string}} r @param {string} [note] */
  function fill(r, note) {
    if (![...method.options].some((o) => o.value === r.method)) {
      const o = document.createElement('option');
      o.value = o.textContent = r.method;
      method.appendChild(o);
    }
    method.value = r.method;
    pathInput.value = r.path;
    headers.value = r.headersText;
    body.value = r.body || '';
    setBodyFile(r.bodyFile, note);
    validateBody();
    saveState();
  }

  /** @param {string | undefined} file @param {string} [note] */
  function setBodyFile(file, note) {
    currentBodyFile = file || undefined;
    bodyFile.hidden = !currentBodyFile;
    body.hidden = !!currentBodyFile;
    bodyFileText.textContent = currentBodyFile ? note || 'Body: ' + currentBodyFile : '';
  }

  function isJsonRequest() {
    return /content-type\s*:\s*[^\n]*json/i.test(headers.value) || !/content-type\s*:/i.test(headers.value);
  }

  function validateBody() {
    bodyError.hidden = true;
    if (currentBodyFile || !body.value.trim() || !isJsonRequest()) return true;
    try {
      JSON.parse(body.value);
      return true;
    } catch (e) {
      bodyError.textContent = 'Not valid JSON: ' + (e instanceof Error ? e.message : String(e));
      bodyError.hidden = false;
      return false;
    }
  }

  /** @param {string} text */
  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }

  /** @param {any} v */
  function showResponse(v) {
    showError('');
    response.hidden = false;
    const status = $('status');
    status.textContent = v.status + (v.statusText ? ' ' + v.statusText : '');
    status.className = 'status ' + (v.status < 300 ? 'ok' : v.status < 400 ? 'redirect' : 'fail');
    $('elapsed').textContent = v.elapsedMs + ' ms';
    $('size').textContent = v.totalBytes ? formatBytes(v.totalBytes) : '';
    const tbody = $('response-headers').querySelector('tbody');
    tbody.replaceChildren();
    for (const [k, val] of v.headers) {
      const tr = document.createElement('tr');
      const th = document.createElement('th');
      th.textContent = k;
      const td = document.createElement('td');
      td.textContent = val;
      tr.append(th, td);
      tbody.appendChild(tr);
    }
    $('response-headers-summary').textContent = 'Headers (' + v.headers.length + ')';
    const note = $('truncated-note');
    note.textContent = v.note || '';
    note.hidden = !v.note;
    const pre = $('response-body');
    const img = $('response-image');
    img.hidden = v.kind !== 'image';
    pre.hidden = v.kind === 'image' || v.kind === 'binary';
    pre.className = v.kind === 'json' ? 'json' : '';
    if (v.kind === 'image') {
      img.src = v.imageSrc;
      pre.textContent = '';
    } else {
      img.removeAttribute('src');
      pre.textContent = v.kind === 'empty' ? '(empty body)' : v.text || '';
    }
  }

  /** @param {number} n */
  function formatBytes(n) {
    if (n < 1024) return n + ' B';
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KB';
    return (n / 1024 / 1024).toFixed(1) + ' MB';
  }

  /** @param {any[]} items */
  function setHistory(items) {
    history = items || [];
    historySection.hidden = history.length === 0;
    historySelect.replaceChildren();
    const placeholder = document.createElement('option');
    placeholder.value = '';
    placeholder.textContent = history.length + ' previous request' + (history.length === 1 ? '' : 's') + '…';
    historySelect.appendChild(placeholder);
    history.forEach((h, i) => {
      const o = document.createElement('option');
      o.value = String(i);
      o.textContent = h.label;
      historySelect.appendChild(o);
    });
  }

  form.addEventListener('submit', (/** @type {Event} */ e) => {
    e.preventDefault();
    validateBody();
    saveState();
    vscode.postMessage({ type: 'send', request: request() });
  });
  $('copy-curl').addEventListener('click', () => vscode.postMessage({ type: 'copyCurl', request: request() }));
  $('format-body').addEventListener('click', () => {
    if (!validateBody() || !body.value.trim()) return;
    body.value = JSON.stringify(JSON.parse(body.value), null, 2);
    saveState();
  });
  $('use-text-body').addEventListener('click', () => {
    setBodyFile(undefined);
    saveState();
  });
  $('clear-history').addEventListener('click', () => vscode.postMessage({ type: 'clearHistory' }));
  historySelect.addEventListener('change', () => {
    const h = history[Number(historySelect.value)];
    if (historySelect.value !== '' && h) {
      fill({ method: h.method, path: h.path, headersText: h.headersText, body: h.body, bodyFile: h.bodyFile }, h.bodyFile ? 'Body: ' + h.bodyFile : undefined);
    }
    historySelect.value = '';
  });
  for (const el of [method, pathInput, headers, body]) el.addEventListener('input', saveState);
  body.addEventListener('input', validateBody);
  body.addEventListener('keydown', (/** @type {KeyboardEvent} */ e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form.requestSubmit();
    }
  });

  window.addEventListener('message', (/** @type {MessageEvent} */ ev) => {
    const m = ev.data;
    if (!m || typeof m.type !== 'string') return;
    switch (m.type) {
      case 'init':
        fill(m.request, m.bodyFileNote);
        $('source').textContent = m.source || '';
        $('target').textContent = m.target || 'server not running (Send starts it)';
        setHistory(m.history);
        break;
      case 'target':
        $('target').textContent = m.target || (m.state === 'starting' ? 'starting…' : 'server not running (Send starts it)');
        break;
      case 'sending':
        send.disabled = true;
        send.textContent = 'Sending…';
        showError('');
        break;
      case 'response':
        send.disabled = false;
        send.textContent = 'Send';
        showResponse(m.view);
        break;
      case 'error':
        send.disabled = false;
        send.textContent = 'Send';
        showError(m.message);
        break;
      case 'history':
        setHistory(m.history);
        break;
    }
  });

  const state = vscode.getState();
  if (state && state.request) fill(state.request, state.bodyFileNote);
  vscode.postMessage({ type: 'ready' });
})();
