/**
 * The validation of the fake Kubernetes API server (a test double): names (RFC 1123 / DNS-1035),
 * label values, a few spec rules a deployer runs into (a Deployment's selector must match its
 * template and cannot change, a Job's template and a PVC's spec are immutable). Messages follow
 * the real server's wording. Everything else the real server validates is accepted as is.
 */
import type { StatusCause } from './status.js';
import { asArray, asRecord, asStringMap, isRecord, readPath, type KubeObject, type ResourceType } from './types.js';

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

const SUBDOMAIN_RULE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_RULE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_RULE =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

function invalidValue(field: string, value: unknown, why: string): StatusCause {
  const shown = typeof value === 'string' ? `"${value}"` : JSON.stringify(value);
  return { reason: 'FieldValueInvalid', message: `Invalid value: ${shown}: ${why}`, field };
}

function required(field: string): StatusCause {
  return { reason: 'FieldValueRequired', message: 'Required value', field };
}

/** Why a name is not acceptable for this kind, or undefined when it is. */
export function nameProblem(kind: string, name: string): string | undefined {
  if (kind === 'Namespace') {
    if (name.length > 63) return 'must be no more than 63 characters';
    return LABEL.test(name) ? undefined : LABEL_RULE;
  }
  if (kind === 'Service') {
    if (name.length > 63) return 'must be no more than 63 characters';
    return DNS1035.test(name) ? undefined : DNS1035_RULE;
  }
  if (name.length > 253) return 'must be no more than 253 characters';
  return SUBDOMAIN.test(name) ? undefined : SUBDOMAIN_RULE;
}

function metadataCauses(resource: ResourceType, object: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  const name = object.metadata.name;
  if (name === undefined || name === '') {
    causes.push({ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' });
  } else {
    const problem = nameProblem(resource.kind, name);
    if (problem) causes.push(invalidValue('metadata.name', name, problem));
  }
  for (const [key, value] of Object.entries(asStringMap(object.metadata.labels))) {
    if (value.length > 63) causes.push(invalidValue(`metadata.labels`, value, 'must be no more than 63 characters'));
    else if (!LABEL_VALUE.test(value)) {
      causes.push(invalidValue('metadata.labels', value, `a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (label ${key})`));
    }
  }
  return causes;
}

function podSpecCauses(podSpec: unknown, field: string): StatusCause[] {
  const containers = asArray(readPath(podSpec, 'containers'));
  if (containers.length === 0) return [required(`${field}.containers`)];
  return containers.flatMap((container, index) => {
    const causes: StatusCause[] = [];
    const name = readPath(container, 'name');
    if (typeof name !== 'string' || name === '') causes.push(required(`${field}.containers[${index}].name`));
    const image = readPath(container, 'image');
    if (typeof image !== 'string' || image === '') causes.push(required(`${field}.containers[${index}].image`));
    return causes;
  });
}

function deploymentCauses(object: KubeObject, old: KubeObject | undefined): StatusCause[] {
  const selector = readPath(object, 'spec.selector');
  if (!isRecord(selector)) return [required('spec.selector')];
  const causes = podSpecCauses(readPath(object, 'spec.template.spec'), 'spec.template.spec');
  const templateLabels = asStringMap(readPath(object, 'spec.template.metadata.labels'));
  const matchLabels = asStringMap(selector.matchLabels);
  if (Object.keys(matchLabels).length === 0 && asArray(selector.matchExpressions).length === 0) {
    causes.push(invalidValue('spec.selector', selector, 'empty selector is invalid for deployment'));
  } else if (!Object.entries(matchLabels).every(([key, value]) => templateLabels[key] === value)) {
    causes.push(invalidValue('spec.template.metadata.labels', templateLabels, '`selector` does not match template `labels`'));
  }
  if (old !== undefined && JSON.stringify(readPath(old, 'spec.selector')) !== JSON.stringify(selector)) {
    causes.push(invalidValue('spec.selector', selector, 'field is immutable'));
  }
  return causes;
}

function jobCauses(object: KubeObject, old: KubeObject | undefined): StatusCause[] {
  const causes = podSpecCauses(readPath(object, 'spec.template.spec'), 'spec.template.spec');
  const restartPolicy = readPath(object, 'spec.template.spec.restartPolicy');
  if (restartPolicy !== 'Never' && restartPolicy !== 'OnFailure') {
    causes.push({ reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(restartPolicy ?? '')}: supported values: "OnFailure", "Never"`, field: 'spec.template.spec.restartPolicy' });
  }
  if (old !== undefined && JSON.stringify(readPath(old, 'spec.template')) !== JSON.stringify(readPath(object, 'spec.template'))) {
    causes.push(invalidValue('spec.template', readPath(object, 'spec.template'), 'field is immutable'));
  }
  return causes;
}

/** The spec of a claim without the parts that may change after creation. */
function claimSpecFixedPart(object: KubeObject): string {
  const spec = { ...asRecord(object.spec) };
  delete spec.resources;
  delete spec.volumeName;
  delete spec.volumeAttributesClassName;
  return JSON.stringify(spec);
}

function claimCauses(object: KubeObject, old: KubeObject | undefined): StatusCause[] {
  if (old === undefined || claimSpecFixedPart(old) === claimSpecFixedPart(object)) return [];
  return [{
    reason: 'FieldValueForbidden',
    message: 'Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
    field: 'spec',
  }];
}

/** Every reason the object is invalid; `old` is the stored object on an update. */
export function validateObject(resource: ResourceType, object: KubeObject, old?: KubeObject): StatusCause[] {
  const causes = metadataCauses(resource, object);
  switch (resource.kind) {
    case 'Deployment': return [...causes, ...deploymentCauses(object, old)];
    case 'Job': return [...causes, ...jobCauses(object, old)];
    case 'Pod': return [...causes, ...podSpecCauses(object.spec, 'spec')];
    case 'PersistentVolumeClaim': return [...causes, ...claimCauses(object, old)];
    default: return causes;
  }
}
