/**
 * Header names of the CloudEvents NATS binding (binary mode) used on every published event. The payload is the
 * protobuf binary encoding of the event message.
 */
export const CloudEventHeaders = {
  specVersion: "ce-specversion",
  id: "ce-id",
  type: "ce-type",
  source: "ce-source",
  time: "ce-time",
  contentType: "content-type",
} as const;

/** Value of `content-type` on every published event. */
export const PROTOBUF_CONTENT_TYPE = "application/protobuf";
