import { DEPLOYMENT_STATUSES, type Deployment } from '../../services/deployments/model.js';
import { html } from './html.js';
import { layout } from './layout.js';
import { formatAge, queryString } from './format.js';

export interface DeploymentsPageModel {
  items: readonly Deployment[];
  nextCursor: string | null;
  filter: { status?: string; solutionId?: string; limit?: number };
  /** Whether this page continues an earlier one (then it links back to the first). */
  continued: boolean;
  solutions: ReadonlyArray<{ solutionId: string; name: string | null }>;
  /** Registered clusters by API server URL, to show a name instead of an address. */
  clusterNames: ReadonlyMap<string, string>;
  everyone: boolean;
  now: number;
}

/** The caller's deployments (an admin's: everyone's), newest first, filtered and paged with plain links. */
export function deploymentsPage(model: DeploymentsPageModel, basePath: string): string {
  const { filter } = model;
  const statusOptions = DEPLOYMENT_STATUSES.map((s) => html`<option value="${s}"${filter.status === s ? html` selected` : ''}>${s}</option>`);
  const solutionOptions = model.solutions.map(
    (s) => html`<option value="${s.solutionId}"${filter.solutionId === s.solutionId ? html` selected` : ''}>${s.name ?? s.solutionId}</option>`,
  );
  const rows = model.items.map((d) => {
    const cluster = d.clusterServer === null ? '' : (model.clusterNames.get(d.clusterServer) ?? d.clusterServer);
    return html`<tr data-deployment="${d.id}">
<td><a href="${basePath}/deployments/${d.id}">${d.solutionName ?? d.solutionId}</a></td><td><code>${d.revisionId}</code></td>
<td><code>${d.namespace}</code></td><td>${cluster}</td>${model.everyone ? html`<td>${d.owner}</td>` : ''}
<td class="status status-${d.status}" data-status="${d.status}">${d.status}</td><td title="${d.createdAt}">${formatAge(d.createdAt, model.now)}</td></tr>`;
  });
  const keep = { status: filter.status, solutionId: filter.solutionId, limit: filter.limit };
  const pager = html`<p class="pager">
${model.continued ? html`<a href="${basePath}/deployments${queryString(keep)}">← First page</a>` : ''}
${model.nextCursor ? html`<a rel="next" href="${basePath}/deployments${queryString({ ...keep, cursor: model.nextCursor })}">Next page →</a>` : ''}</p>`;
  const filtered = filter.status !== undefined || filter.solutionId !== undefined;
  const empty = filtered ? 'No deployment matches these filters.' : html`No deployment yet: pick a solution on <a href="${basePath}/">the front page</a>.`;
  const body = html`<h1>Deployments</h1>
<p class="hint">${model.everyone ? "Everyone's deployments (you are an admin)" : 'Your deployments'}, newest first.</p>
<form class="filters" method="get" action="${basePath}/deployments">
  <div><label for="status">Status</label><select id="status" name="status"><option value="">any</option>${statusOptions}</select></div>
  <div><label for="solutionId">Solution</label><select id="solutionId" name="solutionId"><option value="">any</option>${solutionOptions}</select></div>
  <button type="submit">Filter</button>
</form>
${
  model.items.length === 0
    ? html`<p id="no-deployments">${empty}</p>`
    : html`<table><thead><tr><th>Solution</th><th>Revision</th><th>Namespace</th><th>Cluster</th>${model.everyone ? html`<th>Owner</th>` : ''}<th>Status</th><th>Age</th></tr></thead>
<tbody id="deployments">${rows}</tbody></table>`
}
${pager}`;
  return layout('Deployments', body, basePath, { current: 'deployments' });
}
