// paginate(): name-ordered pages whose token names the last item, so pages stay right when items
// are added or removed between calls.
import { paginate } from '../../../analytics/index.js';

const names = ['a', 'b', 'c', 'd', 'e'];
const id = (s: string) => s;

describe('paginate', () => {
  it('returns at most maxResults items and a token while more follow', () => {
    const first = paginate(names, id, { maxResults: 2 });
    expect(first.items).toEqual(['a', 'b']);
    const second = paginate(names, id, { maxResults: 2, nextToken: first.nextToken });
    expect(second.items).toEqual(['c', 'd']);
    const last = paginate(names, id, { maxResults: 2, nextToken: second.nextToken });
    expect(last).toEqual({ items: ['e'] });
  });

  it('gives 100 items per page by default and no token when everything fits', () => {
    const many = Array.from({ length: 150 }, (_, i) => `n${String(i).padStart(3, '0')}`);
    expect(paginate(many, id).items).toHaveLength(100);
    expect(paginate(names, id)).toEqual({ items: names });
  });

  it('continues after the named item even when items were added or deleted between pages', () => {
    const first = paginate(names, id, { maxResults: 2 });
    expect(paginate(['a', 'aa', 'c', 'd', 'e'], id, { maxResults: 2, nextToken: first.nextToken }).items).toEqual(['c', 'd']);
  });

  it('refuses maxResults outside 1..250 and tokens it did not issue', () => {
    for (const maxResults of [0, 251, 1.5]) expect(() => paginate(names, id, { maxResults })).toThrow(expect.objectContaining({ code: 'InvalidRequestException' }));
    expect(paginate(names, id, { maxResults: 250 }).items).toHaveLength(5);
    expect(() => paginate(names, id, { nextToken: 'garbage' })).toThrow(expect.objectContaining({ code: 'InvalidRequestException' }));
  });
});
