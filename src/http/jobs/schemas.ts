import { Type } from '@sinclair/typebox';
import { StepSchema } from '../deployments/schemas.js';

/** A job as lists show it. */
export const JobSummary = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  subjectType: Type.String(),
  subjectId: Type.String(),
  owner: Type.String(),
  status: Type.String(),
  createdAt: Type.String(),
});

/** A job with its outcome and steps. */
export const JobSchema = Type.Composite([
  JobSummary,
  Type.Object({
    result: Type.Unknown(),
    error: Type.Unknown(),
    parentId: Type.Union([Type.String(), Type.Null()]),
    attempts: Type.Integer(),
    startedAt: Type.Union([Type.String(), Type.Null()]),
    finishedAt: Type.Union([Type.String(), Type.Null()]),
    steps: Type.Array(StepSchema),
  }),
]);
