import { Type } from '@sinclair/typebox';
import type { Config } from '../../config.js';
import type { SiteService } from '../../services/sites/service.js';
import { requirePrincipal } from '../deployments/routes.js';
import { ValidationError } from '../../errors.js';
import { ProblemSchema, problemResponses } from '../schemas.js';
import type { App } from '../types.js';
import { sitePage } from '../views/site-page.js';
import { sitesPage } from '../views/inventory-pages.js';
import { DeprovisioningJobInput, HostInput, HostSchema, JobSummary, SiteEventSchema, PowerJobInput, ProvisioningJobInput, SiteInput, SiteSchema } from './schemas.js';

/** /api/v1/sites: the bare-metal inventory and its jobs, and the site page. */
export async function siteRoutes(app: App, deps: { sites: SiteService; config: Config }): Promise<void> {
  const SiteParams = Type.Object({ site: Type.String({ maxLength: 63 }) });
  const HostParams = Type.Object({ site: Type.String({ maxLength: 63 }), host: Type.String({ maxLength: 63 }) });
  const who = (principal: Parameters<typeof requirePrincipal>[0]) => {
    const p = requirePrincipal(principal);
    return { p, admin: app.isAdmin(p) };
  };
  const errors = { ...problemResponses, 409: ProblemSchema, 503: ProblemSchema };
  const base = deps.config.basePath;

  app.post('/api/v1/sites', { preHandler: [app.authenticate, app.idempotent], schema: { tags: ['sites'], summary: 'Create a site', body: SiteInput, response: { 201: SiteSchema, ...errors } } }, async (request, reply) => {
    const { p } = who(request.principal);
    const site = await deps.sites.createSite(p, request.body);
    return reply.status(201).header('location', `${base}/api/v1/sites/${site.name}`).send(site);
  });
  app.get('/api/v1/sites', { preHandler: app.authenticate, schema: { tags: ['sites'], summary: 'Your sites (an admin sees all)', response: { 200: Type.Object({ items: Type.Array(SiteSchema) }) } } }, async (request) => {
    const { p, admin } = who(request.principal);
    return { items: await deps.sites.listSites(p, admin) };
  });
  app.get('/api/v1/sites/:site', { preHandler: app.authenticate, schema: { tags: ['sites'], params: SiteParams, response: { 200: SiteSchema, ...errors } } }, async (request) => {
    const { p, admin } = who(request.principal);
    return deps.sites.site(p, request.params.site, admin);
  });
  app.delete('/api/v1/sites/:site', { preHandler: app.authenticate, schema: { tags: ['sites'], summary: 'Delete an empty site', params: SiteParams, response: { 204: Type.Null(), ...errors } } }, async (request, reply) => {
    const { p, admin } = who(request.principal);
    await deps.sites.deleteSite(p, request.params.site, admin);
    return reply.status(204).send(null);
  });

  app.get('/api/v1/sites/:site/events', { preHandler: app.authenticate, schema: { tags: ['sites'], summary: "The site's events outside its jobs: a host's Ironic node found to differ from what Slipway recorded, and agreeing again (newest 100, oldest first)", params: SiteParams, response: { 200: Type.Object({ items: Type.Array(SiteEventSchema) }), ...errors } } }, async (request) => {
    const { p, admin } = who(request.principal);
    return { items: await deps.sites.events(p, request.params.site, admin) };
  });
  app.post('/api/v1/sites/:site/hosts', { preHandler: [app.authenticate, app.idempotent], schema: { tags: ['sites'], summary: 'Add a host (BMC credentials are stored encrypted and never returned)', params: SiteParams, body: HostInput, response: { 201: HostSchema, ...errors } } }, async (request, reply) => {
    const { p, admin } = who(request.principal);
    const host = await deps.sites.putHost(p, request.params.site, request.body, admin, false);
    return reply.status(201).header('location', `${base}/api/v1/sites/${host.site}/hosts/${host.name}`).send(host);
  });
  app.get('/api/v1/sites/:site/hosts', { preHandler: app.authenticate, schema: { tags: ['sites'], params: SiteParams, response: { 200: Type.Object({ items: Type.Array(HostSchema) }), ...errors } } }, async (request) => {
    const { p, admin } = who(request.principal);
    return { items: await deps.sites.hosts(p, request.params.site, admin) };
  });
  app.get('/api/v1/sites/:site/hosts/:host', { preHandler: app.authenticate, schema: { tags: ['sites'], params: HostParams, response: { 200: HostSchema, ...errors } } }, async (request) => {
    const { p, admin } = who(request.principal);
    return deps.sites.host(p, request.params.site, request.params.host, admin);
  });
  app.put('/api/v1/sites/:site/hosts/:host', { preHandler: app.authenticate, schema: { tags: ['sites'], summary: 'Replace a host (omit bmc.password to keep the stored credentials)', params: HostParams, body: HostInput, response: { 200: HostSchema, ...errors } } }, async (request) => {
    const { p, admin } = who(request.principal);
    if (request.body.name !== request.params.host) throw new ValidationError('name: must match the host in the URL', ['name: differs from the URL']);
    return deps.sites.putHost(p, request.params.site, request.body, admin, true);
  });
  app.delete('/api/v1/sites/:site/hosts/:host', { preHandler: app.authenticate, schema: { tags: ['sites'], params: HostParams, response: { 204: Type.Null(), ...errors } } }, async (request, reply) => {
    const { p, admin } = who(request.principal);
    await deps.sites.deleteHost(p, request.params.site, request.params.host, admin);
    return reply.status(204).send(null);
  });

  const jobRoute = <K extends 'provision' | 'deprovision' | 'power'>(path: string, kind: K, body: typeof ProvisioningJobInput | typeof DeprovisioningJobInput | typeof PowerJobInput, summary: string) => {
    app.post(path, { preHandler: [app.authenticate, app.idempotent], schema: { tags: ['sites'], summary, params: SiteParams, body, response: { 202: JobSummary, ...errors } } }, async (request, reply) => {
      const { p, admin } = who(request.principal);
      const job = await deps.sites.startJob(p, request.params.site, kind, request.body as Record<string, never>, admin);
      return reply.status(202).header('location', `${base}/api/v1/jobs/${job.id}`).send(job);
    });
  };
  jobRoute('/api/v1/sites/:site/provisioning-jobs', 'provision', ProvisioningJobInput, 'Provision hosts in parallel (all, or those listed) through Ironic');
  jobRoute('/api/v1/sites/:site/deprovisioning-jobs', 'deprovision', DeprovisioningJobInput, 'Deprovision hosts (and remove their Ironic nodes with remove: true)');
  jobRoute('/api/v1/sites/:site/power-jobs', 'power', PowerJobInput, 'Power hosts on, off, or reboot them');

  app.get('/sites', { preHandler: app.authenticate, schema: { hide: true } }, async (request, reply) => {
    const { p, admin } = who(request.principal);
    const sites = await deps.sites.listSites(p, admin);
    const withHosts = await Promise.all(sites.map(async (site) => ({ site, hosts: await deps.sites.hosts(p, site.name, admin) })));
    return reply.type('text/html; charset=utf-8').send(sitesPage(withHosts, base, admin));
  });

  app.get('/sites/:site', { preHandler: app.authenticate, schema: { hide: true, params: SiteParams } }, async (request, reply) => {
    const { p, admin } = who(request.principal);
    const site = await deps.sites.site(p, request.params.site, admin);
    const hosts = await deps.sites.hosts(p, site.name, admin);
    const events = await deps.sites.events(p, site.name, admin, 50);
    return reply.type('text/html; charset=utf-8').send(sitePage(site, hosts, events, base));
  });
}
