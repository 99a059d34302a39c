import type { PreflightResult } from '../../services/deployments/preflight.js';
import type { LiveHealth, LiveSync } from '../../domain/health/live.js';
import { html, type SafeHtml } from './html.js';

/**
 * The preflight's checks and plan as tables: on the status page (what was found before anything
 * was written, and so what the apply did) and on the Graphene form's "Check first" result.
 * `DEPLOYMENT_PAGE_SCRIPT`'s drawPreflight builds the same rows: change them together.
 */
export function preflightTables(preflight: PreflightResult | null): SafeHtml {
  const checks = preflight === null
    ? [html`<tr><td colspan="3" class="hint">Not checked yet</td></tr>`]
    : preflight.checks.map((c) => html`<tr data-check="${c.name}"><td>${c.name}</td><td class="check-${c.status}" data-status="${c.status}">${c.status}</td><td>${c.detail}</td></tr>`);
  const plan = preflight?.plan;
  const planRows = plan === undefined
    ? [html`<tr><td colspan="3" class="hint">${preflight === null ? 'Not checked yet' : 'No plan: the cluster could not be read far enough'}</td></tr>`]
    : (['create', 'update', 'prune', 'unchanged'] as const).flatMap((action) => plan[action].map((e) =>
      html`<tr data-plan="${action}"><td>${action}</td><td>${e.kind}/${e.name}</td><td>${(e.fields ?? []).join(', ')}</td></tr>`));
  return html`<table><thead><tr><th>Check</th><th>Result</th><th>Detail</th></tr></thead><tbody id="preflight-checks">${checks}</tbody></table>
<h3>Plan</h3>
<table><thead><tr><th>Action</th><th>Object</th><th>Changed fields</th></tr></thead><tbody id="preflight-plan">${planRows}</tbody></table>`;
}

/**
 * A live deployment's health and sync, as its watcher last saw them. `DEPLOYMENT_PAGE_SCRIPT`'s
 * drawLive fills the same elements.
 */
export function liveTables(health: LiveHealth | null, sync: LiveSync | null): SafeHtml {
  const rows = health === null
    ? [html`<tr><td colspan="3" class="hint">Watched once the deployment has succeeded</td></tr>`]
    : health.objects.map((o) => html`<tr data-object="${o.kind}/${o.name}"><td>${o.kind}/${o.name}</td><td class="health-${o.status}" data-status="${o.status}">${o.status}</td><td>${o.reason ?? ''}</td></tr>`);
  const differences = sync === null || sync.differences.length === 0
    ? [html`<tr><td colspan="3" class="hint">${sync === null ? 'Not checked yet' : 'The cluster holds what Slipway applied'}</td></tr>`]
    : sync.differences.map((d) => html`<tr data-difference="${d.kind}/${d.name}"><td>${d.kind}/${d.name}</td><td>${d.change}</td><td>${d.fields.join(', ')}</td></tr>`);
  return html`<p>Health: <span id="health" class="status health-${health?.status ?? 'unknown'}" data-health="${health?.status ?? 'unknown'}">${health?.status ?? 'not watched yet'}</span>
  · Sync: <span id="sync" class="status sync-${sync?.status ?? 'unknown'}" data-sync="${sync?.status ?? 'unknown'}">${sync?.status ?? 'not checked yet'}</span>
  <span id="live-checked" class="hint">${health ? `checked ${health.checkedAt}` : ''}</span></p>
<table><thead><tr><th>Object</th><th>Health</th><th>Reason</th></tr></thead><tbody id="live-objects">${rows}</tbody></table>
<table><thead><tr><th>Object</th><th>Difference</th><th>Fields</th></tr></thead><tbody id="live-differences">${differences}</tbody></table>`;
}
