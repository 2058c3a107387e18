// Retention of what the service stores: channel day partitions (each channel also sweeps itself,
// channel.retentionCheckMs), datastore rows older than the datastore's numberOfDays and alerts
// cleared more than the alert store's retentionDays ago.
import type { AlertStore } from './anomaly/alerts.js';
import type { ServiceCore } from './service-context.js';

/** The service's shared state plus the alert store, whose cleared alerts are swept too. */
export type RetentionCore = ServiceCore & { readonly alerts: Pick<AlertStore, 'applyRetention'> };

const DAY_MS = 86_400_000;

export async function sweepRetention(core: RetentionCore): Promise<void> {
  core.assertOpen();
  for (const { channel } of core.channels.values()) await channel.applyRetention();
  await sweepDatastores(core);
  await sweepAlerts(core);
}

/** Datastore and alert retention: once now, then every `everyMs` (channels run their own sweep).
 * The two are independent: a failing datastore sweep does not keep old alerts. */
export function scheduleRetentionSweeps(core: RetentionCore, everyMs: number): NodeJS.Timeout {
  const sweep = (): void => {
    void sweepDatastores(core).catch(() => undefined);
    void sweepAlerts(core).catch(() => undefined);
  };
  sweep();
  const timer = setInterval(sweep, everyMs);
  timer.unref();
  return timer;
}

/** Cleared alerts older than the store's retentionDays (counted by the store as retentionDeleted). */
async function sweepAlerts(core: RetentionCore): Promise<void> {
  if (core.closing) return;
  await core.alerts.applyRetention();
}

/** Deletes rows whose `__dt` lies in a UTC day wholly older than numberOfDays, as the channel
 * archive drops whole day partitions; today's rows are never touched. */
async function sweepDatastores(core: ServiceCore): Promise<void> {
  for (const name of Object.keys(core.defs.datastores)) await sweepDatastore(core, name);
}

export async function sweepDatastore(core: ServiceCore, name: string): Promise<void> {
  const days = core.defs.datastores[name]?.retentionPeriod?.numberOfDays;
  if (!days || core.closing) return;
  const cutoff = core.now() - days * DAY_MS;
  const deleted = await core.db.deleteRowsBefore(name, cutoff - (cutoff % DAY_MS));
  if (deleted > 0) core.retentionDeletedRows.set(name, (core.retentionDeletedRows.get(name) ?? 0) + deleted);
}
