import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from '../aws/json-protocol';

/**
 * CloudFormation's DescribeStacks for the stack the runtime started, so the operator CLI finds the
 * local resources exactly as it finds a deployed stage's: from the stack's outputs. CloudFormation
 * speaks the AWS query protocol (a form-encoded POST, an XML answer), not JSON:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html
 */

export interface LocalStack {
  readonly stackName: string;
  readonly stackId: string;
  readonly createdAt: Date;
  readonly description?: string | undefined;
  /** Output values resolved against the local resources. */
  readonly outputs: readonly { key: string; value: string; description?: string | undefined }[];
}

const NAMESPACE = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

const escapeXml = (text: string): string =>
  text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c,
  );

const element = (name: string, value: string | undefined): string =>
  value === undefined ? '' : `<${name}>${escapeXml(value)}</${name}>`;

const stackXml = (stack: LocalStack): string =>
  [
    '<member>',
    element('StackName', stack.stackName),
    element('StackId', stack.stackId),
    element('Description', stack.description),
    element('CreationTime', stack.createdAt.toISOString()),
    element('StackStatus', 'CREATE_COMPLETE'),
    '<Outputs>',
    ...stack.outputs.map(
      (output) =>
        `<member>${element('OutputKey', output.key)}${element('OutputValue', output.value)}${element('Description', output.description)}</member>`,
    ),
    '</Outputs>',
    '</member>',
  ].join('');

/** True for a query-protocol request (what CloudFormation's SDK client sends). */
export const isQueryRequest = (req: IncomingMessage): boolean =>
  req.method === 'POST' &&
  String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');

const reply = (res: ServerResponse, status: number, xml: string): void => {
  res.writeHead(status, {
    'content-type': 'text/xml',
    'content-length': Buffer.byteLength(xml),
    'x-amzn-requestid': crypto.randomUUID(),
  });
  res.end(xml);
};

const errorXml = (code: string, message: string): string =>
  `<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>Sender</Type>${element('Code', code)}${element('Message', message)}</Error>${element('RequestId', crypto.randomUUID())}</ErrorResponse>`;

/** Answers DescribeStacks (by name, by stack id, or every stack); any other action is not supported. */
export const cloudFormationListener =
  (stacks: () => readonly LocalStack[]) =>
  async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const params = new URLSearchParams((await readBody(req, 64 * 1024)).toString('utf8'));
    const action = params.get('Action');
    if (action !== 'DescribeStacks') {
      reply(
        res,
        400,
        errorXml('InvalidAction', `The action ${action ?? '(none)'} is not supported by the local runtime.`),
      );
      return;
    }
    const wanted = params.get('StackName');
    const found = stacks().filter(
      (stack) => !wanted || stack.stackName === wanted || stack.stackId === wanted,
    );
    if (wanted && found.length === 0) {
      reply(res, 400, errorXml('ValidationError', `Stack with id ${wanted} does not exist`));
      return;
    }
    reply(
      res,
      200,
      `<DescribeStacksResponse xmlns="${NAMESPACE}"><DescribeStacksResult><Stacks>${found.map(stackXml).join('')}</Stacks></DescribeStacksResult><ResponseMetadata>${element('RequestId', crypto.randomUUID())}</ResponseMetadata></DescribeStacksResponse>`,
    );
  };
