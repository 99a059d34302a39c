import { html, type SafeHtml } from './html.js';

/** The pages every header links to, in order; `current` marks the one shown. */
export const NAV = [
  { key: 'solutions', path: '/', label: 'Solutions' },
  { key: 'deployments', path: '/deployments', label: 'Deployments' },
  { key: 'sites', path: '/sites', label: 'Sites' },
  { key: 'clusters', path: '/clusters', label: 'Clusters' },
  { key: 'api', path: '/docs', label: 'API' },
] as const;
export type NavKey = (typeof NAV)[number]['key'];

export interface LayoutOptions {
  /** Scripts from /assets, loaded at the end of the body (no inline script: the CSP forbids it). */
  scripts?: readonly string[];
  current?: NavKey;
}

/**
 * Every page's frame: the stylesheet from /assets, the header with the links to every list, the
 * body. Links carry no token: the `Authorization` cookie set on the first visit (as on the
 * Graphene entry page) carries it from page to page.
 */
export function layout(title: string, body: SafeHtml, basePath: string, options: LayoutOptions = {}): string {
  const nav = NAV.map(
    (item) => html`<a href="${basePath}${item.path}"${item.key === options.current ? html` aria-current="page"` : ''}>${item.label}</a>`,
  );
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Slipway</title>
<link rel="icon" href="${basePath}/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${basePath}/assets/slipway.css">
</head>
<body>
<header><a href="${basePath}/">Slipway</a><span class="hint">deployments for Eclipse Graphene</span><nav>${nav}</nav></header>
<main>
${body}
</main>
${(options.scripts ?? []).map((name) => html`<script src="${basePath}/assets/${name}"></script>\n`)}
</body>
</html>`.value;
}
