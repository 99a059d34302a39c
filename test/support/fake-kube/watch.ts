/**
 * Watches of the fake Kubernetes API server (a test double): `?watch=true` on a list path
 * streams one JSON line per change, `{"type":"ADDED|MODIFIED|DELETED","object":…}`.
 * Without a resourceVersion (or with "0") the current objects come first as ADDED; with one,
 * the changes after it are replayed from a bounded history, and a version older than that
 * history gets an ERROR event with a 410 Expired Status, as on a real server. `timeoutSeconds`
 * ends the stream. No bookmarks.
 */
import type { ServerResponse } from 'node:http';
import type { ApiContext } from './commit.js';
import type { ResourceRequest } from './read-handlers.js';
import { fieldMatcher, labelMatcher } from './selectors.js';
import { failure } from './status.js';
import type { StoredChange } from './store.js';
import type { KubeObject } from './types.js';

export function startWatch(ctx: ApiContext, request: ResourceRequest, response: ServerResponse, active: Set<ServerResponse>): void {
  const byLabel = labelMatcher(request.query.get('labelSelector') ?? undefined);
  const byField = fieldMatcher(request.query.get('fieldSelector') ?? undefined);
  const { resource, namespace } = request;
  const wanted = (object: KubeObject): boolean =>
    (namespace === undefined || !resource.namespaced || object.metadata.namespace === namespace) && byLabel(object) && byField(object);
  const relevant = (change: StoredChange): boolean =>
    change.resource.group === resource.group && change.resource.plural === resource.plural && wanted(change.object);

  const send = (type: string, object: unknown): void => {
    if (!response.writableEnded) response.write(`${JSON.stringify({ type, object })}\n`);
  };

  response.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  // Clients wait for the headers before they start reading; send them even when nothing matches yet.
  response.flushHeaders();
  active.add(response);

  const startRevision = request.query.get('resourceVersion');
  if (startRevision === null || startRevision === '' || startRevision === '0') {
    for (const object of ctx.store.list(resource, namespace)) if (wanted(object)) send('ADDED', object);
  } else {
    const changes = ctx.store.changesSince(Number(startRevision));
    if (changes === 'expired') {
      send('ERROR', failure(410, 'Expired', `too old resource version: ${startRevision} (${ctx.store.currentRevision()})`));
      active.delete(response);
      response.end();
      return;
    }
    for (const change of changes) if (relevant(change)) send(change.type, change.object);
  }

  const unsubscribe = ctx.store.subscribe((change) => {
    if (relevant(change)) send(change.type, change.object);
  });
  const timeoutSeconds = Number(request.query.get('timeoutSeconds') ?? '0');
  const timer = timeoutSeconds > 0 ? setTimeout(() => response.end(), timeoutSeconds * 1000) : undefined;
  response.on('close', () => {
    unsubscribe();
    if (timer) clearTimeout(timer);
    active.delete(response);
  });
}
