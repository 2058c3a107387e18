// The operator session cookie (`iotcore_session`, broker/contract.ts). HttpOnly keeps the token
// away from page scripts; SameSite=Strict keeps browsers from sending it with requests other sites
// start (links, forms, fetches), which with the Origin check (same-origin.ts) is the CSRF defence;
// Secure is added when the request came over HTTPS (directly or, per X-Forwarded-Proto, through a
// proxy), so the cookie also works on a plain-HTTP development server.
import type { IncomingHttpHeaders } from 'node:http';
import type { SessionCookieName } from '../contract.js';

export const SESSION_COOKIE: SessionCookieName = 'iotcore_session';

/** The session token in a Cookie header, if any (the first `iotcore_session`). */
export function sessionTokenOf(headers: IncomingHttpHeaders): string | undefined {
  const header = headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    return value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  }
  return undefined;
}

/** Whether the client reached us over HTTPS. */
export function cameOverHttps(headers: IncomingHttpHeaders, socketEncrypted: boolean): boolean {
  if (socketEncrypted) return true;
  const proto = headers['x-forwarded-proto'];
  const first = (Array.isArray(proto) ? proto[0] : proto)?.split(',')[0]?.trim().toLowerCase();
  return first === 'https';
}

export function sessionCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(secure: boolean): string {
  return sessionCookie('', 0, secure);
}
