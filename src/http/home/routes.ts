import type { Config } from '../../config.js';
import type { SolutionSource } from '../../domain/solution.js';
import type { App } from '../types.js';
import { homePage } from '../views/home.js';

/** The front page: what this is, and the solutions a local source holds. */
export async function homeRoutes(app: App, deps: { solutionSource: SolutionSource; config: Config }): Promise<void> {
  app.get('/', { preHandler: app.authenticate, schema: { hide: true } }, async (_request, reply) => {
    const solutions = deps.solutionSource.listSolutions ? await deps.solutionSource.listSolutions() : undefined;
    return reply.type('text/html; charset=utf-8').send(homePage(solutions, deps.config.basePath));
  });
}
