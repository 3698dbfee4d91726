import type { Logger } from 'pino';
import type { NotificationTarget } from '../config/schema.ts';
import type { LoadedConfig } from '../config/load.ts';
import { resolveSecret } from '../config/secrets.ts';
import type { Register } from '../evidence/register.ts';
import type { NotifyInput } from '../workflows/contracts.ts';
import { toFailure } from './failures.ts';

export interface NotifyDeps {
  config: LoadedConfig;
  register: Register;
  log: Logger;
  env?: NodeJS.ProcessEnv;
}

type Event = NotificationTarget['events'][number];

/** Tells the control's notification targets about new nonconformities, evidence gaps and failed runs. */
export async function notify(deps: NotifyDeps, input: NotifyInput): Promise<{ sent: string[] }> {
  const control = deps.config.controls.get(input.controlId);
  if (!control) return { sent: [] };
  const opened = input.reconcile.opened.concat(input.reconcile.reopened).map((id) => deps.register.get(id)).filter((nc) => nc !== undefined);
  const events = new Set<Event>();
  if (opened.some((nc) => nc.checkId !== 'evidence-gap')) events.add('nonconformity-opened');
  if (input.gaps.length > 0) events.add('evidence-gap');
  if (input.status === 'error') events.add('run-error');
  if (events.size === 0) return { sent: [] };

  const lines = [
    `Control ${input.controlId} (${control.control.title}, ${control.references.join(', ')}): ${input.status}`,
    ...opened.map((nc) => `• ${nc.id} [${nc.severity}] ${nc.title}`),
    ...input.gaps.map((gap) => `• evidence gap: ${gap.sourceName}: ${gap.reason}`),
  ];
  const payload = {
    controlId: input.controlId,
    title: control.control.title,
    owner: control.control.owner,
    status: input.status,
    runId: input.runId,
    nonconformities: opened.map((nc) => ({ id: nc.id, title: nc.title, severity: nc.severity, status: nc.status })),
    gaps: input.gaps,
  };

  const sent: string[] = [];
  const revealed: string[] = [];
  try {
    for (const name of control.control.notify) {
      const target = deps.config.config.notifications.find((candidate) => candidate.name === name);
      if (!target || !target.events.some((event) => events.has(event))) continue;
      const url = typeof target.url === 'string' ? target.url : (await resolveSecret(target.url, deps.env)).reveal();
      if (typeof target.url !== 'string') revealed.push(url);
      const body = target.format === 'json' ? payload : { text: lines.join('\n') };
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(15_000) });
      if (!response.ok) throw new Error(`notification target ${name} answered HTTP ${response.status}`);
      sent.push(name);
    }
    return { sent };
  } catch (error) {
    deps.log.warn({ controlId: input.controlId, err: toFailure(error, revealed).message }, 'notification failed');
    throw toFailure(error, revealed);
  }
}
