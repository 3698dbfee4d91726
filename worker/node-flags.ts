/**
 * The V8 flags the worker process runs with: the npm scripts, the `isms` shebang, the Dockerfile and docker-compose.yml
 * pass them (test/worker/node-flags.test.ts holds them to this list), and the benchmarks run our side with them.
 *
 * A 16 MiB semi-space bounds the young generation. Left to itself V8 keeps growing it over a long streaming
 * activity although nothing is retained (a 1 GB Nessus file: new space 34 -> 134 MB, old space flat at 16-21 MB),
 * so peak RSS followed how long an activity ran rather than what it held. Measured on this machine with the flag:
 * Nessus XML peak RSS 142 MB at 100 MB and 151 MB at 1 GB (179 MB without), the access checks over 300k identities
 * 430 MB (475 MB without), both at the same speed within noise. The price: more scavenges where much is short-lived
 * and much is held, as in the evidence-write benchmark (1M records held while a snapshot of them is written):
 * 3.89 s against 3.41 s, mean of 5 runs each. A worker's memory ceiling is what gets it killed; its collection waits
 * on APIs far longer than it serializes, so memory wins this trade.
 */
export const WORKER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=16'];
