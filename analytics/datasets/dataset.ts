// A dataset is saved SQL over datastores: its definition is checked once and normalised (only the
// members we know, defaults left unset), then its single query action runs through the database's
// read-only query path (one SELECT, external access disabled, a time limit).

import type { DatasetDefinition, DatasetResult, DatasetTrigger, DatasetContentDeliveryRule, RetentionPeriod } from '../types.js';
import { AnalyticsError } from '../errors.js';
import type { Database, QueryOptions } from '../datastore/index.js';
import { translatePresto } from './presto.js';
import { parseSchedule } from './schedule.js';
import { checkTimeExpression } from './delta.js';
import { checkDatasetSql } from './sql-guard.js';

/** Dataset names: 1..128 of [a-zA-Z0-9_], not starting with `__` (AWS IoT Analytics). */
const DATASET_NAME = /^(?!__)[a-zA-Z0-9_]{1,128}$/;
/** Action names and late-data rule names: 1..128 of [a-zA-Z0-9_]. */
const ACTION_NAME = /^[a-zA-Z0-9_]{1,128}$/;
/** Generous bound on saved SQL so a definition cannot carry megabytes of text. */
const MAX_SQL_CHARS = 64 * 1024;
const S3_BUCKET = /^[a-zA-Z0-9.\-_]{3,255}$/;
const S3_KEY = /^[a-zA-Z0-9!_.*'()/{}:-]{1,255}$/;
export const MAX_TRIGGERS = 5;
export const MAX_DELIVERY_RULES = 20;

function invalid(message: string): AnalyticsError {
  return new AnalyticsError('InvalidRequestException', message);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Throws InvalidRequestException unless the definition is valid; see normaliseDataset. */
export function validateDataset(def: DatasetDefinition): void {
  normaliseDataset(def);
}

/** A clean copy of a CreateDataset/UpdateDataset body with only the members we keep, or an
 * InvalidRequestException naming the first problem. */
export function normaliseDataset(def: unknown): DatasetDefinition {
  if (!isObject(def)) throw invalid('a dataset definition must be an object');
  const name = def.datasetName;
  if (typeof name !== 'string' || !DATASET_NAME.test(name)) {
    throw invalid(`invalid datasetName ${JSON.stringify(name)}: 1..128 of [a-zA-Z0-9_], not starting with "__"`);
  }
  const out: DatasetDefinition = { datasetName: name, actions: [queryActionOf(name, def.actions)] };
  const hasDelta = (out.actions[0].queryAction.filters?.length ?? 0) > 0;
  if (def.triggers !== undefined && def.triggers !== null) out.triggers = triggersOf(name, def.triggers);
  if (def.contentDeliveryRules !== undefined && def.contentDeliveryRules !== null) out.contentDeliveryRules = deliveryRulesOf(name, def.contentDeliveryRules);
  if (def.retentionPeriod !== undefined && def.retentionPeriod !== null) out.retentionPeriod = retentionOf(def.retentionPeriod);
  if (def.versioningConfiguration !== undefined && def.versioningConfiguration !== null) out.versioningConfiguration = versioningOf(def.versioningConfiguration);
  if (def.lateDataRules !== undefined && def.lateDataRules !== null) {
    if (!hasDelta) throw invalid(`dataset ${name}: lateDataRules need a queryAction with a deltaTime filter`);
    out.lateDataRules = lateDataRulesOf(name, def.lateDataRules);
  }
  return out;
}

function queryActionOf(name: string, actions: unknown): DatasetDefinition['actions'][number] {
  if (!Array.isArray(actions) || actions.length !== 1) {
    throw invalid(`dataset ${name} must have exactly one action; got ${Array.isArray(actions) ? actions.length : 'none'}`);
  }
  const action: unknown = actions[0];
  if (!isObject(action)) throw invalid(`dataset ${name}: the action must be an object`);
  const actionName = action.actionName;
  if (typeof actionName !== 'string' || !ACTION_NAME.test(actionName)) {
    throw invalid(`dataset ${name}: invalid actionName ${JSON.stringify(actionName)}: 1..128 of [a-zA-Z0-9_]`);
  }
  if (action.containerAction !== undefined && action.containerAction !== null) {
    throw invalid(`dataset ${name}: container datasets are not available here (containerAction); use a queryAction with SQL`);
  }
  const queryAction = action.queryAction;
  if (!isObject(queryAction)) throw invalid(`dataset ${name}: action ${actionName} must have a queryAction`);
  const sql = queryAction.sqlQuery;
  if (typeof sql !== 'string' || sql.trim() === '') throw invalid(`dataset ${name}: queryAction.sqlQuery must be a non-empty string`);
  if (sql.length > MAX_SQL_CHARS) throw invalid(`dataset ${name}: queryAction.sqlQuery is longer than ${MAX_SQL_CHARS} characters`);
  const result: DatasetDefinition['actions'][number] = { actionName, queryAction: { sqlQuery: sql } };
  const filters = queryAction.filters;
  if (filters !== undefined && filters !== null) {
    if (!Array.isArray(filters) || filters.length > 1) throw invalid(`dataset ${name}: queryAction.filters holds at most one filter`);
    if (filters.length === 1) {
      const delta = isObject(filters[0]) ? filters[0].deltaTime : undefined;
      if (!isObject(delta)) throw invalid(`dataset ${name}: a filter must be {deltaTime: {offsetSeconds, timeExpression}}`);
      const offsetSeconds = delta.offsetSeconds;
      if (typeof offsetSeconds !== 'number' || !Number.isInteger(offsetSeconds) || Math.abs(offsetSeconds) > 366 * 86400) {
        throw invalid(`dataset ${name}: deltaTime.offsetSeconds must be a whole number of seconds`);
      }
      result.queryAction.filters = [{ deltaTime: { offsetSeconds, timeExpression: checkTimeExpression(delta.timeExpression) } }];
    } else result.queryAction.filters = [];
  }
  return result;
}

function triggersOf(name: string, triggers: unknown): DatasetTrigger[] {
  if (!Array.isArray(triggers) || triggers.length > MAX_TRIGGERS) throw invalid(`dataset ${name}: triggers holds 0..${MAX_TRIGGERS} entries`);
  return triggers.map((t: unknown): DatasetTrigger => {
    if (!isObject(t) || (t.schedule === undefined) === (t.dataset === undefined)) {
      throw invalid(`dataset ${name}: a trigger is {schedule: {expression}} or {dataset: {name}}`);
    }
    if (isObject(t.schedule)) {
      const expression = parseSchedule(t.schedule.expression).expression;
      return { schedule: { expression } };
    }
    const other = isObject(t.dataset) ? t.dataset.name : undefined;
    if (typeof other !== 'string' || !DATASET_NAME.test(other)) throw invalid(`dataset ${name}: trigger dataset.name ${JSON.stringify(other)} is not a dataset name`);
    if (other === name) throw invalid(`dataset ${name}: a dataset cannot trigger itself`);
    return { dataset: { name: other } };
  });
}

function deliveryRulesOf(name: string, rules: unknown): DatasetContentDeliveryRule[] {
  if (!Array.isArray(rules) || rules.length > MAX_DELIVERY_RULES) throw invalid(`dataset ${name}: contentDeliveryRules holds 0..${MAX_DELIVERY_RULES} entries`);
  return rules.map((r: unknown): DatasetContentDeliveryRule => {
    if (!isObject(r) || !isObject(r.destination)) throw invalid(`dataset ${name}: a content delivery rule needs a destination`);
    if (r.destination.iotEventsDestinationConfiguration !== undefined) {
      throw invalid(`dataset ${name}: IoT Events delivery is not available here; use s3DestinationConfiguration (delivered to a local directory)`);
    }
    const s3 = r.destination.s3DestinationConfiguration;
    if (!isObject(s3)) throw invalid(`dataset ${name}: a destination is {s3DestinationConfiguration: {bucket, key, roleArn}}`);
    if (typeof s3.bucket !== 'string' || !S3_BUCKET.test(s3.bucket)) throw invalid(`dataset ${name}: bucket must be 3..255 of [a-zA-Z0-9.-_]`);
    if (typeof s3.key !== 'string' || !S3_KEY.test(s3.key) || s3.key.split('/').some((seg) => seg === '..' || seg === '.')) {
      throw invalid(`dataset ${name}: key must be 1..255 of [a-zA-Z0-9!_.*'()/{}:-] without "." or ".." segments`);
    }
    const rule: DatasetContentDeliveryRule = { destination: { s3DestinationConfiguration: { bucket: s3.bucket, key: s3.key } } };
    const dest = rule.destination.s3DestinationConfiguration!;
    if (typeof s3.roleArn === 'string') dest.roleArn = s3.roleArn;
    const glue = s3.glueConfiguration;
    if (isObject(glue) && typeof glue.tableName === 'string' && typeof glue.databaseName === 'string') {
      dest.glueConfiguration = { tableName: glue.tableName, databaseName: glue.databaseName };
    }
    if (r.entryName !== undefined) {
      if (typeof r.entryName !== 'string' || r.entryName.length > 255) throw invalid(`dataset ${name}: entryName must be a string of at most 255 characters`);
      rule.entryName = r.entryName;
    }
    return rule;
  });
}

function retentionOf(r: unknown): RetentionPeriod {
  if (!isObject(r)) throw invalid('retentionPeriod must be {unlimited} or {numberOfDays}');
  if (r.unlimited === true) {
    if (r.numberOfDays !== undefined) throw invalid('retentionPeriod: numberOfDays needs unlimited false');
    return { unlimited: true };
  }
  const days = r.numberOfDays;
  if (typeof days !== 'number' || !Number.isInteger(days) || days < 1) throw invalid('retentionPeriod.numberOfDays must be a whole number ≥ 1 (or unlimited: true)');
  return { unlimited: false, numberOfDays: days };
}

function versioningOf(v: unknown): NonNullable<DatasetDefinition['versioningConfiguration']> {
  if (!isObject(v)) throw invalid('versioningConfiguration must be {unlimited} or {maxVersions}');
  if (v.unlimited === true) {
    if (v.maxVersions !== undefined) throw invalid('versioningConfiguration: maxVersions cannot be set with unlimited true');
    return { unlimited: true };
  }
  const max = v.maxVersions;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 1000) throw invalid('versioningConfiguration.maxVersions must be 1..1000 (or unlimited: true)');
  return { unlimited: false, maxVersions: max };
}

function lateDataRulesOf(name: string, rules: unknown): NonNullable<DatasetDefinition['lateDataRules']> {
  if (!Array.isArray(rules) || rules.length !== 1) throw invalid(`dataset ${name}: lateDataRules holds exactly one rule`);
  const r: unknown = rules[0];
  const window = isObject(r) && isObject(r.ruleConfiguration) ? r.ruleConfiguration.deltaTimeSessionWindowConfiguration : undefined;
  const timeout = isObject(window) ? window.timeoutInMinutes : undefined;
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1 || timeout > 60) {
    throw invalid(`dataset ${name}: lateDataRules[0].ruleConfiguration.deltaTimeSessionWindowConfiguration.timeoutInMinutes must be 1..60`);
  }
  const rule: NonNullable<DatasetDefinition['lateDataRules']>[number] = { ruleConfiguration: { deltaTimeSessionWindowConfiguration: { timeoutInMinutes: timeout } } };
  const ruleName = (r as Record<string, unknown>).ruleName;
  if (ruleName !== undefined) {
    if (typeof ruleName !== 'string' || !ACTION_NAME.test(ruleName)) throw invalid(`dataset ${name}: lateDataRules ruleName must be 1..128 of [a-zA-Z0-9_]`);
    rule.ruleName = ruleName;
  }
  return [rule];
}

/** The query the dataset runs, in DuckDB's dialect (Presto differences translated). */
export function datasetSql(def: DatasetDefinition): string {
  return translatePresto(def.actions[0].queryAction.sqlQuery);
}

/** Run the dataset's query now (no deltaTime window) and return its content. Errors are coded
 * (see datastore query). */
export async function runDataset(def: DatasetDefinition, db: Database, opts: QueryOptions = {}): Promise<DatasetResult> {
  validateDataset(def);
  const ranAt = Date.now();
  const sql = datasetSql(def);
  await checkDatasetSql(db, sql, opts);
  const { columns, rows } = await db.query(sql, opts);
  return { datasetName: def.datasetName, columns, rows, ranAt };
}
