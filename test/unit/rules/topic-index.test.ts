import { TopicIndex, topicMatches } from '../../../rules/index.js';

describe('topic index', () => {
  it('matches + as exactly one level and # as any remainder including the parent', () => {
    expect(topicMatches('topic/+', 'topic/a')).toBe(true);
    expect(topicMatches('topic/+', 'topic/a/b')).toBe(false);
    expect(topicMatches('topic/+', 'topic')).toBe(false);
    expect(topicMatches('topic/#', 'topic/subtopic-3/details')).toBe(true);
    expect(topicMatches('topic/#', 'topic')).toBe(true);
    expect(topicMatches('topic/#', 'topic-2/subtopic-x')).toBe(false);
    expect(topicMatches('+/+/c', 'a/b/c')).toBe(true);
    expect(topicMatches('/company/+', '/company/x')).toBe(true);
  });

  it('keeps wildcard-first filters away from $ topics but matches explicit ones', () => {
    expect(topicMatches('#', '$aws/things/t/shadow/update')).toBe(false);
    expect(topicMatches('+/things/#', '$aws/things/t')).toBe(false);
    expect(topicMatches('$aws/things/+/shadow/#', '$aws/things/t/shadow/update/delta')).toBe(true);
  });

  it('returns every matching entry once, and none after removal', () => {
    const index = new TopicIndex<string>();
    index.add('a/+/c', 'r1');
    index.add('a/#', 'r2');
    index.add('a/b/c', 'r3');
    index.add('x/y', 'r4');
    expect(index.match('a/b/c').sort()).toEqual(['r1', 'r2', 'r3']);
    expect(index.size).toBe(4);
    index.remove('a/#', 'r2');
    index.remove('a/+/c', 'r1');
    expect(index.match('a/b/c')).toEqual(['r3']);
    index.remove('a/b/c', 'r3');
    index.remove('x/y', 'r4');
    expect(index.size).toBe(0);
    expect(index.match('a/b/c')).toEqual([]);
  });
});
