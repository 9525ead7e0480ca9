// The web view of the orchestrator: plain ES module, no framework, no inline code (the page is
// served with a Content-Security-Policy that forbids it). Every API call carries the key the
// user typed, from sessionStorage; nothing is put in a URL, a cookie or the console.

const KEY_ITEM = 'orch.apiKey';
const LIST_REFRESH_MS = 3000;
const FEED_RETRY_MS = 2000;
const RELOAD_MIN_INTERVAL_MS = 1000;
const MAX_FEED_ITEMS = 200;

const $ = (id) => document.getElementById(id);

/** An API answer that was not 2xx, carrying the problem+json detail when there is one. */
class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

function apiKey() {
  return sessionStorage.getItem(KEY_ITEM) || '';
}

async function problemOf(res) {
  let detail = '';
  try {
    const body = await res.json();
    detail = body.detail || body.title || '';
  } catch {
    // Not JSON (a proxy's page, say): the status line says enough.
  }
  return new ApiError(res.status, `${res.status} ${detail || res.statusText}`.trim());
}

async function api(path, signal) {
  const res = await fetch(path, {headers: {'X-API-Key': apiKey(), Accept: 'application/json'},
                                 signal, cache: 'no-store'});
  if (!res.ok) throw await problemOf(res);
  return res.json();
}

function showError(err) {
  if (err && err.name === 'AbortError') return;
  const box = $('error');
  box.textContent = err instanceof ApiError ? `API error: ${err.message}`
                                            : `Cannot reach the API: ${err.message || err}`;
  box.hidden = false;
  if (err instanceof ApiError && err.status === 401) askForKey();
}

function clearError() {
  $('error').hidden = true;
  $('error').textContent = '';
}

function askForKey() {
  sessionStorage.removeItem(KEY_ITEM);
  stopView();
  $('key-form').hidden = false;
  $('list-view').hidden = true;
  $('deployment-view').hidden = true;
  $('forget-key').hidden = true;
  $('key-state').textContent = 'no key';
  $('key-input').focus();
}

function fmtTime(text) {
  if (!text) return '—';
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? text : d.toLocaleString();
}

function setText(id, text) {
  $(id).textContent = text === undefined || text === null || text === '' ? '—' : String(text);
}

function statusBadge(el, status) {
  el.textContent = status;
  el.className = `status status-${String(status).toLowerCase()}`;
}

function cell(row, text) {
  const td = row.insertCell();
  td.textContent = text;
  return td;
}

// The view being shown owns an AbortController; leaving it cancels its timers and streams.
let view = null;

function stopView() {
  if (view) view.abort();
  view = null;
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, {once: true});
  });
}

// ---- the deployments list ---------------------------------------------------------------

async function showList(signal) {
  $('list-view').hidden = false;
  while (!signal.aborted) {
    try {
      await refreshList(signal);
      clearError();
    } catch (err) {
      showError(err);
      if (err instanceof ApiError && err.status === 401) return;
    }
    await sleep(LIST_REFRESH_MS, signal);
  }
}

async function refreshList(signal) {
  const status = $('status-filter').value;
  const query = new URLSearchParams({limit: '100'});
  if (status) query.set('status', status);
  if (status === 'DELETED') query.set('include_deleted', 'true');
  const page = await api(`/deployments?${query}`, signal);
  const body = $('deployments');
  const rows = page.items.map((d) => {
    const row = document.createElement('tr');
    row.dataset.id = d.id;
    const link = document.createElement('a');
    link.href = `#/deployments/${encodeURIComponent(d.id)}`;
    link.textContent = d.name;
    row.insertCell().append(link);
    statusBadge(row.insertCell().appendChild(document.createElement('span')), d.status);
    cell(row, d.cloud_region || '—');
    cell(row, fmtTime(d.created_at));
    return row;
  });
  body.replaceChildren(...rows);
  $('list-empty').hidden = rows.length > 0;
  $('list-total').textContent = page.total > rows.length ? `${rows.length} of ${page.total}` : '';
}

// ---- one deployment ---------------------------------------------------------------------

function renderDeployment(d) {
  setText('dep-name', d.name);
  statusBadge($('dep-status'), d.status);
  setText('dep-id', d.id);
  setText('dep-region', d.cloud_region);
  setText('dep-template', d.template && d.template.name);
  setText('dep-created', fmtTime(d.created_at));
  setText('dep-updated', fmtTime(d.updated_at));
  const op = d.operation || {};
  setText('op-type', op.type);
  setText('op-status', op.status);
  setText('op-started', op.started_at && fmtTime(op.started_at));
  setText('op-finished', op.finished_at && fmtTime(op.finished_at));
  setText('op-error', op.error && `${op.error.code}: ${op.error.message}`);
  const res = d.resources || {};
  setText('res-network', res.network_id);
  setText('res-router', res.router_id);
  setText('res-volumes', (res.volume_ids || []).join(', '));
  $('vms').replaceChildren(...(res.vms || []).map((vm) => {
    const row = document.createElement('tr');
    cell(row, vm.name);
    cell(row, vm.group);
    cell(row, vm.status);
    cell(row, vm.flavor);
    cell(row, (vm.addresses || []).join(', '));
    return row;
  }));
}

