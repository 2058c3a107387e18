// Segment files: a segment is a sequence of gzip members, one per write batch, which together
// form a valid multi-member gzip file. Reading is tolerant of a torn tail (a crash mid-write):
// everything up to the damage is returned.
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip, constants as zlibConstants } from 'node:zlib';
import type { ArchivedMessage } from '../types.js';
import { decodeRecord } from './records.js';

/** Yields the records of one segment in file order; stops quietly at a damaged tail. */
export async function* readSegment(file: string, channelName: string): AsyncGenerator<ArchivedMessage> {
  // Z_SYNC_FLUSH: a truncated last member yields what it has instead of an error.
  const gunzip = createGunzip({ finishFlush: zlibConstants.Z_SYNC_FLUSH });
  const source = createReadStream(file);
  source.on('error', (e) => gunzip.destroy(e));
  source.pipe(gunzip);
  let rest = '';
  const decoder = new StringDecoder('utf8'); // a chunk may end inside a multi-byte character
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      const text = rest + decoder.write(chunk);
      const lines = text.split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (line.length === 0) continue;
        const rec = decodeRecord(channelName, line);
        if (rec) yield rec;
      }
    }
  } catch {
    // damaged member: keep what was read before it
  } finally {
    source.destroy();
    gunzip.destroy();
  }
  // A final line without its newline is a torn write unless it parses completely.
  if (rest.length > 0) {
    const rec = decodeRecord(channelName, rest);
    if (rec) yield rec;
  }
}
