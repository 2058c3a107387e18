// The live hub learns the datastores from the server's hello, which may come after a view is
// shown; this waits for them without the view polling on its own.

import type { LiveHub } from '../view.js';

/** Calls `then` once the hub knows at least one datastore (at once if it does); returns a cancel. */
export function whenDatastoresKnown(live: LiveHub, then: (datastores: readonly string[]) => void, pollMs = 250): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let cancelled = false;
  const check = () => {
    timer = null;
    if (cancelled) return;
    if (live.datastores.length > 0) then(live.datastores);
    else timer = setTimeout(check, pollMs);
  };
  check();
  return () => {
    cancelled = true;
    if (timer !== null) clearTimeout(timer);
  };
}
