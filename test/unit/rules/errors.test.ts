import { RULES_ERRORS, RulesError } from '../../../rules/index.js';

describe('rules error table', () => {
  it('documents every code with an HTTP status and a one-line description', () => {
    for (const [code, entry] of Object.entries(RULES_ERRORS)) {
      expect(code).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(entry.statusCode).toBeGreaterThanOrEqual(400);
      expect(entry.description.length).toBeGreaterThan(10);
      expect(entry.description).not.toContain('\n');
    }
  });

  it('gives each error its code and status', () => {
    const e = new RulesError('SqlParseException', 'bad');
    expect([e.code, e.statusCode, e.name, e.message]).toEqual(['SqlParseException', 400, 'SqlParseException', 'bad']);
  });
});
