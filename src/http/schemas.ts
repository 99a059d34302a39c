import { Type, type Static } from '@sinclair/typebox';

/** Schemas shared by several route areas. */
export const Id = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$', description: 'A Graphene id (UUID-like)' });

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ description: 'Stable machine-readable error code' }),
    instance: Type.Optional(Type.String()),
    problems: Type.Optional(Type.Array(Type.String())),
  },
  { $id: 'Problem', additionalProperties: true },
);
export type ProblemBody = Static<typeof ProblemSchema>;

export const problemResponses = {
  400: ProblemSchema,
  401: ProblemSchema,
  403: ProblemSchema,
  404: ProblemSchema,
} as const;
