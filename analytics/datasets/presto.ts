// Presto (Athena, the dialect AWS IoT Analytics users write) → DuckDB. Only differences that are
// safe to rewrite token by token are translated, never inside a string literal or comment
// (spec §5.5). Everything else is documented in README ("IoT Analytics API: datasets"):
// integer division (`5/2` is 2 in Presto, 2.5 here) and date_format/date_parse (MySQL-style
// patterns; use strftime/strptime).
import type { Token } from './sql-tokens.js';
import { nextSignificant, quoteIdentifier, render, tokenize } from './sql-tokens.js';

/** Presto function → DuckDB function with the same arguments. */
const FUNCTIONS: Readonly<Record<string, string>> = {
  from_unixtime: 'to_timestamp',
  json_extract_scalar: 'json_extract_string',
  regexp_like: 'regexp_matches',
  approx_percentile: 'approx_quantile',
  cardinality: 'len',
};

export function translatePresto(sql: string): string {
  return render(translateTokens(tokenize(sql)));
}

export function translateTokens(tokens: readonly Token[]): Token[] {
  return tokens.map((t, i): Token => {
    if (t.kind === 'backquoted') {
      // `name` → "name" (a doubled back-quote inside is one back-quote)
      return { kind: 'quoted', text: quoteIdentifier(t.text.slice(1, -1).replaceAll('``', '`')) };
    }
    if (t.kind === 'word') {
      const to = FUNCTIONS[t.text.toLowerCase()];
      if (to !== undefined) {
        const next = nextSignificant(tokens, i);
        // only a call: a column that happens to be named `cardinality` stays as it is
        if (next >= 0 && tokens[next].text === '(') return { kind: 'word', text: to };
      }
    }
    return t;
  });
}
