// A dataset is saved SQL over datastores: validate its definition once, run its single query
// action through the database's read-only query path.

import type { DatasetDefinition, DatasetResult } from '../types.js';
import { AnalyticsError } from '../errors.js';
import type { Database, QueryOptions } from '../datastore/index.js';

/** Dataset names: 1..128 of [a-zA-Z0-9_], not starting with `__` (AWS IoT Analytics). */
const DATASET_NAME = /^(?!__)[a-zA-Z0-9_]{1,128}$/;
/** Action names: 1..128 of [a-zA-Z0-9_]. */
const ACTION_NAME = /^[a-zA-Z0-9_]{1,128}$/;
/** Generous bound on saved SQL so a definition cannot carry megabytes of text. */
const MAX_SQL_CHARS = 64 * 1024;

function invalid(message: string): AnalyticsError {
  return new AnalyticsError('InvalidRequestException', message);
}

/** Throws InvalidRequestException unless the dataset has a valid name and exactly one SQL query action. */
export function validateDataset(def: DatasetDefinition): void {
  if (def === null || typeof def !== 'object') throw invalid('a dataset definition must be an object');
  const name: unknown = def.datasetName;
  if (typeof name !== 'string' || !DATASET_NAME.test(name)) {
    throw invalid(`invalid datasetName ${JSON.stringify(name)}: 1..128 of [a-zA-Z0-9_], not starting with "__"`);
  }
  const actions: unknown = def.actions;
  if (!Array.isArray(actions) || actions.length !== 1) {
    throw invalid(`dataset ${name} must have exactly one action; got ${Array.isArray(actions) ? actions.length : 'none'}`);
  }
  const action = actions[0] as Record<string, unknown> | null;
  if (action === null || typeof action !== 'object') throw invalid(`dataset ${name}: the action must be an object`);
  const actionName = action.actionName;
  if (typeof actionName !== 'string' || !ACTION_NAME.test(actionName)) {
    throw invalid(`dataset ${name}: invalid actionName ${JSON.stringify(actionName)}: 1..128 of [a-zA-Z0-9_]`);
  }
  if (action.containerAction !== undefined) {
    throw invalid(`dataset ${name}: containerAction is not supported; use a queryAction`);
  }
  const queryAction = action.queryAction as Record<string, unknown> | undefined;
  if (queryAction === null || typeof queryAction !== 'object') {
    throw invalid(`dataset ${name}: action ${actionName} must have a queryAction`);
  }
  const sql = queryAction.sqlQuery;
  if (typeof sql !== 'string' || sql.trim() === '') {
    throw invalid(`dataset ${name}: queryAction.sqlQuery must be a non-empty string`);
  }
  if (sql.length > MAX_SQL_CHARS) {
    throw invalid(`dataset ${name}: queryAction.sqlQuery is longer than ${MAX_SQL_CHARS} characters`);
  }
}

/** Run the dataset's query now and return its content. Errors are coded (see datastore query). */
export async function runDataset(def: DatasetDefinition, db: Database, opts: QueryOptions = {}): Promise<DatasetResult> {
  validateDataset(def);
  const ranAt = Date.now();
  const { columns, rows } = await db.query(def.actions[0].queryAction.sqlQuery, opts);
  return { datasetName: def.datasetName, columns, rows, ranAt };
}
