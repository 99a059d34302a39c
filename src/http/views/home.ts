import type { SolutionSummary } from '../../domain/solution.js';
import { html } from './html.js';
import { layout } from './layout.js';

export function homePage(solutions: SolutionSummary[] | undefined, basePath: string): string {
  const list =
    solutions === undefined
      ? html`<p>Solutions come from Graphene: open a solution in Graphene and choose <em>Deploy</em>.</p>`
      : html`<h2>Solutions</h2>
<table><thead><tr><th>Solution</th><th>Kind</th><th>Revision</th><th></th></tr></thead><tbody>
${solutions.map(
  (s) => html`<tr><td>${s.name}</td><td>${s.kind}</td><td><code>${s.revisionId}</code></td>
<td><a href="${basePath}/deploy/${encodeURIComponent(s.solutionId)}/${encodeURIComponent(s.revisionId)}">Deploy</a></td></tr>`,
)}
</tbody></table>`;
  const body = html`<h1>Slipway</h1>
<p>Deploys Eclipse Graphene pipelines to Kubernetes clusters.</p>
${list}
<p class="hint">API: <a href="${basePath}/docs">${basePath}/docs</a> · <a href="${basePath}/openapi.json">openapi.json</a></p>`;
  return layout('Slipway', body, basePath);
}
