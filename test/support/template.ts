import type { Template } from 'aws-cdk-lib/assertions';

/** Reading a synthesized template in infra tests: resources by type and by logical id prefix, and refs. */

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

export const templateReader = (template: Template) => {
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);
  const idOf = (prefix: string, type: string): string => {
    const found = ofType(type).find(([id]) => id.startsWith(prefix));
    if (!found) throw new Error(`no ${type} whose id starts with ${prefix}`);
    return found[0];
  };
  /** The IAM statements of the role a function runs as. */
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
