export { SecretsManagerService, type SecretsManagerServiceOptions, type SeedSecret } from './service';
