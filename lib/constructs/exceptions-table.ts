import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/shared/contracts/env';
import { SecureTable } from './secure-table';

export interface ExceptionsTableProps {
  /** @default true: open exceptions are work someone still has to do */
  readonly retain?: boolean;
}

/** Business exceptions a person must look at, each with the event that caused it, for replay. */
export class ExceptionsTable extends Construct {
  readonly table: SecureTable;

  constructor(scope: Construct, id: string, props: ExceptionsTableProps = {}) {
    super(scope, id);
    this.table = new SecureTable(this, 'Table', { retain: props.retain ?? true });
  }

  /** Passes the table name as `EXCEPTIONS_TABLE_NAME`; functions may only add exceptions. */
  bind(fn: IFunction & { addEnvironment(key: string, value: string): unknown }): void {
    fn.addEnvironment(ENV.EXCEPTIONS_TABLE_NAME, this.table.tableName);
    this.table.grant(fn, 'dynamodb:PutItem');
  }

  /** For a flow that closes the exceptions it opened once their cause settles (dunning: the invoice paid). */
  grantResolve(fn: IFunction): void {
    this.table.grant(fn, 'dynamodb:UpdateItem');
  }
}
