// Coded errors of the rules engine. One table, so codes stay unique and documented; the HTTP
// layer maps `statusCode` and `code` straight onto the AWS error shape (x-amzn-ErrorType).

export const RULES_ERRORS = {
  SqlParseException: { statusCode: 400, description: 'The rule SQL cannot be parsed or compiled; the message names the position (1-based column) and the reason.' },
  InvalidRequestException: { statusCode: 400, description: 'The rule name or TopicRulePayload is invalid (bad name, missing field, unsupported action type, bad template).' },
  RuleActionFailedException: { statusCode: 500, description: 'At least one iotAnalytics action of a rule failed for a message; the broker must not acknowledge it.' },
} as const;

export type RulesErrorCode = keyof typeof RULES_ERRORS;

export class RulesError extends Error {
  readonly code: RulesErrorCode;
  readonly statusCode: number;
  constructor(code: RulesErrorCode, message: string) {
    super(message);
    this.name = code;
    this.code = code;
    this.statusCode = RULES_ERRORS[code].statusCode;
  }
}

/** A SQL error at a 0-based offset of the statement; the message shows a 1-based column. */
export function sqlError(offset: number, reason: string): RulesError {
  return new RulesError('SqlParseException', `SQL error at position ${offset + 1}: ${reason}`);
}

export function invalidRequest(message: string): RulesError {
  return new RulesError('InvalidRequestException', message);
}
