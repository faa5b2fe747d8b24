/**
 * The on-call queries, written once against the AWS SDK: the local console and the `revbridge` CLI
 * use them, against the local runtime's endpoint or a deployed stage alike. One file per job.
 */
export { type ArchiveReplay, replayArchive, replayNameFor } from './archive';
export {
  type DeadLetterQueueRef,
  type DeadLetterQueueState,
  listDeadLetterQueues,
  messageSummary,
  type RedriveResult,
  redriveDeadLetterQueue,
} from './dead-letters';
export {
  type ExceptionDetail,
  type ExceptionItem,
  listExceptions,
  replayException,
  resolveException,
  showException,
} from './exceptions';
export { type ReconcileEntry, type ReconcileRun, startReconciliation } from './reconcile';
export { fullTrail, type Trail, type TrailStep, trailOf } from './trail';
