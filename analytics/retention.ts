// Retention of what the service stores: channel day partitions (each channel also sweeps itself,
// channel.retentionCheckMs) and datastore rows older than the datastore's numberOfDays.
import type { ServiceCore } from './service-context.js';

const DAY_MS = 86_400_000;

export async function sweepRetention(core: ServiceCore): Promise<void> {
  core.assertOpen();
  for (const { channel } of core.channels.values()) await channel.applyRetention();
  await sweepDatastores(core);
}

/** Datastore retention: once now, then every `everyMs` (channels run their own sweep). */
export function scheduleDatastoreSweeps(core: ServiceCore, everyMs: number): NodeJS.Timeout {
  void sweepDatastores(core).catch(() => undefined);
  const timer = setInterval(() => void sweepDatastores(core).catch(() => undefined), everyMs);
  timer.unref();
  return timer;
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
