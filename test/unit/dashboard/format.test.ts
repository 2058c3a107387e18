import { formatAge, formatCell, formatReading } from '../../../dashboard/src/format.js';

describe('format', () => {
  it('describes ages in seconds, minutes and hours', () => {
    const now = 10_000_000;
    expect(formatAge(now - 300, now)).toBe('just now');
    expect(formatAge(now - 3_500, now)).toBe('3 s ago');
    expect(formatAge(now - 125_000, now)).toBe('2 min ago');
    expect(formatAge(now - 2 * 3_600_000, now)).toBe('2 h ago');
    expect(formatAge(0, now)).toBe('—');
    expect(formatAge(now + 5000, now)).toBe('just now'); // browser clock behind the server's
  });

  it('formats readings with fixed decimals and a dash when missing', () => {
    expect(formatReading(21.456, 2, ' °C')).toBe('21.46 °C');
    expect(formatReading(null, 1)).toBe('—');
  });

  it('renders dataset cells of any type as text', () => {
    expect(formatCell(null)).toBe('');
    expect(formatCell(3.5)).toBe('3.5');
    expect(formatCell({ a: 1 })).toBe('{"a":1}');
    expect(formatCell(true)).toBe('true');
  });
});
