// Location hash ↔ route. `#/device/sensor-1` → {name: 'device', params: ['sensor-1']}; anything
// unknown or empty is the fleet. Pure.

export const ROUTES = ['fleet', 'device', 'alerts', 'rules', 'datasets'] as const;
export type RouteName = (typeof ROUTES)[number];

export interface Route {
  name: RouteName;
  params: string[];
}

export const DEFAULT_ROUTE: Route = { name: 'fleet', params: [] };

function decode(part: string): string | null {
  try {
    return decodeURIComponent(part);
  } catch {
    return null; // a malformed escape: treat the hash as unknown
  }
}

export function parseHash(hash: string): Route {
  const path = hash.replace(/^#\/?/, '');
  if (path === '') return DEFAULT_ROUTE;
  const parts = path.split('/').map(decode);
  if (parts.some((part) => part === null)) return DEFAULT_ROUTE;
  const [name, ...params] = parts as string[];
  if (!(ROUTES as readonly string[]).includes(name)) return DEFAULT_ROUTE;
  // A device route without a device id has nothing to show.
  if (name === 'device' && (params.length === 0 || params[0] === '')) return DEFAULT_ROUTE;
  return { name: name as RouteName, params };
}

/** The hash of a route, its parameters escaped (a thing name may hold `:` or `#`). */
export function routeHash(name: RouteName, ...params: string[]): string {
  return `#/${[name, ...params.map((p) => encodeURIComponent(p))].join('/')}`;
}

/** The nav entry a route belongs to (the device view sits under the fleet). */
export function navSection(route: Route): RouteName {
  return route.name === 'device' ? 'fleet' : route.name;
}
