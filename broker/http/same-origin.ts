// The Origin check for requests a browser session authenticates (and for sign-in itself). Browsers
// send Origin with every cross-origin request and with same-origin POST/PUT/PATCH/DELETE, and page
// scripts cannot forge it; a request whose Origin names another host than the one it was sent to
// was started by another site's page. SameSite=Strict already keeps the cookie off those requests
// in current browsers; this refuses them even where SameSite is not honoured (older browsers,
// sibling subdomains counting as "same site"). Requests without Origin (curl, SDKs, same-origin
// GETs) are not browser cross-site requests and pass. The scheme is not compared: behind a TLS
// proxy the page is https while the server sees http.
import type { IncomingHttpHeaders } from 'node:http';

/** Methods that change state: the ones CSRF is about. */
export const UNSAFE_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** false when an Origin header is present and names another host:port than the Host header. */
export function originMatchesHost(headers: IncomingHttpHeaders): boolean {
  const origin = headers.origin;
  if (origin === undefined) return true;
  const host = headers.host;
  if (!host) return false;
  let originHost: string;
  try {
    originHost = new URL(origin).host; // lower case, the scheme's default port left out
  } catch {
    return false; // "null" (sandboxed frames, file: pages) or garbage
  }
  const target = host.toLowerCase();
  return originHost === target || originHost === withoutDefaultPort(target);
}

function withoutDefaultPort(host: string): string {
  return host.replace(/:(80|443)$/, '');
}
