import type { Template } from 'aws-cdk-lib/assertions';
import { ConfigError, loadStageConfig } from '../../lib/config';

/** Reading a synthesized template by what its resources refer to, for the infra tests. */

export type Resource = { Type: string; Properties?: Record<string, unknown> };
export type Statement = { Action: string | string[]; Resource: unknown };

/** Every logical id a value refers to through Ref or Fn::GetAtt. */
export const referencedIds = (value: unknown, found = new Set<string>()): Set<string> => {
  if (Array.isArray(value)) for (const item of value) referencedIds(item, found);
  else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'Ref' && typeof inner === 'string') found.add(inner);
      else if (key === 'Fn::GetAtt' && Array.isArray(inner) && typeof inner[0] === 'string')
        found.add(inner[0]);
      else referencedIds(inner, found);
    }
  }
  return found;
};

export const templateQueries = (template: Template) => {
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);
  /** The logical id of the resource of this type whose id starts with `prefix`. */
  const idOf = (prefix: string, type: string): string => {
    const found = ofType(type).find(([id]) => id.startsWith(prefix));
    if (!found) throw new Error(`no ${type} ${prefix}`);
    return found[0];
  };
  /** The IAM statements of the role of the function whose id starts with `prefix`. */
  const statementsOfFunction = (prefix: string): Statement[] => {
    const fn = resources[idOf(prefix, 'AWS::Lambda::Function')];
    const roleId = [...referencedIds(fn?.Properties?.Role)][0] ?? '';
    return ofType('AWS::IAM::Policy')
      .filter(([, policy]) => referencedIds(policy.Properties?.Roles).has(roleId))
      .flatMap(
        ([, policy]) =>
          ((policy.Properties?.PolicyDocument ?? { Statement: [] }) as { Statement: Statement[] }).Statement,
      );
  };
  return { resources, ofType, idOf, statementsOfFunction };
};

/** The message of the ConfigError a stage configuration fails with ('' if it loads). */
export const configErrorOf = (stage: string, stages: unknown): string => {
  try {
    loadStageConfig(stage, stages);
    return '';
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.message;
  }
};
