import type { PreflightResult } from '../../services/deployments/preflight.js';
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
