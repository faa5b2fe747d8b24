import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  Table,
  TableEncryption,
  type TableProps,
} from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';

export interface SecureTableProps {
  /** Partition key attribute (string). @default 'pk' */
  readonly partitionKey?: string;
  /** Sort key attribute (string). @default no sort key */
  readonly sortKey?: string;
  /** TTL attribute, if items expire. @default no TTL */
  readonly timeToLiveAttribute?: string;
  /** Keep the table when the stack is deleted. @default false */
  readonly retain?: boolean;
}

/**
 * A DynamoDB table with the defaults every revbridge table needs: on-demand, encrypted at rest,
 * point-in-time recovery. What the caller may not turn off is forced after its props.
 */
export class SecureTable extends Table {
  constructor(scope: Construct, id: string, props: SecureTableProps = {}) {
    const tableProps: TableProps = {
      partitionKey: { name: props.partitionKey ?? 'pk', type: AttributeType.STRING },
      ...(props.sortKey ? { sortKey: { name: props.sortKey, type: AttributeType.STRING } } : {}),
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      ...(props.timeToLiveAttribute ? { timeToLiveAttribute: props.timeToLiveAttribute } : {}),
    };
    super(scope, id, tableProps);
  }
}
