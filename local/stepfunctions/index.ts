export {
  DefinitionError,
  type DynamoDbOperation,
  type LoadedDefinition,
  loadDefinition,
  type TaskIntegration,
} from './definition';
export {
  type EngineSnapshot,
  type ExecutionDescription,
  type ExecutionStatus,
  type HistoryEvent,
  isValidName,
  type StartExecutionResult,
  type StateMachineDescription,
  type StateMachineType,
  StepFunctionsEngine,
  type StepFunctionsEngineOptions,
} from './engine';
export {
  type DynamoDbCall,
  type InvokeLambda,
  LambdaServiceException,
  type PutEvents,
  type PutEventsOutput,
  type PutEventsRequestEntry,
} from './integrations';
export { installPromiseWithResolvers } from './promise-with-resolvers';
export { StepFunctionsService } from './service';
