import type { Deployment, DeploymentView, DeployedService } from '../../services/deployments/model.js';
import type { JobError, JobStep } from '../../jobs/model.js';
import { html, SafeHtml } from './html.js';
import { layout } from './layout.js';
import { liveTables, preflightTables } from './preflight.js';

/**
 * The deployment's status page: status, a progress bar, the steps with durations, the services
 * with their web UI links, the error with per-node reasons, and a live event log.
 *
 * The server renders the current state, so the page is complete without JavaScript. A small
 * script then follows the deployment's Server-Sent Events and, on each one, reads the deployment
 * again (JSON) and redraws the same elements; it also offers Cancel and Undeploy. The script is
 * served from /assets (the Content-Security-Policy allows no inline script). The markup
 * below and `draw…` in DEPLOYMENT_PAGE_SCRIPT build the same structure: change them together.
 */
export function deploymentPage(d: DeploymentView, basePath: string, history: readonly Deployment[] = []): string {
  const api = `${basePath}/api/v1/deployments/${d.id}`;
  const progress = progressOf(d);
  const body = html`
<h1>${d.solutionName ?? d.solutionId}</h1>
<p>Revision <code>${d.revisionId}</code> into namespace <code>${d.namespace}</code> of <code>${d.clusterServer ?? ''}</code></p>
<p aria-live="polite">Status: <span id="status" class="status status-${d.status}" data-status="${d.status}">${d.status}</span>
  <span id="live" class="hint"></span></p>
<noscript><p class="hint">Reload the page to see how the deployment goes on.</p></noscript>
<div class="progress-row"><progress id="progress" max="${progress.max}" value="${progress.done}"></progress>
  <span id="progress-text" class="hint">${progressText(progress)}</span></div>
<div class="actions">
  <button id="cancel" type="button" class="secondary" hidden>Cancel</button>
  <button id="undeploy" type="button" class="danger" hidden>Undeploy</button>
  <span id="action-error" class="action-error" role="alert"></span>
</div>
<div id="error">${errorBlock(d.error)}</div>
<h2>Steps</h2>
<table><thead><tr><th>Step</th><th>Status</th><th>Duration</th><th>Detail</th></tr></thead><tbody id="steps">${d.steps.map(stepRow)}</tbody></table>
<h2>Services</h2>
<table><thead><tr><th>Node</th><th>Kubernetes name</th><th>Image</th><th>Web UI</th></tr></thead><tbody id="services">${servicesRows(d)}</tbody></table>
<h2>Live</h2>
<div id="live-state">${liveTables(d.health, d.sync)}</div>
<h2>Preflight</h2>
<div id="preflight">${preflightTables(d.preflight)}</div>
${historySection(d, history, basePath)}
<h2>Events</h2>
<ol id="events" class="events"></ol>
<script id="initial" type="application/json">${new SafeHtml(jsonForScript(d))}</script>
<script id="page-config" type="application/json">${new SafeHtml(jsonForScript({ api, events: `${api}/events` }))}</script>
`;
  return layout(`Deployment ${d.namespace}`, body, basePath, { scripts: ['deployment-page.js'] });
}

/**
 * The namespace's earlier deployments, and a rollback form (a plain POST, no script needed) for
 * every revision that once succeeded there and is not the namespace's latest.
 */
function historySection(d: DeploymentView, history: readonly Deployment[], basePath: string): SafeHtml | string {
  if (history.length <= 1) return '';
  const latest = history[0]?.revisionId;
  const offered = new Set<string>();
  const rows = history.map((h) => {
    const canRollBack = h.status === 'succeeded' && h.revisionId !== latest && !offered.has(h.revisionId);
    if (canRollBack) offered.add(h.revisionId);
    const form = canRollBack
      ? html`<form class="inline" method="post" action="${basePath}/deployments/${d.id}/rollback"><input type="hidden" name="revisionId" value="${h.revisionId}"><button type="submit" class="small secondary">Roll back to ${h.revisionId}</button></form>`
      : '';
    const self = h.id === d.id ? html` <span class="hint">(this page)</span>` : '';
    return html`<tr data-history="${h.id}"><td><a href="${basePath}/deployments/${h.id}">${h.solutionName ?? h.solutionId}</a>${self}</td><td><code>${h.revisionId}</code></td>
<td class="status-${h.status}">${h.status}</td><td>${new Date(h.createdAt).toISOString().replace('T', ' ').slice(0, 19)} UTC</td><td>${form}</td></tr>`;
  });
  return html`<h2>History of this namespace</h2>
<table><thead><tr><th>Solution</th><th>Revision</th><th>Status</th><th>Created</th><th></th></tr></thead><tbody id="history">${rows}</tbody></table>`;
}

