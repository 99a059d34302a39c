/** The OpenAPI document's header; paths come from the route schemas (@fastify/swagger). */
export function openApiInfo(basePath: string) {
  const security: Array<Record<string, string[]>> = [{ grapheneToken: [] }, { bearer: [] }];
  return {
    openapi: '3.1.0',
    info: {
      title: 'Slipway',
      version: '0.1.0',
      description:
        'Deploys Eclipse Graphene solutions to Kubernetes. Authentication: the Graphene portal token, as `?jwtToken=`, a `jwtToken` header, `Authorization` (raw or Bearer) or the `Authorization` cookie. Errors are application/problem+json with a stable `code`.',
    },
    servers: [{ url: basePath === '' ? '/' : basePath }],
    components: {
      securitySchemes: {
        grapheneToken: { type: 'apiKey' as const, in: 'query' as const, name: 'jwtToken' },
        bearer: { type: 'http' as const, scheme: 'bearer', bearerFormat: 'JWT' },
      },
    },
    security,
  };
}
