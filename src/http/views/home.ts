import type { LocalSolutionSummary } from '../../adapters/local-solutions/local-solution-source.js';
import { html } from './html.js';
import { layout } from './layout.js';
import { uploadForm } from './upload-form.js';

export interface HomeModel {
  /** What the local sources hold. */
  solutions: readonly LocalSolutionSummary[];
  /** CDS is configured: Graphene's own solutions arrive through its Deploy button. */
  fromGraphene: boolean;
}

export function homePage(model: HomeModel, basePath: string): string {
  const graphene = model.fromGraphene
    ? html`<p>Solutions of Graphene are deployed from Graphene: open a solution there and choose <em>Deploy</em>; Graphene opens this service's deploy form for it.</p>`
    : '';
  const rows = model.solutions.map(
    (s) => html`<tr data-solution="${s.solutionId}/${s.revisionId}"><td>${s.name}</td><td><code>${s.solutionId}</code></td><td>${s.kind}</td><td><code>${s.revisionId}</code></td>
<td><a href="${basePath}/deploy/${encodeURIComponent(s.solutionId)}/${encodeURIComponent(s.revisionId)}">Deploy</a></td></tr>`,
  );
  const list =
    model.solutions.length === 0
      ? html`<p class="hint">No local solution yet: import a solution.zip below.</p>`
      : html`<table><thead><tr><th>Solution</th><th>Id</th><th>Kind</th><th>Revision</th><th></th></tr></thead><tbody id="solutions">${rows}</tbody></table>`;
  const body = html`<h1>Slipway</h1>
<p>Deploys Eclipse Graphene pipelines to Kubernetes clusters.</p>
${graphene}
<h2>Solutions</h2>
<p class="hint">Imported solution.zips and the bundled examples.</p>
${list}
${uploadForm(basePath)}
<p class="hint">API: <a href="${basePath}/docs">${basePath}/docs</a> · <a href="${basePath}/openapi.json">openapi.json</a></p>`;
  return layout('Solutions', body, basePath, { current: 'solutions' });
}