/** JSON inside <script> must not be able to close the element. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

interface Progress {
  done: number;
  max: number;
}

function progressOf(d: DeploymentView): Progress {
  const max = Math.max(d.steps.length, 1);
  if (d.status === 'succeeded' || d.status === 'deleted') return { done: max, max };
  return { done: d.steps.filter((s) => s.status === 'succeeded' || s.status === 'skipped').length, max };
}

function progressText(p: Progress): string {
  return `${p.done} of ${p.max} steps`;
}

function formatDuration(ms: number | null): string {
  if (ms === null) return '';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function stepRow(s: JobStep): SafeHtml {
  return html`<tr data-step="${s.name}"><td>${s.name}</td><td class="step-${s.status}" data-status="${s.status}">${s.status}</td><td>${formatDuration(s.durationMs)}</td><td>${s.detail ?? ''}</td></tr>`;
}

/** Links only while the services exist: after an undeploy they would point at nothing. */
function servicesRows(d: DeploymentView): SafeHtml | SafeHtml[] {
  if (d.services.length === 0) return html`<tr><td colspan="4" class="hint">No services yet</td></tr>`;
  const linked = d.status !== 'deleting' && d.status !== 'deleted';
  return d.services.map((s: DeployedService) => {
    const link = linked && s.webUiUrl ? html`<a href="${s.webUiUrl}" target="_blank" rel="noopener">${s.webUiUrl}</a>` : '';
    return html`<tr data-service="${s.name}"><td>${s.name}</td><td>${s.kubeName}</td><td>${s.image}</td><td>${link}</td></tr>`;
  });
}

interface NodeReason {
  kind: string;
  name: string;
  status: string;
  reason: string;
}

/** `details.nodes` of a readiness failure (DeployNotReadyError): the objects that are not ready and why. */
function nodeReasons(error: JobError | null): NodeReason[] {
  const details = error?.details;
  const nodes = typeof details === 'object' && details !== null ? (details as { nodes?: unknown }).nodes : undefined;
  if (!Array.isArray(nodes)) return [];
  return nodes.flatMap((node: unknown) => {
    if (typeof node !== 'object' || node === null) return [];
    const n = node as Record<string, unknown>;
    const text = (key: string) => (typeof n[key] === 'string' ? n[key] : '');
    return [{ kind: text('kind'), name: text('name'), status: text('status'), reason: text('reason') }];
  });
}

function errorBlock(error: JobError | null): SafeHtml | string {
  if (error === null) return '';
  const nodes = nodeReasons(error);
  const list = nodes.length === 0 ? '' : html`<ul class="reasons">${nodes.map((n) => html`<li><code>${n.kind}/${n.name}</code> ${n.status}: ${n.reason || n.status}</li>`)}</ul>`;
  return html`<div class="error"><p><code>${error.code}</code> ${error.message}</p>${list}</div>`;
}


/**
 * Follows `events` with an EventSource (it resumes with Last-Event-ID by itself after a network
 * error). Events come in bursts (the stored ones first), so reads of the deployment are
 * coalesced: at most one in flight and one more after it. The stream is closed once the
 * deployment is final and its current job's `job.finished` event has arrived — nothing more
 * will come — and opened again, from the last event seen, when Cancel or Undeploy starts a job.
 * Events arrive unnamed (`message`), each carrying its own type.
 */
