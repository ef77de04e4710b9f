/** What a route's proto annotation cannot say: whether it needs a credential, and an unusual success status. */
export interface RoutePolicy {
  /** Callable without a credential (a credential that is sent is still verified). */
  public?: boolean;
  /** The success status when the default rule is wrong for it. */
  status?: number;
  /**
   * Body enum fields of which the route takes only some words (the RPC refuses the others): field name ->
   * those words. Any other word is refused naming only these, so an error never offers what the route refuses.
   */
  enumWords?: Readonly<Record<string, readonly string[]>>;
}

/**
 * Per-route exceptions, keyed by "METHOD /path/template" exactly as docs/api.md (and the proto annotation)
 * writes them. Every other route needs a credential and answers by the default rule: 204 without a body when
 * the method is DELETE or the response message has no fields, 201 for POST (it creates something), 200
 * otherwise.
 */
export const routePolicies: Readonly<Record<string, RoutePolicy>> = {
  "POST /api/v1/auth/register": { public: true },
  "POST /api/v1/auth/login": { public: true, status: 200 },
  "POST /api/v1/auth/refresh": { public: true, status: 200 },
  "POST /api/v1/auth/logout": { public: true },
  "GET /.well-known/jwks.json": { public: true },
  "POST /api/v1/transactions": { enumWords: { transaction_type: ["purchase", "top_up", "withdrawal"] } },
  "POST /api/v1/transactions/{id}/reverse": { status: 200 },
  // A user is deleted with DELETE /api/v1/users/{id}, never by setting the status.
  "PATCH /api/v1/users/{id}/status": { enumWords: { status: ["active", "suspended", "closed"] } },
  "POST /api/v1/fraud/reviews/{transaction_id}/decision": { status: 200 },
  "POST /api/v1/imports": { status: 202 },
};
