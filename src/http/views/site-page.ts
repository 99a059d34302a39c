import type { Host, Site } from '../../services/sites/model.js';
import type { SiteEvent } from '../../services/sites/store.js';
import { html, SafeHtml } from './html.js';
import { layout } from './layout.js';
import { jsonForScript } from './deployment-page.js';
import { HOST_TABLE_HEAD, hostRow } from './inventory-pages.js';

/**
 * A site: its hosts with their state, and a live view of the site's running job. The page
 * follows the job's Server-Sent Events (the same stream deploys use) and redraws the host table
 * from the API on each event.
 */
export function sitePage(site: Site, hosts: Host[], events: readonly SiteEvent[], basePath: string): string {
  const jobId = hosts.map((h) => h.jobId).find((id) => id !== null) ?? null;
  const body = html`
<h1>Site ${site.name}</h1>
<p>${site.description}</p>
<h2>Hosts</h2>
<table>${HOST_TABLE_HEAD}<tbody id="hosts">${hosts.map(hostRow)}</tbody></table>
<h2>Seen in Ironic</h2>
${events.length === 0 ? html`<p class="hint" id="site-events">Every host agrees with its Ironic node.</p>` : html`<ol class="events" id="site-events">${events.map((e) => html`<li data-type="${e.type}"><span class="type">${e.at}</span>${e.message}</li>`)}</ol>`}
<h2>Job</h2>
<p id="job">${jobId ? html`<code>${jobId}</code>` : 'No job yet.'}</p>
<ol id="events"></ol>
<script id="site-settings" type="application/json">${new SafeHtml(jsonForScript({ hostsApi: `${basePath}/api/v1/sites/${site.name}/hosts`, jobsApi: `${basePath}/api/v1/jobs/`, jobId }))}</script>`;
  return layout(`Site ${site.name}`, body, basePath, { scripts: ['site-page.js'], current: 'sites' });
}

export const SITE_PAGE_SCRIPT = `
(function () {
  var settings = JSON.parse(document.getElementById('site-settings').textContent);
  function el(tag, text) { var e = document.createElement(tag); if (text != null) e.textContent = text; return e; }
  function redraw() {
    fetch(settings.hostsApi, { headers: { accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) return;
        var tbody = document.getElementById('hosts'); tbody.textContent = '';
        body.items.forEach(function (h) {
          var tr = el('tr'); tr.setAttribute('data-host', h.name);
          [h.name, h.spec.role, h.spec.bmc.address, [h.location.room, h.location.rack].filter(Boolean).join(' / '), h.state,
           h.errorType ? h.errorType + ': ' + (h.errorMessage || '') : '',
           h.observed ? h.observed.state + ': ' + h.observed.reason + ' (seen ' + h.observed.seenAt + ')' : ''].forEach(function (text, i) {
            var td = el('td', text); if (i === 4) td.className = 'state state-' + h.state; if (i === 5) td.className = 'host-error'; if (i === 6) td.className = 'observed'; tr.appendChild(td);
          });
          tbody.appendChild(tr);
        });
      });
  }
  if (!settings.jobId || typeof EventSource === 'undefined') return;
  var events = document.getElementById('events');
  var source = new EventSource(settings.jobsApi + settings.jobId + '/events');
  source.onmessage = function (message) {
    var event = JSON.parse(message.data);
    var li = el('li', event.type + ': ' + event.message); events.appendChild(li);
    while (events.children.length > 50) events.removeChild(events.firstChild);
    redraw();
    if (event.type === 'job.finished') source.close();
  };
})();
`;
