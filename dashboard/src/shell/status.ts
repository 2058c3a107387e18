// The live connection status line: a short text per hub state; `data-state` carries the kind
// (connecting / live / reconnecting / stopped) for styles and tests. Pure.

import type { LiveState } from '../live.js';

export function describeLiveState(state: LiveState): string {
  switch (state.kind) {
    case 'connecting':
      return state.attempt === 0 ? 'connecting…' : `connecting (attempt ${state.attempt + 1})…`;
    case 'live':
      return state.datastores.length === 0 ? 'live (no datastore yet)' : `live: ${state.datastores.join(', ')}`;
    case 'reconnecting':
      return `disconnected, retrying in ${Math.ceil(state.inMs / 1000)} s`;
    case 'stopped':
      return 'stopped';
  }
}