export const DEPLOYMENT_PAGE_SCRIPT = `
(function () {
  'use strict';
  var FINAL = ['succeeded', 'failed', 'cancelled', 'deleted'];
  var UNDEPLOYABLE = ['succeeded', 'failed', 'cancelled'];
  var CANCELLABLE = ['queued', 'running'];
  var LOG_SIZE = 50;
  var byId = function (id) { return document.getElementById(id); };
  var config = JSON.parse(byId('page-config').textContent);
  var current = JSON.parse(byId('initial').textContent);
  var source = null, lastEventId = '', finishedJobs = {}, loading = false, again = false, busy = false;
  // Bumped when Cancel or Undeploy answers: a read started before then must not draw over it.
  var generation = 0;

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text != null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function duration(ms) {
    if (ms == null) return '';
    if (ms < 60000) return (ms / 1000).toFixed(1) + ' s';
    return Math.floor(ms / 60000) + ' min ' + Math.round((ms % 60000) / 1000) + ' s';
  }
  function drawStatus(d) {
    var s = byId('status');
    s.textContent = d.status; s.className = 'status status-' + d.status; s.setAttribute('data-status', d.status);
  }
  function drawProgress(d) {
    var max = Math.max(d.steps.length, 1);
    var done = d.steps.filter(function (s) { return s.status === 'succeeded' || s.status === 'skipped'; }).length;
    if (d.status === 'succeeded' || d.status === 'deleted') done = max;
    var bar = byId('progress'); bar.max = max; bar.value = done;
    byId('progress-text').textContent = done + ' of ' + max + ' steps';
  }
  function drawSteps(d) {
    var body = byId('steps'); body.textContent = '';
    d.steps.forEach(function (s) {
      var tr = el('tr'); tr.setAttribute('data-step', s.name);
      var state = el('td', s.status, 'step-' + s.status); state.setAttribute('data-status', s.status);
      tr.appendChild(el('td', s.name)); tr.appendChild(state);
      tr.appendChild(el('td', duration(s.durationMs))); tr.appendChild(el('td', s.detail || ''));
      body.appendChild(tr);
    });
  }
  function drawServices(d) {
    var body = byId('services'); body.textContent = '';
    if (d.services.length === 0) {
      var empty = el('td', 'No services yet', 'hint'); empty.colSpan = 4;
      body.appendChild(el('tr')).appendChild(empty);
      return;
    }
    var linked = d.status !== 'deleting' && d.status !== 'deleted';
    d.services.forEach(function (s) {
      var tr = el('tr'); tr.setAttribute('data-service', s.name);
      tr.appendChild(el('td', s.name)); tr.appendChild(el('td', s.kubeName)); tr.appendChild(el('td', s.image));
      var td = el('td');
      if (linked && s.webUiUrl) { var a = el('a', s.webUiUrl); a.href = s.webUiUrl; a.target = '_blank'; a.rel = 'noopener'; td.appendChild(a); }
      tr.appendChild(td); body.appendChild(tr);
    });
  }
  function nodeReasons(error) {
    var nodes = error && error.details && error.details.nodes;
    return Array.isArray(nodes) ? nodes.filter(function (n) { return n && typeof n === 'object'; }) : [];
  }
  function drawError(d) {
    var box = byId('error'); box.textContent = '';
    if (!d.error) return;
    var div = el('div', null, 'error'), p = el('p');
    p.appendChild(el('code', d.error.code)); p.appendChild(document.createTextNode(' ' + d.error.message));
    div.appendChild(p);
    var nodes = nodeReasons(d.error);
    if (nodes.length > 0) {
      var ul = div.appendChild(el('ul', null, 'reasons'));
      nodes.forEach(function (n) {
        var li = el('li'); li.appendChild(el('code', n.kind + '/' + n.name));
        li.appendChild(document.createTextNode(' ' + n.status + ': ' + (n.reason || n.status)));
        ul.appendChild(li);
      });
    }
    box.appendChild(div);
  }
  function drawPreflight(d) {
    var checks = byId('preflight-checks'), plan = byId('preflight-plan');
    if (!d.preflight || !checks || !plan) return;
    checks.textContent = '';
    d.preflight.checks.forEach(function (c) {
      var tr = el('tr'); tr.setAttribute('data-check', c.name);
      var state = el('td', c.status, 'check-' + c.status); state.setAttribute('data-status', c.status);
      tr.appendChild(el('td', c.name)); tr.appendChild(state); tr.appendChild(el('td', c.detail));
      checks.appendChild(tr);
    });
    if (!d.preflight.plan) return;
    plan.textContent = '';
    ['create', 'update', 'prune', 'unchanged'].forEach(function (action) {
      d.preflight.plan[action].forEach(function (e) {
        var tr = el('tr'); tr.setAttribute('data-plan', action);
        tr.appendChild(el('td', action)); tr.appendChild(el('td', e.kind + '/' + e.name)); tr.appendChild(el('td', (e.fields || []).join(', ')));
        plan.appendChild(tr);
      });
    });
  }
  function drawLive(d) {
    var health = byId('health'), sync = byId('sync'), objects = byId('live-objects'), differences = byId('live-differences');
    if (!health || !sync || !objects || !differences || !d.health || !d.sync) return;
    health.textContent = d.health.status; health.className = 'status health-' + d.health.status; health.setAttribute('data-health', d.health.status);
    sync.textContent = d.sync.status; sync.className = 'status sync-' + d.sync.status; sync.setAttribute('data-sync', d.sync.status);
    byId('live-checked').textContent = 'checked ' + d.health.checkedAt;
    objects.textContent = '';
    d.health.objects.forEach(function (o) {
      var tr = el('tr'); tr.setAttribute('data-object', o.kind + '/' + o.name);
      var state = el('td', o.status, 'health-' + o.status); state.setAttribute('data-status', o.status);
      tr.appendChild(el('td', o.kind + '/' + o.name)); tr.appendChild(state); tr.appendChild(el('td', o.reason || ''));
      objects.appendChild(tr);
    });
    differences.textContent = '';
    if (d.sync.differences.length === 0) {
      var none = el('td', 'The cluster holds what Slipway applied', 'hint'); none.colSpan = 3;
      differences.appendChild(el('tr')).appendChild(none);
    }
    d.sync.differences.forEach(function (x) {
      var tr = el('tr'); tr.setAttribute('data-difference', x.kind + '/' + x.name);
      tr.appendChild(el('td', x.kind + '/' + x.name)); tr.appendChild(el('td', x.change)); tr.appendChild(el('td', x.fields.join(', ')));
      differences.appendChild(tr);
    });
  }
  function drawActions(d) {
    byId('cancel').hidden = CANCELLABLE.indexOf(d.status) < 0;
    byId('undeploy').hidden = UNDEPLOYABLE.indexOf(d.status) < 0;
    byId('cancel').disabled = busy; byId('undeploy').disabled = busy;
  }
  function draw(d) {
    current = d;
    drawStatus(d); drawProgress(d); drawSteps(d); drawServices(d); drawError(d); drawPreflight(d); drawLive(d); drawActions(d);
    // A succeeded deployment is live: its health and sync keep coming as events.
    if (FINAL.indexOf(d.status) >= 0 && d.status !== 'succeeded' && d.jobId && finishedJobs[d.jobId]) stopListening('');
  }

  function setLive(text) { byId('live').textContent = text; }
  function readJson(response) {
    return response.json().catch(function () { return {}; }).then(function (body) {
      if (response.ok) return body;
      throw new Error(body.detail || body.title || ('HTTP ' + response.status));
    });
  }
  function refresh() {
    if (loading) { again = true; return; }
    loading = true;
    var started = generation;
    fetch(config.api, { headers: { accept: 'application/json' }, credentials: 'same-origin' })
      .then(readJson)
      .then(function (d) { if (started === generation) draw(d); })
      .catch(function (error) { setLive('(could not read the deployment: ' + error.message + ')'); })
      .then(function () { loading = false; if (again) { again = false; refresh(); } });
  }

  function isNewer(id) {
    return lastEventId === '' || id.length > lastEventId.length || (id.length === lastEventId.length && id > lastEventId);
  }
  function logEvent(event) {
    var log = byId('events');
    var li = el('li'); li.setAttribute('data-type', event.type);
    var time = new Date(event.at);
    li.appendChild(el('span', isNaN(time.getTime()) ? '' : time.toLocaleTimeString(), 'type'));
    li.appendChild(el('span', event.type, 'type'));
    li.appendChild(document.createTextNode(event.message));
    var atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.appendChild(li);
    while (log.children.length > LOG_SIZE) log.removeChild(log.firstChild);
    if (atBottom) log.scrollTop = log.scrollHeight;
  }
  function onEvent(message) {
    var event;
    try { event = JSON.parse(message.data); } catch (error) { return; }
    var id = String(message.lastEventId || event.id || '');
    if (id !== '' && !isNewer(id)) return;
    if (id !== '') lastEventId = id;
    logEvent(event);
    if (event.type === 'job.finished') finishedJobs[event.jobId] = true;
    refresh();
  }
  function listen() {
    if (source) return;
    source = new EventSource(config.events + (lastEventId ? '?lastEventId=' + encodeURIComponent(lastEventId) : ''));
    source.onmessage = onEvent;
    source.onopen = function () { setLive('(live)'); refresh(); };
    source.onerror = function () {
      if (source && source.readyState === EventSource.CLOSED) { source = null; setLive('(live updates stopped: reload the page)'); }
      else setLive('(reconnecting…)');
    };
  }
  function stopListening(text) {
    if (source) { source.close(); source = null; }
    setLive(text);
  }

  function act(method, url, question) {
    if (question && !window.confirm(question)) return;
    busy = true; drawActions(current); byId('action-error').textContent = '';
    fetch(url, { method: method, headers: { accept: 'application/json' }, credentials: 'same-origin' })
      .then(readJson)
      .then(function (d) { busy = false; generation += 1; draw(d); listen(); })
      .catch(function (error) { busy = false; drawActions(current); byId('action-error').textContent = error.message; });
  }
  byId('cancel').addEventListener('click', function () {
    act('POST', config.api + '/cancel', null);
  });
  byId('undeploy').addEventListener('click', function () {
    act('DELETE', config.api, 'Undeploy ' + current.namespace + '? This removes what Slipway applied from the cluster.');
  });

  draw(current);
  if (typeof EventSource === 'function') listen(); else setLive('(reload the page to see progress)');
})();
`;
