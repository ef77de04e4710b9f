import { findCurrency } from "@fintech/money";
import type { ValidationIssue } from "@fintech/platform";
import { canonicalTimeZone, defineValidation, pageSizeIssues } from "@fintech/platform";
import { IdentityService, Role, UserStatus } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import { normaliseEmail } from "./email.js";
import { checkPassword, MAX_PASSWORD_LENGTH } from "./password-policy.js";

// The identity service's request rules, in one place at the RPC edge: handlers may assume well-formed emails,
// acceptable passwords, known time zones and currencies, UUID ids and known enum values.

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const issue = (field: string, message: string): ValidationIssue[] => [{ field, message }];

function email(value: string): ValidationIssue[] {
  // Judged as it will be stored: a fullwidth ＠ is an @ once normalised.
  const v = normaliseEmail(value);
  return v.length <= 254 && EMAIL.test(v) ? [] : issue("email", "must be an email address");
}

function text(field: string, value: string, max: number): ValidationIssue[] {
  const v = value.trim();
  if (v === "") return issue(field, "is required");
  return [...v].length > max ? issue(field, `must be at most ${max} characters`) : [];
}

function timezone(value: string | undefined, opts: { optional: boolean }): ValidationIssue[] {
  if (value === undefined || (value === "" && opts.optional)) return [];
  return canonicalTimeZone(value)
    ? []
    : issue("timezone", "must be an IANA time zone such as Asia/Kuala_Lumpur");
}

function currency(value: string | undefined, opts: { optional: boolean }): ValidationIssue[] {
  if (value === undefined || (value === "" && opts.optional)) return [];
  return /^[A-Za-z]{3}$/.test(value) && findCurrency(value.toUpperCase())
    ? []
    : issue("default_currency", "must be an ISO 4217 currency code such as MYR");
}

function id(field: string, value: string): ValidationIssue[] {
  return UUID.test(value) ? [] : issue(field, "must be an id (a UUID)");
}

function secret(field: string, value: string, max = 1024): ValidationIssue[] {
  if (value === "") return issue(field, "is required");
  return value.length > max ? issue(field, `must be at most ${max} characters`) : [];
}

export const identityValidation = defineValidation(IdentityService, {
  register: (r) => {
    // Against the address as it will be stored: a fullwidth spelling must not let the plain one through.
    const problem = checkPassword(r.password, normaliseEmail(r.email));
    return [
      ...email(r.email),
      ...(problem === undefined ? [] : issue("password", problem)),
      ...text("full_name", r.fullName, 200),
      ...timezone(r.timezone, { optional: true }),
      ...currency(r.defaultCurrency, { optional: true }),
    ];
  },
  login: (r) => [...text("email", r.email, 254), ...secret("password", r.password, MAX_PASSWORD_LENGTH)],
  refresh: (r) => secret("refresh_token", r.refreshToken, 256),
  logout: (r) => secret("refresh_token", r.refreshToken, 256),
  updateMe: (r) => [
    ...(r.fullName === undefined ? [] : text("full_name", r.fullName, 200)),
    ...timezone(r.timezone, { optional: false }),
    ...currency(r.defaultCurrency, { optional: false }),
  ],
  createApiKey: (r) => text("name", r.name, 100),
  listApiKeys: (r) => pageSizeIssues(r.limit),
  revokeApiKey: (r) => id("id", r.id),
  getUser: (r) => id("id", r.id),
  deleteUser: (r) => id("id", r.id),
  updateUserStatus: (r) => [
    ...id("id", r.id),
    ...(r.status in UserStatus && r.status !== UserStatus.UNSPECIFIED && r.status !== UserStatus.DELETED
      ? []
      : issue("status", "must be active, suspended or closed")),
  ],
  setUserRoles: (r) => [
    ...id("id", r.id),
    ...(r.roles.length > 0 && r.roles.every((role) => role === Role.USER || role === Role.ADMIN)
      ? []
      : issue("roles", "must list at least one of user, admin")),
  ],
  verifyApiKey: (r) => secret("key", r.key, 256),
  getUserAccess: (r) => id("user_id", r.userId),
  issueServiceToken: (r) => [
    ...secret("client_id", r.clientId, 64),
    ...secret("client_secret", r.clientSecret),
  ],
});
