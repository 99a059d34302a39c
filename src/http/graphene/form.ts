import type { FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ValidationError } from '../../errors.js';
import { Id } from '../schemas.js';

/** The fields of CREO's deploy form (urlencoded or multipart); `configFile` is the uploaded kube config. */
export const DeployForm = Type.Object({
  solutionId: Id,
  revisionId: Id,
  namespaceName: Type.Optional(Type.String({ maxLength: 253 })),
  clusterId: Type.Optional(Type.String({ maxLength: 36 })),
  config: Type.Optional(Type.String({ maxLength: 1024 * 1024 })),
  configFile: Type.Optional(Type.String({ maxLength: 1024 * 1024 })),
  /** Which button: Deploy (the default), or Check first (a dry run). */
  action: Type.Optional(Type.Union([Type.Literal('deploy'), Type.Literal('check')])),
});
export type DeployFormBody = Static<typeof DeployForm>;

const MAX_FILE = 1024 * 1024;

/** Read the form from either encoding, then validate it against the one schema. */
export async function readDeployForm(request: FastifyRequest): Promise<{ solutionId: string; revisionId: string; namespace?: string; kubeconfig?: string; clusterId?: string; check: boolean }> {
  const fields: Record<string, string> = {};
  if (request.isMultipart()) {
    for await (const part of request.parts({ limits: { fileSize: MAX_FILE } })) {
      if (part.type === 'file') {
        const content = await part.toBuffer();
        if (part.file.truncated) throw new ValidationError('configFile: the kube config file is larger than 1 MiB', ['configFile: larger than 1 MiB']);
        if (content.length > 0) fields[part.fieldname] = content.toString('utf8');
      } else if (typeof part.value === 'string') {
        fields[part.fieldname] = part.value;
      }
    }
  } else if (request.body && typeof request.body === 'object') {
    for (const [key, value] of Object.entries(request.body as Record<string, unknown>)) {
      if (typeof value === 'string') fields[key] = value;
    }
  }
  if (!Value.Check(DeployForm, fields)) {
    const problems = [...Value.Errors(DeployForm, fields)].map((error) => `${error.path.replace(/^\//, '') || 'form'}: ${error.message}`);
    throw new ValidationError(`The deploy form is invalid: ${problems.join('; ')}`, problems);
  }
  const kubeconfig = (fields.configFile ?? '').trim() !== '' ? fields.configFile : fields.config;
  const clusterId = fields.clusterId?.trim() ?? '';
  const hasKubeconfig = kubeconfig !== undefined && kubeconfig.trim() !== '';
  if (!hasKubeconfig && clusterId === '') {
    throw new ValidationError('config: choose a registered cluster, paste a kube config or upload it as configFile', ['config: required']);
  }
  return {
    solutionId: fields.solutionId ?? '',
    revisionId: fields.revisionId ?? '',
    ...(fields.namespaceName?.trim() ? { namespace: fields.namespaceName.trim() } : {}),
    ...(hasKubeconfig ? { kubeconfig } : {}),
    ...(clusterId !== '' ? { clusterId } : {}),
    check: fields.action === 'check',
  };
}
