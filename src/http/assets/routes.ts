import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { NotFoundError } from '../../errors.js';
import type { App } from '../types.js';
import { STYLESHEET } from '../views/style.js';
import { DEPLOYMENT_PAGE_SCRIPT } from '../views/deployment-page.js';
import { SITE_PAGE_SCRIPT } from '../views/site-page.js';

/** A slipway's ramp into the water. */
const FAVICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><path d="M1 4 15 12H1z" fill="#1f6feb"/><path d="M0 13h16v3H0z" fill="#6e7781"/></svg>';

interface Asset {
  type: string;
  body: string;
  etag: string;
}

function asset(type: string, body: string): Asset {
  return { type, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/** The pages' stylesheet and scripts: served from here because the CSP allows nothing inline. */
export const ASSETS: Readonly<Record<string, Asset>> = {
  'slipway.css': asset('text/css; charset=utf-8', STYLESHEET),
  'deployment-page.js': asset('text/javascript; charset=utf-8', DEPLOYMENT_PAGE_SCRIPT),
  'site-page.js': asset('text/javascript; charset=utf-8', SITE_PAGE_SCRIPT),
  'favicon.svg': asset('image/svg+xml', FAVICON),
};

/** GET /assets/:name — public (no token: nothing in them is private), revalidated by ETag. */
export async function assetRoutes(app: App): Promise<void> {
  app.get('/assets/:name', { schema: { hide: true, params: Type.Object({ name: Type.String({ maxLength: 64 }) }) } }, async (request, reply) => {
    const found = Object.hasOwn(ASSETS, request.params.name) ? ASSETS[request.params.name] : undefined;
    if (!found) throw new NotFoundError(`No asset ${request.params.name}`);
    reply.header('cache-control', 'no-cache').header('etag', found.etag);
    if (request.headers['if-none-match'] === found.etag) return reply.status(304).send();
    return reply.type(found.type).send(found.body);
  });
}
