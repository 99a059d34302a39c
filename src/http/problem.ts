import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, UpstreamError } from '../errors.js';
import { html } from './views/html.js';
import { layout } from './views/layout.js';

/**
 * The one place where errors become responses: application/problem+json (RFC 9457) with a stable
 * `code` for API clients, a readable page for browsers. A 5xx never carries an internal message.
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  [member: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  406: 'Not acceptable',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  429: 'Too many requests',
  500: 'Internal server error',
  502: 'Bad gateway',
  503: 'Service unavailable',
  504: 'Gateway timeout',
};

function isFastifyError(error: unknown): error is FastifyError {
  return error instanceof Error && typeof (error as Partial<FastifyError>).code === 'string';
}

export function toProblem(error: unknown, instance?: string): Problem {
  if (error instanceof AppError) {
    // Upstream errors are written by us to say which system failed and how; other 5xx stay opaque.
    const expose = error.status < 500 || error instanceof UpstreamError;
    return {
      type: 'about:blank',
      title: TITLES[error.status] ?? 'Error',
      status: error.status,
      detail: expose ? error.message : 'The service failed; the error is in its log',
      code: error.code,
      ...(instance ? { instance } : {}),
      ...(expose ? error.extra : {}),
    };
  }
  if (isFastifyError(error) && error.validation) {
    const problems = error.validation.map((item) => {
      const where = item.instancePath ? item.instancePath.replace(/^\//, '').replace(/\//g, '.') : '';
      const missing = item.keyword === 'required' && typeof item.params.missingProperty === 'string' ? item.params.missingProperty : '';
      const field = [error.validationContext, where, missing].filter((part) => part).join('.');
      return `${field}: ${item.message ?? 'is invalid'}`;
    });
    return { type: 'about:blank', title: TITLES[400] ?? 'Bad request', status: 400, detail: `Invalid request: ${problems.join('; ')}`, code: 'validation_failed', problems, ...(instance ? { instance } : {}) };
  }
  if (isFastifyError(error) && typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    const status = error.statusCode;
    return { type: 'about:blank', title: TITLES[status] ?? 'Error', status, detail: error.message, code: error.code.toLowerCase(), ...(instance ? { instance } : {}) };
  }
  return { type: 'about:blank', title: TITLES[500] ?? 'Error', status: 500, detail: 'The service failed; the error is in its log', code: 'internal_error', ...(instance ? { instance } : {}) };
}

export function wantsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return accept.includes('text/html') && !request.url.includes('/api/');
}

export function errorPage(problem: Problem, basePath: string): string {
  const hint =
    problem.status === 401
      ? html`<p>Open this page from Graphene (its link carries your token), or add <code>?jwtToken=…</code> to the address.</p>`
      : html``;
  const list = Array.isArray(problem.problems)
    ? html`<ul>${problem.problems.map((item) => html`<li>${String(item)}</li>`)}</ul>`
    : html``;
  return layout(
    problem.title,
    html`<h1>${problem.title}</h1><p class="error">${problem.detail}</p>${list}${hint}<p class="hint">code: ${problem.code}</p>`,
    basePath,
  );
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: unknown, basePath: string): FastifyReply {
  const problem = toProblem(error, request.url.split('?')[0]);
  if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ code: problem.code, status: problem.status }, problem.detail);
  reply.status(problem.status);
  if (wantsHtml(request)) return reply.type('text/html; charset=utf-8').send(errorPage(problem, basePath));
  return reply.type('application/problem+json').send(problem);
}
