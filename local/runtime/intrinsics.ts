import type { CfnResource, CfnTemplate } from './template';

/**
 * Resolves CloudFormation intrinsics against local physical names, the way CloudFormation would
 * after creating the stack. Only what a synthesized CDK stack uses is supported; anything else is an
 * error naming the function, never a silently wrong value.
 */

export interface LocalEnvironment {
  readonly region: string;
  readonly accountId: string;
  readonly stackName: string;
  /** Base URL of the local SQS endpoint, for queue URLs. */
  readonly sqsBaseUrl: string;
}

export interface PhysicalResource {
  /** What `Ref` returns. */
  readonly ref: string;
  /** What `Fn::GetAtt` returns, by attribute. */
  readonly attributes: Record<string, string>;
}

const shortName = (stackName: string, logicalId: string) => `${stackName}-${logicalId}`.slice(0, 64);

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** Physical names and attributes of every resource, as CloudFormation would report them. */
export const physicalResources = (
  template: CfnTemplate,
  env: LocalEnvironment,
): Map<string, PhysicalResource> => {
  const { region, accountId, stackName } = env;
  const out = new Map<string, PhysicalResource>();
  for (const [id, resource] of Object.entries(template.Resources)) {
    out.set(id, physicalResource(id, resource, env, region, accountId, stackName));
  }
  return out;
};

const physicalResource = (
  id: string,
  resource: CfnResource,
  env: LocalEnvironment,
  region: string,
  account: string,
  stackName: string,
): PhysicalResource => {
  const props = resource.Properties ?? {};
  switch (resource.Type) {
    case 'AWS::SQS::Queue': {
      const fifo = props.FifoQueue === true || props.FifoQueue === 'true';
      const name =
        str(props.QueueName) ?? `${shortName(stackName, id).slice(0, fifo ? 75 : 80)}${fifo ? '.fifo' : ''}`;
      const url = `${env.sqsBaseUrl}/${account}/${name}`;
      return {
        ref: url,
        attributes: { Arn: `arn:aws:sqs:${region}:${account}:${name}`, QueueName: name, QueueUrl: url },
      };
    }
    case 'AWS::DynamoDB::Table': {
      const name = str(props.TableName) ?? shortName(stackName, id);
      return {
        ref: name,
        attributes: {
          Arn: `arn:aws:dynamodb:${region}:${account}:table/${name}`,
          StreamArn: `arn:aws:dynamodb:${region}:${account}:table/${name}/stream/local`,
        },
      };
    }
    case 'AWS::Events::EventBus': {
      const name = str(props.Name) ?? shortName(stackName, id);
      return {
        ref: name,
        attributes: { Arn: `arn:aws:events:${region}:${account}:event-bus/${name}`, Name: name },
      };
    }
    case 'AWS::Events::Rule': {
      const name = str(props.Name) ?? shortName(stackName, id);
      return { ref: name, attributes: { Arn: `arn:aws:events:${region}:${account}:rule/${name}` } };
    }
    case 'AWS::Events::Archive': {
      const name = str(props.ArchiveName) ?? shortName(stackName, id).slice(0, 48);
      return { ref: name, attributes: { Arn: `arn:aws:events:${region}:${account}:archive/${name}` } };
    }
    case 'AWS::Lambda::Function': {
      const name = str(props.FunctionName) ?? shortName(stackName, id);
      return { ref: name, attributes: { Arn: `arn:aws:lambda:${region}:${account}:function:${name}` } };
    }
    case 'AWS::SecretsManager::Secret': {
      const name = str(props.Name) ?? `${id}-local`;
      // A partial ARN (no random suffix): Secrets Manager accepts it wherever a secret id is expected.
      const arn = `arn:aws:secretsmanager:${region}:${account}:secret:${name}`;
      return { ref: arn, attributes: { Id: arn, Name: name } };
    }
    case 'AWS::StepFunctions::StateMachine': {
      const name = str(props.StateMachineName) ?? shortName(stackName, id);
      const arn = `arn:aws:states:${region}:${account}:stateMachine:${name}`;
      return { ref: arn, attributes: { Arn: arn, Name: name } };
    }
    case 'AWS::Logs::LogGroup': {
      const name = str(props.LogGroupName) ?? `/local/${shortName(stackName, id)}`;
      return { ref: name, attributes: { Arn: `arn:aws:logs:${region}:${account}:log-group:${name}:*` } };
    }
    case 'AWS::IAM::Role': {
      const name = str(props.RoleName) ?? shortName(stackName, id);
      return {
        ref: name,
        attributes: { Arn: `arn:aws:iam::${account}:role/${name}`, RoleId: `AROA${id.slice(0, 16)}` },
      };
    }
    case 'AWS::ApiGatewayV2::Api': {
      // An API id is 10 lower-case characters; what the stack builds its public URL from.
      const apiId = id.toLowerCase().slice(0, 10);
      return {
        ref: apiId,
        attributes: { ApiId: apiId, ApiEndpoint: `https://${apiId}.execute-api.${region}.amazonaws.com` },
      };
    }
    case 'AWS::ApiGatewayV2::Stage':
      return { ref: str(props.StageName) ?? '$default', attributes: {} };
    case 'AWS::CloudWatch::Alarm': {
      const name = str(props.AlarmName) ?? shortName(stackName, id);
      return { ref: name, attributes: { Arn: `arn:aws:cloudwatch:${region}:${account}:alarm:${name}` } };
    }
    default:
      return { ref: id, attributes: {} };
  }
};

