/**
 * The signed-in person, for this tab only: the token lives in sessionStorage (gone with the tab), never in
 * localStorage or a cookie. What the console shows by role comes from the token's claims; the API checks the
 * same token on every call, so a menu hidden here is also refused there.
 */
export type Role = 'applicant' | 'reviewer' | 'leader' | 'supervisor' | 'admin';

export interface Session {
  token: string;
  userId: string;
  name: string | undefined;
  org: string;
  roles: Role[];
  expiresAt: number;
}

const TOKEN_KEY = 'project-pipeline.token';
const listeners = new Set<() => void>();

export function readToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

function decode(token: string): Session | null {
  try {
    const part = token.split('.')[1];
    if (!part) return null;
    const json = new TextDecoder().decode(
      Uint8Array.from(atob(part.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0)),
    );
    const c = JSON.parse(json) as { sub?: string; name?: string; org?: string; roles?: Role[]; exp?: number };
    if (!c.sub || !c.org || !Array.isArray(c.roles)) return null;
    return {
      token,
      userId: c.sub,
      name: c.name,
      org: c.org,
      roles: c.roles,
      expiresAt: (c.exp ?? 0) * 1000,
    };
  } catch {
    return null;
  }
}

/** The current session, or null when signed out or the token has expired. */
export function currentSession(): Session | null {
  const token = readToken();
  const s = token ? decode(token) : null;
  if (!s || (s.expiresAt && s.expiresAt <= Date.now())) return null;
  return s;
}

export function signIn(token: string): Session {
  const s = decode(token);
  if (!s) throw new Error('令牌无效');
  sessionStorage.setItem(TOKEN_KEY, token);
  listeners.forEach((l) => l());
  return s;
}

export function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  listeners.forEach((l) => l());
}

/** Clears the token and goes to sign-in, which brings one back to `next` afterwards. */
export function signOutTo(next: string): void {
  signOut();
  if (!window.location.pathname.startsWith('/sign-in')) {
    window.location.assign(`/sign-in?next=${encodeURIComponent(next)}&expired=1`);
  }
}

export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