function summary(data) {
  if (!data || typeof data !== 'object') return '';
  const text = JSON.stringify(data);
  return text.length > 240 ? `${text.slice(0, 240)}…` : text;
}

function addEvent(ev) {
  const item = document.createElement('li');
  item.dataset.seq = ev.seq;
  const head = document.createElement('span');
  head.className = 'event-head';
  head.textContent = `#${ev.seq} ${fmtTime(ev.at)} ${ev.type}`;
  const data = document.createElement('span');
  data.className = 'event-data mono';
  data.textContent = summary(ev.data);
  item.append(head, data);
  const list = $('events');
  list.prepend(item);
  while (list.children.length > MAX_FEED_ITEMS) list.lastElementChild.remove();
}

/**
 * Reads the deployment's Server-Sent Events. EventSource cannot send a header, so the stream is
 * read with fetch, which carries the key in X-API-Key like every other call; a dropped stream
 * resumes with Last-Event-ID. Returns when the server ends the stream for good (DELETED).
 */
async function followEvents(id, signal, onEvent) {
  let lastId = null;
  let deleted = false;
  while (!signal.aborted && !deleted) {
    const headers = {'X-API-Key': apiKey(), Accept: 'text/event-stream'};
    if (lastId !== null) headers['Last-Event-ID'] = lastId;
    try {
      const res = await fetch(`/deployments/${encodeURIComponent(id)}/events`,
                              {headers, signal, cache: 'no-store'});
      if (!res.ok) throw await problemOf(res);
      $('feed-state').textContent = '(live)';
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const {value, done} = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, '\n');
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const message = {id: null, data: []};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'id') message.id = text;
            else if (field === 'data') message.data.push(text);
          }
          if (message.data.length === 0) continue;
          if (message.id !== null) lastId = message.id;
          const ev = JSON.parse(message.data.join('\n'));
          onEvent(ev);
          if (ev.type === 'status_changed' && ev.data && ev.data.to === 'DELETED') deleted = true;
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      showError(err);
      if (err instanceof ApiError && err.status < 500 && err.status !== 429) return;
    }
    if (!deleted && !signal.aborted) {
      $('feed-state').textContent = '(reconnecting)';
      await sleep(FEED_RETRY_MS, signal);
    }
  }
  $('feed-state').textContent = deleted ? '(ended: deleted)' : '';
}

async function showDeployment(id, signal) {
  $('deployment-view').hidden = false;
  $('events').replaceChildren();
  $('feed-state').textContent = '';
  for (const el of ['dep-name', 'dep-id', 'dep-region', 'dep-template']) setText(el, '');
  $('dep-status').textContent = '';
  // One reload of the deployment at a time and at most one a second, however fast events come
  // (the key's rate limit is shared with the list and other clients); events that arrive
  // meanwhile ask for one more.
  let loading = false;
  let again = false;
  let lastStart = 0;
  const reload = async () => {
    if (loading) { again = true; return; }
    loading = true;
    do {
      await sleep(Math.max(0, lastStart + RELOAD_MIN_INTERVAL_MS - Date.now()), signal);
      if (signal.aborted) break;
      // Whatever arrived until now is covered by this reload.
      again = false;
      lastStart = Date.now();
      try {
        renderDeployment(await api(`/deployments/${encodeURIComponent(id)}`, signal));
        clearError();
      } catch (err) {
        showError(err);
      }
    } while (again && !signal.aborted);
    loading = false;
  };
  await reload();
  await followEvents(id, signal, (ev) => {
    addEvent(ev);
    reload();
  });
}

// ---- navigation -------------------------------------------------------------------------

function route() {
  stopView();
  if (!apiKey()) return askForKey();
  $('key-form').hidden = true;
  $('forget-key').hidden = false;
  $('key-state').textContent = 'key set for this tab';
  $('list-view').hidden = true;
  $('deployment-view').hidden = true;
  view = new AbortController();
  const match = /^#\/deployments\/([^/]+)$/.exec(location.hash);
  const work = match ? showDeployment(decodeURIComponent(match[1]), view.signal)
                     : showList(view.signal);
  work.catch(showError);
}

function start() {
  $('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const key = $('key-input').value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY_ITEM, key);
    $('key-input').value = '';
    clearError();
    route();
  });
  $('forget-key').addEventListener('click', () => {
    clearError();
    askForKey();
  });
  $('status-filter').addEventListener('change', route);
  window.addEventListener('hashchange', route);
  route();
}

start();
