// Datastore partitions (`datastorePartitions`) as the Parquet export lays them out, and the
// translation of a timestampPartition's `timestampFormat` (a Java DateTimeFormatter pattern, spec
// §4.1) into DuckDB's strptime format. Pure: checked once at CreateDatastore.
//
// Export layout (hive partition directories, in this order):
//   __dt=YYYY-MM-DD                the UTC ingestion day (AWS's daily `__dt`)
//   <attributeName>=<value>        one level per attributePartition, in definition order
//   __year=/__month=/__day=/__hour= a timestampPartition's attribute, parsed with timestampFormat
//                                  (default: seconds since the epoch), as AWS's query-side names

import { invalidRequest } from '../errors.js';
import type { DatastorePartitions } from '../types.js';

export const TIME_PARTITION_COLUMNS = ['__year', '__month', '__day', '__hour'] as const;

/** Java DateTimeFormatter letters we translate; count → strptime directive (longest count wins). */
const DIRECTIVES: Record<string, [number, string][]> = {
  y: [[4, '%Y'], [3, '%Y'], [2, '%y'], [1, '%Y']],
  u: [[4, '%Y'], [3, '%Y'], [2, '%y'], [1, '%Y']],
  M: [[4, '%B'], [3, '%b'], [2, '%m'], [1, '%m']],
  L: [[4, '%B'], [3, '%b'], [2, '%m'], [1, '%m']],
  d: [[2, '%d'], [1, '%d']],
  D: [[3, '%j'], [2, '%j'], [1, '%j']],
  H: [[2, '%H'], [1, '%H']],
  h: [[2, '%I'], [1, '%I']],
  a: [[1, '%p']],
  m: [[2, '%M'], [1, '%M']],
  s: [[2, '%S'], [1, '%S']],
  S: [[9, '%n'], [6, '%f'], [3, '%g']],
  E: [[4, '%A'], [3, '%a'], [2, '%a'], [1, '%a']],
  X: [[3, '%z'], [2, '%z'], [1, '%z']],
  x: [[3, '%z'], [2, '%z'], [1, '%z']],
  Z: [[3, '%z'], [2, '%z'], [1, '%z']],
};

/** The DuckDB strptime format of a Java DateTimeFormatter pattern; InvalidRequestException if we cannot read it. */
export function strptimeFormat(pattern: string, where = 'timestampFormat'): string {
  let out = '';
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern[i];
    if (ch === "'") {
      // quoted literal; '' is a single quote
      const close = pattern.indexOf("'", i + 1);
      if (close < 0) throw invalidRequest(`${where} ${JSON.stringify(pattern)}: unterminated quote`);
      out += close === i + 1 ? "'" : escapeLiteral(pattern.slice(i + 1, close));
      i = close + 1;
      continue;
    }
    if (/[A-Za-z]/.test(ch)) {
      let n = 1;
      while (pattern[i + n] === ch) n++;
      const directive = DIRECTIVES[ch]?.find(([count]) => count === n)?.[1];
      if (!directive) {
        throw invalidRequest(
          `${where} ${JSON.stringify(pattern)}: "${ch.repeat(n)}" is not supported; use y/u (year), M (month), d (day), D (day of year), H/h (hour), a, m (minute), s (second), S/SSS/SSSSSS/SSSSSSSSS (fraction), E (weekday), X/x/Z (offset) and 'quoted' literals`,
        );
      }
      out += directive;
      i += n;
      continue;
    }
    if (/[[\]{}#]/.test(ch)) throw invalidRequest(`${where} ${JSON.stringify(pattern)}: optional sections and reserved characters (${ch}) are not supported`);
    out += escapeLiteral(ch);
    i++;
  }
  if (!/%[YyjdmbB]/.test(out) && !/%[HIMS]/.test(out)) throw invalidRequest(`${where} ${JSON.stringify(pattern)} has neither a date nor a time field`);
  return out;
}

function escapeLiteral(text: string): string {
  return text.replace(/%/g, '%%');
}

export interface PartitionPlan {
  /** attributePartition names in definition order */
  attributes: string[];
  /** the timestampPartition, if any; format undefined = seconds since the epoch */
  timestamp?: { attributeName: string; strptime?: string };
}

/**
 * Validates the partitions beyond their shape (resources.ts checks that): names unique
 * (case-insensitive), not one of our own partition names, a readable timestampFormat. AWS accepts
 * a partition on an attribute a Parquet schema does not declare (spec §4.1), so we do too; such
 * an attribute is not stored, and its export level reads __HIVE_DEFAULT_PARTITION__ (README).
 */
export function planPartitions(p: DatastorePartitions | undefined): PartitionPlan {
  const plan: PartitionPlan = { attributes: [] };
  const seen = new Set<string>();
  for (const [i, part] of (p?.partitions ?? []).entries()) {
    const body = 'attributePartition' in part ? part.attributePartition : part.timestampPartition;
    const name = body.attributeName;
    const key = name.toLowerCase();
    const where = `datastorePartitions.partitions[${i}]`;
    if (key === '__dt' || (TIME_PARTITION_COLUMNS as readonly string[]).includes(key) || key === '__ingested_at') {
      throw invalidRequest(`${where}.attributeName "${name}" is reserved for the partitions this server adds`);
    }
    if (seen.has(key)) throw invalidRequest(`${where}.attributeName "${name}" is partitioned on twice`);
    seen.add(key);
    if ('attributePartition' in part) {
      plan.attributes.push(name);
    } else {
      const format = part.timestampPartition.timestampFormat;
      plan.timestamp = { attributeName: name, ...(format === undefined ? {} : { strptime: strptimeFormat(format, `${where}.timestampFormat`) }) };
    }
  }
  return plan;
}
