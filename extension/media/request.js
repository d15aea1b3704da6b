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
  const samplesSelect = $('samples');
  const progress = $('progress');
  const progressText = $('progress-text');
  const placeholder = $('placeholder');
  const failure = $('failure');
  /** @type {any} */
  let progressTimer;

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
    updateHeadersSummary();
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

  function updateHeadersSummary() {
    const n = headers.value.split(/\r?\n/).filter((/** @type {string} */ l) => /^[^#:][^:]*:/.test(l.trim())).length;
    $('headers-summary').textContent = 'Headers (' + n + ')';
  }

  /** @param {{label: string, file: string}[]} items @param {string} [selected] */
  function setSamples(items, selected) {
    samplesSelect.replaceChildren();
    for (const it of items || []) {
      const o = document.createElement('option');
      o.value = it.file;
      o.textContent = it.label;
      o.title = it.file;
      samplesSelect.appendChild(o);
    }
    if (!items || !items.length) {
      const o = document.createElement('option');
      o.value = '';
      o.textContent = '(no samples: Save as Sample… makes one)';
      samplesSelect.appendChild(o);
    }
    samplesSelect.disabled = !items || !items.length;
    samplesSelect.value = selected || '';
  }

  /** @param {any} m */
  function applyPrefill(m) {
    fill(m.request, m.bodyFileNote);
    $('source').textContent = m.source || '';
    setSamples(m.samples, m.selected);
  }

  /** A send clears the previous answer and shows how long it has been waiting, with Cancel. */
  function startProgress(/** @type {string} */ label) {
    clearResponse();
    placeholder.hidden = true;
    const t0 = Date.now();
    const tick = () => (progressText.textContent = 'Sending ' + label + '… ' + ((Date.now() - t0) / 1000).toFixed(1) + ' s');
    tick();
    window.clearInterval(progressTimer);
    progressTimer = window.setInterval(tick, 100);
    progress.hidden = false;
    send.disabled = true;
    send.textContent = 'Sending…';
  }

  function stopProgress() {
    window.clearInterval(progressTimer);
    progress.hidden = true;
    send.disabled = false;
    send.textContent = 'Send';
  }

  function clearResponse() {
    showError('');
    response.hidden = true;
    failure.hidden = true;
    $('response-body').replaceChildren();
    $('response-headers').querySelector('tbody').replaceChildren();
    $('response-image').removeAttribute('src');
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
    placeholder.hidden = true;
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
      pre.replaceChildren();
      const tree = v.kind === 'json' && !v.truncated ? jsonTree(v.text || '') : undefined;
      if (tree) pre.appendChild(tree);
      else pre.textContent = v.kind === 'empty' ? '(empty body)' : v.text || '';
    }
  }

  const MAX_JSON_NODES = 20000;

  /** Pretty JSON as highlighted, foldable nodes; its text is exactly the pretty-printed JSON. */
  function jsonTree(/** @type {string} */ text) {
    let value;
    try {
      value = JSON.parse(text);
    } catch {
      return undefined;
    }
    const budget = { nodes: 0 };
    const frag = document.createDocumentFragment();
    appendValue(frag, value, 0, budget);
    return budget.nodes > MAX_JSON_NODES ? undefined : frag;
  }

  /** @param {string} cls @param {string} text */
  function token(cls, text) {
    const span = document.createElement('span');
    span.className = cls;
    span.textContent = text;
    return span;
  }

  /**
   * Appends `v`; `label` (a member's `"key": `) goes inside a fold, after its toggle, so the
   * toggle sits at the start of the line as in the editor's gutter.
   * @param {Node} parent @param {any} v @param {number} depth @param {{nodes: number}} budget @param {Node[]} [label]
   */
  function appendValue(parent, v, depth, budget, label = []) {
    budget.nodes++;
    const isArray = Array.isArray(v);
    const entries = v !== null && typeof v === 'object' ? (isArray ? v.map((/** @type {any} */ x, /** @type {number} */ i) => [i, x]) : Object.entries(v)) : [];
    if (!entries.length) {
      parent.append(...label, scalar(v, isArray));
      return;
    }
    const fold = document.createElement('span');
    fold.className = 'fold';
    const toggle = document.createElement('span');
    toggle.className = 'toggle';
    toggle.setAttribute('role', 'button');
    toggle.setAttribute('aria-label', 'Fold');
    toggle.tabIndex = 0;
    const inner = document.createElement('span');
    inner.className = 'inner';
    const pad = '  '.repeat(depth + 1);
    entries.forEach(([k, x], i) => {
      inner.appendChild(document.createTextNode('\n' + pad));
      appendValue(inner, x, depth + 1, budget, isArray ? [] : [token('k', JSON.stringify(k)), document.createTextNode(': ')]);
      if (i < entries.length - 1) inner.appendChild(document.createTextNode(','));
    });
    inner.appendChild(document.createTextNode('\n' + '  '.repeat(depth)));
    const n = entries.length;
    const summary = token('summary', ' … ' + n + (isArray ? (n === 1 ? ' item ' : ' items ') : n === 1 ? ' key ' : ' keys '));
    fold.append(toggle, ...label, document.createTextNode(isArray ? '[' : '{'), inner, summary, document.createTextNode(isArray ? ']' : '}'));
    parent.appendChild(fold);
  }

  /** A JSON scalar (or an empty object/array) as a highlighted token. @param {any} v @param {boolean} isArray */
  function scalar(v, isArray) {
    if (v === null) return token('z', 'null');
    if (typeof v === 'string') return token('s', JSON.stringify(v));
    if (typeof v === 'number') return token('n', JSON.stringify(v));
    if (typeof v === 'boolean') return token('b', String(v));
    return document.createTextNode(isArray ? '[]' : '{}');
  }

  /** Folds or unfolds the value whose toggle was clicked (or activated with Enter/Space). */
  function onToggle(/** @type {Event} */ e) {
    const t = /** @type {HTMLElement} */ (e.target);
    if (!t.classList || !t.classList.contains('toggle')) return;
    const key = 'key' in e ? /** @type {any} */ (e).key : undefined;
    if (key !== undefined && key !== 'Enter' && key !== ' ') return;
    e.preventDefault();
    const folded = t.parentElement.classList.toggle('folded');
    t.setAttribute('aria-label', folded ? 'Unfold' : 'Fold');
  }

  /** @param {number} n */
  function formatBytes(n) {
    if (n < 1024) return n + ' B';
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KB';
    return (n / 1024 / 1024).toFixed(1) + ' MB';
  }

  /** A run() failure: its message and a link to its line (the Problem the daemon published). */
  function showFailure(/** @type {{message: string, file: string, line: number}} */ f) {
    $('failure-text').textContent = f.message + ' ';
    const name = f.file.split(/[\\/]/).pop();
    $('failure-link').textContent = 'Go to ' + name + ':' + f.line;
    failure.dataset.file = f.file;
    failure.dataset.line = String(f.line);
    failure.hidden = false;
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
  $('cancel').addEventListener('click', () => vscode.postMessage({ type: 'cancel' }));
  $('save-response').addEventListener('click', () => vscode.postMessage({ type: 'saveResponse' }));
  $('open-response').addEventListener('click', () => vscode.postMessage({ type: 'openResponse' }));
  $('save-sample').addEventListener('click', () => vscode.postMessage({ type: 'saveSample', request: request() }));
  samplesSelect.addEventListener('change', () => samplesSelect.value && vscode.postMessage({ type: 'pickSample', file: samplesSelect.value }));
  $('response-body').addEventListener('click', onToggle);
  $('response-body').addEventListener('keydown', onToggle);
  $('failure-link').addEventListener('click', () => {
    const f = failure.dataset;
    if (f.file) vscode.postMessage({ type: 'openLocation', file: f.file, line: Number(f.line) });
  });
  headers.addEventListener('input', updateHeadersSummary);
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
        applyPrefill(m);
        $('target').textContent = m.target || 'server not running (Send starts it)';
        setHistory(m.history);
        break;
      case 'sample':
        applyPrefill(m);
        break;
      case 'samples':
        setSamples(m.samples, m.selected);
        break;
      case 'target':
        $('target').textContent = m.target || (m.state === 'starting' ? 'starting…' : 'server not running (Send starts it)');
        break;
      case 'sending':
        startProgress(m.label || '');
        break;
      case 'response':
        stopProgress();
        showResponse(m.view);
        break;
      case 'failure':
        showFailure(m.failure);
        break;
      case 'cancelled':
        stopProgress();
        placeholder.textContent = 'Cancelled: the request was aborted.';
        placeholder.hidden = false;
        break;
      case 'error':
        stopProgress();
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
