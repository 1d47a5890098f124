/** Typed calls to `/api/v1`, through the session's authenticated fetch. */
import type { AuthClient } from './auth';
import { ApiError, errorFrom } from './errors';
import type {
  Approval,
  ApprovalStatus,
  AuditEntry,
  AuditVerification,
  Conversation,
  ConversationReplay,
  Health,
  Integration,
  Role,
  Run,
  RunStartedResponse,
  UsageBucket,
  User,
} from './types';

/** The API, for one session. */
export class Api {
  constructor(readonly auth: AuthClient) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.headers = { 'content-type': 'application/json' };
      init.body = JSON.stringify(body);
    }
    const res = await this.auth.fetch(`/api/v1${path}`, init);
    if (!res.ok) throw await errorFrom(res);
    if (res.status === 204) return undefined as T;
    try {
      return (await res.json()) as T;
    } catch {
      throw new ApiError(res.status, 'bad_response', 'the server answered something that is not JSON');
    }
  }

  /** `GET /health` (public). */
  health(): Promise<Health> {
    return this.call('GET', '/health');
  }

  /** The caller's conversations (admins: everyone's with `all`), newest first. */
  async conversations(search = '', all = false): Promise<Conversation[]> {
    const q = new URLSearchParams();
    if (search.trim()) q.set('search', search.trim());
    if (all) q.set('scope', 'all');
    const qs = q.toString();
    return (await this.call<{ items: Conversation[] }>('GET', `/conversations${qs ? `?${qs}` : ''}`)).items;
  }

  /** Everything needed to replay a conversation. */
  conversation(id: string): Promise<ConversationReplay> {
    return this.call('GET', `/conversations/${encodeURIComponent(id)}`);
  }

  /** Starts a conversation (first message) or continues one; answers the new run. */
  send(conversationId: string | null, message: string, context?: string): Promise<RunStartedResponse> {
    const body = context ? { message, context } : { message };
    return conversationId
      ? this.call('POST', `/conversations/${encodeURIComponent(conversationId)}/messages`, body)
      : this.call('POST', '/conversations', body);
  }

  /** Renames a conversation. */
  rename(id: string, title: string): Promise<Conversation> {
    return this.call('PATCH', `/conversations/${encodeURIComponent(id)}`, { title });
  }

  /** Deletes a conversation. */
  deleteConversation(id: string): Promise<void> {
    return this.call('DELETE', `/conversations/${encodeURIComponent(id)}`);
  }

  /** A run's state. */
  run(id: string): Promise<{ run: Run }> {
    return this.call('GET', `/runs/${encodeURIComponent(id)}`);
  }

  /** Stops a run. */
  stop(runId: string): Promise<{ run: Run }> {
    return this.call('POST', `/runs/${encodeURIComponent(runId)}/stop`);
  }

  /** Approvals, by status. */
  async approvals(status: ApprovalStatus | 'all' = 'pending'): Promise<Approval[]> {
    return (await this.call<{ items: Approval[] }>('GET', `/approvals?status=${status}`)).items;
  }

  /** Approves or denies, bound to the call and the preview shown. */
  decide(a: Pick<Approval, 'id' | 'toolCallId' | 'previewHash'>, decision: 'approve' | 'deny', reason?: string): Promise<Approval> {
    const body: Record<string, string> = { decision, toolCallId: a.toolCallId, previewHash: a.previewHash };
    if (reason && reason.trim()) body.reason = reason.trim();
    return this.call('POST', `/approvals/${encodeURIComponent(a.id)}`, body);
  }

  /** Kubeconfig contexts. */
  clusters(): Promise<{ contexts: string[]; default: string | null }> {
    return this.call('GET', '/clusters');
  }

  /** Team members. */
  users(): Promise<User[]> {
    return this.call('GET', '/users');
  }

  /** Adds a member. */
  createUser(username: string, password: string, role: Role): Promise<User> {
    return this.call('POST', '/users', { username, password, role });
  }

  /** Changes a member. */
  updateUser(id: string, change: { role?: Role; disabled?: boolean; password?: string }): Promise<User> {
    return this.call('PATCH', `/users/${encodeURIComponent(id)}`, change);
  }

  /** Removes a member. */
  deleteUser(id: string): Promise<void> {
    return this.call('DELETE', `/users/${encodeURIComponent(id)}`);
  }

  /** Integrations. */
  integrations(): Promise<Integration[]> {
    return this.call('GET', '/integrations');
  }

  /** Adds or replaces a Jenkins integration. */
  saveIntegration(id: string | null, v: { name: string; url: string; credentialsSecret: string }): Promise<Integration> {
    const body = { kind: 'jenkins', ...v };
    return id ? this.call('PUT', `/integrations/${encodeURIComponent(id)}`, body) : this.call('POST', '/integrations', body);
  }

  /** Removes an integration. */
  deleteIntegration(id: string): Promise<void> {
    return this.call('DELETE', `/integrations/${encodeURIComponent(id)}`);
  }

  /** Audit entries after `after` (sequence number). */
  async audit(after = 0, limit = 100): Promise<AuditEntry[]> {
    return (await this.call<{ items: AuditEntry[] }>('GET', `/audit?after=${after}&limit=${limit}`)).items;
  }

  /** Recomputes the audit hash chain. */
  verifyAudit(): Promise<AuditVerification> {
    return this.call('GET', '/audit/verify');
  }

  /** Tokens per day. */
  async usage(days = 30): Promise<UsageBucket[]> {
    return (await this.call<{ items: UsageBucket[] }>('GET', `/usage?days=${days}`)).items;
  }
}
