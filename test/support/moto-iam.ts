/** The IAM tests' moto server; the launcher is shared with the other AWS tests in moto.ts. */
export { startMoto, type MotoServer } from './moto.ts';