export class IntrinsicError extends Error {
  override readonly name = 'IntrinsicError' as const;
}

/** Resolves every intrinsic in `value`; `where` names the place in the template for error messages. */
export const resolveValue = (
  value: unknown,
  physical: ReadonlyMap<string, PhysicalResource>,
  env: LocalEnvironment,
  where: string,
): unknown => {
  const pseudo: Record<string, string> = {
    'AWS::Region': env.region,
    'AWS::AccountId': env.accountId,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': env.stackName,
    'AWS::StackId': `arn:aws:cloudformation:${env.region}:${env.accountId}:stack/${env.stackName}/local`,
  };
  const resolve = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(resolve);
    if (!node || typeof node !== 'object') return node;
    const entries = Object.entries(node);
    const [key, arg] = entries[0] ?? [];
    if (entries.length === 1 && key !== undefined) {
      switch (key) {
        case 'Ref': {
          const name = String(arg);
          if (name in pseudo) return pseudo[name];
          const target = physical.get(name);
          if (!target) throw new IntrinsicError(`${where}: Ref to unknown resource ${name}`);
          return target.ref;
        }
        case 'Fn::GetAtt': {
          const [logicalId, attribute] = Array.isArray(arg) ? arg : String(arg).split('.');
          const target = physical.get(String(logicalId));
          const resolved = target?.attributes[String(attribute)];
          if (resolved === undefined) {
            throw new IntrinsicError(
              `${where}: Fn::GetAtt ${String(logicalId)}.${String(attribute)} is not known locally`,
            );
          }
          return resolved;
        }
        case 'Fn::Join': {
          const [separator, parts] = arg as [string, unknown[]];
          return (resolve(parts) as unknown[]).map(String).join(separator);
        }
        case 'Fn::Select': {
          const [index, list] = arg as [number | string, unknown];
          return (resolve(list) as unknown[])[Number(index)];
        }
        case 'Fn::Split': {
          const [separator, source] = arg as [string, unknown];
          return String(resolve(source)).split(separator);
        }
        case 'Fn::Sub': {
          const [text, vars] = (Array.isArray(arg) ? arg : [arg, {}]) as [string, Record<string, unknown>];
          return text.replace(/\$\{([^}!][^}]*)\}/g, (_match, name: string) => {
            if (name in vars) return String(resolve(vars[name]));
            if (name in pseudo) return pseudo[name] ?? '';
            const [logicalId, attribute] = name.split('.');
            const target = physical.get(logicalId ?? '');
            if (!target) throw new IntrinsicError(`${where}: Fn::Sub refers to unknown ${name}`);
            const resolved = attribute ? target.attributes[attribute] : target.ref;
            if (resolved === undefined)
              throw new IntrinsicError(`${where}: Fn::Sub attribute ${name} is not known locally`);
            return resolved;
          });
        }
        default:
          if (key.startsWith('Fn::'))
            throw new IntrinsicError(`${where}: ${key} is not supported by the local runtime`);
      }
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, resolve(v)]));
  };
  return resolve(value);
};
