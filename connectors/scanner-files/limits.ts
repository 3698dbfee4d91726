/**
 * The longest single value a reader keeps from a scan export unless the config says otherwise (`maxValueBytes`):
 * far above any real one (a Nessus plugin output, a SARIF rule's help text), far below what would exhaust a worker.
 */
export const DEFAULT_MAX_VALUE_BYTES = 16 * 1024 * 1024;
