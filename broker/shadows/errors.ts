// The Device Shadow service's rejections. Each is a BrokerError (so the data-plane routes answer
// with the AWS exception name in `x-amzn-ErrorType`) whose message is the text AWS IoT sends
// (spec §4.4), so MQTT devices get the same `{code, message}` error document they get from AWS.
import { BrokerError, type BrokerErrorCode } from '../errors.js';

/** Every rejection the service makes: the AWS exception name and the exact AWS message. */
export const SHADOW_REJECTIONS = {
  invalidJson: { code: 'InvalidRequestException', message: 'Invalid JSON', description: 'the payload is not a JSON object' },
  missingState: { code: 'InvalidRequestException', message: 'Missing required node: state', description: 'an update without a state node' },
  stateNotObject: { code: 'InvalidRequestException', message: 'State node must be an object', description: 'state is not an object (or null)' },
  desiredNotObject: { code: 'InvalidRequestException', message: 'Desired node must be an object', description: 'state.desired is not an object (or null)' },
  reportedNotObject: { code: 'InvalidRequestException', message: 'Reported node must be an object', description: 'state.reported is not an object (or null)' },
  invalidNode: { code: 'InvalidRequestException', message: 'State contains an invalid node', description: 'state has a member other than desired and reported, or an array holds null' },
  invalidVersion: { code: 'InvalidRequestException', message: 'Invalid version', description: 'version is not a whole number >= 0' },
  invalidClientToken: { code: 'InvalidRequestException', message: 'Invalid clientToken', description: 'clientToken is not a string of at most 64 bytes' },
  tooDeep: { code: 'InvalidRequestException', message: 'JSON contains too many levels of nesting; maximum is {max}', description: 'desired or reported nests deeper than the limit (6)' },
  invalidName: { code: 'InvalidRequestException', message: '{what} name {name} is invalid', description: 'a thing name outside [a-zA-Z0-9:_-]{1,128} or a shadow name outside [$a-zA-Z0-9:_-]{1,64}' },
  notFound: { code: 'ResourceNotFoundException', message: "No shadow exists with name: '{name}'", description: 'get or delete of a shadow that does not exist (never created, or deleted)' },
  versionConflict: { code: 'ConflictException', message: 'Version conflict', description: 'the update names a version other than the current one' },
  tooLarge: { code: 'RequestEntityTooLargeException', message: 'The payload exceeds the maximum size allowed', description: 'desired + reported would exceed 8 KB (8192 bytes of JSON)' },
} as const satisfies Record<string, { code: BrokerErrorCode; message: string; description: string }>;

export type ShadowRejection = keyof typeof SHADOW_REJECTIONS;

export function rejection(kind: ShadowRejection, vars: Record<string, string | number> = {}): BrokerError {
  const { code, message } = SHADOW_REJECTIONS[kind];
  return new BrokerError(code, message.replace(/\{(\w+)\}/g, (_m, k: string) => String(vars[k] ?? '')));
}
