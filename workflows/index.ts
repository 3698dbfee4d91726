export { controlRun } from './control-run.ts';
