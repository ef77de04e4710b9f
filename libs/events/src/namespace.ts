/**
 * Naming of streams and subjects. Production uses the empty namespace; tests give each file its own namespace so
 * that files running in parallel against one NATS server never share a stream or a subject.
 */

/**
 * The JetStream stream name of a context: `FX`, or `T1A2B_FX` in namespace `t1a2b`.
 * @param context bounded context that owns the stream, e.g. `"fx"`.
 * @param namespace `""` (the default) in production.
 */
export function streamName(context: string, namespace = ""): string {
  const base = context.toUpperCase();
  return namespace ? `${namespace.toUpperCase()}_${base}` : base;
}

/**
 * Applies the namespace to an un-namespaced subject or filter: `fx.rate.updated` -> `t1a2b.fx.rate.updated`.
 * @param namespace `""` (the default) leaves the subject unchanged.
 */
export function namespacedSubject(subject: string, namespace = ""): string {
  return namespace ? `${namespace}.${subject}` : subject;
}

/**
 * Inverse of {@link namespacedSubject}; a subject outside the namespace is returned unchanged.
 * @param namespace `""` (the default) leaves the subject unchanged.
 */
export function stripNamespace(subject: string, namespace = ""): string {
  const prefix = `${namespace}.`;
  return namespace && subject.startsWith(prefix) ? subject.slice(prefix.length) : subject;
}
