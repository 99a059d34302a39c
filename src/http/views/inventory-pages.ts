import type { Host, Site } from '../../services/sites/model.js';
import type { Cluster } from '../../services/clusters/model.js';
import { html, type SafeHtml } from './html.js';
import { layout } from './layout.js';

/** A host's row, on the sites page and the site page alike. */
export function hostRow(h: Host): SafeHtml {
  return html`<tr data-host="${h.name}"><td>${h.name}</td><td>${h.spec.role}</td><td>${h.spec.bmc.address}</td>
<td>${[h.location.room, h.location.rack].filter(Boolean).join(' / ')}</td>
<td class="state state-${h.state}">${h.state}</td><td class="host-error">${h.errorType ? `${h.errorType}: ${h.errorMessage ?? ''}` : ''}</td>
<td class="observed">${h.observed ? html`<span class="status-failed">${h.observed.state}</span>: ${h.observed.reason} <span class="hint">(seen ${h.observed.seenAt})</span>` : ''}</td></tr>`;
}

export const HOST_TABLE_HEAD = html`<thead><tr><th>Host</th><th>Role</th><th>BMC</th><th>Room / rack</th><th>State</th><th>Error</th><th>Ironic differs</th></tr></thead>`;

/** Every site the caller may see (an admin: all), each with its hosts and their state, linking to the site page. */
export function sitesPage(sites: ReadonlyArray<{ site: Site; hosts: readonly Host[] }>, basePath: string, everyone: boolean): string {
  const sections = sites.map(({ site, hosts }) => {
    const counts = new Map<string, number>();
    for (const h of hosts) counts.set(h.state, (counts.get(h.state) ?? 0) + 1);
    const summary = [...counts].map(([state, n]) => `${n} ${state}`).join(', ') || 'no hosts';
    return html`<section class="site" data-site="${site.name}">
<h2><a href="${basePath}/sites/${encodeURIComponent(site.name)}">${site.name}</a></h2>
<p>${site.description}${everyone ? html` <span class="hint">owner ${site.owner}</span>` : ''} <span class="hint">${hosts.length} hosts: ${summary}</span></p>
${hosts.length === 0 ? '' : html`<table>${HOST_TABLE_HEAD}<tbody>${hosts.map(hostRow)}</tbody></table>`}
</section>`;
  });
  const body = html`<h1>Sites</h1>
<p class="hint">${everyone ? "Everyone's bare-metal sites (you are an admin)" : 'Your bare-metal sites'}; sites and hosts are added through the API (<a href="${basePath}/docs">/docs</a>, tag <em>sites</em>).</p>
${sites.length === 0 ? html`<p id="no-sites">No site yet.</p>` : sections}`;
  return layout('Sites', body, basePath, { current: 'sites' });
}

/** Every cluster the caller may see: status, nodes, where it came from. */
export function clustersPage(clusters: readonly Cluster[], basePath: string, everyone: boolean): string {
  const rows = clusters.map((c) => {
    const site = c.site ? html`<a href="${basePath}/sites/${encodeURIComponent(c.site)}">${c.site}</a>` : '';
    const nodes = c.nodes.length === 0 ? html`<span class="hint">—</span>` : html`<ul class="reasons">${c.nodes.map((n) => html`<li>${n.name} <code>${n.address}</code> ${n.role}</li>`)}</ul>`;
    const error = c.error ? html`<div class="error"><code>${c.error.code}</code> ${c.error.message}</div>` : '';
    return html`<tr data-cluster="${c.id}"><td>${c.name}<br><code class="hint">${c.id}</code></td><td>${c.origin}${c.engine ? ` (${c.engine})` : ''}</td><td>${site}</td>
<td><code>${c.server ?? ''}</code></td>${everyone ? html`<td>${c.owner}</td>` : ''}<td class="status state-${c.status}" data-status="${c.status}">${c.status}${error}</td><td>${nodes}</td></tr>`;
  });
  const body = html`<h1>Clusters</h1>
<p class="hint">${everyone ? "Everyone's clusters (you are an admin)" : 'Your clusters'}: registered with a kube config, or bootstrapped on a site's hosts. Ready ones are offered on the deploy form.</p>
${
  clusters.length === 0
    ? html`<p id="no-clusters">No cluster yet: register one or bootstrap one through the API (<a href="${basePath}/docs">/docs</a>, tag <em>clusters</em>).</p>`
    : html`<table><thead><tr><th>Cluster</th><th>Origin</th><th>Site</th><th>API server</th>${everyone ? html`<th>Owner</th>` : ''}<th>Status</th><th>Nodes</th></tr></thead><tbody id="clusters">${rows}</tbody></table>`
}`;
  return layout('Clusters', body, basePath, { current: 'clusters' });
}
