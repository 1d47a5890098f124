/** What every page can reach: the session, the API, and a signal that the history changed. */
import { createContext, useContext } from 'react';
import type { AuthClient } from '../api/auth';
import type { Api } from '../api/client';
import type { User } from '../api/types';

/** The app's shared services. */
export interface AppServices {
  auth: AuthClient;
  api: Api;
  user: User;
  /** Bumped when conversations change (a run ended, a rename), so the sidebar reloads. */
  historyVersion: number;
  bumpHistory: () => void;
  /** Bumped when approvals may have changed. */
  approvalsVersion: number;
  bumpApprovals: () => void;
}

/** The context carrying [`AppServices`]. */
export const AppContext = createContext<AppServices | null>(null);

/** The app's services (inside the signed-in shell). */
export function useApp(): AppServices {
  const s = useContext(AppContext);
  if (!s) throw new Error('useApp outside the signed-in app');
  return s;
}

/** True when the user may approve, deny and stop others' runs. */
export function canOperate(user: User): boolean {
  return user.role === 'admin' || user.role === 'operator';
}
