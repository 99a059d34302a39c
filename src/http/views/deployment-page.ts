import type { DeploymentView } from '../../services/deployments/model.js';
import { html, SafeHtml } from './html.js';
import { layout } from './layout.js';

/**
 * The deployment's status page, as the reference success page (Services with web UI links) plus
 * the steps and their durations. While the deployment is not final, a small script reads the
 * deployment from the API every second and redraws the parts that change, without reloading.
 */
export function deploymentPage(d: DeploymentView, basePath: string): string {
  const body = html`
<h1>${d.solutionName ?? d.solutionId}</h1>
<p>Revision <code>${d.revisionId}</code> into namespace <code>${d.namespace}</code> of <code>${d.clusterServer ?? ''}</code></p>
<p>Status: <span id="status" class="status status-${d.status}" data-status="${d.status}">${d.status}</span></p>
<progress id="progress" max="1" value="0"></progress>
<div id="error"></div>
<h2>Steps</h2>
<table><thead><tr><th>Step</th><th>Status</th><th>Duration</th><th>Detail</th></tr></thead><tbody id="steps"></tbody></table>
<h2>Services</h2>
<table><thead><tr><th>Node</th><th>Kubernetes name</th><th>Image</th><th>Web UI</th></tr></thead><tbody id="services"></tbody></table>
<script id="initial" type="application/json">${new SafeHtml(jsonForScript(d))}</script>
<script>${new SafeHtml(PAGE_SCRIPT.replace('__API__', JSON.stringify(`${basePath}/api/v1/deployments/${d.id}`)))}</script>`;
  return layout(`Deployment ${d.namespace}`, body, basePath);
}

/** JSON inside <script> must not be able to close the element. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

const PAGE_SCRIPT = `
(function () {
  var api = __API__;
  var FINAL = ['succeeded', 'failed', 'cancelled'];
  function el(tag, text, cls) { var e = document.createElement(tag); if (text != null) e.textContent = text; if (cls) e.className = cls; return e; }
  function draw(d) {
    var status = document.getElementById('status');
    status.textContent = d.status; status.className = 'status status-' + d.status; status.setAttribute('data-status', d.status);
    var done = d.steps.filter(function (s) { return s.status === 'succeeded' || s.status === 'skipped'; }).length;
    var bar = document.getElementById('progress'); bar.max = Math.max(d.steps.length, 1); bar.value = d.status === 'succeeded' ? bar.max : done;
    var steps = document.getElementById('steps'); steps.textContent = '';
    d.steps.forEach(function (s) {
      var tr = el('tr'); tr.appendChild(el('td', s.name)); tr.appendChild(el('td', s.status, 'step-' + s.status));
      tr.appendChild(el('td', s.durationMs == null ? '' : (s.durationMs / 1000).toFixed(1) + ' s')); tr.appendChild(el('td', s.detail || ''));
      steps.appendChild(tr);
    });
    var services = document.getElementById('services'); services.textContent = '';
    d.services.forEach(function (s) {
      var tr = el('tr'); tr.appendChild(el('td', s.name)); tr.appendChild(el('td', s.kubeName)); tr.appendChild(el('td', s.image));
      var td = el('td'); if (s.webUiUrl) { var a = el('a', s.webUiUrl); a.href = s.webUiUrl; a.target = '_blank'; a.rel = 'noopener'; td.appendChild(a); }
      tr.appendChild(td); services.appendChild(tr);
    });
    var error = document.getElementById('error'); error.textContent = '';
    if (d.error) { error.appendChild(el('p', d.error.message, 'error')); }
    return FINAL.indexOf(d.status) >= 0;
  }
  function poll() {
    fetch(api, { headers: { accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) { if (!d || !draw(d)) setTimeout(poll, 1000); })
      .catch(function () { setTimeout(poll, 2000); });
  }
  if (!draw(JSON.parse(document.getElementById('initial').textContent))) setTimeout(poll, 1000);
})();
`;
