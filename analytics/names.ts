// Resource names (channel, pipeline, datastore, dataset): 1..128 characters of [a-zA-Z0-9_] as
// in the IoT Analytics API model. They become directory and table names, so the rule also keeps
// paths and SQL identifiers safe.
import { invalidRequest } from './errors.js';

/** letters, digits, underscore; not starting with `__` (the model's `(^(?!_{2}))(^[a-zA-Z0-9_]+$)`) */
const RESOURCE_NAME = /^(?!__)[a-zA-Z0-9_]+$/;

export function checkResourceName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name.length < 1 || name.length > 128 || !RESOURCE_NAME.test(name)) {
    throw invalidRequest(`${what} must be 1..128 characters of [a-zA-Z0-9_] not starting with __, got ${JSON.stringify(name)}`);
  }
  return name;
}
