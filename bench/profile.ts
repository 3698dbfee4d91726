import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the time goes, from a V8 CPU profile (`node --cpu-prof`): self time per function, summed over every node
 * of the call tree that names it, or per package with --by-area. Usage: node bench/profile.ts <file.cpuprofile> [top] [--by-area]
 */

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileFrame {
  name: string;
  /** The file (relative to the project, or the package inside node_modules) and line. */
  where: string;
  selfMs: number;
  selfPercent: number;
}

const root = path.resolve(fileURLToPath(new URL('..', import.meta.url)));

function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  const inModules = file.lastIndexOf('node_modules/');
  if (inModules >= 0) return file.slice(inModules + 'node_modules/'.length);
  return file.startsWith(root) ? path.relative(root, file) : file;
}

/** The package (inside node_modules) or project folder a frame belongs to; V8's own entries keep their name. */
function areaOf(frame: { name: string; where: string }): string {
  if (frame.where === '') return frame.name.startsWith('(') ? frame.name : '(native)';
  if (frame.where.startsWith('node:')) return 'node internals';
  const parts = frame.where.split('/');
  if (parts[0]?.startsWith('@')) return `${parts[0]}/${parts[1] ?? ''}`;
  return parts.length > 1 ? (parts[0] ?? frame.where) : frame.where.split(':')[0]!;
}

/** Self time summed by package or project folder: which layer the time goes to. */
export function summarizeByArea(file: string, top = 12): ProfileFrame[] {
  const areas = new Map<string, ProfileFrame>();
  for (const frame of summarizeProfile(file, Number.POSITIVE_INFINITY)) {
    const area = areaOf(frame);
    const sum = areas.get(area) ?? { name: area, where: '', selfMs: 0, selfPercent: 0 };
    sum.selfMs += frame.selfMs;
    sum.selfPercent += frame.selfPercent;
    areas.set(area, sum);
  }
  return [...areas.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, top);
}

export function summarizeProfile(file: string, top = 15): ProfileFrame[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byNode = new Map<number, CpuProfileNode>(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  if (samples.length > 0 && deltas.length === samples.length) {
    // A sample's delta is the time since the previous sample: it belongs to the previous sample's node.
    for (let i = 1; i < samples.length; i++) selfUs.set(samples[i - 1]!, (selfUs.get(samples[i - 1]!) ?? 0) + Math.max(0, deltas[i]!));
  } else {
    for (const node of profile.nodes) selfUs.set(node.id, (node.hitCount ?? 0) * 1000);
  }
  const frames = new Map<string, { name: string; where: string; us: number }>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const node = byNode.get(id);
    if (!node) continue;
    total += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${name}\u0000${where}`;
    const frame = frames.get(key) ?? { name, where, us: 0 };
    frame.us += us;
    frames.set(key, frame);
  }
  return [...frames.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((frame) => ({ name: frame.name, where: frame.where, selfMs: Math.round(frame.us / 1000), selfPercent: total === 0 ? 0 : (frame.us / total) * 100 }));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const byArea = process.argv.includes('--by-area');
  const [file, top] = process.argv.slice(2).filter((arg) => arg !== '--by-area');
  if (!file) throw new Error('usage: node bench/profile.ts <file.cpuprofile> [top] [--by-area]');
  for (const frame of (byArea ? summarizeByArea : summarizeProfile)(file, Number(top ?? 25))) {
    process.stdout.write(`${frame.selfPercent.toFixed(1).padStart(5)} %  ${String(frame.selfMs).padStart(7)} ms  ${frame.name}  ${frame.where}\n`);
  }
}
