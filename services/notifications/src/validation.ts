import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { ValidationIssue } from "@fintech/platform";
import { defineValidation, pageSizeIssues } from "@fintech/platform";
import { AuditService } from "@fintech/proto/fintech/notifications/v1/audit_pb.js";
import { WebhookService } from "@fintech/proto/fintech/notifications/v1/notifications_pb.js";
import { WEBHOOK_EVENT_TYPES } from "./model.js";
import { MAX_URL_LENGTH } from "./target-policy.js";

// The notifications service's request rules, in one place at the RPC edge. Where a URL may point (its scheme
// and its addresses) is the target policy's, checked by the domain because it looks the host up.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_DESCRIPTION = 200;

function webhookId(value: string): ValidationIssue[] {
  return UUID.test(value) ? [] : [{ field: "id", message: "must be a webhook id (a UUID)" }];
}

function url(value: string): ValidationIssue[] {
  if (value === "") return [{ field: "url", message: "is required" }];
  if (value.length > MAX_URL_LENGTH)
    return [{ field: "url", message: `must be at most ${MAX_URL_LENGTH} characters` }];
  return URL.canParse(value) ? [] : [{ field: "url", message: "must be an absolute URL" }];
}

function events(values: readonly string[], required: boolean): ValidationIssue[] {
  if (values.length === 0)
    return required ? [{ field: "events", message: "must name at least one event type" }] : [];
  const known: readonly string[] = WEBHOOK_EVENT_TYPES;
  const unknown = values.find((v) => !known.includes(v));
  if (unknown !== undefined) {
    return [{ field: "events", message: `unknown event type "${unknown}"; expected ${known.join(", ")}` }];
  }
  if (new Set(values).size !== values.length) return [{ field: "events", message: "must not repeat a type" }];
  return [];
}

function description(value: string | undefined): ValidationIssue[] {
  return value !== undefined && value.length > MAX_DESCRIPTION
    ? [{ field: "description", message: `must be at most ${MAX_DESCRIPTION} characters` }]
    : [];
}

export const notificationsValidation = defineValidation(WebhookService, {
  createWebhook: (r) => [...url(r.url), ...events(r.events, true), ...description(r.description)],
  listWebhooks: (r) => pageSizeIssues(r.limit),
  getWebhook: (r) => webhookId(r.id),
  updateWebhook: (r) => [
    ...webhookId(r.id),
    ...(r.url === undefined ? [] : url(r.url)),
    ...events(r.events, false),
    ...description(r.description),
  ],
  deleteWebhook: (r) => webhookId(r.id),
  rotateWebhookSecret: (r) =>
    r.overlapHours !== undefined && (r.overlapHours < 0 || r.overlapHours > 168)
      ? [...webhookId(r.id), { field: "overlap_hours", message: "must be between 0 and 168" }]
      : webhookId(r.id),
  listWebhookDeliveries: (r) => [...webhookId(r.id), ...pageSizeIssues(r.limit)],
  listWebhookDeliveryAttempts: (r) => [...webhookId(r.id), ...deliveryId(r.deliveryId)],
  resendWebhookDelivery: (r) => [...webhookId(r.id), ...deliveryId(r.deliveryId)],
  replayWebhookEvents: (r) =>
    r.since === undefined
      ? [...webhookId(r.id), { field: "since", message: "is required" }]
      : webhookId(r.id),
});

function deliveryId(value: string): ValidationIssue[] {
  return UUID.test(value) ? [] : [{ field: "delivery_id", message: "must be a delivery id (a UUID)" }];
}

const MAX_FILTER = 200;

function filterText(field: string, value: string): ValidationIssue[] {
  return value.length > MAX_FILTER ? [{ field, message: `must be at most ${MAX_FILTER} characters` }] : [];
}

export const auditValidation = defineValidation(AuditService, {
  listAuditRecords: (r) => [
    ...pageSizeIssues(r.limit),
    ...filterText("actor", r.actor),
    ...filterText("action", r.action),
    ...filterText("subject_type", r.subjectType),
    ...filterText("subject_id", r.subjectId),
    ...(r.from !== undefined && r.to !== undefined && timestampDate(r.from) >= timestampDate(r.to)
      ? [{ field: "from", message: "must be before to" }]
      : []),
  ],
  verifyAudit: () => [],
});
