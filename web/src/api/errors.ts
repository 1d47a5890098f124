/** Errors from the API, with its stable code and its human message. */
import type { ApiErrorBody } from './types';

/** An error answer of the API (or a network failure, status 0). */
export class ApiError extends Error {
  /** HTTP status; 0 when the server could not be reached. */
  readonly status: number;
  /** The API's code (`not_found`, `token_expired`, …) or `network`. */
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

function isErrorBody(v: unknown): v is ApiErrorBody {
  if (typeof v !== 'object' || v === null || !('error' in v)) return false;
  const e = (v as { error: unknown }).error;
  return typeof e === 'object' && e !== null && 'message' in e;
}

/** Reads an error response into an [`ApiError`]. */
export async function errorFrom(res: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    // Not JSON (a proxy's page, an empty body).
  }
  if (isErrorBody(body)) {
    return new ApiError(res.status, String(body.error.code ?? 'error'), String(body.error.message));
  }
  return new ApiError(res.status, `http_${res.status}`, `the server answered ${res.status} ${res.statusText}`.trim());
}

/** A short message for any thrown value. */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
