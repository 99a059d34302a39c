import type { Config } from '../../config.js';
import type { LocalSolutionSource } from '../../adapters/local-solutions/local-solution-source.js';
import type { App } from '../types.js';
import { homePage } from '../views/home.js';

/**
 * The front page: every solution Slipway can deploy from its local sources (imported
 * solution.zips and the bundled examples), and, with CDS configured, how Graphene hands the
 * others over.
 */
export async function homeRoutes(app: App, deps: { localSolutions: LocalSolutionSource; config: Config }): Promise<void> {
  app.get('/', { preHandler: app.authenticate, schema: { hide: true } }, async (_request, reply) => {
    const solutions = await deps.localSolutions.listSolutions();
    const page = homePage({ solutions, fromGraphene: deps.config.solutionSource === 'cds' }, deps.config.basePath);
    return reply.type('text/html; charset=utf-8').send(page);
  });
}
