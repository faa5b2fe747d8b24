import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/shared/contracts/env';
import { SecureTable } from './secure-table';

export interface LinksTableProps {
  /** @default true: losing the id map between systems would orphan every record */
  readonly retain?: boolean;
}

/**
 * Which id each entity has in each system: partition key `pk` = `<entity>#<system>#<id>`, sort key
 * `target` = the other system, with the event that recorded the link.
 */
export class LinksTable extends Construct {
  readonly table: SecureTable;

  constructor(scope: Construct, id: string, props: LinksTableProps = {}) {
    super(scope, id);
    this.table = new SecureTable(this, 'Table', { sortKey: 'target', retain: props.retain ?? true });
  }

  /** Passes the table name as `LINKS_TABLE_NAME` and grants read, or read and write. */
  bind(
    fn: IFunction & { addEnvironment(key: string, value: string): unknown },
    access: 'read' | 'readwrite',
  ): void {
    fn.addEnvironment(ENV.LINKS_TABLE_NAME, this.table.tableName);
    if (access === 'read') this.table.grant(fn, 'dynamodb:GetItem', 'dynamodb:BatchGetItem');
    else
      this.table.grant(
        fn,
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:PutItem',
        'dynamodb:BatchWriteItem',
      );
  }
}
